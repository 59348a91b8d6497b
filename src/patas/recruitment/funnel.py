"""The recruitment funnel per source, in a few grouped SQL queries (never one per man or source).

clicks (Ads Manager imports) -> first message (one participant per man who wrote)
-> eligible (reached the consent question, or went past it) -> consented -> enrolled
-> reached day 7 -> completed (the program's completion rule, as SQL).

Men without an attribution, or attributed to "unknown", form the unknown row (source None).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from patas.participants.models import Consent, Participant
from patas.programs.models import DayProgress, Enrolment
from patas.programs.pack import get_pack
from patas.recruitment.models import Source, SpendEntry

DAY_MILESTONE = 7
CENT = Decimal("0.01")
AFTER_ELIGIBILITY = (
    Participant.Status.DECLINED,
    Participant.Status.WAITING_PARTNER,
    Participant.Status.ENROLLED,
    Participant.Status.PAUSED,
    Participant.Status.COMPLETED,
    Participant.Status.REMOVED,
)
STAGES = ("clicks", "first_message", "eligible", "consented", "enrolled", "day7", "completed")


def _rule_q(program_id: str, prefix: str, participant: str) -> Q:
    """The program's completion rule over Enrolment columns (prefix: path to the enrolment,
    participant: path to the participant)."""
    rule = get_pack(program_id).program.completion
    days = get_pack(program_id).program.days
    if rule.min_day_reached > days:
        return Q(pk__in=[])  # nobody can reach it
    q = Q(**{f"{prefix}program_id": program_id}) & Q(
        **{f"{prefix}current_day__gte": rule.min_day_reached}
    )
    if rule.exclude_removed:
        q &= ~Q(**{f"{prefix}status": Enrolment.Status.REMOVED})
    if rule.exclude_opted_out:
        q &= ~Q(**{f"{prefix}status": Enrolment.Status.OPTED_OUT})
        q &= Q(**{f"{participant}opted_out_at__isnull": True})
    if rule.min_checkins:
        answered = Coalesce(checkins_subquery(f"{prefix}id" if prefix else "pk"), 0)
        q &= Q(GreaterThanOrEqual(answered, rule.min_checkins))
    return q


def program_ids() -> list[str]:
    return list(Enrolment.objects.values_list("program_id", flat=True).distinct())


def completed_q(
    prefix: str = "", programs: list[str] | None = None, participant: str | None = None
) -> Q:
    """Enrolments that completed, by each program's rule (`programs.queries.completed` in SQL).

    `prefix` is the path from the queried model to the enrolment ("" on Enrolment itself,
    "enrolment__" on Participant); `participant` the path to the man (default: through the
    enrolment; "" on Participant, which spares a join). A rule with `min_checkins` adds a
    correlated count.
    """
    if participant is None:
        participant = f"{prefix}participant__"
    q = Q(pk__in=[])
    for program_id in programs if programs is not None else program_ids():
        q |= _rule_q(program_id, prefix, participant)
    return q


def checkins_subquery(enrolment_ref: str) -> Subquery:
    answered = (
        DayProgress.objects.filter(enrolment_id=OuterRef(enrolment_ref), checkin_at__isnull=False)
        .values("enrolment_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Subquery(answered, output_field=IntegerField())


@dataclass(frozen=True)
class FunnelRow:
    source_id: int | None
    code: str
    name: str
    kind: str
    clicks: int
    first_message: int
    eligible: int
    consented: int
    enrolled: int
    day7: int
    completed: int
    spend: Decimal

    @property
    def cost_per_enrolled(self) -> Decimal | None:
        return _per(self.spend, self.enrolled)

    @property
    def cost_per_completer(self) -> Decimal | None:
        return _per(self.spend, self.completed)


def _per(amount: Decimal, n: int) -> Decimal | None:
    return (amount / n).quantize(Decimal("0.01")) if n and amount else None


def _men_by_source() -> dict[int | None, dict[str, int]]:
    programs = program_ids()
    men: Any = Participant.objects.all()
    prefix = "enrolment__"
    consented = Consent.objects.filter(
        participant_id=OuterRef("pk"),
        subject=Consent.Subject.PARTICIPANT,
        answer=Consent.Answer.ACCEPT,
    )
    asked = Q(intake__step__in=["consent", "partner_number"])
    eligible = (
        Q(status__in=AFTER_ELIGIBILITY)
        | asked
        | Q(enrolment__isnull=False)
        | Q(Exists(Consent.objects.filter(participant_id=OuterRef("pk"))))
    )
    rows = men.values("attribution__source_id").annotate(
        first_message=Count("id"),
        eligible=Count("id", filter=eligible),
        consented=Count("id", filter=Q(Exists(consented))),
        enrolled=Count("enrolment"),
        day7=Count("enrolment", filter=Q(enrolment__current_day__gte=DAY_MILESTONE)),
        completed=Count("enrolment", filter=completed_q(prefix, programs, participant="")),
    )
    return {row.pop("attribution__source_id"): row for row in rows}


def _spend_by_source() -> dict[int | None, dict[str, Any]]:
    rows = SpendEntry.objects.values("source_id").annotate(
        clicks=Coalesce(Sum("link_clicks"), 0), spend=Coalesce(Sum("amount"), Decimal(0))
    )
    return {row.pop("source_id"): row for row in rows}


def funnel() -> list[FunnelRow]:
    """One row per source that brought men or cost money, then the unknown row (if any)."""
    men = _men_by_source()
    spend = _spend_by_source()
    ids = {k for k in men | spend if k is not None}
    sources = {s.pk: s for s in Source.objects.filter(pk__in=ids)}
    empty = dict.fromkeys(STAGES, 0)
    out = []
    for pk in sorted(ids, key=lambda k: sources[k].code):
        source = sources[pk]
        out.append(_row(pk, source.code, source.name, source.kind, men, spend, empty))
    if None in men:
        out.append(_row(None, "unknown", "unknown", Source.Kind.UNKNOWN, men, {}, empty))
    return out


def _row(
    pk: int | None,
    code: str,
    name: str,
    kind: str,
    men: dict[Any, dict[str, int]],
    spend: dict[Any, dict[str, Any]],
    empty: dict[str, int],
) -> FunnelRow:
    counts = {**empty, **men.get(pk, {})}
    money = spend.get(pk, {})
    return FunnelRow(
        source_id=pk,
        code=code,
        name=name,
        kind=kind,
        clicks=int(money.get("clicks", 0)),
        first_message=counts["first_message"],
        eligible=counts["eligible"],
        consented=counts["consented"],
        enrolled=counts["enrolled"],
        day7=counts["day7"],
        completed=counts["completed"],
        spend=Decimal(money.get("spend", 0)).quantize(CENT),
    )


def totals(rows: list[FunnelRow], unlinked_spend: Decimal = Decimal(0)) -> FunnelRow:
    """All sources together; spend not linked to any source counts in the total."""
    sums = {s: sum(getattr(r, s) for r in rows) for s in STAGES}
    spend = (sum((r.spend for r in rows), Decimal(0)) + unlinked_spend).quantize(CENT)
    return FunnelRow(None, "total", "total", "", spend=spend, **sums)


def unlinked_spend() -> Decimal:
    total = SpendEntry.objects.filter(source__isnull=True).aggregate(s=Sum("amount"))["s"]
    return Decimal(total or 0)
