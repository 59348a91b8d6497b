from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "patas.programs"
    label = "programs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.programs import media, steps  # noqa: F401  (media registers its check)

        router.register(
            "intake", 40, steps.intake_step, batch=steps.intake_batch, quiet=steps.intake_quiet
        )
        router.register(
            "program", 60, steps.program_step, steps.enrolled, batch=steps.program_batch
        )
        router.register("fallback", 90, steps.fallback_step)
