"""The async part of the sender: send claimed rows concurrently, in order per man, under the
number's rate limit. No database here: rows come in as `Claimed`, results go out as `Outcome`
through a callback, so this runs in the worker's sender thread or inside `asyncio.run`.

- Per recipient: one chain (task) per man sends his rows one at a time, in the order given,
  at least `gap` seconds apart. When one fails, the rest of his chain is handed back unsent, so
  a retry never lets a later message overtake it.
- Per number: a `NumberLimiter` at `mps` (evenly spaced sends under a sliding 1 s ceiling, see
  ratelimit), taken right before each request under one lock (FIFO, no thundering herd); an
  account-wide error (130429, 80007, 4) pauses the bucket with an exponential back-off.
- `max_in_flight` bounds concurrent requests (and so the connection pool): by default enough
  for answers that take `ANSWER_ALLOWANCE` at the full rate, so a slow answer never holds
  back the schedule.
- `fence`: a time after which no request starts (the sender's lease may have lapsed; see
  sender_thread). Rows that reach it come back unsent.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from patas.messaging.claim import Claimed
from patas.messaging.ratelimit import NumberLimiter
from patas.whatsapp.client import CloudClient, SendResult
from patas.whatsapp.errors import Scope

RECIPIENT_GAP = 0.5  # seconds between two messages to the same man
PAUSE_CAP = 60.0
ANSWER_ALLOWANCE = 0.25  # seconds: requests in flight = mps x this (at least 64)


def max_in_flight_for(mps: float) -> int:
    return max(64, int(mps * ANSWER_ALLOWANCE))


class Pace(Protocol):
    """Where the dispatcher reads time and how it waits."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealPace:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class InstantPace:
    """Virtual seconds for tests and the simulator: a wait moves this clock, never the wall
    clock, so rate limits and gaps are honoured in virtual time and nothing really sleeps."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Outcome:
    row: Claimed
    result: SendResult | None  # None: handed back without an attempt
    at: float = 0.0  # pace time of the attempt


OutcomeSink = Callable[[Outcome], None]


class Dispatcher:
    def __init__(
        self,
        client: CloudClient,
        on_outcome: OutcomeSink,
        *,
        mps: float,
        pace: Pace | None = None,
        gap: float = RECIPIENT_GAP,
        max_in_flight: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.on_outcome = on_outcome
        self.pace = pace or RealPace()
        self.bucket = NumberLimiter(mps)
        self.gap = gap
        self.forget_above = max(5_000, int(mps * gap * 8))
        self.rng = rng or random.Random()
        self.chains: dict[str, deque[Claimed]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.last_sent: dict[str, float] = {}
        self.gate = asyncio.Lock()
        self.slots = asyncio.Semaphore(max_in_flight or max_in_flight_for(mps))
        self.pause_streak = 0
        self.closing = False
        # Fencing: no request starts at or after this time.monotonic() value. The pipelined
        # sender moves it on each time it renews the number's lease, so a sender cut off from
        # the database stops by itself before another can take the number over.
        self.fence = math.inf

    def submit(self, rows: list[Claimed]) -> None:
        """Queue rows (in the order given) behind each man's earlier ones."""
        # Forget gaps that are over, so memory stays flat (a few seconds' worth of men).
        if len(self.last_sent) > self.forget_above:
            self._forget_old_gaps()
        for row in rows:
            if self.closing:
                self.on_outcome(Outcome(row, None))
                continue
            chain = self.chains.get(row.to)
            if chain is None:
                chain = self.chains[row.to] = deque()
                task = asyncio.get_running_loop().create_task(self._run_chain(row.to, chain))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            chain.append(row)

    async def drain(self) -> None:
        """Wait until every submitted row has an outcome."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    async def close(self) -> None:
        """Stop: rows not started come back unsent; requests under way finish."""
        self.closing = True
        await self.drain()

    @property
    def pending(self) -> int:
        return sum(len(chain) for chain in self.chains.values())

    async def _run_chain(self, to: str, chain: deque[Claimed]) -> None:
        try:
            while chain:
                row = chain.popleft()
                outcome = await self._send_one(row)
                self.on_outcome(outcome)
                if outcome.result is None or not outcome.result.ok:
                    while chain:
                        self.on_outcome(Outcome(chain.popleft(), None))
        finally:
            while chain:  # cancelled: nothing may be lost
                self.on_outcome(Outcome(chain.popleft(), None))
            self.chains.pop(to, None)

    async def _send_one(self, row: Claimed) -> Outcome:
        last = self.last_sent.get(row.to)
        if last is not None:
            wait = last + self.gap - self.pace.monotonic()
            if wait > 0:
                await self.pace.sleep(wait)
        async with self.slots:
            await self._take_token()
            if self.closing or time.monotonic() >= self.fence:
                return Outcome(row, None)
            at = self.pace.monotonic()
            self.last_sent[row.to] = at
            result = await self.client.send(row.to, row.payload)
        self.last_sent[row.to] = self.pace.monotonic()
        if result.ok:
            self.pause_streak = 0
        elif result.verdict.scope is Scope.ACCOUNT and self.bucket.paused_until <= at:
            # (requests already in flight when the pause began do not lengthen it again)
            self._back_off(result.verdict.min_delay)
        return Outcome(row, result, at)

    async def _take_token(self) -> None:
        async with self.gate:
            while True:
                wait = self.bucket.try_take(self.pace.monotonic())
                if wait <= 0:
                    return
                await self.pace.sleep(wait)

    def _back_off(self, base: float) -> None:
        """Pause the whole number: base * 2^streak seconds (with jitter), at most PAUSE_CAP."""
        pause = min(PAUSE_CAP, max(base, 0.5) * 2**self.pause_streak)
        pause *= 0.75 + 0.5 * self.rng.random()
        self.bucket.pause_until(self.pace.monotonic() + pause)
        self.pause_streak = min(self.pause_streak + 1, 10)

    def _forget_old_gaps(self) -> None:
        horizon = self.pace.monotonic() - self.gap
        self.last_sent = {to: t for to, t in self.last_sent.items() if t > horizon}


async def send_all(
    client: CloudClient,
    rows: list[Claimed],
    *,
    mps: float,
    pace: Pace | None = None,
    gap: float = RECIPIENT_GAP,
) -> list[Outcome]:
    """Send one batch and wait for all of it (the no-thread path: ticks, the simulator)."""
    outcomes: list[Outcome] = []
    dispatcher = Dispatcher(client, outcomes.append, mps=mps, pace=pace, gap=gap)
    dispatcher.submit(rows)
    await dispatcher.drain()
    return outcomes
