"""Participant-facing system texts, always from the content pack, in the man's language."""

from __future__ import annotations

from typing import Any

from patas.participants.models import Participant
from patas.programs.pack import Pack, get_pack


class _Strict(dict[str, Any]):
    """Formatting values: a placeholder without a value is an error, never leaked as '{name}'."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(f"placeholder {{{key}}} has no value")


def render(template: str, **values: Any) -> str:
    return template.format_map(_Strict(values)) if values or "{" in template else template


def language_of(participant: Participant, pack: Pack) -> str:
    lang = participant.language
    return lang if lang in pack.program.languages else pack.program.default_language


def system_text(
    participant: Participant, key: str, *, program_id: str | None = None, **values: Any
) -> str:
    """The text of messages.yaml[key] for this man, with {placeholders} filled from values."""
    pack = get_pack(program_id)
    return render(pack.text(key, language_of(participant, pack)), **values)
