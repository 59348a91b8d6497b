from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "patas.surveys"
    label = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.surveys.router_step import answering, open_survey, open_survey_batch

        router.register("open_survey", 30, open_survey, answering, batch=open_survey_batch)
