"""A day of the content pack as WhatsApp-style bubbles, from `programs.preview` (the content
engineer's data function), shaped for the console's templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patas.programs import preview
from patas.programs.pack import Pack


@dataclass
class DayPreview:
    number: int
    title: str
    module: str
    bubbles: list[preview.Bubble]


def _local(texts: dict[str, str] | None, lang: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or next(iter(texts.values()), "")


def day_bubbles(pack: Pack, number: int, lang: str) -> DayPreview:
    day = pack.day(number)
    return DayPreview(
        number, _local(day.title, lang), day.module, preview.day_bubbles(pack, number, lang)
    )


def day_list(pack: Pack, lang: str) -> list[dict[str, Any]]:
    return [
        {"number": n, "title": _local(pack.days[n].title, lang), "module": pack.days[n].module}
        for n in sorted(pack.days)
    ]
