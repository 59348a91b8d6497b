"""Pseudonyms: "<animal> <adjective>" in Spanish, stable and unique within a group.

The choice is a pure function of (group uid, participant uid, names already taken): the same
man in the same group always starts from the same candidate, and collisions probe forward
through the list, so the pseudonym never depends on his name or number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).parent / "data" / "pseudonyms.yaml"


@lru_cache(maxsize=1)
def all_pseudonyms() -> tuple[str, ...]:
    """Every pseudonym the word list allows, in a fixed order."""
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    names: list[str] = []
    for masculine, feminine in data["adjectives"]:
        names.extend(f"{animal} {masculine}" for animal in data["animals"]["m"])
        names.extend(f"{animal} {feminine}" for animal in data["animals"]["f"])
    return tuple(names)


def _start(group_key: str, participant_key: str, size: int) -> int:
    digest = hashlib.sha256(f"{group_key}:{participant_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def choose(group_key: str, participant_key: str, taken: Collection[str]) -> str:
    """The pseudonym for a man in a group: deterministic, and not in `taken`."""
    names = all_pseudonyms()
    start = _start(group_key, participant_key, len(names))
    taken_set = set(taken)
    for offset in range(len(names)):
        candidate = names[(start + offset) % len(names)]
        if candidate not in taken_set:
            return candidate
    raise ValueError(f"all {len(names)} pseudonyms are taken in this group")
