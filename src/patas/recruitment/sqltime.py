"""Local (Lima) dates of timestamps for the dashboard's grouped queries, in native SQL.

Peru keeps no daylight saving time, so Lima's date is the UTC time shifted by the zone's
current offset (5 hours). Both databases shift by that fixed offset: Django's
TruncDate(tzinfo=...) runs a Python function per row on SQLite, and PostgreSQL's
AT TIME ZONE 'America/Lima' looks up the zone's rules per row (185 ms against 105 ms for
170,000 posts, measured under load).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Func
from django.db.models.fields import DateField

from patas.core import clock

LOCAL = ZoneInfo("America/Lima")


def _offset_hours() -> int:
    offset = LOCAL.utcoffset(clock.now().replace(tzinfo=None)) or timedelta(0)
    return int(offset.total_seconds() // 3600)


class LocalDate(Func):
    """The local date of a timestamp; `week=True` gives the Monday of its week."""

    output_field = DateField()

    def __init__(self, expression: Any, week: bool = False) -> None:
        super().__init__(expression)
        self.week = week

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        week = ", 'weekday 0', '-6 days'" if self.week else ""
        return f"date({sql}, '{_offset_hours():+d} hours'{week})", params

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        # PostgreSQL: Django's connections keep the session's time zone at UTC.
        sql, params = compiler.compile(self.source_expressions[0])
        local = f"({sql} + interval '{_offset_hours():d} hours')"
        if self.week:
            return f"date_trunc('week', {local})::date", params
        return f"{local}::date", params
