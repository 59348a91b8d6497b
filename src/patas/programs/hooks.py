"""Other apps' reactions to program events, without this app importing them.

    from patas.programs import hooks
    hooks.on_enrolled.append(place_in_group)   # called as fn(enrolment), inside the transaction

Register in your AppConfig.ready(). A hook that raises rolls the enrolment back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patas.participants.models import Participant
    from patas.programs.models import Enrolment

on_enrolled: list[Callable[[Enrolment], None]] = []


def enrolled(enrolment: Enrolment) -> None:
    for hook in list(on_enrolled):
        hook(enrolment)


# Called when a man accepts consent, before he is enrolled: fn(participant, preferred) returns
# True when it takes him over (e.g. the trial starts his baseline and enrols him later, or not).
# The first hook that returns True wins; when none does, consent enrols him at once.
on_consented: list[Callable[[Participant, Any], bool]] = []


def consented(participant: Participant, preferred: Any) -> bool:
    return any(hook(participant, preferred) for hook in list(on_consented))
