from django.urls import path

from . import views

app_name = "recruitment"

urlpatterns = [
    path("", views.index, name="dashboard"),
    path("chart/<slug:key>.svg", views.chart, name="chart"),
    path("csv/<slug:key>.csv", views.table_csv, name="csv"),
    path("sources/", views.sources, name="sources"),
    path("sources/<str:code>/qr.<str:fmt>", views.source_qr, name="source_qr"),
    path("spend/", views.spend, name="spend"),
    path("costs/", views.costs_page, name="costs"),
    path("variants/", views.variants, name="variants"),
]
