"""Other apps' reactions to survey events, without this app importing them.

    from patas.surveys import hooks
    hooks.on_completed.append(fn)   # fn(session), inside the transaction that completed it

`session` is a `SurveySession` (a man's) or a `PartnerSurveySession` (hers): check its type.
Register in your AppConfig.ready(). A hook that raises rolls the answer back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patas.surveys.models import SessionBase

on_completed: list[Callable[[SessionBase], None]] = []


def completed(session: SessionBase) -> None:
    for hook in list(on_completed):
        hook(session)
