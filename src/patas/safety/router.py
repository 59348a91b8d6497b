"""Router step "triage" (order 20): every inbound text is checked; a hit holds it and alerts.

It always returns CONTINUE, so later steps still record the message (a survey answer still
counts), but a held message is never relayed to a group.
"""

from __future__ import annotations

from patas.messaging.router import Inbound, Result
from patas.safety import actions
from patas.safety.triage import triage

ORDER = 20


def text_of(inbound: Inbound) -> str:
    """What he wrote: the typed text, or a caption/title the parser put in the message text."""
    return inbound.text or (inbound.message.text or "")


def triage_step(inbound: Inbound) -> Result:
    hits = triage(text_of(inbound))
    if not hits:
        return Result.CONTINUE
    inbound.message.held = True
    alert = actions.raise_alert(inbound.message, hits)
    actions.send_helpline(alert, inbound.participant)
    inbound.notes["safety_alert_id"] = alert.pk
    inbound.notes["held"] = True
    return Result.CONTINUE


def quiet(inbound: Inbound) -> bool:
    """No hit: `triage_step` passes the message on and changes nothing (`router.Quiet`)."""
    return not triage(text_of(inbound))
