from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "patas.messaging"
    label = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import optout, router

        router.register("opt_out", 10, optout.handle, quiet=optout.quiet)
