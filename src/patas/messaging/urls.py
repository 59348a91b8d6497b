from django.urls import path

from patas.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.sending, name="sending"),
    path("<str:number>/resume/", views.resume, name="resume"),
]
