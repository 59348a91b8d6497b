"""A small program, built row by row, whose funnel, costs and dashboard are computed by hand.

source  men  eligible consented enrolled day7 completed  spend
FB-A     5      4        3         3       3      1      100 (50 clicks)
INF-1    2      2        1         1       1      1       40 (manual)
unknown  2      1        1         1       0      0        -
(+ 10.00 of Ads Manager spend linked to no source)
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role

from patas.core import clock
from patas.core.models import AuditEntry
from patas.groups.models import Group, GroupPost, Membership
from patas.messaging.models import Message
from patas.participants.models import Consent, IntakeSession, Participant
from patas.programs.models import DayProgress, Enrolment
from patas.recruitment.actions import add_manual_spend, create_source
from patas.recruitment.models import Attribution, SpendEntry
from patas.safety.models import Alert
from patas.surveys.models import Partner, PartnerSurveySession, SurveyForm, SurveySession
from patas.trials.models import Assignment, Trial

PROGRAM = "hablemos-entre-patas"
PASSWORD = "correct horse battery"
P = Participant.Status
E = Enrolment.Status


def make_user(username: str, *roles: str) -> Any:
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    for role in roles:
        user.groups.add(Role.objects.get_or_create(name=role)[0])
    return user


def _man(n: int, source: Any, status: str, **extra: Any) -> Participant:
    man = Participant.objects.create(wa_user_id=f"w{n}", status=status, **extra)
    if source != "none":
        via = Attribution.Via.CODE if source else Attribution.Via.NONE
        Attribution.objects.create(participant=man, source=source, via=via)
    return man


def _consent(man: Participant, answer: str) -> None:
    Consent.objects.create(participant=man, version="v1", answer=answer)


def _enrol(man: Participant, day: int, status: str) -> Enrolment:
    return Enrolment.objects.create(
        participant=man, program_id=PROGRAM, program_version="1", current_day=day, status=status
    )


def build() -> dict[str, Any]:
    now = clock.now()
    fb = create_source("FB-A", "Video pareja", ad_id="111")
    inf = create_source("INF-1", "Influencer", kind="influencer")
    SpendEntry.objects.create(
        source=fb,
        origin="ads_manager",
        ad_name="Video pareja",
        starts=date(2026, 3, 1),
        ends=date(2026, 3, 7),
        amount=Decimal("100.00"),
        link_clicks=50,
    )
    SpendEntry.objects.create(
        origin="ads_manager",
        ad_name="Orphan",
        starts=date(2026, 3, 1),
        ends=date(2026, 3, 7),
        amount=Decimal("10.00"),
        link_clicks=5,
    )
    add_manual_spend(inf, Decimal("40.00"), date(2026, 3, 1), date(2026, 3, 31), "fee")

    m = {}
    m[1] = _man(1, fb, P.COMPLETED)
    m[2] = _man(2, fb, P.ENROLLED, opted_out_at=now)
    m[3] = _man(3, fb, P.COMPLETED, opted_out_at=now)  # completed, then left: excluded
    m[4] = _man(4, fb, P.DECLINED)
    m[5] = _man(5, fb, P.INELIGIBLE)
    m[6] = _man(6, inf, P.COMPLETED)
    m[7] = _man(7, inf, P.INTAKE)
    IntakeSession.objects.create(participant=m[7], step="consent")
    m[8] = _man(8, "none", P.ENROLLED)  # no attribution row at all
    m[9] = _man(9, None, P.INTAKE)  # attributed to unknown
    IntakeSession.objects.create(participant=m[9], step="age")
    for i in (1, 2, 3, 6, 8):
        _consent(m[i], "accept")
    _consent(m[4], "decline")
    e = {
        1: _enrol(m[1], 30, E.COMPLETED),
        2: _enrol(m[2], 12, E.OPTED_OUT),
        3: _enrol(m[3], 30, E.COMPLETED),
        6: _enrol(m[6], 30, E.COMPLETED),
        8: _enrol(m[8], 3, E.ENROLLED),
    }
    _days(e, now)
    _messages(m[1])
    _audit(now)
    users = {"ana": make_user("ana", "facilitator")}
    _groups(m, users["ana"], now)
    _alerts(now)
    _surveys(m, now)
    return {"men": m, "enrolments": e, "sources": {"fb": fb, "inf": inf}, "users": users}


def _days(e: dict[int, Enrolment], now: Any) -> None:
    rows = [
        (e[1], 1, True, True),
        (e[1], 2, False, False),
        (e[2], 1, True, True),
        (e[6], 1, True, False),
    ]
    DayProgress.objects.bulk_create(
        DayProgress(
            enrolment=enrolment,
            day=day,
            started_at=now,
            opened_at=now if opened else None,
            checkin_at=now if checked else None,
            checkin_answer="yes" if checked else "",
        )
        for enrolment, day, opened, checked in rows
    )


def _messages(man: Participant) -> None:
    def out(category: str, billable: bool | None) -> Message:
        return Message(
            direction="out",
            participant=man,
            type="text",
            status="delivered",
            purpose="program",
            pricing_category=category,
            billable=billable,
        )

    Message.objects.bulk_create(
        [out("utility", True) for _ in range(10)]
        + [out("marketing", True) for _ in range(2)]
        + [out("service", False) for _ in range(3)]
    )


def _audit(now: Any) -> None:
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = [
        ("user:ana", "group.facilitator_post", hour + timedelta(minutes=5)),
        ("user:ana", "group.private_reply", hour + timedelta(minutes=40)),
        ("user:ana", "group.hide", hour + timedelta(minutes=70)),
        ("user:ben", "group.pin", hour + timedelta(minutes=15)),
        ("system", "group.digest", hour + timedelta(minutes=20)),
        ("user:ana", "recruitment.source_created", hour + timedelta(minutes=150)),
    ]
    AuditEntry.objects.bulk_create(AuditEntry(actor=a, action=b, at=c) for a, b, c in rows)


def _groups(m: dict[int, Participant], facilitator: Any, now: Any) -> None:
    group = Group.objects.create(name="G1", program=PROGRAM, facilitator=facilitator)
    one = Membership.objects.create(group=group, participant=m[1], pseudonym="Puma")
    two = Membership.objects.create(group=group, participant=m[6], pseudonym="Condor")
    S = GroupPost.Status
    posts = [
        GroupPost(group=group, author=one, text="a", status=S.RELAYED, created_at=now),
        GroupPost(
            group=group,
            author=two,
            text="b",
            status=S.HELD,
            created_at=now,
            answered_at=now + timedelta(minutes=30),
        ),
        GroupPost(
            group=group,
            author=two,
            text="c",
            status=S.PENDING_APPROVAL,
            created_at=now,
            answered_at=now + timedelta(hours=5),
        ),
        GroupPost(
            group=group, author=one, text="d", status=S.HELD, created_at=now + timedelta(days=1)
        ),
        GroupPost(group=group, facilitator=facilitator, text="e", status=S.RELAYED, created_at=now),
        GroupPost(
            group=group,
            facilitator=facilitator,
            text="f",
            status=S.PRIVATE,
            private_to=two,
            created_at=now,
        ),
    ]
    GroupPost.objects.bulk_create(posts)


def _alerts(now: Any) -> None:
    for severity, at in (("high", now), ("high", now), ("low", now + timedelta(days=7))):
        Alert.objects.create(category="violence", severity=severity, created_at=at, due_at=at)


def _form(form_id: str, audience: str) -> SurveyForm:
    return SurveyForm.objects.create(
        form_id=form_id, audience=audience, file_name="x.md", source=b"", sha256=form_id
    )


def _surveys(m: dict[int, Participant], now: Any) -> None:
    men_form = _form("men_endline", "men")
    partner_form = _form("partner_endline", "partners")
    trial = Trial.objects.create(name="hep", arms=[["control", 1], ["treatment", 1]], seed=1)
    for man, arm in ((m[1], "treatment"), (m[2], "control")):
        Assignment.objects.create(
            trial=trial, participant=man, unit_id=str(man.pk), arm=arm, procedure="simple", seed=1
        )

    def session(man: Participant, status: str, mode: str, answers: dict[str, str]) -> None:
        SurveySession.objects.create(
            participant=man, form=men_form, status=status, mode=mode, state={"answers": answers}
        )

    session(
        m[1],
        "completed",
        "chat",
        {"chg_communication": "better", "chg_chores": "more", "chg_budget": "same"},
    )
    session(m[2], "completed", "phone", {"chg_communication": "same", "chg_chores": "more"})
    session(m[6], "open", "chat", {})
    for man, answers in (
        (m[1], {"chg_communication": "better", "chg_chores": "less", "chg_budget": "more"}),
        (m[2], {"chg_communication": "worse"}),
    ):
        partner = Partner.objects.create(participant=man)
        PartnerSurveySession.objects.create(
            partner=partner,
            form=partner_form,
            mode="phone",
            status="completed",
            state={"answers": answers},
        )
