"""The daily delivery engine, pure: decide(state, event, now, pack) -> Decision.

No database, no clock: the shell (`programs.apply`) reads `State` from an Enrolment row, calls
`decide`, and writes the Decision (outbox rows, field changes, the day's progress) in bulk.

A day: at his preferred hour the day starts. If his 24-hour window is open long enough, the
day's content goes out directly, spaced by `message_spacing_seconds`; otherwise the day opens
with the `day_opener` template, and his tap (or any message from him) sends the content. Later
that day one reminder slot: a "we miss you" after K silent days, else a check-in nudge when the
check-in has no answer; never more than `max_per_day`. Nothing is ever due in quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from patas.messaging.models import Message
from patas.participants.models import SERVICE_WINDOW
from patas.programs import day_content, schedule
from patas.programs.pack import Pack
from patas.programs.payloads import system_payload
from patas.programs.texts import render

ENROLLED, PAUSED, COMPLETED, REMOVED, OPTED_OUT = (
    "enrolled",
    "paused",
    "completed",
    "removed",
    "opted_out",
)
WAITING, OPENER, CONTENT = "waiting", "opener", "content"
DAY_START, REMINDER = "day_start", "reminder"
WINDOW_MARGIN = timedelta(minutes=10)  # the window must stay open this long after the last item


@dataclass(frozen=True)
class State:
    """What the engine knows about one enrolment (fields of Enrolment and its Participant)."""

    enrolment_id: int
    participant_id: int
    status: str
    language: str
    time_zone: str
    send_hour: int
    current_day: int
    phase: str
    enrolled_at: datetime
    day_started_at: datetime | None = None
    opener_sent_at: datetime | None = None
    content_from: int = 0
    day_checked_in: bool = False
    next_wake_at: datetime | None = None
    wake: str = DAY_START
    last_reply_at: datetime | None = None
    last_inbound_at: datetime | None = None
    reminders_today: int = 0
    reminders_on: date | None = None
    miss_you_at: datetime | None = None
    opted_out: bool = False
    phone_number_id: str = ""  # our number he is on (his messages go out from it)


# Events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wake:
    """His `next_wake_at` has come (day start or reminder time)."""


@dataclass(frozen=True)
class OpenDay:
    """He tapped the opener (or the reminder), or wrote anything while the day was pending."""


@dataclass(frozen=True)
class CheckIn:
    day: int
    answer: str


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class AskHour:
    """He wrote HORA/TIME: ask the preferred time again."""


@dataclass(frozen=True)
class HourChange:
    slot: str  # morning/midday/evening, or "hour" when he gave an hour
    hour: int


@dataclass(frozen=True)
class NeedsTemplate:
    """The sender found the window closed for today's content: `sent` items had gone out."""

    sent: int


@dataclass(frozen=True)
class Remove:
    reason: str


Event = Wake | OpenDay | CheckIn | Pause | Resume | AskHour | HourChange | NeedsTemplate | Remove


# Decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    payload: dict[str, Any]
    purpose: str
    due_at: datetime
    text: str


@dataclass
class Decision:
    send: list[Send] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)  # Enrolment fields
    new_day: int | None = None  # create this day's DayProgress (started_at = now)
    day: int | None = None  # the day `day_changes` apply to
    day_changes: dict[str, Any] = field(default_factory=dict)  # DayProgress fields
    cancel_pending: bool = False  # cancel his queued program content and reminders
    participant_status: str | None = None
    audit: list[str] = field(default_factory=list)  # actions for the audit log

    @property
    def empty(self) -> bool:
        return not (self.send or self.changes or self.new_day or self.day_changes)


def decide(state: State, event: Event, now: datetime, pack: Pack) -> Decision:
    if state.opted_out and state.status in (ENROLLED, PAUSED):
        return Decision(
            changes={
                "status": OPTED_OUT,
                "next_wake_at": None,
                "ended_at": now,
                "end_reason": "opted out",
            },
            audit=["programs.opted_out"],
        )
    handler = _HANDLERS[type(event)]
    return handler(state, event, now, pack)


# Helpers ------------------------------------------------------------------------------------


def _due(state: State, moment: datetime, pack: Pack) -> datetime:
    return schedule.out_of_quiet(moment, state.time_zone, pack.program.quiet_hours)


def _system(
    state: State, key: str, now: datetime, pack: Pack, purpose: str = "system", **values: Any
) -> Send:
    payload = system_payload(pack, key, state.language, **values)
    text = render(pack.text(key, state.language), **values)
    return Send(payload, purpose, _due(state, now, pack), text)


def _template(state: State, role: str, day: int, now: datetime, pack: Pack, purpose: str) -> Send:
    """A template greeting him by name ({{1}}) for day N ({{2}}), its button opening the day.
    His name goes in when it is sent (messaging.personalise): here only its marker."""
    program = pack.program
    template = program.templates[role]
    language = state.language or program.default_language
    payload, text = day_content.day_template(template, language, program.default_language, day)
    return Send(payload, purpose, _due(state, now, pack), text)


