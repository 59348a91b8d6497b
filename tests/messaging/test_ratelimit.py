"""The number's token bucket, driven by virtual instants (no clock, no sleeping)."""

from __future__ import annotations

import random

import pytest

from patas.messaging.ratelimit import (
    RATE_MARGIN,
    NumberLimiter,
    Schedule,
    SlidingBucket,
    burst,
    ceiling,
    max_in_window,
)


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
        count = rng.randint(1, 3 * rate)
        arrivals += [t + rng.random() * rng.choice([0.001, 0.3, 2.0]) for _ in range(count)]
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


# The fixed schedule: even spacing, small lateness absorbed, stalls never caught up in a burst.
def paced_run(
    limiter: NumberLimiter, count: int, lateness, stalls: dict[int, float] | None = None
) -> list[float]:
    """A sender with sends always waiting: each wait overshoots by `lateness()` (an event loop
    that wakes late); before send i, `stalls[i]` seconds pass with nothing sent."""
    sent: list[float] = []
    now = 0.0
    for i in range(count):
        now += (stalls or {}).get(i, 0.0)
        while (wait := limiter.try_take(now)) > 0:
            now += wait + lateness()
        sent.append(now)
    return sent


def test_ceiling_keeps_the_margin_and_at_least_one_below_the_limit():
    assert ceiling(1000) == 995
    assert ceiling(80) == 79
    assert ceiling(20) == 19
    assert ceiling(2) == 1
    # what the margin leaves is the most that may go back to back
    assert burst(1000) == 5 and burst(80) == 1


def test_sends_are_evenly_spaced_at_the_ceiling():
    sent = greedy_run(NumberLimiter(1000), [0.0] * 3000)
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) == pytest.approx(1 / 995)
    assert max_in_window(sent) == 995
    assert max_in_window(sent, 0.01) <= 10


def test_late_wakeups_within_the_tolerance_cost_no_throughput():
    rng = random.Random(7)
    tolerance = (burst(1000) - 1) / 995
    sent = paced_run(NumberLimiter(1000), 20_000, lambda: rng.uniform(0, 0.9 * tolerance))
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert rate >= 995 * 0.995
    assert max_in_window(sent) <= 995
    # catching up never sends more than burst(1000) back to back
    assert max_in_window(sent, 1e-9) <= burst(1000)


def test_a_stall_costs_its_slots_and_is_never_caught_up_in_a_burst():
    stall = 0.2  # nothing sent for 200 ms after send 3,000
    sent = paced_run(NumberLimiter(1000), 6000, lambda: 0.0, {3000: stall})
    resumed = sent[3000]
    assert resumed - sent[2999] >= stall
    after = [t for t in sent if resumed <= t < resumed + 0.05]
    assert len(after) <= 0.05 * 995 + burst(1000)  # the schedule's pace, not a burst
    # the stall cost its slots, less the few caught up: about 200 ms x 995/s = 199 sends
    span = sent[-1] - sent[0]
    assert span == pytest.approx((6000 - 1) / 995 + stall - (burst(1000) - 1) / 995, abs=0.002)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_never_above_the_ceiling_whatever_the_delays(seed):
    rng = random.Random(seed)
    stalls = {rng.randrange(20_000): rng.choice([0.004, 0.05, 0.3, 1.2]) for _ in range(40)}
    sent = paced_run(NumberLimiter(1000), 20_000, lambda: rng.expovariate(1 / 0.0005), stalls)
    assert max_in_window(sent) <= 995
    assert max_in_window(sent, 0.01) <= 10 + burst(1000)
    assert max_in_window(sent, 1e-9) <= burst(1000)


def test_schedule_restarts_after_a_gap_with_at_most_the_catch_up_burst():
    schedule = Schedule(100, tolerance=0.03)  # 10 ms slots, 3 may be caught up
    schedule.take(0.0)
    assert schedule.wait_time(0.0) == pytest.approx(0.01)
    schedule.take(5.0)  # long idle: restarts 30 ms before now
    back_to_back = 1
    while schedule.wait_time(5.0) == 0:
        schedule.take(5.0)
        back_to_back += 1
    assert back_to_back == 4
    assert schedule.wait_time(5.0) == pytest.approx(0.01)
