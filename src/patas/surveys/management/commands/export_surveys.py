"""`patas export-surveys --form ID --out DIR [--arms FILE.csv] [--include-partial]`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.core import audit
from patas.surveys.export import export_form


def read_arms(path: Path) -> dict[int, str]:
    """A researcher's assignment file: columns participant_id and arm."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"participant_id", "arm"} <= set(reader.fieldnames):
            raise CommandError(
                _("%(path)s: expected columns participant_id and arm") % {"path": path}
            )
        arms: dict[int, str] = {}
        for line, row in enumerate(reader, start=2):
            try:
                arms[int(row["participant_id"])] = row["arm"]
            except ValueError:
                raise CommandError(
                    _("%(path)s line %(line)d: participant_id is not a number")
                    % {"path": path, "line": line}
                ) from None
        return arms


class Command(BaseCommand):
    help = _("Export a survey's submissions as CSV and Stata files (men and partners apart).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--form", required=True, help=_("the form_id of the survey"))
        parser.add_argument("--out", required=True, help=_("the folder to write into"))
        parser.add_argument(
            "--arms", default="", help=_("CSV with participant_id,arm (researchers)")
        )
        parser.add_argument(
            "--include-partial", action="store_true", help=_("also export unfinished sessions")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        arms = read_arms(Path(options["arms"])) if options["arms"] else None
        try:
            files = export_form(
                options["form"],
                Path(options["out"]),
                arms=arms,
                include_partial=options["include_partial"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        audit.record(
            audit.SYSTEM,
            "survey.exported",
            object_type="surveys.surveyform",
            object_id=options["form"],
            with_arm=arms is not None,
            files=[p.name for p in files],
        )
        for path in files:
            self.stdout.write(str(path))
