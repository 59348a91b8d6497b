"""The error table: what the sender does for each Cloud API error."""

from __future__ import annotations

import random

import pytest

from patas.whatsapp.errors import (
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    Action,
    Scope,
    classify,
    gives_up,
    retry_delay,
)


@pytest.mark.parametrize(
    ("code", "http", "action", "scope"),
    [
        (130429, 400, Action.RETRY, Scope.ACCOUNT),
        (80007, 400, Action.RETRY, Scope.ACCOUNT),
        (4, 400, Action.RETRY, Scope.ACCOUNT),
        (131056, 400, Action.RETRY, Scope.RECIPIENT),
        (131000, 500, Action.RETRY, Scope.MESSAGE),
        (131016, 503, Action.RETRY, Scope.MESSAGE),
        (131047, 400, Action.NEEDS_TEMPLATE, Scope.MESSAGE),
        (131026, 400, Action.PERMANENT, Scope.MESSAGE),
        (131050, 400, Action.PERMANENT, Scope.MESSAGE),
        (131048, 400, Action.STOP_BULK, Scope.ACCOUNT),
        (131064, 400, Action.STOP_BULK, Scope.ACCOUNT),
        (131049, 400, Action.STOP_BULK, Scope.ACCOUNT),
        (None, None, Action.RETRY, Scope.MESSAGE),  # network error
        (2, 500, Action.RETRY, Scope.MESSAGE),
        (None, 502, Action.RETRY, Scope.MESSAGE),
        (None, 429, Action.RETRY, Scope.ACCOUNT),
        (100, 400, Action.PERMANENT, Scope.MESSAGE),  # invalid parameter: unknown 4xx
        (None, 404, Action.PERMANENT, Scope.MESSAGE),
        (190, 401, Action.PERMANENT, Scope.MESSAGE),
    ],
)
def test_classification_table(code, http, action, scope):
    verdict = classify(code, http)
    assert verdict.action is action
    assert verdict.scope is scope
    assert verdict.reason


def test_pair_rate_limit_delays_the_recipient_at_least_six_seconds():
    verdict = classify(131056, 400)
    rng = random.Random(1)
    assert all(retry_delay(1, verdict, rng) >= 6.0 for _ in range(100))


def test_backoff_grows_with_attempts_has_jitter_and_a_cap():
    verdict = classify(131000, 500)
    rng = random.Random(7)
    first = [retry_delay(1, verdict, rng) for _ in range(200)]
    fifth = [retry_delay(5, verdict, rng) for _ in range(200)]
    assert min(first) >= 1.0 and max(first) <= 2.0
    assert len(set(first)) > 150  # jitter: not all the same
    assert min(fifth) >= 16.0 and max(fifth) <= 32.0
    assert max(retry_delay(40, verdict, rng) for _ in range(50)) <= BACKOFF_CAP


def test_attempts_are_bounded():
    assert not gives_up(MAX_ATTEMPTS - 1)
    assert gives_up(MAX_ATTEMPTS)
