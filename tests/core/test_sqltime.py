"""core.sqltime: the fast datetime parameter is the one Django makes, for every kind of value,
and a row written with it reads back as the same instant."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from patas.core.sqltime import datetime_adapter
from patas.messaging.models import Message

pytestmark = pytest.mark.django_db


def some_datetimes() -> list[datetime | None]:
    rng = random.Random(11)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    values: list[datetime | None] = [None, base, base.replace(microsecond=1)]
    for _ in range(200):
        moment = base + timedelta(seconds=rng.uniform(-1e8, 1e8))
        values.append(moment)
        values.append(moment.astimezone(ZoneInfo("America/Lima")))  # another zone: converted
        values.append(moment.astimezone(timezone(timedelta(hours=5, minutes=30))))
        values.append(moment.replace(microsecond=0))  # no fraction: no ".000000"
    return values


def test_every_value_adapts_as_django_adapts_it():
    adapt = datetime_adapter(connection)
    for value in some_datetimes():
        assert adapt(value) == connection.ops.adapt_datetimefield_value(value), value


def test_a_row_written_with_it_reads_back_the_same_instant():
    adapt = datetime_adapter(connection)
    moment = datetime(2026, 5, 17, 23, 59, 59, 999_999, tzinfo=ZoneInfo("America/Lima"))
    message = Message.objects.create(uid=uuid.uuid4(), direction=Message.Direction.OUT)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET due_at = %s WHERE id = %s",  # noqa: S608
            [adapt(moment), message.pk],
        )
    message.refresh_from_db()
    assert message.due_at == moment
