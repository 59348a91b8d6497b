from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "patas.trials"
    label = "trials"
    default_auto_field = "django.db.models.BigAutoField"
