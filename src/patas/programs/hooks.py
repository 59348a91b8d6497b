"""Other apps' reactions to program events, without this app importing them.

    from patas.programs import hooks
    hooks.on_enrolled.append(place_in_group)   # called as fn(enrolment), inside the transaction

Register in your AppConfig.ready(). A hook that raises rolls the enrolment back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patas.programs.models import Enrolment

on_enrolled: list[Callable[[Enrolment], None]] = []


def enrolled(enrolment: Enrolment) -> None:
    for hook in list(on_enrolled):
        hook(enrolment)
