"""Router step "open survey" (order 30): a man with an open chat survey is answering it."""

from __future__ import annotations

from collections.abc import Sequence

from patas.core.prepared import Prepared
from patas.messaging.router import Inbound, Result, men_of, messages_of
from patas.surveys import actions
from patas.surveys.models import Mode, Status, SurveySession
from patas.surveys.render import split_reply_id


def open_survey(inbound: Inbound) -> Result:
    # the router holds a transaction: lock his session row until the answer is saved
    session = actions.open_chat_session(inbound.participant, lock=True)
    if session is None:
        return Result.CONTINUE
    if inbound.reply_id and split_reply_id(inbound.reply_id) is None:
        return Result.CONTINUE  # a tap on another flow's button (e.g. a day's check-in)
    actions.answer(session, inbound.text, inbound.reply_id, locked=True)
    return Result.DONE


def open_survey_batch(inbounds: Sequence[Inbound]) -> set[int]:
    """`open_survey` for many men at once (`router.Batch`): each his first message of the
    batch; sessions locked in one query, answers applied set-based. Returns the messages taken
    as answers; the others go on through the chain one by one."""
    by_man = {inbound.participant.pk: inbound for inbound in inbounds}
    sessions = actions.open_chat_sessions(by_man, lock=True)
    taken = [
        (session, by_man[man])
        for man, session in sessions.items()
        if not (by_man[man].reply_id and split_reply_id(by_man[man].reply_id) is None)
    ]
    actions.answer_sessions([(s, i.text, i.reply_id) for s, i in taken])
    return {inbound.message.pk for _, inbound in taken}


# The router's look for every batch (core.prepared: compiled once per list size).
_ANSWERING = Prepared(
    lambda men: SurveySession.objects.filter(
        participant_id__in=men, status=Status.OPEN, mode=Mode.CHAT
    ).values_list("participant_id")
)


def answering(inbounds: Sequence[Inbound]) -> set[int]:
    """The batch's messages from men with an open chat survey (`router.Interested`)."""
    return messages_of(inbounds, {man for (man,) in _ANSWERING(men=men_of(inbounds))})
