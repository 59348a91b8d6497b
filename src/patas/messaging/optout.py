"""Router step 10: opt-out and opt-in words, and silence for men who opted out.

A word counts only as the whole message, after case folding, accent stripping, trimming and
dropping punctuation around it: "  sálir ", "Stop", "baja." opt out; "no quiero que me hagan
stop" does not. An opted-out man's messages are stored but answered only when he opts back in.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from django.conf import settings

from patas.messaging.router import Inbound, Result
from patas.participants import actions


def fold(text: str) -> str:
    """Case-folded, accent-free, trimmed, inner spaces collapsed, edge punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = " ".join(bare.casefold().split())
    start, end = 0, len(words)
    while start < end and not words[start].isalnum():
        start += 1
    while end > start and not words[end - 1].isalnum():
        end -= 1
    return words[start:end]


@lru_cache(maxsize=16)
def _words(configured: tuple[str, ...]) -> frozenset[str]:
    """Folded once per word list, not once per message (keyed by the list itself, so a change
    of settings is seen)."""
    return frozenset(fold(word) for word in configured if fold(word))


def is_opt_out(text: str) -> bool:
    return fold(text) in _words(tuple(settings.OPT_OUT_WORDS))


def is_opt_in(text: str) -> bool:
    return fold(text) in _words(tuple(settings.OPT_IN_WORDS))


def handle(inbound: Inbound) -> Result:
    participant = inbound.participant
    if is_opt_out(inbound.text):
        if participant.opted_out_at is None:
            actions.opt_out(participant, via_text=inbound.text)
        return Result.DONE  # already out: nothing more is sent to him
    if participant.opted_out_at is not None:
        if is_opt_in(inbound.text):
            actions.opt_in(participant)
        return Result.DONE  # stored, never answered while he is out
    return Result.CONTINUE


def quiet(inbound: Inbound) -> bool:
    """`handle` passes the message on and changes nothing (`router.Quiet`)."""
    return inbound.participant.opted_out_at is None and not is_opt_out(inbound.text)
