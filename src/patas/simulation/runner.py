"""`patas simulate`: synthetic men through the real code paths on a virtual clock.

The loop, at each virtual moment: men's due messages go in through the webhook; the worker
ticks (jobs, router, sender to the fake); what the fake received is read back, each man reacts
(`behaviour`), and status callbacks go back through the webhook. The clock then jumps to the
next moment anything is due (a man's reply, an outbox row, an enrolment's wake), at least
MIN_STEP and at most MAX_STEP ahead, so quiet hours cost little. Each phase's CPU time is added
up in `Counters.cpu` (the summary's `cpu_by_phase`).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from django.db import connection

from patas.core import clock
from patas.core.crypto import lookup_hash
from patas.core.prepared import Prepared
from patas.messaging.models import Message
from patas.participants.models import IntakeSession, Participant
from patas.programs.models import Enrolment
from patas.programs.pack import get_pack
from patas.simulation import surveys as survey_side
from patas.simulation.behaviour import Behaviour, Context, ManState, Reply, text
from patas.simulation.facilitators import Facilitators
from patas.simulation.population import Rates, SyntheticMan, draw_population
from patas.simulation.world import World

BANKS = Path(__file__).parent / "banks"
MAX_STEP = timedelta(hours=2)
# The virtual clock moves in steps of at least this: men's replies and the day's spaced messages
# that fall inside one step are handled together (at most this late), which keeps a month of a
# thousand men to about a thousand worker ticks.
MIN_STEP = timedelta(minutes=30)


@dataclass
class Options:
    men: int = 300
    days: int = 30
    seed: int = 1
    effect: float = 0.2
    recruit_days: int = 7
    endline_after_days: int = 7
    program: str | None = None
    start: datetime = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 in Lima
    rates: Rates = field(default_factory=Rates)


@dataclass
class Counters:
    inbound_posted: int = 0
    outbound_received_by_fake: int = 0
    ticks: int = 0
    started: float = field(default_factory=time.perf_counter)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by phase of the loop

    def charge(self, phase: str, since: float) -> float:
        """Add the CPU time since `since` to `phase`; returns now's CPU time for the next one."""
        now = time.process_time()
        self.cpu[phase] = self.cpu.get(phase, 0.0) + now - since
        return now


# Asked every tick: compiled once (core.prepared).
_NEXT_DUE = Prepared(
    lambda: (
        Message.objects.filter(status=Message.Status.QUEUED, due_at__isnull=False)
        .order_by("due_at")
        .values_list("due_at")[:1]
    )
)
_ASKED = Prepared(
    lambda wamids: (
        Message.objects.filter(wamid__in=wamids)
        .order_by("id")
        .values_list("wamid", "purpose", "participant_id")
    )
)
_INTAKE_STEPS = Prepared(
    lambda men: IntakeSession.objects.filter(participant_id__in=men).values_list(
        "participant_id", "step"
    )
)
_NEXT_WAKE = Prepared(
    lambda: (
        Enrolment.objects.filter(status=Enrolment.Status.ENROLLED, next_wake_at__isnull=False)
        .order_by("next_wake_at")
        .values_list("next_wake_at")[:1]
    )
)


