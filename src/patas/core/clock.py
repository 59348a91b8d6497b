"""The one source of "now" for patas.

Production reads the wall clock. Tests and the simulator install a `VirtualClock` and move it
forward explicitly, so a 30-day program runs in seconds and never calls `sleep`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_virtual: VirtualClock | None = None


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current

    def set(self, moment: datetime) -> datetime:
        if moment < self.current:
            raise ValueError("the virtual clock never goes back")
        self.current = moment.astimezone(UTC)
        return self.current


def now() -> datetime:
    """Aware UTC now: virtual when a clock is installed, else the wall clock."""
    if _virtual is not None:
        return _virtual.now()
    return datetime.now(UTC)


def install(clock: VirtualClock | None) -> None:
    global _virtual
    _virtual = clock


def current_virtual() -> VirtualClock | None:
    return _virtual


@contextmanager
def virtual_clock(start: datetime) -> Iterator[VirtualClock]:
    previous = _virtual
    clock = VirtualClock(start)
    install(clock)
    try:
        yield clock
    finally:
        install(previous)
