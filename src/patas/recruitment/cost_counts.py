"""What patas counted, for the cost model: a handful of aggregate queries over the database.

- WhatsApp messages: outbound rows the status webhooks marked billable, by pricing category.
- Facilitator hours: from console activity in the audit log. Each distinct (console user, clock
  hour) with at least one group action (`group.*`: posts, private replies, hide, pin, remove,
  mark answered...) counts as one hour of work. It is a floor-ish estimate: reading the thread
  leaves no audit row, a single reply counts a whole hour. Programs that pay by the hour
  should compare it with timesheets.
- Interviews: completed survey sessions, men's and partners', by mode (chat / phone).
- Spend: Ads Manager imports (ads) and manual entries (influencers and other).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Least, TruncHour

from patas.core.models import AuditEntry
from patas.groups.models import GroupPost
from patas.messaging.models import Message
from patas.programs.models import Enrolment
from patas.programs.pack import get_pack
from patas.recruitment import costs, funnel
from patas.recruitment.models import SpendEntry
from patas.surveys.models import PartnerSurveySession, Status, SurveySession


def rate_card_path(program_id: str | None = None) -> Path:
    return Path(settings.CONTENT_DIR) / (program_id or settings.DEFAULT_PROGRAM) / "rate-card.yaml"


# Program messages: non-relay outbound to a man, sent or still to send (the projection's unit).
PROGRAM_MESSAGE = (
    Q(participant__isnull=False)
    & ~Q(purpose=Message.Purpose.RELAY)
    & ~Q(status__in=[Message.Status.CANCELLED, Message.Status.FAILED])
)


def message_counts() -> tuple[dict[str, int], int]:
    """(billable outbound messages by pricing category, program messages): both from one
    scan of the outbound messages, the largest table the costs read."""
    rows = (
        Message.objects.filter(direction=Message.Direction.OUT)
        .values("pricing_category")
        .annotate(
            billable=Count("id", filter=Q(billable=True)),
            program=Count("id", filter=PROGRAM_MESSAGE),
        )
    )
    billable: dict[str, int] = {}
    program = 0
    for r in rows:
        program += r["program"]
        if r["billable"]:
            category = r["pricing_category"] or "unknown"
            billable[category] = billable.get(category, 0) + r["billable"]
    return billable, program


def billable_messages() -> dict[str, int]:
    return message_counts()[0]


def facilitator_hours() -> float:
    worked = (
        AuditEntry.objects.filter(actor__startswith="user:", action__startswith="group.")
        .annotate(hour=TruncHour("at"))
        .values("actor", "hour")
        .distinct()
    )
    return float(worked.count())


def interviews() -> dict[str, int]:
    out: dict[str, int] = {}
    for manager in (SurveySession.objects, PartnerSurveySession.objects):
        rows = manager.filter(status=Status.COMPLETED).values("mode").annotate(n=Count("id"))
        for r in rows:
            out[r["mode"]] = out.get(r["mode"], 0) + r["n"]
    return out


def spend() -> tuple[float, float]:
    rows = SpendEntry.objects.values("origin").annotate(total=Sum("amount"))
    by_origin = {r["origin"]: Decimal(r["total"] or 0) for r in rows}
    ads = by_origin.get(SpendEntry.Origin.ADS_MANAGER, Decimal(0))
    other = sum((v for k, v in by_origin.items() if k != SpendEntry.Origin.ADS_MANAGER), Decimal(0))
    return float(ads), float(other)


def enrolment_totals() -> tuple[int, int, int]:
    """(enrolled, completed by the program's rule, man-days = days in program summed)."""
    programs = funnel.program_ids()
    days = Case(
        *[
            When(program_id=p, then=Least("current_day", Value(get_pack(p).program.days)))
            for p in programs
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    result = Enrolment.objects.aggregate(
        enrolled=Count("id"),
        completed=Count("id", filter=funnel.completed_q("", programs)),
        man_days=Sum(days),
    )
    return result["enrolled"], result["completed"], int(result["man_days"] or 0)


def measured_counts(billable: dict[str, int] | None = None) -> costs.Counts:
    ads, other = spend()
    enrolled, completed, man_days = enrolment_totals()
    return costs.Counts(
        messages=billable_messages() if billable is None else billable,
        facilitator_hours=facilitator_hours(),
        interviews=interviews(),
        ad_spend=ads,
        other_spend=other,
        enrolled=enrolled,
        completed=completed,
        man_days=man_days,
    )


def per_man(counts: costs.Counts, program_messages: int | None = None) -> costs.PerMan | None:
    """Per enrolled man, from what was measured (None before anyone enrolled)."""
    if not counts.enrolled:
        return None
    men = counts.enrolled
    if program_messages is None:
        program_messages = message_counts()[1]
    posts = GroupPost.objects.filter(author__isnull=False).count()
    return costs.PerMan(
        program_messages=program_messages / men,
        group_posts_per_day=posts / counts.man_days if counts.man_days else 0.0,
        ad_spend=counts.ad_spend / men,
        facilitator_hours=counts.facilitator_hours / men,
        interviews=sum(counts.interviews.values()) / men,
        completion_rate=counts.completed / men,
    )


@dataclass(frozen=True)
class CostReport:
    card: costs.RateCard
    counts: costs.Counts
    actual: costs.Breakdown
    per_man: costs.PerMan | None
    men: int
    days: int
    live: costs.Breakdown | None
    digest: costs.Breakdown | None


def measure() -> tuple[costs.Counts, costs.PerMan | None]:
    """Everything the cost report counts in the database (the costs page keeps it cached)."""
    billable, program_messages = message_counts()
    counts = measured_counts(billable)
    return counts, per_man(counts, program_messages)


def cost_report(
    men: int = 100_000,
    card: costs.RateCard | None = None,
    measured_now: tuple[costs.Counts, costs.PerMan | None] | None = None,
) -> CostReport:
    """Costs so far, split by item, and a projection for `men` (live vs digest relay).

    `measured_now`: what `measure()` returned, if the caller has it (the page's snapshot)."""
    card = card or costs.load_rate_card(rate_card_path())
    counts, measured = measured_now or measure()
    days = get_pack().program.days
    live = digest = None
    if measured is not None and men > 0:
        live = costs.project(card, measured, men, days, relay="live")
        digest = costs.project(card, measured, men, days, relay="digest")
    return CostReport(
        card, counts, costs.breakdown(card, counts), measured, men, days, live, digest
    )
