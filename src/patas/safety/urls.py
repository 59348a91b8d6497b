from django.urls import path

from patas.safety import views

app_name = "safety"

urlpatterns = [
    path("alerts/", views.queue, name="queue"),
    path("alerts/rows/", views.queue_rows, name="queue_rows"),
    path("alerts/<uuid:uid>/", views.alert_detail, name="alert"),
    path("alerts/<uuid:uid>/<slug:step>/", views.alert_step, name="alert_step"),
    path("flag/<uuid:uid>/", views.flag_post, name="flag_post"),
    path("flag/message/<uuid:uid>/", views.flag_message, name="flag_message"),
    path("people/", views.find_person, name="find_person"),
    path("people/<uuid:uid>/", views.person, name="person"),
    path("people/<uuid:uid>/erase/", views.erase_person, name="erase"),
    path("people/<uuid:uid>/export/", views.export_person, name="export"),
]
