"""A day of the content pack as WhatsApp-style bubbles (data for the preview templates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patas.programs.pack import Pack
from patas.programs.schema import Item


@dataclass
class Bubble:
    kind: str  # text, image, audio, video, document, buttons, list, challenge, checkin
    text: str = ""
    file: str = ""
    transcript: str = ""
    expert: str = ""
    buttons: list[str] = field(default_factory=list)


@dataclass
class DayPreview:
    number: int
    title: str
    module: str
    bubbles: list[Bubble]
    reflection: str = ""


def _local(texts: dict[str, str] | None, lang: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or next(iter(texts.values()), "")


def bubble_of(item: Item, lang: str) -> Bubble:
    labels = [_local(b.title, lang) for b in item.buttons or []]
    labels += [_local(r.title, lang) for r in item.rows or []]
    return Bubble(
        kind=item.type,
        text=_local(item.text, lang) or _local(item.caption, lang),
        file=item.file or "",
        transcript=_local(item.transcript, lang),
        expert=item.expert or "",
        buttons=labels,
    )


def day_bubbles(pack: Pack, number: int, lang: str) -> DayPreview:
    day = pack.day(number)
    bubbles = [bubble_of(item, lang) for item in day.messages]
    bubbles.append(Bubble(kind="challenge", text=_local(day.challenge.text, lang)))
    if day.checkin is not None:
        bubbles.append(
            Bubble(
                kind="checkin",
                text=_local(day.checkin.text, lang),
                buttons=[_local(b.title, lang) for b in day.checkin.buttons],
            )
        )
    return DayPreview(
        number, _local(day.title, lang), day.module, bubbles, _local(day.reflection, lang)
    )


def day_list(pack: Pack, lang: str) -> list[dict[str, Any]]:
    return [
        {"number": n, "title": _local(pack.days[n].title, lang), "module": pack.days[n].module}
        for n in sorted(pack.days)
    ]
