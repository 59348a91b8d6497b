"""Words a man can type to steer his program (whole message, case and accents ignored).

These are inputs the program understands, not texts it sends: the replies live in the pack.
"""

from __future__ import annotations

import unicodedata

PAUSE = frozenset({"PAUSA", "PAUSE"})
RESUME = frozenset({"SEGUIR", "RESUME", "CONTINUAR", "CONTINUE"})
HOUR = frozenset({"HORA", "TIME"})


def fold(text: str) -> str:
    """Lower case, no accents, inner spaces collapsed, edge punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = " ".join(bare.casefold().split())
    return words.strip(" .,;:!?¡¿\"'()")


def command_of(text: str) -> str | None:
    """'pausa' -> 'pause', 'Seguir!' -> 'resume', 'hora' -> 'hour'; else None."""
    word = fold(text).upper()
    if word in PAUSE:
        return "pause"
    if word in RESUME:
        return "resume"
    if word in HOUR:
        return "hour"
    return None
