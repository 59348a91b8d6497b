"""Tolerant reading of what a man typed or tapped, into the ODK value of a question.

"2", "dos", "Sí", "si", "de acuerdo" (a label, ignoring case and accents), a tapped button
or list row; "1,3" / "1 3" / "1 y 3" for select_multiple; "3,5" or "3.5" for decimals;
15/03/1990 or 1990-03-15 for dates. Anything else gives the runner phrase key to re-ask with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from patas.surveys.form import Choice, Form, Question
from patas.surveys.phrases import RunnerWords, fold
from patas.surveys.render import split_reply_id

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d+)?|[.,]\d+)")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_CHOICE_NUMBER = re.compile(r"(\d+)[.)]?")
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|\s+y\s+|\s+and\s+|\s+e\s+)\s*")


@dataclass(frozen=True)
class Parsed:
    """Either a value ("" = skipped) or the phrase key saying what we expected."""

    value: str | None = None
    problem: str = ""


def parse_answer(
    form: Form, q: Question, lang: str, text: str, reply_id: str, words: RunnerWords
) -> Parsed:
    text = text.strip()
    if reply_id:
        tapped = split_reply_id(reply_id)
        if tapped and tapped[0] == q.name and q.choice(tapped[1]) is not None:
            return Parsed(tapped[1])
        return Parsed(problem=_expected(q))  # a tap on an older question's button
    if not text:
        return Parsed(problem="answer_text")
    if fold(text) in words.skip_words:
        return Parsed(q.default)
    reader = _READERS[q.type]
    value = reader(form, q, lang, text, words)
    return Parsed(value) if value is not None else Parsed(problem=_expected(q))


def _expected(q: Question) -> str:
    return {
        "integer": "answer_integer",
        "decimal": "answer_decimal",
        "date": "answer_date",
        "select_one": "answer_choice",
        "select_multiple": "answer_choices",
    }.get(q.type, "answer_text")


def _integer(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> str | None:
    compact = text.replace(" ", "")
    if _INTEGER.fullmatch(compact):
        return str(int(compact))
    number = words.number(text)
    return None if number is None else str(number)


def _decimal(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> str | None:
    compact = text.replace(" ", "")
    if _DECIMAL.fullmatch(compact):
        value = float(compact.replace(",", "."))
        return str(int(value)) if value == int(value) else repr(value)
    number = words.number(text)
    return None if number is None else str(number)


def _date(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> str | None:
    iso = _ISO.fullmatch(text.strip())
    day_first = _DMY.fullmatch(text.strip())
    try:
        if iso:
            y, m, d = (int(g) for g in iso.groups())
            return date(y, m, d).isoformat()
        if day_first:
            a, b, y = (int(g) for g in day_first.groups())
            d, m = (a, b) if words.date_order == "dmy" else (b, a)
            return date(y, m, d).isoformat()
    except ValueError:
        return None
    return None


def _text(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> str | None:
    return text


def _select_one(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> str | None:
    choice = find_choice(form, q, lang, text, words)
    return choice.name if choice else None


def _select_multiple(
    form: Form, q: Question, lang: str, text: str, words: RunnerWords
) -> str | None:
    whole = find_choice(form, q, lang, text, words)
    if whole is not None:
        return whole.name
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    if len(parts) == 1:
        parts = text.split()  # "1 3"
    chosen: set[str] = set()
    for part in parts:
        choice = find_choice(form, q, lang, part, words)
        if choice is None:
            return None
        chosen.add(choice.name)
    return " ".join(c.name for c in q.choices if c.name in chosen)


def find_choice(form: Form, q: Question, lang: str, text: str, words: RunnerWords) -> Choice | None:
    """A choice by its number, its label or name (case and accents ignored), or yes/no words."""
    folded = fold(text)
    match = _CHOICE_NUMBER.fullmatch(folded)
    index = int(match.group(1)) if match else words.number(folded)
    if index is not None:
        return q.choices[index - 1] if 1 <= index <= len(q.choices) else None
    by_label = {fold(c.label_for(lang, form.default_lang)): c for c in q.choices}
    by_name = {fold(c.name): c for c in q.choices}
    found = by_label.get(folded) or by_name.get(folded)
    if found is not None:
        return found
    for group in (words.yes_words, words.no_words):
        if folded in group:
            hits = [c for key, c in by_label.items() if key in group]
            if len(hits) == 1:
                return hits[0]
    starts = [c for key, c in by_label.items() if len(folded) >= 3 and key.startswith(folded)]
    return starts[0] if len(starts) == 1 else None


_READERS = {
    "integer": _integer,
    "decimal": _decimal,
    "date": _date,
    "text": _text,
    "select_one": _select_one,
    "select_multiple": _select_multiple,
}
