"""Content pack items -> Cloud API send bodies (pure; the sender adds `to`).

Media items carry a `link` to the pack's file as this server serves it (`programs/media.py`):
absolute under `PATAS_PUBLIC_URL` when set, else pack-relative (which only the fake accepts).
"""

from __future__ import annotations

from typing import Any

from patas.programs import media as pack_media
from patas.programs.pack import Pack
from patas.programs.schema import Button, Item, Localized, Template
from patas.programs.texts import render

MEDIA = ("image", "audio", "video", "document")


def pick(texts: Localized | None, lang: str, default: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get(default) or next(iter(texts.values()))


def _buttons(buttons: list[Button], lang: str, default: str, prefix: str) -> list[dict[str, Any]]:
    return [
        {"type": "reply", "reply": {"id": f"{prefix}{b.id}", "title": pick(b.title, lang, default)}}
        for b in buttons
    ]


def item_payload(
    item: Item,
    lang: str,
    default: str,
    *,
    id_prefix: str = "",
    program_id: str = "",
    **values: Any,
) -> dict[str, Any]:
    """The send body of one item in a language; `id_prefix` goes before every button id."""
    body = render(pick(item.text, lang, default), **values)
    if item.type == "buttons" and item.buttons:
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {"buttons": _buttons(item.buttons, lang, default, id_prefix)},
            },
        }
    if item.type == "list" and item.rows:
        rows = [
            {
                "id": f"{id_prefix}{row.id}",
                "title": pick(row.title, lang, default),
                **(
                    {"description": pick(row.description, lang, default)} if row.description else {}
                ),
            }
            for row in item.rows
        ]
        return {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": body},
                "action": {
                    "button": pick(item.list_button, lang, default),
                    "sections": [{"rows": rows}],
                },
            },
        }
    if item.type in MEDIA:
        file = item.file or ""
        media: dict[str, Any] = {"link": pack_media.link(program_id, file) if program_id else file}
        caption = render(pick(item.caption, lang, default), **values)
        if caption and item.type != "audio":
            media["caption"] = caption
        return {"type": item.type, item.type: media}
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def system_payload(pack: Pack, key: str, lang: str, **values: Any) -> dict[str, Any]:
    default = pack.program.default_language
    return item_payload(pack.message(key), lang, default, program_id=pack.program.id, **values)


def template_payload(
    template: Template, lang: str, default: str, params: list[str], button_payload: str
) -> dict[str, Any]:
    """A template send body: body parameters {{1}}.. in order, and the quick-reply payload."""
    code = template.language_codes.get(lang) or template.language_codes[default]
    components: list[dict[str, Any]] = []
    if params:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        )
    if template.button is not None:
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": button_payload}],
            }
        )
    return {
        "type": "template",
        "template": {"name": template.name, "language": {"code": code}, "components": components},
    }


def template_text(template: Template, lang: str, default: str, params: list[str]) -> str:
    """The template body as he reads it (console, exports)."""
    body = pick(template.body, lang, default)
    for number, value in enumerate(params, start=1):
        body = body.replace(f"{{{{{number}}}}}", value)
    return body
