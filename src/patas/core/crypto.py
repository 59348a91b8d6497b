"""Encryption of identifying fields at rest, and keyed hashes to look them up.

Fernet tokens (AES-128-CBC + HMAC) under a MultiFernet: the first key in `FIELD_KEYS` encrypts,
all of them decrypt, so a key can be rotated (`patas rotate-key`) without downtime. Lookups by
phone use an HMAC with a separate key, so equal phones match without storing the phone in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_KEYS))


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "an encrypted field could not be decrypted: PATAS_FIELD_KEY does not hold the key"
            " it was written with"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    return cipher().rotate(token.encode()).decode()


def normalise_phone(phone: str) -> str:
    """Digits only, as WhatsApp's wa_id: '+51 987-654-321' -> '51987654321'."""
    return "".join(ch for ch in phone if ch.isdigit())


def lookup_hash(value: str, *, kind: str = "phone") -> str:
    """A keyed hash to find a row by an identifying value without storing it in clear."""
    folded = unicodedata.normalize("NFKC", value).strip().lower()
    if kind == "phone":
        folded = normalise_phone(folded)
    key = settings.LOOKUP_HASH_KEY.encode()
    return hmac.new(key, f"{kind}:{folded}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the plain value."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
