"""His first name goes into a message when it is sent, not when it is queued.

    payload = template_payload(..., [FIRST_NAME, "4"], ...)   # the engine: a marker, no name
    payload = fill(payload, first_name(profile_name))           # the claim, right before sending

Why at send time: the day's fan-out queues a template for most men, and decrypting a million
names there cost about a tenth of the pass (docs/performance.md); the sender decrypts the
phone of the men it is about to message anyway. It also keeps names out of the outbox: an
outbox row's text says "{{first_name}}", and the name stays encrypted in one place
(`Participant.profile_name`), erased with him.
"""

from __future__ import annotations

from typing import Any

FIRST_NAME = "{{first_name}}"
NO_NAME = "👋"  # WhatsApp gave no profile name, or it was erased
LONGEST = 60  # characters; Meta refuses long parameters, and a first name is short


def first_name(profile_name: str | None) -> str:
    """The first word of his WhatsApp profile name, or a wave when there is none."""
    words = (profile_name or "").split()
    return words[0][:LONGEST] if words else NO_NAME


def wants_name(payload: dict[str, Any]) -> bool:
    return payload.get("type") == "template" and any(
        parameter.get("text") == FIRST_NAME for parameter in _body_parameters(payload)
    )


def fill(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of a template payload with the marker replaced by `name` (others returned as
    they are: the outbox's payload is never changed in place)."""
    if not wants_name(payload):
        return payload
    template = dict(payload["template"])
    template["components"] = [
        {**c, "parameters": [_filled(p, name) for p in c.get("parameters", [])]}
        if c.get("type") == "body"
        else c
        for c in template.get("components", [])
    ]
    return {**payload, "template": template}


def shown(text: str, name: str) -> str:
    """A queued message's text as he got it (the rehearsal chat shows him his own name)."""
    return text.replace(FIRST_NAME, name)


def _filled(parameter: dict[str, Any], name: str) -> dict[str, Any]:
    return {**parameter, "text": name} if parameter.get("text") == FIRST_NAME else parameter


def _body_parameters(payload: dict[str, Any]) -> list[dict[str, Any]]:
    components = payload.get("template", {}).get("components", [])
    return [p for c in components if c.get("type") == "body" for p in c.get("parameters", [])]
