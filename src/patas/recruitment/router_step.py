"""Router step 'attribution' (order 5): the first message of a man names his source."""

from __future__ import annotations

from patas.messaging.router import Inbound, Result
from patas.recruitment.actions import attribute
from patas.recruitment.codes import find_clue
from patas.recruitment.models import Attribution


def attribute_first_message(inbound: Inbound) -> Result:
    if not Attribution.objects.filter(participant=inbound.participant).exists():
        referral = (inbound.message.payload or {}).get("referral")
        attribute(inbound.participant, find_clue(inbound.text, referral))
    return Result.CONTINUE
