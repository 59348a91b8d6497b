"""The program dashboard's aggregates: each one a few grouped SQL queries, returned as a Table.

A Table is what a page, a chart, a CSV download and the static export all read. Nothing here
loops over men: Python only reshapes the (small) grouped result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from patas.groups.models import GroupPost
from patas.programs.models import DayProgress, Enrolment
from patas.programs.pack import get_pack
from patas.recruitment import funnel as funnel_module
from patas.recruitment.sqltime import LocalDate
from patas.safety.models import Alert
from patas.surveys.models import PartnerSurveySession, Status, SurveySession
from patas.trials.models import Assignment

MEN_ENDLINE = "men_endline"
PARTNER_ENDLINE = "partner_endline"
# Endline item -> the answer that counts as a reported change (the pilot's table).
CHANGE_ITEMS = {"chg_communication": "better", "chg_chores": "more", "chg_budget": "more"}
LEFT = (Enrolment.Status.OPTED_OUT, Enrolment.Status.REMOVED)


@dataclass(frozen=True)
class Chart:
    kind: str  # "lines" or "bars"
    x: str  # column on the x axis
    ys: tuple[str, ...] = ()  # columns drawn as series
    series: str = ""  # long tables: column whose values are the series ...
    value: str = ""  # ... and column with the value
    cumulative: bool = False
    share: bool = False  # y is a share 0..1


@dataclass
class Table:
    key: str
    title: str | Promise  # lazy: a snapshot shared by readers is shown in each one's language
    columns: list[str]
    rows: list[tuple[Any, ...]]
    chart: Chart | None = None
    note: str | Promise = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def html(self) -> SafeString:
        """The table as HTML, built here: a template loop per cell is the page's slowest part."""
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{'—' if v is None else escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        if not body:
            body = f'<tr><td colspan="{len(self.columns)}">{escape(_("No data yet."))}</td></tr>'
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(["" if v is None else v for v in row] for row in self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Viewer:
    """What this reader may see: arms and the partners' answers are for researchers only."""

    show_arm: bool = False
    show_partners: bool = False
    # results shared by several tables within one computation (the day-by-day check-in counts)
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def fresh(self) -> Viewer:
        """The same reader with nothing shared yet: every computation counts again."""
        return Viewer(self.show_arm, self.show_partners)


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def funnel_table(viewer: Viewer) -> Table:
    rows = funnel_module.funnel()
    total = funnel_module.totals(rows, funnel_module.unlinked_spend())
    stages = list(funnel_module.STAGES)
    out = [
        (
            r.code,
            *[getattr(r, s) for s in stages],
            r.spend,
            r.cost_per_enrolled,
            r.cost_per_completer,
        )
        for r in [*rows, total]
    ]
    return Table(
        "funnel",
        _("Recruitment funnel by source"),
        ["source", *stages, "spend", "cost_per_enrolled", "cost_per_completer"],
        out,
        Chart("bars", "source", ("first_message", "enrolled", "completed")),
        _("The total row includes spend not linked to any source."),
        {"chart_skip_last": True},
    )


def enrolment_by_source(viewer: Viewer) -> Table:
    rows = (
        Enrolment.objects.annotate(date=LocalDate("enrolled_at"))
        .values("date", "participant__attribution__source__code")
        .annotate(n=Count("id"))
        .order_by("date", "participant__attribution__source__code")
    )
    out = [
        (r["date"], r["participant__attribution__source__code"] or "unknown", r["n"]) for r in rows
    ]
    return Table(
        "enrolment",
        _("Enrolment over time by source"),
        ["date", "source", "enrolled"],
        out,
        Chart("lines", "date", series="source", value="enrolled", cumulative=True),
        _("Men enrolled per day (Lima time); the chart is cumulative."),
    )


def retention(viewer: Viewer) -> Table:
    """Share still in the program at day d: reached d (raw) and Kaplan-Meier (men still going
    are censored at their current day, so a running program is not read as attrition)."""
    rows = Enrolment.objects.values("current_day").annotate(
        n=Count("id"), left=Count("id", filter=Q(status__in=LEFT))
    )
    by_day = {r["current_day"]: (r["n"], r["left"]) for r in rows}
    enrolled = sum(n for n, _left in by_day.values())
    days = get_pack().program.days
    out = []
    survival = 1.0
    for day in range(1, days + 1):
        reached = sum(n for d, (n, _left) in by_day.items() if d >= day)
        left_before = by_day.get(day - 1, (0, 0))[1]
        at_risk = reached + left_before
        if at_risk:
            survival *= 1 - left_before / at_risk
        out.append((day, reached, _share(reached, enrolled), round(survival, 4)))
    return Table(
        "retention",
        _("Retention by day (survival curve)"),
        ["day", "reached", "share_reached", "survival"],
        out,
        Chart("lines", "day", ("share_reached", "survival"), share=True),
        _("survival: Kaplan-Meier, men still in the program are censored at their day."),
    )


def _module_of() -> dict[int, str]:
    modules = get_pack().program.modules
    return {d: m.id for m in modules for d in range(m.first_day, m.last_day + 1)}


def _checkin_counts(viewer: Viewer) -> list[dict[str, Any]]:
    if "checkins" in viewer.cache:
        return viewer.cache["checkins"]  # type: ignore[no-any-return]
    viewer.cache["checkins"] = list(
        DayProgress.objects.values("day")
        .annotate(
            started=Count("id"),
            opened=Count("opened_at"),  # COUNT(column) counts the non-null ones
            checked_in=Count("checkin_at"),
        )
        .order_by("day")
    )
    return viewer.cache["checkins"]  # type: ignore[no-any-return]


def checkins_by_day(viewer: Viewer) -> Table:
    module_of = _module_of()
    out = [
        (
            r["day"],
            module_of.get(r["day"], ""),
            r["started"],
            r["opened"],
            r["checked_in"],
            _share(r["checked_in"], r["started"]),
        )
        for r in _checkin_counts(viewer)
    ]
    return Table(
        "checkins_day",
        _("Check-in rate by day"),
        ["day", "module", "started", "opened", "checked_in", "checkin_rate"],
        out,
        Chart("bars", "day", ("checkin_rate",), share=True),
    )


def checkins_by_module(viewer: Viewer) -> Table:
    module_of = _module_of()
    sums: dict[str, list[int]] = {}
    for r in _checkin_counts(viewer):
        entry = sums.setdefault(module_of.get(r["day"], "?"), [0, 0, 0])
        entry[0] += 1
        entry[1] += r["started"]
        entry[2] += r["checked_in"]
    out = [(m, d, s, c, _share(c, s)) for m, (d, s, c) in sums.items()]
    return Table(
        "checkins_module",
        _("Check-in rate by module"),
        ["module", "days", "started", "checked_in", "checkin_rate"],
        out,
        Chart("bars", "module", ("checkin_rate",), share=True),
    )


def group_activity(viewer: Viewer) -> Table:
    rows = (
        GroupPost.objects.exclude(status=GroupPost.Status.PRIVATE)
        .annotate(date=LocalDate("created_at"))
        .values("date")
        .annotate(
            men=Count("id", filter=Q(author__isnull=False)),
            facilitators=Count("id", filter=Q(author__isnull=True)),
            held=Count("id", filter=Q(status=GroupPost.Status.HELD)),
        )
        .order_by("date")
    )
    out = [(r["date"], r["men"], r["facilitators"], r["held"]) for r in rows]
    return Table(
        "groups",
        _("Group activity: posts per day"),
        ["date", "men_posts", "facilitator_posts", "held"],
        out,
        Chart("lines", "date", ("men_posts", "facilitator_posts")),
    )


def response_times(viewer: Viewer) -> Table:
    """Inbox: a man's post waiting for the facilitator, until she answers (answered_at)."""
    inbox = Q(author__isnull=False) & (
        Q(answered_at__isnull=False)
        | Q(status__in=[GroupPost.Status.HELD, GroupPost.Status.PENDING_APPROVAL])
    )

    def within(hours: int) -> Q:
        return Q(
            answered_at__isnull=False, answered_at__lte=F("created_at") + timedelta(hours=hours)
        )

    rows = (
        GroupPost.objects.filter(inbox)
        .annotate(week=LocalDate("created_at", week=True))
        .values("week")
        .annotate(
            posts=Count("id"),
            h1=Count("id", filter=within(1)),
            h4=Count("id", filter=within(4)),
            h24=Count("id", filter=within(24)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
        )
        .order_by("week")
    )
    out = [
        (
            r["week"],
            r["posts"],
            _share(r["h1"], r["posts"]),
            _share(r["h4"], r["posts"]),
            _share(r["h24"], r["posts"]),
            r["posts"] - r["answered"],
        )
        for r in rows
    ]
    return Table(
        "response",
        _("Facilitator response times (inbox)"),
        ["week", "inbox_posts", "within_1h", "within_4h", "within_24h", "unanswered"],
        out,
        Chart("bars", "week", ("within_1h", "within_4h", "within_24h"), share=True),
        _("Share of men's inbox posts answered within 1, 4 and 24 hours, by week."),
    )


def safety_alerts(viewer: Viewer) -> Table:
    rows = (
        Alert.objects.annotate(week=LocalDate("created_at", week=True))
        .values("week", "severity")
        .annotate(n=Count("id"))
        .order_by("week", "severity")
    )
    out = [(r["week"], r["severity"], r["n"]) for r in rows]
    return Table(
        "alerts",
        _("Safety alerts by week and severity"),
        ["week", "severity", "alerts"],
        out,
        Chart("bars", "week", series="severity", value="alerts"),
    )


def _arm_of(participant_ref: str) -> Subquery:
    arm = Assignment.objects.filter(participant_id=OuterRef(participant_ref)).order_by("id")
    return Subquery(arm.values("arm")[:1])


def survey_response(viewer: Viewer) -> Table:
    """Completed / started survey sessions per form (and arm, for researchers)."""
    counts = {
        "started": Count("id"),
        "completed": Count("id", filter=Q(status=Status.COMPLETED)),
    }
    querysets: list[tuple[str, Any, str]] = [("men", SurveySession.objects, "participant_id")]
    if viewer.show_partners:
        querysets.append(("partners", PartnerSurveySession.objects, "partner__participant_id"))
    out = []
    for audience, manager, ref in querysets:
        group: dict[str, Any] = {"form_name": F("form__form_id")}
        if viewer.show_arm:
            group["arm"] = _arm_of(ref)
        rows = manager.values(**group).annotate(**counts).order_by(*group)
        for r in rows:
            arm = [r["arm"] or "unassigned"] if viewer.show_arm else []
            label = " / ".join([r["form_name"], audience, *arm])
            rate = _share(r["completed"], r["started"])
            out.append((label, r["form_name"], audience, *arm, r["started"], r["completed"], rate))
    columns = ["group", "form", "audience", *(["arm"] if viewer.show_arm else [])]
    return Table(
        "surveys",
        _("Survey response rates by arm") if viewer.show_arm else _("Survey response rates"),
        [*columns, "started", "completed", "response_rate"],
        out,
        Chart("bars", "group", ("response_rate",), share=True),
        "" if viewer.show_arm else _("Arms are shown to researchers only."),
    )


def _changes(manager: Any, form_id: str) -> dict[str, tuple[int, int]]:
    done = manager.filter(form__form_id=form_id, status=Status.COMPLETED)
    aggregates = {}
    for item, value in CHANGE_ITEMS.items():
        aggregates[f"{item}__n"] = Count(
            "id", filter=Q(**{f"state__answers__{item}__isnull": False})
        )
        aggregates[f"{item}__yes"] = Count("id", filter=Q(**{f"state__answers__{item}": value}))
    result = done.aggregate(**aggregates)
    return {item: (result[f"{item}__n"], result[f"{item}__yes"]) for item in CHANGE_ITEMS}


def reported_changes(viewer: Viewer) -> Table:
    """Men's self-reported changes beside their partners' reports (endline surveys)."""
    men = _changes(SurveySession.objects, MEN_ENDLINE)
    partners = (
        _changes(PartnerSurveySession.objects, PARTNER_ENDLINE) if viewer.show_partners else {}
    )
    out = []
    for item, value in CHANGE_ITEMS.items():
        n, yes = men[item]
        row: tuple[Any, ...] = (item, value, n, _share(yes, n))
        if viewer.show_partners:
            pn, pyes = partners[item]
            row += (pn, _share(pyes, pn))
        out.append(row)
    columns = ["item", "answer", "men_n", "men_share"]
    ys: tuple[str, ...] = ("men_share",)
    if viewer.show_partners:
        columns += ["partners_n", "partners_share"]
        ys += ("partners_share",)
    return Table(
        "changes",
        _("Reported changes: men and partners (endline)"),
        columns,
        out,
        Chart("bars", "item", ys, share=True),
        "" if viewer.show_partners else _("Partners' reports are shown to researchers only."),
    )


AGGREGATES: dict[str, Callable[[Viewer], Table]] = {
    "funnel": funnel_table,
    "enrolment": enrolment_by_source,
    "retention": retention,
    "checkins_day": checkins_by_day,
    "checkins_module": checkins_by_module,
    "groups": group_activity,
    "response": response_times,
    "alerts": safety_alerts,
    "surveys": survey_response,
    "changes": reported_changes,
}


# Tables whose figures depend on who reads them (arms, partners); the others are the same for all.
BY_VIEWER = ("surveys", "changes")


def table(key: str, viewer: Viewer) -> Table:
    if key not in AGGREGATES:
        raise KeyError(f"no dashboard table {key!r}: expected one of {', '.join(AGGREGATES)}")
    return AGGREGATES[key](viewer.fresh())


def all_tables(viewer: Viewer) -> list[Table]:
    viewer = viewer.fresh()
    with aggregate_reads():
        return [build(viewer) for build in AGGREGATES.values()]


@contextmanager
def aggregate_reads() -> Iterator[None]:
    """Where the dashboard's queries run. On PostgreSQL: one transaction without JIT, which
    spent 1.7 s compiling the funnel query (100,000 men) that then ran in 1.5 s."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def summary(tables: list[Table]) -> dict[str, Any]:
    """Headline figures from the funnel's total row."""
    funnel = next((t for t in tables if t.key == "funnel"), None)
    if funnel is None or not funnel.rows:
        return {}
    total = dict(zip(funnel.columns, funnel.rows[-1], strict=True))
    total["completion_rate"] = _share(total["completed"], total["enrolled"])
    total["currency"] = getattr(settings, "PATAS_CURRENCY", "USD")
    return total
