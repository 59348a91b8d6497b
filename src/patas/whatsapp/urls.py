from django.urls import path

from patas.whatsapp import views

app_name = "whatsapp"

urlpatterns = [
    path("whatsapp", views.webhook, name="webhook"),
]
