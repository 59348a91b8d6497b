"""`patas assign`: randomise a list from outside, with the in-platform batch code path."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.trials.assignment import Arms, DesignError, assign_frame
from patas.trials.io import DataFileError, read_table, write_table


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = _("Randomise units of a file within strata (complete randomisation, misfits by rule).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True)
        parser.add_argument("--id", required=True, help=_("the unit id column"))
        parser.add_argument("--strata", default="", help=_("columns, comma separated"))
        parser.add_argument("--arms", default="control:1,treatment:1")
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--cluster", default=None, help=_("randomise clusters of this column"))
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **o: Any) -> None:
        strata = [s.strip() for s in o["strata"].split(",") if s.strip()]
        try:
            arms = Arms.parse(o["arms"])
            table = assign_frame(
                read_table(o["data"]), o["id"], strata, arms, o["seed"], o["cluster"]
            )
        except (DesignError, DataFileError) as exc:
            raise CommandError(str(exc)) from exc
        table = table.assign(
            seed=o["seed"], procedure="clustered" if o["cluster"] else "stratified"
        )
        write_table(table, o["out"])
        counts = table.groupby("arm").size().to_dict()
        self.stdout.write(
            _("%(n)d units assigned (%(c)s), %(m)d misfits, seed %(s)d -> %(o)s")
            % {
                "n": len(table),
                "c": counts,
                "m": int(table.misfit.sum()),
                "s": o["seed"],
                "o": o["out"],
            }
        )
