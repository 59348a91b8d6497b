"""`patas export-trial --out FILE [--trial NAME]`: the de-identified analysis dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.programs.pack import get_pack
from patas.trials import flow
from patas.trials.export import export_trial
from patas.trials.io import write_table
from patas.trials.models import Trial

SUFFIXES = (".csv", ".dta", ".parquet", ".pq")


def pick_trial(name: str) -> Trial:
    """The named trial; without a name the program's trial, or the only trial on record."""
    if name:
        trial = Trial.objects.filter(name=name).first()
        if trial is None:
            raise CommandError(_("no trial named %(name)s") % {"name": name})
        return trial
    program = get_pack().program
    if program.trial is not None:
        trial = Trial.objects.filter(name=flow.trial_name(program, program.trial)).first()
        if trial is not None:
            return trial
    trials = list(Trial.objects.order_by("id")[:2])
    if not trials:
        raise CommandError(_("no trial on record yet"))
    if len(trials) != 1:
        raise CommandError(_("name the trial with --trial (there are %(n)s)") % {"n": len(trials)})
    return trials[0]


class Command(BaseCommand):
    help = _("Write the trial's de-identified analysis dataset (.csv, .dta or .parquet).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help=_("the file to write"))
        parser.add_argument("--trial", default="", help=_("trial name"))

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() not in SUFFIXES:
            raise CommandError(
                _("unknown file type %(s)r: use .csv, .dta or .parquet") % {"s": out.suffix}
            )
        trial = pick_trial(options["trial"])
        frame = export_trial(trial)
        if frame.empty:
            raise CommandError(_("trial %(name)s has no assigned units") % {"name": trial.name})
        out.parent.mkdir(parents=True, exist_ok=True)
        write_table(frame, out)
        counts = frame.groupby("arm").size().to_dict()
        self.stdout.write(
            _("%(n)s rows, %(c)s columns -> %(out)s; per arm: %(arms)s")
            % {"n": len(frame), "c": frame.shape[1], "out": out, "arms": counts}
        )
