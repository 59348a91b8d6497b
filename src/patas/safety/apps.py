from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "patas.safety"
    label = "safety"
    default_auto_field = "django.db.models.BigAutoField"
