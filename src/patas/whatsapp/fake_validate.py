"""The fake Cloud API's check of a send body: Meta's essential rules, one problem at a time.

`problem(body)` returns None for a body Meta would accept, else the reason (as Meta's
`error_data.details` would say it, in our own words).
"""

from __future__ import annotations

from typing import Any

MEDIA_TYPES = {"image", "audio", "video", "document", "sticker"}
OTHER_TYPES = {"text", "interactive", "template", "location", "reaction", "contacts"}
TEXT_MAX = 4096
CAPTION_MAX = 1024
BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72


def problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be 'whatsapp'"
    to = body.get("to")
    if not isinstance(to, str) or not to.strip():
        return "'to' is required"
    kind = body.get("type", "text")
    if kind not in MEDIA_TYPES | OTHER_TYPES:
        return f"unsupported message type {kind!r}"
    if kind == "text":
        return _text(body.get("text"))
    if kind == "interactive":
        return _interactive(body.get("interactive"))
    if kind == "template":
        return _template(body.get("template"))
    if kind in MEDIA_TYPES:
        return _media(kind, body.get(kind))
    return None


def _text(text: Any) -> str | None:
    if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
        return "text.body is required"
    if len(text["body"]) > TEXT_MAX:
        return f"text.body is longer than {TEXT_MAX} characters"
    return None


def _interactive(inner: Any) -> str | None:
    if not isinstance(inner, dict):
        return "interactive is required"
    body = inner.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        return "interactive.body.text is required"
    if len(body["text"]) > BODY_MAX:
        return f"interactive.body.text is longer than {BODY_MAX} characters"
    action = inner.get("action")
    if not isinstance(action, dict):
        return "interactive.action is required"
    if inner.get("type") == "button":
        return _buttons(action.get("buttons"))
    if inner.get("type") == "list":
        return _list(action)
    return f"unsupported interactive type {inner.get('type')!r}"


def _buttons(buttons: Any) -> str | None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        return f"a button message needs 1 to {BUTTONS_MAX} buttons"
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            return "each button needs a reply with id and title"
        title, ident = reply.get("title"), reply.get("id")
        if not isinstance(title, str) or not 1 <= len(title) <= BUTTON_TITLE_MAX:
            return f"button title must be 1 to {BUTTON_TITLE_MAX} characters"
        if not isinstance(ident, str) or not 1 <= len(ident) <= BUTTON_ID_MAX:
            return f"button id must be 1 to {BUTTON_ID_MAX} characters"
    return None


def _list(action: dict[str, Any]) -> str | None:
    label = action.get("button")
    if not isinstance(label, str) or not 1 <= len(label) <= BUTTON_TITLE_MAX:
        return f"the list button label must be 1 to {BUTTON_TITLE_MAX} characters"
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        return "a list needs sections"
    rows = [
        row
        for section in sections
        if isinstance(section, dict)
        for row in section.get("rows") or []
    ]
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        return f"a list needs 1 to {LIST_ROWS_MAX} rows in total"
    for row in rows:
        if not isinstance(row, dict):
            return "each row must be an object"
        title = row.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= ROW_TITLE_MAX:
            return f"row title must be 1 to {ROW_TITLE_MAX} characters"
        if len(str(row.get("description", ""))) > ROW_DESCRIPTION_MAX:
            return f"row description is longer than {ROW_DESCRIPTION_MAX} characters"
        if not row.get("id"):
            return "each row needs an id"
    return None


def _template(template: Any) -> str | None:
    if not isinstance(template, dict) or not template.get("name"):
        return "template.name is required"
    language = template.get("language")
    if not isinstance(language, dict) or not language.get("code"):
        return "template.language.code is required"
    return None


def _media(kind: str, media: Any) -> str | None:
    if not isinstance(media, dict) or not (media.get("id") or media.get("link")):
        return f"{kind} needs an id or a link"
    if len(str(media.get("caption", ""))) > CAPTION_MAX:
        return f"{kind} caption is longer than {CAPTION_MAX} characters"
    return None
