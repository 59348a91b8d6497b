from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

from patas.participants import hooks as participant_hooks

if TYPE_CHECKING:
    from patas.participants.models import Participant


class SurveysConfig(AppConfig):
    name = "patas.surveys"
    label = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.surveys.router_step import answering, open_survey, open_survey_batch

        router.register("open_survey", 30, open_survey, answering, batch=open_survey_batch)
        if _abandon_his_surveys not in participant_hooks.on_opted_out:
            participant_hooks.on_opted_out.append(_abandon_his_surveys)


def _abandon_his_surveys(participant: Participant) -> None:
    # He said stop: a chat survey left open would take his next words (after an opt-in) as an
    # answer to a question asked before he left.
    from patas.surveys.actions import abandon_open_surveys

    abandon_open_surveys(participant, reason="opt-out", actor=f"participant:{participant.ref}")
