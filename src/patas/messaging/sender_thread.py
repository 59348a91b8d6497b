"""The worker's pipelined sender: HTTP in a background thread, the database in the caller's.

    pipe = PipelinedSender(sender)
    while running:
        pipe.step(wait=0.05)      # record results, renew leases, claim more when running low
    pipe.stop()                   # finish requests under way, hand back the rest, free the lease

The background thread runs one asyncio loop with a `Dispatcher`; claimed rows go in with
`call_soon_threadsafe`, outcomes come back through a thread-safe queue. So claiming and recording
(the database) overlap with sending (the network), and Django's connection stays in one thread.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import time

from patas.core import clock
from patas.messaging import claim
from patas.messaging.dispatch import Dispatcher, Outcome
from patas.messaging.sender import (
    RENEW_EVERY,
    SENDER_LEASE,
    Sender,
    Tally,
    record_outcomes,
)

log = logging.getLogger(__name__)

FLUSH_SIZE = 250  # outcomes recorded in one go
FLUSH_EVERY = 0.25  # seconds: results are never older than this when recorded
SWITCH_INTERVAL = 0.0005
# Fencing: a sender sends only until FENCE seconds after it last renewed its lease, a margin
# before the lease itself (SENDER_LEASE) runs out. A sender cut off from the database (it cannot
# renew) has therefore stopped before any other worker can take the number over, and what it
# sent before that is recorded when it gets back (see Sender.hold_lease, HANDOVER).
FENCE = SENDER_LEASE.total_seconds() - 2.0


class SenderThread:
    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.dispatcher: Dispatcher | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"patas-sender-{sender.phone_number_id}", daemon=True
        )
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        # The database thread holds the GIL for long stretches of Django code; a shorter switch
        # interval lets this thread get back to its sockets sooner (default 5 ms).
        sys.setswitchinterval(SWITCH_INTERVAL)
        asyncio.set_event_loop(self.loop)
        self.client = self.sender.client()
        self.dispatcher = Dispatcher(
            self.client,
            self.outcomes.put,
            mps=self.sender.mps,
            pace=self.sender.pace,
            gap=self.sender.gap,
        )
        self.ready.set()
        self.loop.run_forever()

    def submit(self, rows: list[claim.Claimed]) -> None:
        assert self.dispatcher is not None
        self.loop.call_soon_threadsafe(self.dispatcher.submit, rows)

    def set_fence(self, at: float) -> None:
        # One float written by this thread and read by the loop's: atomic under the GIL.
        if self.dispatcher is not None:
            self.dispatcher.fence = at

    def collect(self, wait: float) -> list[Outcome]:
        got: list[Outcome] = []
        try:
            got.append(self.outcomes.get(timeout=wait) if wait > 0 else self.outcomes.get_nowait())
            while True:
                got.append(self.outcomes.get_nowait())
        except queue.Empty:
            pass
        return got

    def close(self, timeout: float = 60.0) -> None:
        assert self.dispatcher is not None

        async def finish() -> None:
            assert self.dispatcher is not None
            await self.dispatcher.close()
            await self.client.aclose()

        future = asyncio.run_coroutine_threadsafe(finish(), self.loop)
        try:
            future.result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)


class PipelinedSender:
    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.thread: SenderThread | None = None
        self.in_flight = 0
        self.tally = Tally()
        self._renewed = 0.0
        self._buffer: list[Outcome] = []
        self._flushed = time.monotonic()
        self._fence = 0.0

    @property
    def active(self) -> bool:
        return self.thread is not None

    def step(self, wait: float = 0.05) -> int:
        """One round; returns how many outcomes were recorded (0 when idle)."""
        sender = self.sender
        now_mono = time.monotonic()
        if now_mono - self._renewed >= RENEW_EVERY or not sender.holding:
            self._renewed = now_mono
            if not sender.hold_lease():
                if self.thread is not None:
                    log.warning(
                        "%s lost the sender lease of %s; stopping",
                        sender.holder,
                        sender.phone_number_id,
                    )
                    self.stop(release=False)
                return 0
            claim.renew(sender.holder, phone_number_id=sender.phone_number_id)
            # The lease now runs SENDER_LEASE from a moment after now_mono: stop sending a
            # margin before that unless it is renewed again (fencing, see FENCE).
            self._fence = now_mono + FENCE
        if self.thread is None:
            self.thread = SenderThread(sender)
        self.thread.set_fence(self._fence)
        # Claim while a second's worth (2 batches) is still queued: a claim on a busy machine
        # can take most of a second, and the schedule must never run dry meanwhile.
        low_water = sender.batch_size * 2
        if self.in_flight < low_water:
            rows = sender.claim(sender.batch_size * 3 - self.in_flight, clock.now())
            if rows:
                self.in_flight += len(rows)
                self.thread.submit(rows)
        self._buffer += self.thread.collect(wait if self.in_flight else 0)
        # Record in batches (fewer, larger statements), at least every FLUSH_EVERY seconds.
        if len(self._buffer) >= FLUSH_SIZE or time.monotonic() - self._flushed >= FLUSH_EVERY:
            return self._record()
        return 0

    def _record(self) -> int:
        """Write the buffered outcomes. On a database error they stay buffered (and are
        written by a later step), so a sent message is never forgotten while we run."""
        outcomes = self._buffer
        self._flushed = time.monotonic()
        if not outcomes:
            return 0
        tally = record_outcomes(
            outcomes,
            self.sender.holder,
            self.sender.phone_number_id,
            clock.now(),
            self.sender.rng,
        )
        self._buffer = []
        self.in_flight -= len(outcomes)
        self.tally.add(tally)
        return len(outcomes)

    def stop(self, *, release: bool = True) -> None:
        """Graceful stop: requests under way finish and are recorded; the rest go back."""
        if self.thread is not None:
            thread, self.thread = self.thread, None
            try:
                thread.close()
            finally:
                self._buffer += thread.collect(0)
                self._record()
        if release:
            self.sender.release_lease()
        self.sender.holding = False
