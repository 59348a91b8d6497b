"""The chat runner's own words per language, read from the content pack's `surveys/runner.yaml`.

Participant-facing text never lives in Python: the runner asks this file for "please answer
with a number", the words for back and skip, yes/no words and small numbers in words.
"""

from __future__ import annotations

import stat
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

REQUIRED_PHRASES = (
    "answer_integer",
    "answer_decimal",
    "answer_date",
    "answer_choice",
    "answer_choices",
    "answer_text",
    "required",
    "invalid",
    "choose_one",
    "choose_many",
    "list_button",
    "skip_hint",
    "no_previous",
    "resume",
    "done",
)


def fold(text: str) -> str:
    """Lower case, no accents, single spaces, no surrounding punctuation: 'Sí!' -> 'si'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.strip(" \t\n.,;:!¡?¿\"'()").split())


@dataclass(frozen=True)
class RunnerWords:
    lang: str
    phrases: dict[str, str]
    back_words: frozenset[str] = frozenset()
    skip_words: frozenset[str] = frozenset()
    yes_words: frozenset[str] = frozenset()
    no_words: frozenset[str] = frozenset()
    numbers: dict[str, int] = field(default_factory=dict)
    date_order: str = "dmy"

    def say(self, key: str) -> str:
        return self.phrases[key]

    def number(self, text: str) -> int | None:
        return self.numbers.get(fold(text))


def default_path() -> Path:
    return Path(settings.CONTENT_DIR) / settings.DEFAULT_PROGRAM / "surveys" / "runner.yaml"


def _words(raw: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(fold(str(w)) for w in raw.get(key, []) or [])


def parse_words(data: Any, source: str) -> dict[str, RunnerWords]:
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{source}: expected a mapping of language -> words")
    out: dict[str, RunnerWords] = {}
    for lang, raw in data.items():
        phrases = {str(k): str(v) for k, v in (raw.get("phrases") or {}).items()}
        missing = [k for k in REQUIRED_PHRASES if not phrases.get(k)]
        if missing:
            raise ValueError(f"{source}: language '{lang}' lacks phrases: {', '.join(missing)}")
        order = str(raw.get("date_order", "dmy"))
        if order not in {"dmy", "mdy"}:
            raise ValueError(f"{source}: language '{lang}': date_order must be dmy or mdy")
        out[str(lang)] = RunnerWords(
            lang=str(lang),
            phrases=phrases,
            back_words=_words(raw, "back_words"),
            skip_words=_words(raw, "skip_words"),
            yes_words=_words(raw, "yes_words"),
            no_words=_words(raw, "no_words"),
            numbers={fold(str(k)): int(v) for k, v in (raw.get("numbers") or {}).items()},
            date_order=order,
        )
    return out


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, RunnerWords]:
    with open(path, encoding="utf-8") as handle:
        return parse_words(yaml.safe_load(handle), path)


def load_words(path: Path | None = None) -> dict[str, RunnerWords]:
    target = path or default_path()
    try:  # one stat per call (every answer asks): its time also tells an edited file
        found = target.stat()
    except FileNotFoundError:
        found = None
    if found is None or not stat.S_ISREG(found.st_mode):
        raise FileNotFoundError(f"{target}: the survey runner's words file is missing")
    return _load(str(target), found.st_mtime)


def words_for(lang: str, path: Path | None = None) -> RunnerWords:
    table = load_words(path)
    return table.get(lang) or table.get("es") or next(iter(table.values()))
