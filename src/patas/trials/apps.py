from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "patas.trials"
    label = "trials"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.programs import hooks as program_hooks
        from patas.surveys import hooks as survey_hooks
        from patas.trials import flow, flow_endline

        router.register(
            "trial_survey", 35, flow_endline.invite_step, flow_endline.invite_interested
        )
        if flow.on_consent not in program_hooks.on_consented:
            program_hooks.on_consented.append(flow.on_consent)
        if flow.on_survey_completed not in survey_hooks.on_completed:
            survey_hooks.on_completed.append(flow.on_survey_completed)
