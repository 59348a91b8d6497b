"""Checks on every per-language text of a pack: languages, placeholders, partner-safe words."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from patas.programs.lint_yaml import KeyPath, Source
from patas.programs.schema import Localized, Program

TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NOT_LANGUAGE_MAPS = {"surveys"}


def iter_localized(model: BaseModel, path: KeyPath) -> Iterator[tuple[KeyPath, Localized]]:
    """Every per-language text under `model`, with its key path (language maps included)."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or name in NOT_LANGUAGE_MAPS:
            continue
        yield from _iter_value(value, (*path, name), _is_localized(info.annotation))


def _iter_value(value: Any, path: KeyPath, localized: bool) -> Iterator[tuple[KeyPath, Localized]]:
    if isinstance(value, BaseModel):
        yield from iter_localized(value, path)
    elif isinstance(value, list):
        for index, element in enumerate(value):
            if isinstance(element, BaseModel):
                yield from iter_localized(element, (*path, index))
    elif isinstance(value, dict):
        if localized:
            yield path, value
            return
        for key, element in value.items():
            yield from _iter_value(element, (*path, key), False)


def _is_localized(annotation: Any) -> bool:
    return annotation == Localized or annotation == (Localized | None)


def check_localized(languages: list[str], src: Source, path: KeyPath, model: BaseModel) -> None:
    for text_path, texts in iter_localized(model, path):
        missing = [lang for lang in languages if lang not in texts]
        if missing:
            src.add(text_path, f"missing language(s): {', '.join(missing)}")
        for lang, text in texts.items():
            if lang not in languages:
                src.add(
                    (*text_path, lang),
                    f"{lang!r} is not one of the program's languages ({', '.join(languages)})",
                )
            elif not text.strip():
                src.add((*text_path, lang), "is empty")


def check_placeholders(
    src: Source, path: KeyPath, model: BaseModel, allowed: frozenset[str]
) -> None:
    for text_path, texts in iter_localized(model, path):
        if text_path[-1] == "language_codes":
            continue
        in_template = text_path[:1] == ("templates",) and text_path[-1] == "body"
        for lang, text in texts.items():
            for message in placeholder_problems(text, allowed, in_template=in_template):
                src.add((*text_path, lang), message)


def placeholder_problems(text: str, allowed: frozenset[str], *, in_template: bool) -> list[str]:
    """What is wrong with the {placeholders} and {{n}} variables of one text."""
    problems = []
    if not in_template and TEMPLATE_VARIABLE.search(text):
        problems.append("template variables like {{1}} only work in program.yaml templates")
    try:
        fields = [
            name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None
        ]
    except ValueError as exc:
        return [*problems, f"unbalanced braces ({exc}); write {{{{ or }}}} for a literal brace"]
    for name in fields:
        base = re.split(r"[.\[]", name, maxsplit=1)[0]
        if in_template:
            problems.append(f"{{{name}}} in a template: use {{{{1}}}}-style variables")
        elif base not in allowed:
            hint = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
            problems.append(
                f"placeholder {{{name}}} has no value here and would leak (allowed: {hint})"
            )
    return problems


# ---- partner-facing texts ----


def forbidden_words(program: Program) -> list[tuple[str, str]]:
    words = {w for words in program.partner_forbidden_words.values() for w in words}
    return sorted((word, _fold(word)) for word in words if _fold(word).strip())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def check_partner_words(
    forbidden: list[tuple[str, str]], src: Source, path: KeyPath, model: BaseModel
) -> None:
    for text_path, texts in iter_localized(model, path):
        for lang, text in texts.items():
            folded = _fold(text)
            for word, folded_word in forbidden:
                if re.search(rf"(?<!\w){re.escape(folded_word)}(?!\w)", folded):
                    src.add(
                        (*text_path, lang),
                        f"uses {word!r}, which must never reach a "
                        "partner (partner_forbidden_words)",
                    )
