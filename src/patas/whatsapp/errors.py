"""What the sender does about a Cloud API error: the error table as one pure function.

    classify(code, http_status) -> Verdict

`code` is the Graph API error code from the response body (None when there was no usable body),
`http_status` the HTTP status (None when the request never got an answer: a network error).
The table is in /work/shared/reference/whatsapp.md and DESIGN.md section 5.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class Action(enum.Enum):
    RETRY = "retry"  # transient: back to the queue with backoff, bounded attempts
    NEEDS_TEMPLATE = "needs_template"  # outside the 24-hour window: the engine sends a template
    PERMANENT = "permanent"  # failed once, never retried
    STOP_BULK = "stop_bulk"  # quality / spam limits: stop the number's bulk sends, alert an admin


class Scope(enum.Enum):
    MESSAGE = "message"  # only this message waits
    RECIPIENT = "recipient"  # this man's messages wait (pair rate limit)
    ACCOUNT = "account"  # the whole number backs off (throughput / app rate limits)


@dataclass(frozen=True)
class Verdict:
    action: Action
    scope: Scope = Scope.MESSAGE
    min_delay: float = 0.0  # seconds the retry must wait at least
    reason: str = ""


THROUGHPUT = 130429
PAIR_RATE = 131056
OUTSIDE_WINDOW = 131047
UNDELIVERABLE = 131026
MARKETING_STOPPED = 131050
ACCOUNT_RATE = frozenset({80007, 4})
TRANSIENT = frozenset({131000, 131016})
QUALITY = frozenset({131048, 131064, 131049})

# Meta's pair rate limit lets a burst through, then about one message every 6 seconds.
PAIR_RATE_DELAY = 6.0


def classify(code: int | None, http_status: int | None) -> Verdict:
    """The sender's response to one failed send."""
    if code == THROUGHPUT:
        return Verdict(Action.RETRY, Scope.ACCOUNT, 1.0, "throughput limit (130429)")
    if code in ACCOUNT_RATE:
        return Verdict(Action.RETRY, Scope.ACCOUNT, 5.0, f"account call rate limit ({code})")
    if code == PAIR_RATE:
        return Verdict(Action.RETRY, Scope.RECIPIENT, PAIR_RATE_DELAY, "pair rate limit (131056)")
    if code in TRANSIENT:
        return Verdict(Action.RETRY, reason=f"transient error ({code})")
    if code == OUTSIDE_WINDOW:
        return Verdict(Action.NEEDS_TEMPLATE, reason="outside the 24-hour window (131047)")
    if code == UNDELIVERABLE:
        return Verdict(Action.PERMANENT, reason="undeliverable (131026)")
    if code == MARKETING_STOPPED:
        return Verdict(Action.PERMANENT, reason="user stopped marketing messages (131050)")
    if code in QUALITY:
        return Verdict(Action.STOP_BULK, Scope.ACCOUNT, reason=f"quality or spam limit ({code})")
    if http_status is None:
        return Verdict(Action.RETRY, reason="network error")
    if http_status >= 500:
        return Verdict(Action.RETRY, reason=f"server error (HTTP {http_status})")
    if http_status == 429:
        return Verdict(Action.RETRY, Scope.ACCOUNT, 1.0, "too many requests (HTTP 429)")
    if 400 <= http_status < 500:
        label = f"error {code}" if code is not None else f"HTTP {http_status}"
        return Verdict(Action.PERMANENT, reason=f"rejected ({label})")
    return Verdict(Action.RETRY, reason=f"unexpected answer (HTTP {http_status})")


# Retry policy -----------------------------------------------------------------------------
MAX_ATTEMPTS = 8
BACKOFF_BASE = 2.0  # seconds before the first retry (before jitter)
BACKOFF_CAP = 15 * 60.0


def retry_delay(attempts: int, verdict: Verdict, rng: random.Random | None = None) -> float:
    """Seconds until the next attempt: exponential in the attempts made, with full jitter
    over the upper half, never below the verdict's minimum. `attempts` counts this one."""
    draw = (rng or random).random()
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return max(verdict.min_delay, ceiling * (0.5 + 0.5 * draw))


def gives_up(attempts: int) -> bool:
    """True when a message that failed `attempts` times must not be tried again."""
    return attempts >= MAX_ATTEMPTS
