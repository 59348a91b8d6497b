"""Other apps' reactions to a man's own choices, without this app importing them.

    from patas.participants import hooks
    hooks.on_opted_out.append(abandon_his_surveys)   # fn(participant), inside the transaction

Register in your AppConfig.ready(). A hook that raises rolls the opt-out back, so the man
is never half out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patas.participants.models import Participant

on_opted_out: list[Callable[[Participant], None]] = []


def opted_out(participant: Participant) -> None:
    for hook in list(on_opted_out):
        hook(participant)
