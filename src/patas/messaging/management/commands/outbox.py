"""`patas outbox [--resume NUMBER]`: how sending stands on each WhatsApp number.

Exit status 1 when a number needs a person (no worker sending while messages are due, bulk
sending stopped, the oldest due message waiting 10 minutes or more, rows on a number no longer
configured), so a cron job or a deploy script can alert on it.
"""

from __future__ import annotations

import getpass
import io
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from patas.core import clock
from patas.messaging import actions
from patas.messaging.status import NumberStatus, sending_status


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def table_of(numbers: list[NumberStatus], now: datetime) -> Table:
    table = Table(title=_("Sending, as of %(now)s") % {"now": _when(now)})
    for header in (
        _("number"),
        _("rate"),
        _("sender"),
        _("due now"),
        _("oldest due waiting"),
        _("in flight"),
        _("later"),
        _("waiting for a template"),
        _("bulk sending"),
        _("needs a person"),
    ):
        table.add_column(header)
    for n in numbers:
        minutes = int(n.late_by(now).total_seconds() // 60)
        bulk = (
            _("stopped (%(why)s) until %(until)s")
            % {"why": n.bulk_stop_reason, "until": _when(n.bulk_stopped_until)}
            if n.bulk_stopped_until
            else _("running")
        )
        table.add_row(
            n.phone_number_id,
            f"{n.mps:g}/s" if n.mps else "–",
            n.sender_holder or _("none"),
            str(n.due),
            f"{minutes} min" if n.oldest_due else "–",
            str(n.sending),
            str(n.later),
            str(n.needs_template),
            bulk,
            ", ".join(n.problems(now)) or "–",
        )
    return table


class Command(BaseCommand):
    help = "Each WhatsApp number's sender, backlog and bulk stop; --resume to restart bulk sending."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--resume",
            metavar="NUMBER",
            help="resume bulk sending on this number (after checking its quality rating)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"]:
            self._resume(options["resume"])
        now = clock.now()
        numbers = sending_status(now)
        text = io.StringIO()
        Console(file=text, width=160).print(table_of(numbers, now))
        self.stdout.write(text.getvalue(), ending="")
        if any(n.problems(now) for n in numbers):
            raise SystemExit(1)

    def _resume(self, number: str) -> None:
        try:
            resumed = actions.resume_bulk_sending(f"cli:{getpass.getuser()}", number)
        except actions.UnknownNumber as exc:
            raise CommandError(str(exc)) from exc
        if resumed:
            self.stdout.write(_("Bulk sending resumed on %(number)s.") % {"number": number})
        else:
            self.stdout.write(_("Bulk sending was not stopped on %(number)s.") % {"number": number})
