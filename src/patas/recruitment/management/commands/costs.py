"""`patas costs [--project 100000] [--rate-card FILE]`: costs so far and a projection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from pydantic import ValidationError

from patas.recruitment import costs
from patas.recruitment.cost_counts import CostReport, cost_report, rate_card_path


def _money(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{value:,.2f} {currency}"


def format_report(report: CostReport) -> list[str]:
    """The report as plain lines (the command prints them; tests read them)."""
    c = report.counts
    cur = report.card.currency
    messages = ", ".join(f"{k} {v}" for k, v in sorted(c.messages.items())) or "0"
    interviews = ", ".join(f"{k} {v}" for k, v in sorted(c.interviews.items())) or "0"
    lines = [
        _("Counted so far"),
        "  " + _("enrolled: %(n)s") % {"n": c.enrolled},
        "  " + _("completed: %(n)s") % {"n": c.completed},
        "  " + _("man-days: %(n)s") % {"n": c.man_days},
        "  " + _("billable messages: %(n)s") % {"n": messages},
        "  " + _("facilitator hours: %(n)s") % {"n": f"{c.facilitator_hours:g}"},
        "  " + _("completed interviews: %(n)s") % {"n": interviews},
        "",
        _("Costs so far"),
    ]
    lines += _breakdown(report.actual, cur)
    if report.live is not None and report.digest is not None:
        header = _("Projection for %(men)s men, %(days)s days")
        lines += ["", header % {"men": f"{report.men:,}", "days": report.days}]
        for name, result in ((_("live relay"), report.live), (_("digest relay"), report.digest)):
            lines += [f"  {name}:"] + [f"  {line}" for line in _breakdown(result, cur)]
    elif report.men:
        lines += ["", _("No projection: nobody is enrolled yet, so nothing was measured.")]
    return lines


def _breakdown(result: costs.Breakdown, currency: str) -> list[str]:
    rows = list(result.items.items()) + [
        (_("total"), result.total),
        (_("per enrolled man"), result.per_enrolled),
        (_("per completer"), result.per_completer),
        (_("per man-day"), result.per_man_day),
    ]
    lines = [f"  {item:<24} {_money(value, currency):>18}" for item, value in rows]
    return lines + [f"  ! {note}" for note in result.notes]


class Command(BaseCommand):
    help = "Costs so far from the database (rate card x counts) and a projection for N men."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, default=100_000, metavar="MEN")
        parser.add_argument("--rate-card", type=Path, help="Default: the program's rate-card.yaml")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["rate_card"] or rate_card_path()
        if opts["project"] < 0:
            raise CommandError("--project: expected a number of men >= 0")
        if not path.exists():
            raise CommandError(f"{path}: no such rate card")
        try:
            card = costs.load_rate_card(path)
        except (ValidationError, ValueError) as exc:
            raise CommandError(f"{path}: not a valid rate card: {exc}") from exc
        report = cost_report(opts["project"], card)
        self.stdout.write("\n".join(format_report(report)))
