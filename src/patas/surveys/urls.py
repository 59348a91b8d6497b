from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("calls/", views.my_calls, name="calls"),
    path("calls/summary/", views.summary, name="summary"),
    path("calls/<slug:kind>/<uuid:uid>/", views.call, name="call"),
    path("calls/<slug:kind>/<uuid:uid>/start/", views.start, name="start"),
    path("calls/<slug:kind>/<uuid:uid>/step/", views.step, name="step"),
    path("calls/<slug:kind>/<uuid:uid>/answer/", views.answer, name="answer"),
]
