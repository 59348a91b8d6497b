"""core.rowupdate: row-by-row changes in one executemany give the rows the ORM's UPDATEs give."""

from __future__ import annotations

import random
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import F

from patas.core.rowupdate import Add, update_each
from patas.participants.models import Participant
from patas.programs.models import DayProgress, Enrolment

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")


def some_days(vclock, men: int = 12, days: int = 3) -> list[Enrolment]:
    enrolments = []
    for i in range(men):
        man = Participant.objects.create(wa_user_id=f"PE.row{i}")
        enrolment = Enrolment.objects.create(
            participant=man, program_id="demo", program_version="1", current_day=days
        )
        enrolments.append(enrolment)
        for day in range(1, days + 1):
            DayProgress.objects.create(
                enrolment=enrolment, day=day, started_at=vclock.now(), reminders=day % 2
            )
    return enrolments


def enrolment_changes(rng: random.Random, now) -> dict:
    pool = {
        "next_wake_at": (now + timedelta(minutes=rng.randint(0, 9999), microseconds=5)).astimezone(
            rng.choice([UTC, LIMA])
        ),
        "phase": rng.choice(list(Enrolment.Phase.values)),
        "content_from": rng.randint(0, 5),
        "day_checked_in": rng.random() < 0.5,
        "reminders_on": date(2026, 3, rng.randint(1, 28)),
        "miss_you_at": None,
    }
    chosen = rng.sample(sorted(pool), rng.randint(0, 3))
    return {name: pool[name] for name in chosen}


def rows_of(model, order: tuple[str, ...]) -> list[dict]:
    return list(model.objects.order_by(*order).values())


def test_enrolments_changed_row_by_row_match_the_orms_updates(vclock):
    enrolments = some_days(vclock)
    rng = random.Random(11)
    for _ in range(15):
        changes = {e.pk: enrolment_changes(rng, vclock.now()) for e in rng.sample(enrolments, 7)}
        outcomes = []
        for apply in ("orm", "rows"):
            with transaction.atomic():
                if apply == "orm":
                    for pk, change in changes.items():
                        Enrolment.objects.filter(pk=pk).update(**change)
                else:
                    update_each(Enrolment, [((pk,), change) for pk, change in changes.items()])
                outcomes.append(rows_of(Enrolment, ("id",)))
                transaction.set_rollback(True)
        assert outcomes[0] == outcomes[1]
        assert any(changes.values())  # something was changed in this round


def test_days_by_composite_key_with_additions_match_the_orms(vclock):
    enrolments = some_days(vclock)
    rng = random.Random(3)
    for _ in range(15):
        rows = []
        for enrolment in rng.sample(enrolments, 6):
            day = rng.randint(1, 3)
            change: dict = rng.choice(
                [
                    {"reminders": rng.randint(1, 2)},
                    {"opened_at": vclock.now(), "content_sent_at": vclock.now()},
                    {"checkin_answer": rng.choice(["si", "no"]), "checkin_at": vclock.now()},
                ]
            )
            rows.append((enrolment.pk, day, change))
        outcomes = []
        for apply in ("orm", "rows"):
            with transaction.atomic():
                if apply == "orm":
                    for pk, day, change in rows:
                        values = {k: F(k) + v if k == "reminders" else v for k, v in change.items()}
                        DayProgress.objects.filter(enrolment_id=pk, day=day).update(**values)
                else:
                    given = [
                        ((pk, day), {k: Add(v) if k == "reminders" else v for k, v in c.items()})
                        for pk, day, c in rows
                    ]
                    assert update_each(DayProgress, given, keys=("enrolment", "day")) == 6
                outcomes.append(rows_of(DayProgress, ("enrolment_id", "day")))
                transaction.set_rollback(True)
        assert outcomes[0] == outcomes[1]


def test_nothing_to_change_runs_nothing_and_unknown_fields_are_named(vclock):
    enrolment = some_days(vclock, men=1)[0]
    before = rows_of(Enrolment, ("id",))
    assert update_each(Enrolment, [((enrolment.pk,), {})]) == 0
    assert rows_of(Enrolment, ("id",)) == before
    with pytest.raises(ValueError, match="Enrolment has no field nickname"):
        update_each(Enrolment, [((enrolment.pk,), {"nickname": "x"})])
