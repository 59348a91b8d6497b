"""`patas analyze --data FILE --plan PLAN.yaml --out DIR`: run a pre-registered plan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.trials import analyze, plan, report
from patas.trials.estimate import EstimationError
from patas.trials.io import DataFileError, read_table


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # reads files only; needs no database
    help = _("Run a trial analysis plan on a data file and write estimates and a report.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help=_(".csv, .dta or .parquet"))
        parser.add_argument("--plan", required=True, help=_("the analysis plan (YAML)"))
        parser.add_argument("--out", required=True, help=_("output directory"))

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            the_plan = plan.load(options["plan"])
            data = read_table(options["data"])
            results = analyze.run(the_plan, data)
        except (plan.PlanError, DataFileError, EstimationError) as exc:
            raise CommandError(str(exc)) from exc
        out = Path(options["out"])
        report.write(results, out, Path(options["data"]).name)
        self.stdout.write(
            _("%(n)d estimates written to %(out)s in %(s).1f s")
            % {"n": len(results.estimates), "out": out, "s": time.perf_counter() - started}
        )
        table = results.estimates
        if len(table) and table.estimate.isna().any():
            missing = table.loc[table.estimate.isna(), "outcome"].astype(str).unique()
            self.stderr.write(
                _("not estimated (the reason is in the note column): %(names)s")
                % {"names": ", ".join(missing)}
            )
