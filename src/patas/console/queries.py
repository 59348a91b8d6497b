"""What the console pages show, read in a few set-based queries (no query per member)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from patas.core import clock
from patas.groups.models import Group, GroupPost, Membership
from patas.messaging.models import Message
from patas.programs.models import DayProgress, Enrolment
from patas.programs.schedule import local_date, zone

THREAD_PAGE = 100  # posts shown at once; older ones load on demand
LOCAL_ZONE = "America/Lima"


def needs_reply() -> Q:
    """A member's post waiting for the facilitator: held, or pending approval, unanswered."""
    return Q(author__isnull=False, answered_at__isnull=True) & Q(
        status__in=[GroupPost.Status.HELD, GroupPost.Status.PENDING_APPROVAL]
    )


def start_of_local_day(now: datetime) -> datetime:
    today = local_date(now, LOCAL_ZONE)
    return datetime(today.year, today.month, today.day, tzinfo=zone(LOCAL_ZONE))


@dataclass
class GroupSummary:
    group: Group
    members: int
    day: int | None
    today: int
    unanswered: int


def group_summaries(groups: QuerySet[Group]) -> list[GroupSummary]:
    since = start_of_local_day(clock.now())
    rows = groups.select_related("facilitator").annotate(
        n_members=Count("memberships", filter=Q(memberships__left_at__isnull=True), distinct=True),
    )
    today = dict(
        GroupPost.objects.filter(group__in=groups, created_at__gte=since)
        .exclude(status=GroupPost.Status.PRIVATE)
        .values_list("group_id")
        .annotate(n=Count("id"))
    )
    waiting = dict(
        GroupPost.objects.filter(needs_reply(), group__in=groups)
        .values_list("group_id")
        .annotate(n=Count("id"))
    )
    days = group_days(groups)
    return [
        GroupSummary(g, g.n_members, days.get(g.pk), today.get(g.pk, 0), waiting.get(g.pk, 0))  # type: ignore[attr-defined]
        for g in rows
    ]


def group_days(groups: QuerySet[Group]) -> dict[int, int]:
    """The program day of each group: the furthest day its active members have reached."""
    found: dict[int, int] = {}
    for group_id, day in (
        Enrolment.objects.filter(
            participant__group_memberships__group__in=groups,
            participant__group_memberships__left_at__isnull=True,
        )
        .values_list("participant__group_memberships__group_id", "current_day")
        .order_by()
    ):
        found[group_id] = max(found.get(group_id, 0), day)
    return found


def thread(group: Group, before_id: int | None = None) -> tuple[list[GroupPost], bool]:
    """The latest posts of a group (oldest first), and whether older ones exist."""
    posts = (
        GroupPost.objects.filter(group=group)
        .exclude(status=GroupPost.Status.PRIVATE)
        .select_related("author", "facilitator")
        .order_by("-created_at", "-id")
    )
    if before_id is not None:
        posts = posts.filter(id__lt=before_id)
    page = list(posts[: THREAD_PAGE + 1])
    more = len(page) > THREAD_PAGE
    return list(reversed(page[:THREAD_PAGE])), more


def pinned(group: Group) -> list[GroupPost]:
    return list(
        GroupPost.objects.filter(group=group, pinned=True)
        .exclude(status=GroupPost.Status.HIDDEN)
        .select_related("author")
        .order_by("-created_at")[:5]
    )


@dataclass
class InboxItem:
    post: GroupPost
    waiting: timedelta


def inbox(groups: QuerySet[Group]) -> list[InboxItem]:
    now = clock.now()
    posts = (
        GroupPost.objects.filter(needs_reply(), group__in=groups)
        .select_related("group", "author")
        .order_by("created_at")[:500]
    )
    return [InboxItem(post, now - post.created_at) for post in posts]


@dataclass
class MemberPage:
    membership: Membership
    day: int | None
    enrolment_status: str
    checkins: list[Any]
    history: list[Message]
    notes: list[Any]


def member_page(membership: Membership) -> MemberPage:
    enrolment = Enrolment.objects.filter(participant_id=membership.participant_id).first()
    checkins: list[Any] = []
    if enrolment is not None:
        checkins = list(DayProgress.objects.filter(enrolment=enrolment).order_by("day"))
    history = list(
        Message.objects.filter(participant_id=membership.participant_id).order_by(
            "-created_at", "-id"
        )[:50]
    )
    return MemberPage(
        membership=membership,
        day=enrolment.current_day if enrolment else None,
        enrolment_status=enrolment.get_status_display() if enrolment else "",
        checkins=checkins,
        history=history,
        notes=list(membership.notes.select_related("author")[:50]),
    )
