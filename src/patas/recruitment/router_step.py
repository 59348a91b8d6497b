"""Router step 'attribution' (order 5): the first message of a man names his source."""

from __future__ import annotations

from collections.abc import Sequence

from patas.core.prepared import Prepared
from patas.messaging.router import Inbound, Result, men_of
from patas.recruitment.actions import attribute
from patas.recruitment.codes import find_clue
from patas.recruitment.models import Attribution


def attribute_first_message(inbound: Inbound) -> Result:
    if not Attribution.objects.filter(participant=inbound.participant).exists():
        referral = (inbound.message.payload or {}).get("referral")
        attribute(inbound.participant, find_clue(inbound.text, referral))
    return Result.CONTINUE


# The router's look for every batch (core.prepared: compiled once per list size).
_ATTRIBUTED = Prepared(
    lambda men: Attribution.objects.filter(participant_id__in=men).values_list("participant_id")
)


def unattributed(inbounds: Sequence[Inbound]) -> set[int]:
    """The batch's messages from men with no source yet (`router.Interested`)."""
    attributed = {man for (man,) in _ATTRIBUTED(men=men_of(inbounds))}
    return {i.message.pk for i in inbounds if i.participant.pk not in attributed}