def _content(state: State, day: int, start_at: int, now: datetime, pack: Pack) -> list[Send]:
    spacing = timedelta(seconds=pack.program.message_spacing_seconds)
    sends, at = [], now
    for payload, text in day_content.day_items(pack, day, state.language)[start_at:]:
        at = _due(state, at, pack)
        sends.append(Send(payload, Message.Purpose.PROGRAM, at, text))
        at = at + spacing
    return sends


def _window_holds(state: State, sends: list[Send]) -> bool:
    if state.last_inbound_at is None or not sends:
        return False
    return sends[-1].due_at + WINDOW_MARGIN <= state.last_inbound_at + SERVICE_WINDOW


def _next_start(state: State, now: datetime, pack: Pack, hour: int | None = None) -> datetime:
    return schedule.next_day_start(
        state.day_started_at,
        now,
        state.send_hour if hour is None else hour,
        state.time_zone,
        pack.program.quiet_hours,
    )


def _reminders_used(state: State, now: datetime) -> int:
    today = schedule.local_date(now, state.time_zone)
    return state.reminders_today if state.reminders_on == today else 0


def silent_since(state: State) -> datetime:
    moments = [m for m in (state.last_reply_at, state.last_inbound_at, state.enrolled_at) if m]
    return max(moments)


# Handlers -----------------------------------------------------------------------------------


def _on_wake(state: State, event: Wake, now: datetime, pack: Pack) -> Decision:
    if state.status != ENROLLED:
        return Decision(changes={"next_wake_at": None})
    if state.wake == REMINDER:
        return _remind(state, now, pack)
    return _start_day(state, now, pack)


def _start_day(state: State, now: datetime, pack: Pack) -> Decision:
    program = pack.program
    day = state.current_day + 1
    if day > program.days:
        return complete(state, now, pack)
    changes: dict[str, Any] = {
        "current_day": day,
        "day_started_at": now,
        "day_checked_in": False,
        "content_from": 0,
    }
    decision = Decision(changes=changes, new_day=day, day=day)
    content = _content(state, day, 0, now, pack) if _open(state, now) else []
    if _window_holds(state, content):
        decision.send = content
        changes.update(phase=CONTENT, opener_sent_at=None)
        decision.day_changes = {"opened_at": now, "content_sent_at": now}
    else:
        decision.send = [_template(state, "day_opener", day, now, pack, Message.Purpose.PROGRAM)]
        changes.update(phase=OPENER, opener_sent_at=now)
        decision.day_changes = {"opener_sent_at": now}
    reminder_at = _due(
        state, now + timedelta(hours=program.reminders.checkin_nudge_after_hours), pack
    )
    next_start = schedule.next_day_start(
        now, now, state.send_hour, state.time_zone, program.quiet_hours
    )
    if program.reminders.max_per_day > 0 and reminder_at < next_start:
        changes.update(next_wake_at=reminder_at, wake=REMINDER)
    else:
        changes.update(next_wake_at=next_start, wake=DAY_START)
    return decision


def _remind(state: State, now: datetime, pack: Pack) -> Decision:
    program = pack.program
    changes: dict[str, Any] = {"next_wake_at": _next_start(state, now, pack), "wake": DAY_START}
    decision = Decision(changes=changes)
    used = _reminders_used(state, now)
    if used >= program.reminders.max_per_day:
        return decision
    since = silent_since(state)
    silent = now - since >= timedelta(days=program.reminders.miss_you_after_silent_days)
    if silent and (state.miss_you_at is None or state.miss_you_at < since):
        key = "miss_you"
        changes["miss_you_at"] = now
    elif pack.day(state.current_day).checkin is not None and not state.day_checked_in:
        key = "checkin_nudge"
    else:
        return decision
    if _open(state, now):
        decision.send = [_system(state, key, now, pack, Message.Purpose.REMINDER)]
    else:
        decision.send = [
            _template(state, "reminder", state.current_day, now, pack, Message.Purpose.REMINDER)
        ]
    changes.update(reminders_today=used + 1, reminders_on=schedule.local_date(now, state.time_zone))
    decision.day = state.current_day
    decision.day_changes = {"reminders": 1}  # the shell adds it
    return decision


def _open(state: State, now: datetime) -> bool:
    return state.last_inbound_at is not None and now + WINDOW_MARGIN < (
        state.last_inbound_at + SERVICE_WINDOW
    )


