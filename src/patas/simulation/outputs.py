"""What a simulation leaves behind: a summary that is checked against the database, the
program dashboard, and the trial report from `patas export-trial` + `patas analyze`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Count, Q

from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs.models import Enrolment
from patas.programs.pack import get_pack
from patas.simulation.runner import Simulation


@dataclass
class Summary:
    men_arrived: int
    participants_in_database: int
    by_status: dict[str, int]
    enrolled: int
    completed: int
    completion_rate: float | None
    inbound_posted: int
    inbound_stored: int
    outbound_sent_by_patas: int
    outbound_received_by_fake: int
    outbound_not_sent: dict[str, int]
    lost: int
    safety_alerts: int
    arms: dict[str, int]
    seconds: float
    ticks: int
    cpu_seconds: float = 0.0  # of the simulation loop, this process
    cpu_by_phase: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def summarise(sim: Simulation, seconds: float) -> Summary:
    from patas.recruitment.funnel import completed_q
    from patas.safety.models import Alert
    from patas.trials.models import Assignment

    synthetic = Participant.objects.filter(is_synthetic=True)
    statuses = dict(synthetic.values_list("status").annotate(n=Count("id")))
    enrolments = Enrolment.objects.filter(participant__is_synthetic=True)
    enrolled = enrolments.count()
    completed = enrolments.filter(completed_q()).count()
    out = Message.objects.filter(direction="out", participant__is_synthetic=True)
    sent = out.filter(wamid__isnull=False).count()
    not_sent = dict(out.filter(wamid__isnull=True).values_list("status").annotate(n=Count("id")))
    stored = Message.objects.filter(direction="in", participant__is_synthetic=True).count()
    counters = sim.counters
    return Summary(
        men_arrived=sum(1 for m in sim.men if m.arrives_at <= sim.end),
        participants_in_database=synthetic.count(),
        by_status=statuses,
        enrolled=enrolled,
        completed=completed,
        completion_rate=round(completed / enrolled, 3) if enrolled else None,
        inbound_posted=counters.inbound_posted,
        inbound_stored=stored,
        outbound_sent_by_patas=sent,
        outbound_received_by_fake=counters.outbound_received_by_fake,
        outbound_not_sent=not_sent,
        lost=(counters.inbound_posted - stored) + abs(sent - counters.outbound_received_by_fake),
        safety_alerts=Alert.objects.filter(participant__is_synthetic=True).count(),
        arms=dict(
            Assignment.objects.filter(participant__is_synthetic=True)
            .values_list("arm")
            .annotate(n=Count("id"))
        ),
        seconds=round(seconds, 1),
        ticks=counters.ticks,
        cpu_seconds=round(sum(counters.cpu.values()), 1),
        cpu_by_phase={
            phase: round(cpu, 1)
            for phase, cpu in sorted(counters.cpu.items(), key=lambda item: -item[1])
        },
    )


def mark_synthetic(sim: Simulation) -> int:
    """Participants made by the simulation are flagged, so nothing mistakes them for real men."""
    from patas.core.crypto import lookup_hash

    hashes = [lookup_hash(m.phone) for m in sim.men]
    updated = 0
    for start in range(0, len(hashes), 5000):
        updated += Participant.objects.filter(
            Q(phone_hash__in=hashes[start : start + 5000]) & Q(is_synthetic=False)
        ).update(is_synthetic=True)
    return updated


def write_dashboard(out: Path, summary: Summary) -> None:
    from patas.recruitment.export import write_dashboard as write

    write(out / "dashboard")
    summary.outputs["dashboard"] = str(out / "dashboard" / "index.html")


def write_trial_report(out: Path, summary: Summary, program_id: str | None) -> None:
    from patas.trials import analyze, flow, plan, report
    from patas.trials.export import export_trial

    program = get_pack(program_id).program
    cfg = flow.settings_of(program)
    if cfg is None:
        summary.notes.append("the program has no trial section: no trial report")
        return
    data_path = out / "trial" / "analysis-data.csv"
    data_path.parent.mkdir(parents=True, exist_ok=True)
    frame = export_trial(flow.trial_for(program, cfg))
    frame.to_csv(data_path, index=False)
    the_plan = plan.load(get_pack(program_id).root / "analysis-plan.yaml")
    results = analyze.run(the_plan, frame)
    report.write(results, out / "trial", data_path.name)
    table = results.estimates
    if len(table) and table.estimate.isna().any():  # too few answers, or a degenerate design
        missing = table.loc[table.estimate.isna(), "outcome"].astype(str).unique()
        summary.notes.append(
            f"trial report: not estimated (reasons in its notes): {', '.join(missing)}"
        )
    summary.outputs["trial_report"] = str(out / "trial" / "report.html")
    summary.outputs["trial_data"] = str(data_path)


def write_summary(out: Path, summary: Summary) -> Path:
    path = out / "summary.json"
    path.write_text(json.dumps(asdict(summary), indent=2, default=str), encoding="utf-8")
    return path


def lines(summary: Summary) -> list[tuple[str, Any]]:
    return [
        ("men arrived", summary.men_arrived),
        ("enrolled in the program", summary.enrolled),
        ("completed (program rule)", f"{summary.completed} ({summary.completion_rate})"),
        ("trial arms", summary.arms),
        ("inbound posted / stored", f"{summary.inbound_posted} / {summary.inbound_stored}"),
        (
            "outbound sent by patas / received by the fake",
            f"{summary.outbound_sent_by_patas} / {summary.outbound_received_by_fake}",
        ),
        ("outbound not sent, by reason", summary.outbound_not_sent),
        ("lost", summary.lost),
        ("safety alerts", summary.safety_alerts),
        ("run time (s) / ticks", f"{summary.seconds} / {summary.ticks}"),
        ("CPU time (s) of the loop", summary.cpu_seconds),
    ]
