"""The worker: periodic jobs, inbound routing and the outbox sender, in one loop.

    Worker().run()                  # `patas worker`: until SIGTERM/SIGINT
    Worker().run(until_idle=True)   # until nothing is left to do (tests, scripts)
    Worker(transport=..., pace=InstantPace()).tick(now)   # the simulator: one pass at virtual
                                                          # time `now`, no threads, no sleeping

The worker runs a sender for every configured number (`PATAS_WHATSAPP_NUMBERS`, see
patas.whatsapp.numbers). Each tries its own lease `sender:<id>`, so every number has one sender
at a time, spread over whichever workers got the leases; a number whose worker died is taken
over by another within seconds. In the long-running loop each number's sender has its own
thread and rate limit, and this thread does their database work in turn.

`core` imports no other app at module level: routing and sending are looked up when the worker
starts (they live in `patas.messaging`). Database errors are logged and the loop goes on after
a short pause with fresh connections, so a database restart does not kill the worker.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, InterfaceError, close_old_connections, connections

from patas.core import clock
from patas.core.jobs import run_due_jobs

log = logging.getLogger(__name__)

JOBS_EVERY = 1.0  # seconds between looks at the job registry
ROUTE_EVERY = 0.2
ROUTE_BATCH = 500  # inbound messages per look in a tick
IDLE_WAIT = 0.2
SEND_WAIT = 0.05  # seconds a pass waits for send results, shared by the numbers' senders
ERROR_PAUSE = (1.0, 8.0)  # first and longest pause after a database error (see sender HANDOVER)


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class TickReport:
    jobs: dict[str, int | None] = field(default_factory=dict)
    routed: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of jobs, routing, sending

    @property
    def busy(self) -> bool:
        return bool(self.routed or self.jobs or sum(self.sent.values()))


class Worker:
    def __init__(
        self, name: str | None = None, *, send: bool = True, **sender_options: Any
    ) -> None:
        self.name = name or default_name()
        self.senders = self._make_senders(sender_options) if send else []
        self.stopping = threading.Event()
        self._errors = 0

    def _make_senders(self, options: dict[str, Any]) -> list[Any]:
        """One Sender per configured number, at its own rate; `phone_number_id` in the options:
        that number only; `mps` in the options: that rate for every number (the simulator)."""
        from patas.messaging.sender import Sender
        from patas.whatsapp.numbers import configured

        if options.get("phone_number_id"):
            return [Sender(self.name, **options)]
        return [
            Sender(self.name, **{"phone_number_id": number, "mps": mps, **options})
            for number, mps in configured().items()
        ]

    # The simulator's entry point ----------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        """One pass at `now`: due jobs, pending inbound, everything due in the outbox."""
        from patas.messaging.router import route_pending

        now = now or clock.now()
        started = time.process_time()
        report = TickReport(jobs=run_due_jobs(self.name, now))
        routing = time.process_time()
        while True:  # a short batch was everything pending: no need to look again
            routed = route_pending(ROUTE_BATCH)
            report.routed += routed
            if routed < ROUTE_BATCH:
                break
        sending = time.process_time()
        sent: Counter[str] = Counter()
        for sender in self.senders:
            sent.update(sender.drain(now).counts)
        report.sent = dict(sent)
        done = time.process_time()
        report.cpu = {"jobs": routing - started, "route": sending - routing, "send": done - sending}
        return report

    # The long-running loop ---------------------------------------------------------------
    def run(self, *, until_idle: bool = False, install_signals: bool = True) -> None:
        if install_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
        log.info("worker %s started", self.name)
        if self.senders:
            from patas.messaging.claim import rehome_orphans

            self._guarded(rehome_orphans)
        try:
            if until_idle:
                self._run_until_idle()
            else:
                self._run_forever()
        finally:
            log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        self.stopping.set()

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("worker %s: signal %s, stopping after the work under way", self.name, signum)
        self.stopping.set()

    def _run_until_idle(self) -> None:
        while not self.stopping.is_set():
            report = self._guarded(self.tick)
            if report is not None and not report.busy:
                return

    def _run_forever(self) -> None:
        from patas.core import heap
        from patas.messaging.router import route_pending
        from patas.messaging.sender_thread import PipelinedSender

        heap.settle()  # no long collector pauses while sending (see core/heap.py)
        pipes = [PipelinedSender(sender) for sender in self.senders]
        # The wait for results is shared out, so one number's wait never delays the others.
        wait = SEND_WAIT / max(1, len(pipes))
        next_jobs = next_route = 0.0
        try:
            while not self.stopping.is_set():
                mono = time.monotonic()
                done = 0
                if mono >= next_jobs:
                    next_jobs = mono + JOBS_EVERY
                    done += len(self._guarded(lambda: run_due_jobs(self.name)) or {})
                if mono >= next_route:
                    next_route = mono + ROUTE_EVERY
                    done += self._guarded(route_pending) or 0
                for pipe in pipes:
                    done += self._guarded(lambda pipe=pipe: pipe.step(wait)) or 0
                if not done and not any(pipe.in_flight for pipe in pipes):
                    self.stopping.wait(IDLE_WAIT)
        finally:
            for pipe in pipes:
                self._guarded(pipe.stop)

    def _guarded(self, func: Any) -> Any:
        """Run one piece of work; on a database error log it, pause, reconnect, go on."""
        try:
            result = func()
        except (DatabaseError, InterfaceError):
            self._errors += 1
            pause = min(ERROR_PAUSE[1], ERROR_PAUSE[0] * 2 ** (self._errors - 1))
            log.exception("worker %s: database error, retrying in %.0f s", self.name, pause)
            for conn in connections.all():
                conn.close()
            self.stopping.wait(pause)
            return None
        if self._errors:
            self._errors = 0
            close_old_connections()
        return result
