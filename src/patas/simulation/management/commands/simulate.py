"""`patas simulate --men N --days D --seed S --out DIR [--program ID] [--effect 0.2]`"""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from patas.participants.models import Participant
from patas.simulation import outputs
from patas.simulation.runner import Options, Simulation
from patas.trials.plan import PlanError

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = _("Run the program on synthetic men through the real code, on a virtual clock.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--men", type=int, default=300)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--effect", type=float, default=0.2, help=_("true treatment effect in SD units")
        )
        parser.add_argument("--recruit-days", type=int, default=7)
        parser.add_argument("--program", default=None)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["men"] < 1 or opts["days"] < 1:
            raise CommandError(_("--men and --days must be at least 1"))
        if Participant.objects.filter(is_synthetic=False).exists():
            raise CommandError(
                _(
                    "this database holds real participants: simulate into a "
                    "fresh data dir (PATAS_DATA_DIR) instead"
                )
            )
        summary = run_simulation(opts, progress=not opts["no_progress"])
        show(summary, Console())


def run_simulation(opts: dict[str, Any], *, progress: bool = True) -> outputs.Summary:
    out: Path = opts["out"]
    out.mkdir(parents=True, exist_ok=True)
    options = Options(
        men=opts["men"],
        days=opts["days"],
        seed=opts["seed"],
        effect=opts["effect"],
        recruit_days=opts["recruit_days"],
        program=opts["program"],
    )
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[at]}"),
        TimeElapsedColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task(_("simulating"), total=1.0, at="")
        sim = Simulation(options, progress=lambda f, note: bar.update(task, completed=f, at=note))
        sim.run()
    outputs.mark_synthetic(sim)
    summary = outputs.summarise(sim, time.perf_counter() - started)
    outputs.write_dashboard(out, summary)
    try:
        outputs.write_trial_report(out, summary, opts["program"])
    except PlanError as exc:  # expected with a few men (no variation in a stratum): one line
        log.warning("no trial report: %s", exc)
        summary.notes.append(f"trial report failed: {type(exc).__name__}: {exc}")
    except Exception as exc:  # the simulation's data stay usable: say what failed, go on
        log.exception("the trial report failed")
        summary.notes.append(f"trial report failed: {type(exc).__name__}: {exc}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary.notes.append(f"peak memory {peak:.0f} MiB")
    outputs.write_summary(out, summary)
    return summary


def show(summary: outputs.Summary, console: Console) -> None:
    table = Table(title=_("Simulation summary"), show_header=False)
    for label, value in outputs.lines(summary):
        table.add_row(label, str(value))
    for key, path in summary.outputs.items():
        table.add_row(key, path)
    for note in summary.notes:
        table.add_row("note", note)
    console.print(table)
