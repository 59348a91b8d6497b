"""A synthetic program of N men, bulk-created, for the dashboard benchmark and screenshots.

Rows in proportion to a running 30-day program: participants with attributions, consents,
enrolments, one DayProgress per day reached, a day's opener message per man-day, groups of
50 with posts, safety alerts, endline surveys of men and partners, and trial arms. Seeded:
the same N and seed give the same rows. Never used on a real program's database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
from django.db import connection, models, transaction

from patas.core import clock
from patas.groups.models import Group, GroupPost, Membership
from patas.messaging.models import Message
from patas.participants.models import Consent, Participant
from patas.programs.models import DayProgress, Enrolment
from patas.recruitment.models import Attribution, Source, SpendEntry
from patas.safety.models import Alert
from patas.surveys.models import Partner, PartnerSurveySession, SurveyForm, SurveySession
from patas.trials.models import Assignment, Trial

BATCH = 5000
SOURCES = [  # code, kind, share of men, cost per man
    ("FB-A", Source.Kind.AD, 0.35, 1.2),
    ("FB-B", Source.Kind.AD, 0.25, 1.6),
    ("IG-C", Source.Kind.AD, 0.15, 2.1),
    ("INF-1", Source.Kind.INFLUENCER, 0.15, 0.8),
]
UNKNOWN_SHARE = 0.10
DAYS = 30
PROGRAM = "hablemos-entre-patas"


def _insert(model: type[models.Model], names: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """INSERT rows with executemany: the large tables skip model instances (10x faster).

    `names` are attnames given per row; other columns take their default, computed once
    (a uuid4 default is drawn per row).
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_name = {f.attname: f for f in fields}
    given = [by_name[n] for n in names]
    rest = [f for f in fields if f.attname not in names]
    fresh = [f for f in rest if f.default is uuid.uuid4]
    fixed = [f for f in rest if f not in fresh]
    constants = tuple(f.get_db_prep_save(f.get_default(), connection) for f in fixed)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [*given, *fixed, *fresh])
    marks = ", ".join(["%s"] * (len(given) + len(fixed) + len(fresh)))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from models)

    def prepared() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            values = tuple(
                f.get_db_prep_save(v, connection) for f, v in zip(given, row, strict=True)
            )
            uids = tuple(f.get_db_prep_save(uuid.uuid4(), connection) for f in fresh)
            yield values + constants + uids

    count = 0
    chunk: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in prepared():
            chunk.append(row)
            if len(chunk) >= BATCH:
                cursor.executemany(sql, chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def _sources(rng: np.random.Generator, n: int, start: date) -> list[Source]:
    made = []
    for code, kind, share, per_man in SOURCES:
        source, _ = Source.objects.get_or_create(
            code=code, defaults={"name": f"synthetic {code}", "kind": kind, "ad_id": ""}
        )
        made.append(source)
        amount = Decimal(str(round(n * share * per_man, 2)))
        SpendEntry.objects.create(
            source=source,
            origin=SpendEntry.Origin.ADS_MANAGER if kind == "ad" else SpendEntry.Origin.MANUAL,
            ad_name=code,
            starts=start,
            ends=start + timedelta(days=DAYS),
            amount=amount,
            link_clicks=int(n * share * rng.uniform(3, 6)) if kind == "ad" else 0,
        )
    return made


class Man(NamedTuple):
    pk: int
    created_at: datetime
    status: str


class Enrolled(NamedTuple):
    pk: int
    participant_id: int
    current_day: int
    enrolled_at: datetime
    status: str


def populate(men: int, seed: int = 1, messages_per_man_day: int = 1) -> dict[str, int]:
    """Create a program of `men` men, most of them enrolled 0-40 days ago; returns row counts."""
    rng = np.random.default_rng(seed)
    now = clock.now()
    start = now - timedelta(days=40)
    counts: dict[str, int] = {}
    with transaction.atomic():
        sources = _sources(rng, men, start.date())
        source_ix = rng.choice(
            len(SOURCES) + 1, size=men, p=[s[2] for s in SOURCES] + [UNKNOWN_SHARE]
        )
        arrived = rng.uniform(0, 40 * 86400, size=men)
        stage = rng.random(men)  # < .15 ineligible, < .20 intake, < .25 declined, else enrolled
        people = _participants(men, seed, start, arrived, stage)
        counts["participants"] = len(people)
        source_ids = [s.pk for s in sources]
        _insert(
            Attribution,
            ["participant_id", "source_id", "via", "at"],
            (
                (p.pk, source_ids[i], "code", p.created_at)
                if i < len(source_ids)
                else (p.pk, None, "none", p.created_at)
                for p, i in zip(people, source_ix, strict=True)
            ),
        )
        asked = [p for p, s in zip(people, stage, strict=True) if s >= 0.20]
        _insert(
            Consent,
            ["participant_id", "version", "answer", "answered_at"],
            (
                (p.pk, "synthetic", "decline" if p.status == "declined" else "accept", p.created_at)
                for p in asked
            ),
        )
        enrolled = [p for p in asked if p.status != Participant.Status.DECLINED]
        enrolments = _enrolments(rng, enrolled, now)
        counts["enrolments"] = len(enrolments)
        counts["day_progress"] = _days(rng, enrolments)
        counts["messages"] = _messages(enrolments, messages_per_man_day)
        counts["group_posts"] = _groups(rng, enrolments, now)
        counts["alerts"] = _alerts(rng, people)
        counts["survey_sessions"] = _surveys(rng, enrolments, seed)
    return counts


def _participants(
    men: int, seed: int, start: datetime, arrived: np.ndarray, stage: np.ndarray
) -> list[Man]:
    def status(s: float) -> str:
        if s < 0.15:
            return Participant.Status.INELIGIBLE
        if s < 0.20:
            return Participant.Status.INTAKE
        if s < 0.25:
            return Participant.Status.DECLINED
        return Participant.Status.ENROLLED

    prefix = f"synthetic-{seed}-{clock.now().timestamp():.0f}-"
    _insert(
        Participant,
        ["wa_user_id", "status", "created_at", "is_synthetic"],
        (
            (
                f"{prefix}{i}",
                status(float(stage[i])),
                start + timedelta(seconds=float(arrived[i])),
                True,
            )
            for i in range(men)
        ),
    )
    rows = Participant.objects.filter(wa_user_id__startswith=prefix).order_by("pk")
    return [Man(*row) for row in rows.values_list("pk", "created_at", "status")]


def _enrolments(rng: np.random.Generator, men: list[Man], now: datetime) -> list[Enrolled]:
    hazard = rng.uniform(0.005, 0.03, size=len(men))
    dropout = rng.geometric(hazard)  # the day after which he would leave

    def rows() -> Iterator[tuple[Any, ...]]:
        for man, leave_after in zip(men, dropout, strict=True):
            elapsed = (now - man.created_at).days
            day = int(min(elapsed, DAYS, leave_after))
            status = Enrolment.Status.ENROLLED
            if leave_after < min(elapsed, DAYS):
                status = Enrolment.Status.OPTED_OUT
            elif day >= DAYS and elapsed > DAYS:
                status = Enrolment.Status.COMPLETED
            yield (man.pk, PROGRAM, "synthetic", status, day, man.created_at)

    names = ["participant_id", "program_id", "program_version", "status", "current_day"]
    _insert(Enrolment, [*names, "enrolled_at"], rows())
    if not men:
        return []
    found = Enrolment.objects.filter(
        program_version="synthetic", participant__pk__range=(men[0].pk, men[-1].pk)
    )
    fields = ("pk", "participant_id", "current_day", "enrolled_at", "status")
    return [Enrolled(*row) for row in found.order_by("pk").values_list(*fields)]


def _days(rng: np.random.Generator, enrolments: list[Enrolled]) -> int:
    rates = np.linspace(0.7, 0.4, DAYS)

    def rows() -> Iterator[tuple[Any, ...]]:
        for enrolment in enrolments:
            n = enrolment.current_day
            opened = rng.random(n) < 0.8
            checked = opened & (rng.random(n) < rates[:n])
            for day in range(1, n + 1):
                at = enrolment.enrolled_at + timedelta(days=day)
                yield (
                    enrolment.pk,
                    day,
                    at,
                    at if opened[day - 1] else None,
                    at if checked[day - 1] else None,
                )

    names = ["enrolment_id", "day", "started_at", "opened_at", "checkin_at"]
    return _insert(DayProgress, names, rows())


def _messages(enrolments: list[Enrolled], per_man_day: int) -> int:
    """The day's opener (a billable utility template) per man-day, times `per_man_day`."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for enrolment in enrolments:
            for k in range(1, enrolment.current_day * per_man_day + 1):
                at = enrolment.enrolled_at + timedelta(hours=k * 24 // per_man_day)
                yield (enrolment.participant_id, at, at)

    Out = Message  # noqa: N806
    names = ["participant_id", "created_at", "sent_at"]
    fixed = {
        "direction": Out.Direction.OUT,
        "type": "template",
        "purpose": Out.Purpose.PROGRAM,
        "status": Out.Status.READ,
        "pricing_category": "utility",
        "billable": True,
    }
    return _insert(Message, [*names, *fixed], (row + tuple(fixed.values()) for row in rows()))


def _groups(rng: np.random.Generator, enrolments: list[Enrolled], now: datetime) -> int:
    n_groups = max(1, len(enrolments) // 50)
    groups = Group.objects.bulk_create(
        [Group(name=f"synthetic {i + 1}", program=PROGRAM) for i in range(n_groups)]
    )
    group_of = {e.participant_id: groups[i % n_groups].pk for i, e in enumerate(enrolments)}
    _insert(
        Membership,
        ["group_id", "participant_id", "pseudonym", "joined_at"],
        (
            (group_of[e.participant_id], e.participant_id, f"P{i}", e.enrolled_at)
            for i, e in enumerate(enrolments)
        ),
    )
    member_of = dict(
        Membership.objects.filter(group__in=groups).values_list("participant_id", "pk")
    )

    def rows() -> Iterator[tuple[Any, ...]]:
        for enrolment in enrolments:
            man = enrolment.participant_id
            hours = 24 * max(enrolment.current_day, 1)
            for _ in range(int(rng.poisson(0.15 * enrolment.current_day))):
                at = enrolment.enrolled_at + timedelta(hours=float(rng.uniform(0, hours)))
                held = rng.random() < 0.05
                answered = at + timedelta(hours=float(rng.exponential(3))) if held else None
                status = GroupPost.Status.HELD if held else GroupPost.Status.RELAYED
                done = answered if answered and answered < now else None
                yield (group_of[man], member_of[man], "…", status, at, done)

    names = ["group_id", "author_id", "text", "status", "created_at", "answered_at"]
    return _insert(GroupPost, names, rows())


def _alerts(rng: np.random.Generator, people: list[Man]) -> int:
    chosen = [p for p in people if rng.random() < 0.005]
    severities = rng.choice(["high", "medium", "low"], size=len(chosen), p=[0.2, 0.3, 0.5])
    rows = [
        Alert(
            participant_id=p.pk,
            category="violence",
            severity=str(s),
            created_at=p.created_at,
            due_at=p.created_at + timedelta(hours=4),
            status=Alert.Status.RESOLVED,
        )
        for p, s in zip(chosen, severities, strict=True)
    ]
    return len(Alert.objects.bulk_create(rows, batch_size=BATCH))


def _answers(
    rng: np.random.Generator, p_better: float, p_more: tuple[float, float]
) -> dict[str, str]:
    return {
        "chg_communication": "better" if rng.random() < p_better else "same",
        "chg_chores": "more" if rng.random() < p_more[0] else "same",
        "chg_budget": "more" if rng.random() < p_more[1] else "same",
    }


def _surveys(rng: np.random.Generator, enrolments: list[Enrolled], seed: int) -> int:
    def form(form_id: str, audience: str) -> SurveyForm:
        return SurveyForm.objects.get_or_create(
            form_id=form_id,
            sha256=f"synthetic-{form_id}",
            defaults={"audience": audience, "file_name": f"{form_id}.md", "source": b""},
        )[0]

    men_form, partner_form = form("men_endline", "men"), form("partner_endline", "partners")
    trial, _ = Trial.objects.get_or_create(
        name=f"synthetic-{seed}",
        defaults={"arms": [["control", 1], ["treatment", 1]], "seed": seed},
    )
    arms = rng.choice(["control", "treatment"], size=len(enrolments))
    _insert(
        Assignment,
        ["trial_id", "participant_id", "unit_id", "arm", "procedure", "seed"],
        (
            (trial.pk, e.participant_id, str(e.participant_id), str(arm), "simple", seed)
            for e, arm in zip(enrolments, arms, strict=True)
        ),
    )
    done = [e for e in enrolments if e.status == Enrolment.Status.COMPLETED]
    sessions = [
        SurveySession(
            participant_id=e.participant_id,
            form=men_form,
            mode="chat",
            status="completed" if rng.random() < 0.7 else "abandoned",
            state={"answers": _answers(rng, 0.87, (0.6, 0.6))},
        )
        for e in done
    ]
    SurveySession.objects.bulk_create(sessions, batch_size=BATCH)
    partners = Partner.objects.bulk_create(
        [Partner(participant_id=e.participant_id) for e in done], batch_size=BATCH
    )
    theirs = [
        PartnerSurveySession(
            partner=p,
            form=partner_form,
            mode="phone",
            status="completed" if rng.random() < 0.5 else "abandoned",
            state={"answers": _answers(rng, 0.6, (0.47, 0.33))},
        )
        for p in partners
    ]
    PartnerSurveySession.objects.bulk_create(theirs, batch_size=BATCH)
    return len(sessions) + len(theirs)
