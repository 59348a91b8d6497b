from django.urls import path

from patas.simulation import views

app_name = "simulation"

urlpatterns = [
    path("", views.chat, name="try"),
    path("messages/", views.messages, name="messages"),
    path("send/", views.send, name="send"),
    path("next-day/", views.next_day, name="next_day"),
    path("media/<path:path>", views.media, name="media"),
]
