"""Finding the source of a man's first message (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A code as the wa.me link pre-fills it: "(ref FB-A1)", "#FB-A1" or "ref: FB-A1".
_CODE = re.compile(r"(?:\bref[:\s]+|#)([A-Za-z0-9][A-Za-z0-9_-]{1,39})", re.IGNORECASE)


@dataclass(frozen=True)
class Clue:
    code: str = ""
    ad_id: str = ""
    ctwa_clid: str = ""
    headline: str = ""


def find_clue(text: str, referral: dict[str, Any] | None) -> Clue:
    """A click-to-WhatsApp referral wins (Meta vouches for it); else a code in the text."""
    if referral and referral.get("source_id"):
        return Clue(
            ad_id=str(referral.get("source_id", "")),
            ctwa_clid=str(referral.get("ctwa_clid", "")),
            headline=str(referral.get("headline", ""))[:300],
        )
    match = _CODE.search(text or "")
    return Clue(code=match.group(1).upper()) if match else Clue()


def prefill(code: str, phrase: str) -> str:
    """The text a wa.me link pre-fills: the program's phrase plus the code the parser finds."""
    return f"{phrase} (ref {code})"
