"""A day of a content pack as the man sees it on WhatsApp: as plain data, and as terminal bubbles.

`day_bubbles(pack, day, lang)` returns the bubbles in order (the day's opener template, each
message, the challenge, the check-in, and the group's reflection question); the console's web
preview uses `as_data`. `render(bubbles, console)` draws them with rich panels, buttons shown
as `[ title ]`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _
from rich.align import Align
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from patas.programs.pack import Pack
from patas.programs.schema import Item, Localized, Template

TEMPLATE_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class Bubble:
    """One chat bubble: what WhatsApp shows, in one language."""

    kind: str  # template | text | image | audio | video | document | buttons | list
    #            | challenge | checkin | reflection
    text: str = ""
    caption: str = ""
    file: str = ""
    expert: str = ""
    transcript: str = ""
    buttons: tuple[str, ...] = ()
    list_button: str = ""
    rows: tuple[str, ...] = ()
    to_group: bool = False


def _pick(texts: Localized | None, lang: str, default: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get(default, "")


def template_bubble(template: Template, lang: str, default: str, values: list[str]) -> Bubble:
    """A template with its {{n}} variables filled from `values` (1-based, in order)."""

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if index < len(values) else match.group(0)

    body = TEMPLATE_VARIABLE.sub(fill, _pick(template.body, lang, default))
    button = _pick(template.button, lang, default)
    return Bubble(kind="template", text=body, buttons=(button,) if button else ())


def item_bubble(item: Item, lang: str, default: str) -> Bubble:
    return Bubble(
        kind=item.type,
        text=_pick(item.text, lang, default),
        caption=_pick(item.caption, lang, default),
        file=item.file or "",
        expert=item.expert or "",
        transcript=_pick(item.transcript, lang, default),
        buttons=tuple(_pick(b.title, lang, default) for b in item.buttons or []),
        list_button=_pick(item.list_button, lang, default),
        rows=tuple(_pick(r.title, lang, default) for r in item.rows or []),
    )


def day_bubbles(pack: Pack, number: int, lang: str, name: str = "José") -> list[Bubble]:
    """Day `number` in `lang`, in the order he receives it (KeyError for an unknown day)."""
    program = pack.program
    default = program.default_language
    day = pack.day(number)
    bubbles = []
    opener = program.templates.get("day_opener")
    if opener is not None:
        bubbles.append(template_bubble(opener, lang, default, [name, str(number)]))
    bubbles += [item_bubble(item, lang, default) for item in day.messages]
    bubbles.append(Bubble(kind="challenge", text=_pick(day.challenge.text, lang, default)))
    if day.checkin is not None:
        buttons = tuple(_pick(b.title, lang, default) for b in day.checkin.buttons)
        bubbles.append(
            Bubble(kind="checkin", text=_pick(day.checkin.text, lang, default), buttons=buttons)
        )
    if day.reflection:
        bubbles.append(
            Bubble(kind="reflection", text=_pick(day.reflection, lang, default), to_group=True)
        )
    return bubbles


def message_bubbles(pack: Pack, key: str, lang: str) -> list[Bubble]:
    """One messages.yaml text as he sees it ({placeholders} left visible)."""
    return [item_bubble(pack.message(key), lang, pack.program.default_language)]


def as_data(bubbles: list[Bubble]) -> list[dict[str, Any]]:
    """Plain dicts (JSON-ready) for the console's web preview."""
    return [asdict(bubble) for bubble in bubbles]


# ---- terminal -------------------------------------------------------------------------


def _labels() -> dict[str, str]:
    return {
        "template": _("template (opens the day)"),
        "text": _("text"),
        "image": _("image"),
        "audio": _("audio"),
        "video": _("video"),
        "document": _("document"),
        "buttons": _("buttons"),
        "list": _("list"),
        "challenge": _("today's challenge"),
        "checkin": _("check-in"),
        "reflection": _("reflection, posted to his group"),
    }


def _body(bubble: Bubble) -> Group:
    parts: list[Text] = []
    if bubble.file:
        parts.append(
            Text(
                f"📎 {bubble.file}" + (f" · {bubble.expert}" if bubble.expert else ""), style="dim"
            )
        )
    for value in (bubble.text, bubble.caption):
        if value:
            parts.append(Text(value))
    if bubble.transcript:
        parts.append(
            Text(
                _("Transcript (console only): %(text)s") % {"text": bubble.transcript},
                style="italic dim",
            )
        )
    if bubble.rows:
        parts.append(Text(f"[ {bubble.list_button} ]  " + " · ".join(bubble.rows), style="bold"))
    if bubble.buttons:
        parts.append(Text("  ".join(f"[ {title} ]" for title in bubble.buttons), style="bold cyan"))
    return Group(*parts)


def render(bubbles: list[Bubble], console: Console, width: int = 64) -> None:
    """Draw the bubbles as chat panels: program messages on the left, the group's to the right."""
    labels = _labels()
    for bubble in bubbles:
        style = (
            "magenta" if bubble.to_group else ("yellow" if bubble.kind == "template" else "green")
        )
        panel = Panel(
            _body(bubble),
            title=labels.get(bubble.kind, bubble.kind),
            title_align="left",
            border_style=style,
            width=width,
        )
        console.print(Align.right(panel) if bubble.to_group else panel)
