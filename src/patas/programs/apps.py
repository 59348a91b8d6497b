from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "patas.programs"
    label = "programs"
    default_auto_field = "django.db.models.BigAutoField"
