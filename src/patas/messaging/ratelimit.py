"""Throughput limits for one phone number, as pure objects over a given time source.

`SlidingBucket` is a token bucket whose every token comes back exactly `window` seconds after it
was spent. So the number of sends in ANY window of that length (not only aligned ones) never
exceeds `capacity`, which is what Meta counts, while a steady stream still reaches the full rate.
A classic refill-per-tick bucket lets up to twice the rate through a window straddling a refill.

Times are plain floats (seconds, e.g. `time.monotonic()` or a virtual clock); nothing here
sleeps or reads a clock, so tests drive it with any sequence of instants.
"""

from __future__ import annotations

from collections import deque


class SlidingBucket:
    def __init__(self, rate: float, window: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if window <= 0:
            raise ValueError(f"window must be positive, got {window!r}")
        # Fractional rates (0.5/s) become one send per 2 s windows.
        if rate < 1:
            window = window / rate
            rate = 1
        self.capacity = int(rate)
        self.window = window
        self._spent: deque[float] = deque()
        self._paused_until = float("-inf")

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0] + self.window <= now:
            self._spent.popleft()

    def wait_time(self, now: float) -> float:
        """Seconds to wait before a send at `now` would be allowed (0 = allowed now)."""
        if now < self._paused_until:
            return self._paused_until - now
        self._expire(now)
        if len(self._spent) < self.capacity:
            return 0.0
        return self._spent[0] + self.window - now

    def try_take(self, now: float) -> float:
        """Spend a token at `now` if allowed and return 0; else return the seconds to wait."""
        wait = self.wait_time(now)
        if wait <= 0:
            if self._spent and now < self._spent[-1]:
                raise ValueError("time went backwards")
            self._spent.append(now)
            return 0.0
        return wait

    def pause_until(self, moment: float) -> None:
        """Allow nothing before `moment` (an account-wide back-off)."""
        self._paused_until = max(self._paused_until, moment)

    @property
    def paused_until(self) -> float:
        return self._paused_until


class Schedule:
    """Sends on a fixed schedule: slot i at t0 + i * interval, one send per slot.

    A send that is late by up to `tolerance` (the event loop woke late) keeps the schedule:
    the next slots may follow at once, so small delays cost nothing and never add up. After a
    longer gap (a stall, or nothing to send) the schedule restarts `tolerance` before now: the
    slots missed beyond that are lost, never sent in a burst. So at most
    1 + tolerance / interval sends ever go back to back (the virtual scheduling form of the
    generic cell rate algorithm). A stall costs throughput, never bunching, and bunched
    requests are what a receiver counts over the limit.
    """

    def __init__(self, rate: float, tolerance: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.interval = 1.0 / rate
        self.tolerance = tolerance
        self._next: float | None = None  # the next slot; a new schedule starts at its first send
        self.unused = 0.0  # seconds of slots let go (stalls, or nothing to send): diagnostics

    def wait_time(self, now: float) -> float:
        return 0.0 if self._next is None else max(0.0, self._next - now)

    def take(self, now: float) -> None:
        """Use the current slot (the caller has checked `wait_time(now) == 0`)."""
        if self._next is None:
            slot = now
        elif now - self.tolerance > self._next:
            self.unused += now - self.tolerance - self._next
            slot = now - self.tolerance
        else:
            slot = self._next
        self._next = slot + self.interval


# The share of the configured rate kept in reserve. Meta counts requests when they arrive; a
# request that reaches it later than the ones after it moves into the next second. Sends are
# evenly spaced, and the most that ever go back to back (`burst`) is what the margin leaves
# (mps - ceiling): even a whole burst arriving late into a full second keeps it at the limit.
# With bursty sends (a sliding bucket alone) 5% was not enough: after every stall of either
# process, the fake counted more than the limit in one second.
RATE_MARGIN = 0.005


def ceiling(mps: float, margin: float = RATE_MARGIN) -> int:
    """The most sends in any 1 s window: mps less the margin, and at least one below mps."""
    return max(1, min(int(mps * (1 - margin)), int(mps) - 1))


def burst(mps: float, margin: float = RATE_MARGIN) -> int:
    """The most sends that may go back to back (1 = none ever catch up): mps - ceiling."""
    return max(1, int(mps) - ceiling(mps, margin))


class NumberLimiter:
    """The limit the sender applies to one phone number at `mps` messages per second.

    Sends go on a fixed schedule at `ceiling(mps)` per second (even spacing; a late send may
    catch up at most `burst(mps) - 1` slots, see `Schedule`), and a sliding bucket guarantees
    that no 1 s window, aligned or not, ever holds more than that ceiling at the sender's
    clock. At 1,000/s: 995 per second, 1.005 ms apart, at most 5 back to back.
    """

    def __init__(self, mps: float, *, margin: float = RATE_MARGIN) -> None:
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), got {margin!r}")
        if mps < 2:  # fractional and tiny rates: the bucket alone spaces them
            self.second = SlidingBucket(mps if mps < 1 else 1, 1.0)
            self.schedule: Schedule | None = None
        else:
            per_second = ceiling(mps, margin)
            self.second = SlidingBucket(per_second, 1.0)
            catch_up = burst(mps, margin) - 1
            self.schedule = Schedule(per_second, catch_up / per_second)

    def wait_time(self, now: float) -> float:
        wait = self.second.wait_time(now)
        if self.schedule is not None:
            wait = max(wait, self.schedule.wait_time(now))
        return wait

    def try_take(self, now: float) -> float:
        wait = self.wait_time(now)
        if wait > 0:
            return wait
        self.second.try_take(now)
        if self.schedule is not None:
            self.schedule.take(now)
        return 0.0

    def pause_until(self, moment: float) -> None:
        self.second.pause_until(moment)

    @property
    def paused_until(self) -> float:
        return self.second.paused_until


def max_in_window(instants: list[float], window: float = 1.0) -> int:
    """The largest number of instants in any half-open window [t, t + window)."""
    ordered = sorted(instants)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] + window <= moment:
            start += 1
        best = max(best, end - start + 1)
    return best
