from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "patas.recruitment"
    label = "recruitment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.recruitment.router_step import attribute_first_message

        router.register("attribution", 5, attribute_first_message)
