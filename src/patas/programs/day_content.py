"""A day's content and templates as send bodies, built once and reused (pure, cached).

In a fan-out every man on day N in language L gets the same payload objects, so they are built
once per pack, day and language; template bodies once per template, language and day.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from patas.messaging.outbox import describe
from patas.messaging.personalise import FIRST_NAME
from patas.programs.pack import Pack
from patas.programs.payloads import item_payload, template_payload, template_text
from patas.programs.schema import Item, Template

_PARAMS: dict[int, tuple[Any, int]] = {}


def param_count(template: Any) -> int:
    """How many {{n}} variables a template body has (cached per template object)."""
    cached = _PARAMS.get(id(template))
    if cached is None or cached[0] is not template:
        count = len(set(re.findall(r"\{\{(\d+)\}\}", " ".join(template.body.values()))))
        cached = _PARAMS[id(template)] = (template, count)
    return int(cached[1])


_ITEMS: dict[tuple[int, int, str, str], tuple[Pack, tuple[tuple[dict[str, Any], str], ...]]] = {}


def day_items(pack: Pack, day: int, lang: str) -> tuple[tuple[dict[str, Any], str], ...]:
    """The day's messages, challenge and check-in as (payload, readable text), in order.

    Built once per pack, day and language (the fan-out reuses the same payload objects).
    """
    key = (id(pack), day, lang, settings.PUBLIC_URL)  # links embed the public URL
    cached = _ITEMS.get(key)
    if cached is not None and cached[0] is pack:
        return cached[1]
    items = _build_items(pack, day, lang)
    _ITEMS[key] = (pack, items)
    return items


def _build_items(pack: Pack, day: int, lang: str) -> tuple[tuple[dict[str, Any], str], ...]:
    spec = pack.day(day)
    default = pack.program.default_language
    items = list(spec.messages)
    items.append(Item(id=spec.challenge.id, type="text", text=spec.challenge.text))
    if spec.checkin is not None:
        items.append(
            Item(
                id=spec.checkin.id,
                type="buttons",
                text=spec.checkin.text,
                buttons=spec.checkin.buttons,
            )
        )
    out = []
    for item in items:
        prefix = (
            f"checkin:{day}:" if spec.checkin is not None and item.id == spec.checkin.id else ""
        )
        payload = item_payload(item, lang, default, id_prefix=prefix, program_id=pack.program.id)
        text = payload.get("text", {}).get("body") if payload["type"] == "text" else None
        out.append((payload, text or describe(payload)))
    return tuple(out)


_TEMPLATE_TEXT: dict[tuple[int, str, int], tuple[Any, tuple[dict[str, Any], str]]] = {}


def day_template(
    template: Template, lang: str, default: str, day: int
) -> tuple[dict[str, Any], str]:
    """The template for day N as (payload, readable text): {{1}} is his name's marker (filled
    when it is sent, messaging.personalise), {{2}} the day, its button opens the day. The same
    objects for every man on that day and language (never change them in place)."""
    key = (id(template), lang, day)
    cached = _TEMPLATE_TEXT.get(key)
    if cached is None or cached[0] is not template:
        params = [FIRST_NAME, str(day)][: param_count(template)]
        payload = template_payload(template, lang, default, params, f"open_day:{day}")
        cached = _TEMPLATE_TEXT[key] = (
            template,
            (payload, template_text(template, lang, default, params)),
        )
    return cached[1]


def clear() -> None:
    """Forget built content (tests that swap packs)."""
    _ITEMS.clear()
    _PARAMS.clear()
    _TEMPLATE_TEXT.clear()
