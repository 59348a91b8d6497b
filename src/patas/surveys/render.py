"""A question as WhatsApp Cloud API send bodies (the payloads `messaging.outbox` takes).

select_one with <= 3 choices -> reply buttons; <= 10 -> a list; more -> numbered text.
select_multiple and everything else -> text. Reply ids name the question and choice, so a tap on
an old question's button is recognised as stale (ids: "survey:<question>:<choice>").
"""

from __future__ import annotations

from typing import Any

from patas.surveys.form import Form, Question, interpolate, pick
from patas.surveys.phrases import RunnerWords

MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE = 20
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20
INTERACTIVE_BODY = 1024
TEXT_BODY = 4096

Payload = dict[str, Any]


def shorten(text: str, limit: int) -> str:
    """Fit `text` in `limit` characters, cutting at a word when one is near, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def text(body: str) -> Payload:
    return {"type": "text", "text": {"body": shorten_block(body, TEXT_BODY), "preview_url": False}}


def shorten_block(body: str, limit: int) -> str:
    return body if len(body) <= limit else body[: limit - 1] + "…"


REPLY_PREFIX = "survey:"


def reply_id(q: Question, choice_name: str) -> str:
    return f"{REPLY_PREFIX}{q.name}:{choice_name}"


def split_reply_id(value: str) -> tuple[str, str] | None:
    """("question", "choice") of a survey button or list row id, None for any other id."""
    if not value.startswith(REPLY_PREFIX):
        return None
    question, sep, choice = value[len(REPLY_PREFIX) :].partition(":")
    return (question, choice) if sep else None


def question_body(form: Form, q: Question, lang: str, answers: dict[str, str]) -> str:
    label = interpolate(q.label_for(lang, form.default_lang), answers) or q.name
    hint = interpolate(pick(q.hint, lang, form.default_lang), answers) if q.hint else ""
    return f"{label}\n_{hint}_" if hint else label


def render_note(form: Form, q: Question, lang: str, answers: dict[str, str]) -> Payload:
    return text(question_body(form, q, lang, answers))


def render_question(
    form: Form, q: Question, lang: str, answers: dict[str, str], words: RunnerWords
) -> list[Payload]:
    body = question_body(form, q, lang, answers)
    required = q.required is not None
    if q.type == "select_one" and len(q.choices) <= MAX_BUTTONS:
        return [_buttons(form, q, lang, body, words, required)]
    if q.type == "select_one" and len(q.choices) <= MAX_LIST_ROWS:
        return [_list(form, q, lang, body, words, required)]
    if q.type in {"select_one", "select_multiple"}:
        return [text(_numbered(form, q, lang, body, words, required))]
    return [text(_with_skip(body, words, required))]


def _with_skip(body: str, words: RunnerWords, required: bool) -> str:
    return body if required else f"{body}\n\n{words.say('skip_hint')}"


def _labels(form: Form, q: Question, lang: str) -> list[str]:
    return [c.label_for(lang, form.default_lang) for c in q.choices]


def _numbered(
    form: Form, q: Question, lang: str, body: str, words: RunnerWords, required: bool
) -> str:
    lines = [f"{i}. {label}" for i, label in enumerate(_labels(form, q, lang), start=1)]
    footer = words.say("choose_many" if q.type == "select_multiple" else "choose_one")
    return _with_skip(f"{body}\n\n" + "\n".join(lines) + f"\n\n{footer}", words, required)


def _buttons(
    form: Form, q: Question, lang: str, body: str, words: RunnerWords, required: bool
) -> Payload:
    labels = _labels(form, q, lang)
    titles = [shorten(label, BUTTON_TITLE) for label in labels]
    if len(set(titles)) < len(titles):  # WhatsApp refuses two buttons with one title
        return text(_numbered(form, q, lang, body, words, required))
    if titles != [" ".join(label.split()) for label in labels]:
        # a title was cut: keep the full wording in the message itself
        body = body + "\n\n" + "\n".join(f"• {label}" for label in labels)
    buttons = [
        {"type": "reply", "reply": {"id": reply_id(q, c.name), "title": title}}
        for c, title in zip(q.choices, titles, strict=True)
    ]
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": shorten_block(_with_skip(body, words, required), INTERACTIVE_BODY)},
            "action": {"buttons": buttons},
        },
    }


def _list(
    form: Form, q: Question, lang: str, body: str, words: RunnerWords, required: bool
) -> Payload:
    rows = []
    for choice, label in zip(q.choices, _labels(form, q, lang), strict=True):
        row: dict[str, str] = {"id": reply_id(q, choice.name), "title": shorten(label, ROW_TITLE)}
        if row["title"] != " ".join(label.split()):
            row["description"] = shorten(label, ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": shorten_block(_with_skip(body, words, required), INTERACTIVE_BODY)},
            "action": {
                "button": shorten(words.say("list_button"), LIST_BUTTON),
                "sections": [{"rows": rows}],
            },
        },
    }


def as_terminal_text(payload: Payload) -> str:
    """How a send body reads in a terminal (`patas try-survey`)."""
    if payload.get("type") == "text":
        return str(payload["text"]["body"])
    inner = payload["interactive"]
    lines = [str(inner["body"]["text"])]
    if inner["type"] == "button":
        titles = [b["reply"]["title"] for b in inner["action"]["buttons"]]
        lines.append("  ".join(f"[{i}] {t}" for i, t in enumerate(titles, start=1)))
    else:
        lines.append(f"[{inner['action']['button']}]")
        for i, row in enumerate(inner["action"]["sections"][0]["rows"], start=1):
            extra = f" ({row['description']})" if row.get("description") else ""
            lines.append(f"  {i}. {row['title']}{extra}")
    return "\n".join(lines)
