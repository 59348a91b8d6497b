"""Identifiers shown outside the database: UUIDs and readable pseudonyms."""

from __future__ import annotations

import uuid


def new_uid() -> uuid.UUID:
    return uuid.uuid4()


def short_ref(value: uuid.UUID) -> str:
    """An 8-character reference for people to read aloud (console, exports)."""
    return value.hex[:8].upper()
