"""Meta's side of the webhook for the fault scripts: post signed deliveries, retry until 200.

    meta = MetaPoster(port, concurrency=4)        # a thread with its own asyncio loop
    meta.deliver("in:1", body)                    # posted as soon as a poster is free
    meta.acknowledged / meta.attempts / meta.pending()
    meta.close()

Like Meta, a delivery that gets anything but a 200 (a 5xx, or no answer) is posted again later,
with a growing delay (here 0.5 s doubling to 4 s, so a run stays short; Meta retries for days).
Every attempt is recorded with its start, end and status (0 = no HTTP answer).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import common

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Attempt:
    key: str
    started: float  # time.monotonic()
    ended: float
    status: int


class MetaPoster:
    def __init__(self, port: int, concurrency: int = 4) -> None:
        self.port = port
        self.attempts: list[Attempt] = []
        self.acknowledged: dict[str, float] = {}  # key -> when the 200 came
        self.bodies: dict[str, bytes] = {}
        self.loop = asyncio.new_event_loop()
        self._queue: asyncio.Queue[tuple[str, int]] | None = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(concurrency, ready), daemon=True)
        self._thread.start()
        ready.wait(10)

    def deliver(self, key: str, body: bytes) -> None:
        self.bodies[key] = body
        self.loop.call_soon_threadsafe(self._put, key, 0)

    def pending(self) -> int:
        return len(self.bodies) - len(self.acknowledged)

    def close(self) -> None:
        async def stop() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def _run(self, concurrency: int, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self._queue = asyncio.Queue()
        self._tasks = [self.loop.create_task(self._poster()) for _ in range(concurrency)]
        ready.set()
        self.loop.run_forever()

    def _put(self, key: str, tries: int) -> None:
        assert self._queue is not None
        self._queue.put_nowait((key, tries))

    async def _poster(self) -> None:
        assert self._queue is not None
        while True:
            key, tries = await self._queue.get()
            started = time.monotonic()
            status = await self._post(self.bodies[key])
            self.attempts.append(Attempt(key, started, time.monotonic(), status))
            if status == 200:
                self.acknowledged[key] = time.monotonic()
            else:
                delay = RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)]
                self.loop.call_later(delay, self._put, key, tries + 1)

    async def _post(self, body: bytes) -> int:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), 10
            )
        except (TimeoutError, OSError):
            return 0
        try:
            writer.write(common.signed_request(self.port, body))
            await writer.drain()
            status, _ = await asyncio.wait_for(common.read_response(reader), 30)
            return int(status)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            return 0
        finally:
            writer.close()