def _on_open_day(state: State, event: OpenDay, now: datetime, pack: Pack) -> Decision:
    if state.status != ENROLLED or state.phase != OPENER:
        return Decision(changes={"last_reply_at": now})
    day = state.current_day
    return Decision(
        send=_content(state, day, state.content_from, now, pack),
        changes={"phase": CONTENT, "last_reply_at": now},
        day=day,
        day_changes={"opened_at": now, "content_sent_at": now},
        audit=["programs.day_opened"],
    )


def _on_checkin(state: State, event: CheckIn, now: datetime, pack: Pack) -> Decision:
    if state.status not in (ENROLLED, PAUSED) or not 1 <= event.day <= state.current_day:
        return Decision(changes={"last_reply_at": now})
    decision = Decision(
        changes={"last_reply_at": now},
        day=event.day,
        day_changes={"checkin_answer": event.answer[:100], "checkin_at": now},
        audit=["programs.checkin_recorded"],
    )
    first_today = event.day == state.current_day and not state.day_checked_in
    if event.day == state.current_day:
        decision.changes["day_checked_in"] = True
    if first_today:
        decision.send = [_system(state, "checkin_thanks", now, pack)]
    return decision


def _on_pause(state: State, event: Pause, now: datetime, pack: Pack) -> Decision:
    if state.status != ENROLLED:
        return Decision()
    return Decision(
        send=[_system(state, "pause_confirmation", now, pack)],
        changes={"status": PAUSED, "paused_at": now, "next_wake_at": None, "last_reply_at": now},
        cancel_pending=True,
        participant_status=PAUSED,
        audit=["programs.paused"],
    )


def _on_resume(state: State, event: Resume, now: datetime, pack: Pack) -> Decision:
    if state.status != PAUSED:
        return Decision()
    next_start = (
        schedule.first_day_start(now, state.send_hour, state.time_zone, pack.program.quiet_hours)
        if state.current_day < pack.program.days
        else _next_start(state, now, pack)
    )
    return Decision(
        send=[_system(state, "resume_confirmation", now, pack)],
        changes={
            "status": ENROLLED,
            "paused_at": None,
            "next_wake_at": next_start,
            "wake": DAY_START,
            "phase": WAITING,
            "last_reply_at": now,
        },
        participant_status=ENROLLED,
        audit=["programs.resumed"],
    )


def _on_ask_hour(state: State, event: AskHour, now: datetime, pack: Pack) -> Decision:
    return Decision(
        send=[_system(state, "ask_preferred_time", now, pack)],
        changes={"awaiting_hour": True, "last_reply_at": now},
    )


def _on_hour_change(state: State, event: HourChange, now: datetime, pack: Pack) -> Decision:
    changes: dict[str, Any] = {
        "send_hour": event.hour,
        "time_slot": event.slot,
        "awaiting_hour": False,
        "last_reply_at": now,
    }
    if state.status == ENROLLED and state.wake == DAY_START:
        changes["next_wake_at"] = _next_start(state, now, pack, hour=event.hour)
    send = _system(state, "hour_changed", now, pack, time=schedule.format_hour(event.hour))
    return Decision(send=[send], changes=changes, audit=["programs.hour_changed"])


def _on_needs_template(state: State, event: NeedsTemplate, now: datetime, pack: Pack) -> Decision:
    if state.status != ENROLLED or state.phase != CONTENT:
        return Decision()
    day = state.current_day
    return Decision(
        send=[_template(state, "day_opener", day, now, pack, Message.Purpose.PROGRAM)],
        changes={"phase": OPENER, "opener_sent_at": now, "content_from": event.sent},
        day=day,
        day_changes={"opener_sent_at": now},
        audit=["programs.reopened_with_template"],
    )


def complete(state: State, now: datetime, pack: Pack) -> Decision:
    """The program ended for him; the closing text only inside his window (no template role)."""
    return Decision(
        send=[_system(state, "program_completed", now, pack)] if _open(state, now) else [],
        changes={
            "status": COMPLETED,
            "next_wake_at": None,
            "ended_at": now,
            "end_reason": "reached the last day",
            "phase": WAITING,
        },
        participant_status=COMPLETED,
        audit=["programs.completed"],
    )


def _on_remove(state: State, event: Remove, now: datetime, pack: Pack) -> Decision:
    if state.status not in (ENROLLED, PAUSED):
        return Decision()
    return Decision(
        send=[_system(state, "removed_closing", now, pack)],
        changes={
            "status": REMOVED,
            "next_wake_at": None,
            "ended_at": now,
            "end_reason": event.reason[:200],
        },
        cancel_pending=True,
        participant_status=REMOVED,
        audit=["programs.removed"],
    )


_HANDLERS: dict[type, Any] = {
    Wake: _on_wake,
    OpenDay: _on_open_day,
    CheckIn: _on_checkin,
    Pause: _on_pause,
    Resume: _on_resume,
    AskHour: _on_ask_hour,
    HourChange: _on_hour_change,
    NeedsTemplate: _on_needs_template,
    Remove: _on_remove,
}