class Simulation:
    def __init__(
        self, options: Options, progress: Callable[[float, str], None] | None = None
    ) -> None:
        self.options = options
        self.pack = get_pack(options.program)
        self.days = min(options.days, self.pack.program.days)
        self.men = draw_population(
            options.men, options.seed, options.start, options.recruit_days, self.days, options.rates
        )
        self.by_phone: dict[str, SyntheticMan] = {m.phone: m for m in self.men}
        self._by_hash = {lookup_hash(m.phone): m for m in self.men}
        self._by_pid: dict[int, SyntheticMan] = {}
        self._pid_seen = 0
        self.states: dict[str, ManState] = {m.phone: ManState() for m in self.men}
        self.rng = np.random.default_rng(options.seed + 7)
        banks = yaml.safe_load((BANKS / "es.yaml").read_text(encoding="utf-8"))
        self.facilitator_replies: list[str] = banks["facilitator_replies"]
        disclosures = yaml.safe_load((BANKS / "disclosures.yaml").read_text(encoding="utf-8"))
        self.behaviour = Behaviour(
            options.rates,
            self.days,
            banks["group_talk"],
            disclosures["es"],
            survey_side.answer_for(options.effect),
        )
        self.queue: list[tuple[datetime, int, str, dict[str, Any]]] = []
        self._seq = itertools.count()
        self.counters = Counters()
        self.progress = progress or (lambda fraction, note: None)
        self.end = options.start + timedelta(
            days=options.recruit_days + self.days + options.endline_after_days + 5
        )

    # The loop ------------------------------------------------------------------------------
    def run(self) -> Counters:
        with clock.virtual_clock(self.options.start) as vclock, _scratch_writes():
            self.world = World(self.options.seed)
            self.trial = survey_side.TrialFlow(self)
            self.facilitators = Facilitators(
                np.random.default_rng(self.options.seed + 13), self.facilitator_replies
            )
            for man in self.men:
                first = self.pack.text("link_prefill", man.language)
                code = f" (ref {man.source})" if man.source else ""
                self._push(man.arrives_at, man.phone, text(first + code))
            while vclock.now() < self.end:
                self._step(vclock.now())
                at = time.process_time()
                vclock.set(self._next_moment(vclock.now()))
                self.counters.charge("next moment", at)
                span = (self.end - self.options.start).total_seconds()
                self.progress(
                    (vclock.now() - self.options.start).total_seconds() / span,
                    f"{vclock.now():%Y-%m-%d %H:%M}",
                )
        return self.counters

    def _step(self, now: datetime) -> None:
        counters = self.counters
        at = time.process_time()
        due = []
        while self.queue and self.queue[0][0] <= now:
            _, _, phone, message = heapq.heappop(self.queue)
            due.append((phone, self.by_phone[phone].name, message))
        if due:
            self.world.post_messages(due)
            counters.inbound_posted += len(due)
        at = counters.charge("post messages", at)
        report = self.world.tick()
        for phase, seconds in report.cpu.items():
            counters.cpu[f"worker {phase}"] = counters.cpu.get(f"worker {phase}", 0.0) + seconds
        at = time.process_time()
        counters.ticks += 1
        fresh = self.world.new_outbound()
        counters.outbound_received_by_fake += len(fresh)
        if fresh:
            self._react(fresh, now)
            at = counters.charge("men react", at)
            read = {r["wamid"] for r in fresh if self.rng.random() < 0.7}
            self.world.post_statuses(fresh, read)
            at = counters.charge("post statuses", at)
        self.trial.step(now)
        self.facilitators.step(now)
        counters.charge("simulated staff", at)

    def _react(self, fresh: list[dict[str, Any]], now: datetime) -> None:
        contexts = self._contexts(fresh)
        for record in fresh:
            man = self.by_phone.get(str(record["to"]))
            if man is None:
                continue  # a partner or staff test number: not a simulated man
            replies = self.behaviour.react(
                man,
                self.states[man.phone],
                record,
                contexts.get(record["wamid"], Context()),
                self.rng,
            )
            for reply in replies:
                self._push(now + timedelta(seconds=reply.delay), man.phone, reply.message)

    def _contexts(self, fresh: list[dict[str, Any]]) -> dict[str, Context]:
        """What each message asked, read from the database in a few set-based queries."""
        rows = _ASKED(wamids=[r["wamid"] for r in fresh])
        intake_ids = {pid for _, purpose, pid in rows if purpose == Message.Purpose.INTAKE}
        steps = dict(_INTAKE_STEPS(men=intake_ids))
        survey_ids = {pid for _, purpose, pid in rows if purpose == Message.Purpose.SURVEY}
        questions = survey_side.current_questions(survey_ids)
        # A prompt often arrives as several messages (a note, then the question): he answers
        # the last one only, as a person would.
        last: dict[tuple[int, str], str] = {}
        for wamid, purpose, pid in rows:
            if purpose in (Message.Purpose.INTAKE, Message.Purpose.SURVEY) and pid and wamid:
                last[(pid, purpose)] = wamid
        contexts: dict[str, Context] = {}
        for wamid, purpose, pid in rows:
            if (pid, purpose) in last and last[(pid, purpose)] != wamid:
                contexts[str(wamid)] = Context(skip=True)
                continue
            if wamid is None or pid is None:
                continue
            if purpose == Message.Purpose.INTAKE:
                contexts[wamid] = Context(intake_step=steps.get(pid, ""))
            elif purpose == Message.Purpose.SURVEY and pid in questions:
                question, role = questions[pid]
                contexts[wamid] = Context(question=question, survey_role=role)
        return contexts

    def man_of_participant(self, pid: int) -> SyntheticMan | None:
        """The synthetic man behind a participant row (matched by the phone's lookup hash)."""
        if pid > self._pid_seen:
            for new_pid, phone_hash in Participant.objects.filter(
                id__gt=self._pid_seen
            ).values_list("id", "phone_hash"):
                man = self._by_hash.get(phone_hash or "")
                if man is not None:
                    self._by_pid[new_pid] = man
                self._pid_seen = max(self._pid_seen, new_pid)
        return self._by_pid.get(pid)

    def _push(self, at: datetime, phone: str, message: dict[str, Any]) -> None:
        heapq.heappush(self.queue, (at, next(self._seq), phone, message))

    def push_reply(self, phone: str, reply: Reply) -> None:
        self._push(clock.now() + timedelta(seconds=reply.delay), phone, reply.message)

    def _next_moment(self, now: datetime) -> datetime:
        candidates = [now + MAX_STEP]
        if self.queue:
            candidates.append(self.queue[0][0])
        for rows in (_NEXT_DUE(), _NEXT_WAKE()):  # the earliest queued row and wake, if any
            candidates += [t for (t,) in rows]
        return max(min(candidates), now + MIN_STEP)


@contextmanager
def _scratch_writes() -> Iterator[None]:
    """SQLite without syncing to disk while simulating: the men are synthetic and a run can be
    repeated, so the checkpoints' fsyncs (tens of thousands of commits) buy nothing. Only this
    connection, only for the run; a process that dies keeps what it committed (only the
    machine's crash could lose it). PostgreSQL is left as configured."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
