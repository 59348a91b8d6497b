from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "patas.simulation"
    label = "simulation"
    default_auto_field = "django.db.models.BigAutoField"
