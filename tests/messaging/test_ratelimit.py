"""The number's token bucket, driven by virtual instants (no clock, no sleeping)."""

from __future__ import annotations

import random

import pytest

from patas.messaging.ratelimit import RATE_MARGIN, NumberLimiter, SlidingBucket, max_in_window


def greedy_run(bucket: SlidingBucket | NumberLimiter, arrivals: list[float]) -> list[float]:
    """Each arrival sends as soon as the bucket allows: returns the send instants."""
    sent = []
    now = 0.0
    for arrival in sorted(arrivals):
        now = max(now, arrival)
        while (wait := bucket.try_take(now)) > 0:
            now += wait
        sent.append(now)
    return sent


@pytest.mark.parametrize("rate", [1, 5, 80, 1000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_never_more_than_the_rate_in_any_one_second_window(rate, seed):
    rng = random.Random(seed)
    # bursts, trickles and pauses, several times the rate in total
    arrivals = []
    t = 0.0
    for _ in range(8):
        burst = rng.randint(1, 3 * rate)
        arrivals += [t + rng.random() * rng.choice([0.001, 0.3, 2.0]) for _ in range(burst)]
        t += rng.choice([0.0, 0.2, 0.999, 1.0, 1.5])
    sent = greedy_run(SlidingBucket(rate), arrivals)
    assert len(sent) == len(arrivals)
    assert max_in_window(sent) <= rate
    # the check itself is right: shifting the window by tiny steps finds nothing more
    for start in sorted(sent)[:200]:
        assert sum(1 for s in sent if start <= s < start + 1.0) <= rate


def test_a_steady_stream_reaches_the_full_rate():
    rate = 1000
    sent = greedy_run(SlidingBucket(rate), [0.0] * 10 * rate)
    duration = sent[-1] - sent[0]
    assert len(sent) / (duration + 1e-9) >= rate * 0.99 - 1
    assert max_in_window(sent) == rate


def test_a_classic_refill_bucket_would_have_failed_this_check():
    # two bursts of `rate` half a second apart around a window edge: 2x the rate in 1 s
    rate = 10
    sent = [0.9] * rate + [1.1] * rate
    assert max_in_window(sent) == 2 * rate
    assert max_in_window(greedy_run(SlidingBucket(rate), sent)) == rate


def test_pause_holds_everything_until_its_end():
    bucket = SlidingBucket(100)
    assert bucket.try_take(0.0) == 0
    bucket.pause_until(5.0)
    assert bucket.try_take(1.0) == pytest.approx(4.0)
    assert bucket.try_take(5.0) == 0


def test_fractional_rates_space_sends_out():
    sent = greedy_run(SlidingBucket(0.5), [0.0, 0.0, 0.0])
    assert sent == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_rate_is_refused(bad):
    with pytest.raises(ValueError, match="rate must be positive"):
        SlidingBucket(bad)


@pytest.mark.parametrize("mps", [80, 1000])
def test_number_limiter_keeps_a_margin_and_spreads_sends_evenly(mps):
    limiter = NumberLimiter(mps)
    sent = greedy_run(limiter, [0.0] * 3 * mps)
    ceiling = mps * (1 - RATE_MARGIN)
    assert max_in_window(sent) <= ceiling
    assert max_in_window(sent, 0.1) <= -(-ceiling // 10)
    rate = len(sent) / (sent[-1] - sent[0])
    assert rate >= ceiling * 0.99  # the limiter itself costs nothing beyond the margin


def test_number_limiter_pause():
    limiter = NumberLimiter(80)
    limiter.pause_until(3.0)
    assert limiter.try_take(1.0) == pytest.approx(2.0)
    assert limiter.paused_until == 3.0
    assert limiter.try_take(3.0) == 0
