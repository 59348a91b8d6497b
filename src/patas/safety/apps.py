from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "patas.safety"
    label = "safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging.router import register
        from patas.safety.router import ORDER, quiet, triage_step

        register("triage", ORDER, triage_step, quiet=quiet)
