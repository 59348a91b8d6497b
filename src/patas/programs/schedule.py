"""Local time rules of a program (pure): preferred hours, day starts, quiet hours.

The functions are memoised: in a fan-out most men share the same moments (now, now + spacing),
so each is computed once per pass rather than once per man.

All inputs and outputs are aware UTC datetimes; the man's time zone is only used inside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from patas.programs.schema import QuietHours, SendHours

SLOTS = ("morning", "midday", "evening")


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def _hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=8192)
def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(zone(tz)).date()


def at_local(day: date, hour: int, tz: str, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(tz)).astimezone(UTC)


def in_quiet(moment: datetime, tz: str, quiet: QuietHours) -> bool:
    now = moment.astimezone(zone(tz)).time()
    start, end = _hhmm(quiet.start), _hhmm(quiet.end)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def out_of_quiet(moment: datetime, tz: str, quiet: QuietHours) -> datetime:
    """The moment itself, or the end of the quiet hours it falls in."""
    return _out_of_quiet(moment, tz, quiet.start, quiet.end)


@lru_cache(maxsize=8192)
def _out_of_quiet(moment: datetime, tz: str, start: str, end: str) -> datetime:
    if not in_quiet(moment, tz, QuietHours(start=start, end=end)):
        return moment
    until = _hhmm(end)
    here = moment.astimezone(zone(tz))
    candidate = at_local(here.date(), until.hour, tz, until.minute)
    if candidate <= moment:
        candidate = at_local(here.date() + timedelta(days=1), until.hour, tz, until.minute)
    return candidate


@lru_cache(maxsize=8192)
def first_day_start(now: datetime, hour: int, tz: str, quiet: QuietHours) -> datetime:
    """Day 1 starts at the next `hour`:00 in his zone after now (pushed out of quiet hours)."""
    today = local_date(now, tz)
    start = at_local(today, hour, tz)
    if start <= now:
        start = at_local(today + timedelta(days=1), hour, tz)
    return out_of_quiet(start, tz, quiet)


@lru_cache(maxsize=8192)
def next_day_start(
    previous_start: datetime | None, now: datetime, hour: int, tz: str, quiet: QuietHours
) -> datetime:
    """The next day starts at `hour` on a later local date than the previous day's start."""
    if previous_start is None:
        return first_day_start(now, hour, tz, quiet)
    day = local_date(previous_start, tz) + timedelta(days=1)
    start = at_local(day, hour, tz)
    while start <= now:
        day += timedelta(days=1)
        start = at_local(day, hour, tz)
    return out_of_quiet(start, tz, quiet)


def slot_hour(slot: str, hours: SendHours) -> int:
    return int(getattr(hours, slot))


def format_local(moment: datetime, tz: str) -> str:
    """Day/month and time, digits only (no words: those belong to the content pack)."""
    return moment.astimezone(zone(tz)).strftime("%d/%m %H:%M")


def format_hour(hour: int) -> str:
    return f"{hour:02d}:00"
