"""State changes of the trials app. Each one writes the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction

from patas.core import audit, clock
from patas.participants.models import Participant
from patas.trials import assignment as design
from patas.trials.models import Assignment, GroupPlacement, Randomisation, Trial


class AlreadyAssignedError(RuntimeError):
    """A unit already has an arm in this trial: assignments are recorded once."""


def create_trial(
    name: str,
    arms: str | Mapping[str, int] | Sequence[tuple[str, int]],
    seed: int,
    *,
    procedure: str = "stratified",
    block_sizes: Sequence[int] = (),
    strata: Sequence[str] = (),
    control_condition: str = Trial.ControlCondition.SURVEYS_ONLY,
    placebo_pack: str = "",
    actor: str = audit.SYSTEM,
) -> Trial:
    if control_condition not in Trial.ControlCondition.values:
        raise design.DesignError(f"unknown control condition {control_condition!r}")
    if (control_condition == Trial.ControlCondition.PLACEBO) != bool(placebo_pack):
        raise design.DesignError("a placebo pack is named exactly when the control gets a placebo")
    parsed = design.Arms.parse(arms)
    if procedure not in design.PROCEDURES:
        raise design.DesignError(f"unknown procedure {procedure!r}; one of {design.PROCEDURES}")
    if procedure == "blocks":
        design.check_block_sizes(parsed, block_sizes)
    with transaction.atomic():
        trial = Trial.objects.create(
            name=name,
            arms=[list(p) for p in zip(parsed.names, parsed.weights, strict=True)],
            seed=seed,
            procedure=procedure,
            block_sizes=list(block_sizes),
            strata=list(strata),
            control_condition=control_condition,
            placebo_pack=placebo_pack,
        )
        audit.record(actor, "trial.created", trial, arms=trial.arms, seed=seed, procedure=procedure)
    return trial


def trial_arms(trial: Trial) -> design.Arms:
    return design.Arms.parse([(str(a), int(w)) for a, w in trial.arms])


def assign_batch(
    trial: Trial,
    units: pd.DataFrame,
    *,
    batch: str = "",
    seed: int | None = None,
    id_column: str = "unit_id",
    strata: Sequence[str] | None = None,
    cluster: str | None = None,
    participants: Mapping[str, Participant] | None = None,
    actor: str = audit.SYSTEM,
) -> Randomisation:
    """Complete randomisation within strata of a batch (clusters as units if `cluster`).

    Raises AlreadyAssignedError, changing nothing, if any unit already has an arm.
    """
    seed = trial.seed if seed is None else seed
    strata = list(trial.strata if strata is None else strata)
    table = design.assign_frame(units, id_column, strata, trial_arms(trial), seed, cluster)
    ids = table[id_column].tolist()
    taken = set(
        Assignment.objects.filter(trial=trial, unit_id__in=ids).values_list("unit_id", flat=True)
    )
    if taken:
        raise AlreadyAssignedError(f"already assigned in {trial.name}: {sorted(taken)[:5]}")
    procedure = "clustered" if cluster else "stratified"
    now = clock.now()
    people = participants or {}
    with transaction.atomic():
        run = Randomisation.objects.create(
            trial=trial,
            batch=batch,
            procedure=procedure,
            seed=seed,
            n_units=len(table),
            details={"strata": strata, "cluster": cluster, "misfits": int(table.misfit.sum())},
            at=now,
        )
        rows = [
            Assignment(
                trial=trial,
                randomisation=run,
                participant=people.get(uid),
                unit_id=uid,
                arm=arm,
                stratum=stratum,
                batch=batch,
                cluster=str(c) if cluster else "",
                procedure=procedure,
                seed=seed,
                misfit=bool(misfit),
                at=now,
            )
            for uid, arm, stratum, misfit, c in zip(
                ids,
                table.arm,
                table.stratum,
                table.misfit,
                table[cluster] if cluster else [""] * len(table),
                strict=True,
            )
        ]
        try:
            Assignment.objects.bulk_create(rows, batch_size=2000)
        except IntegrityError as exc:
            raise AlreadyAssignedError(f"a unit of this batch is already assigned: {exc}") from exc
        audit.record(
            actor,
            "trial.batch_assigned",
            run,
            trial=trial.name,
            batch=batch,
            n=len(rows),
            seed=seed,
        )
        audit.record_many(
            actor, "trial.assigned", "trials.assignment", ids, trial=trial.name, batch=batch
        )
    return run


def assign_next(
    trial: Trial,
    participant: Participant | None = None,
    *,
    unit_id: str | None = None,
    stratum: str = "",
    actor: str = audit.SYSTEM,
) -> Assignment:
    """Sequential mode: the next arm in this stratum's permuted blocks for one new man."""
    if trial.procedure != "blocks":
        raise design.DesignError(f"trial {trial.name} is not sequential (procedure=blocks)")
    uid = unit_id or (participant.uid.hex if participant is not None else "")
    if not uid:
        raise ValueError("assign_next needs a participant or a unit_id")
    arms = trial_arms(trial)
    for _attempt in range(5):
        if Assignment.objects.filter(trial=trial, unit_id=uid).exists():
            raise AlreadyAssignedError(f"{uid} is already assigned in {trial.name}")
        last = (
            Assignment.objects.filter(trial=trial, stratum=stratum, block__isnull=False)
            .order_by("-block", "-position")
            .values_list("block", "position")
            .first()
        )
        code, block, position = design.next_sequential(
            trial.seed, stratum, last, arms, trial.block_sizes
        )
        try:
            with transaction.atomic():
                row = Assignment.objects.create(
                    trial=trial,
                    participant=participant,
                    unit_id=uid,
                    arm=arms.names[code],
                    stratum=stratum,
                    procedure="blocks",
                    seed=trial.seed,
                    block=block,
                    position=position,
                    at=clock.now(),
                )
                audit.record(
                    actor,
                    "trial.assigned",
                    row,
                    trial=trial.name,
                    arm=row.arm,
                    stratum=stratum,
                    block=block,
                    position=position,
                )
            return row
        except IntegrityError:
            continue  # another worker took this slot (or this unit) meanwhile: look again
    raise AlreadyAssignedError(f"could not assign {uid}: the slot kept being taken")


def assign_groups(
    trial: Trial,
    n_groups: int,
    *,
    arm: str = "treatment",
    batch: str | None = None,
    baseline: Mapping[str, float] | None = None,
    baseline_name: str = "baseline",
    seed: int | None = None,
    prefix: str = "G",
    actor: str = audit.SYSTEM,
) -> list[GroupPlacement]:
    """Second stage: place the units of one arm (of a batch) into `n_groups` peer groups.

    Random, or stratified by a baseline variable (`baseline`: unit id -> value).
    """
    seed = trial.seed + 1 if seed is None else seed
    chosen = Assignment.objects.filter(trial=trial, arm=arm)
    if batch is not None:
        chosen = chosen.filter(batch=batch)
    rows = list(chosen.order_by("unit_id").values_list("unit_id", "participant_id"))
    if not rows:
        raise design.DesignError(f"no units in arm {arm!r} to place in groups")
    if GroupPlacement.objects.filter(trial=trial, unit_id__in=[r[0] for r in rows]).exists():
        raise AlreadyAssignedError("some of these units already have a group")
    values = None
    if baseline is not None:
        values = np.asarray([baseline.get(uid, np.nan) for uid, _ in rows], dtype=float)
    groups = design.groups_for(len(rows), n_groups, np.random.default_rng(seed), values)
    method = "random" if baseline is None else f"stratified:{baseline_name}"
    label = f"{prefix}{batch}-" if batch else prefix
    now = clock.now()
    placements = [
        GroupPlacement(
            trial=trial,
            unit_id=uid,
            participant_id=pid,
            group=f"{label}{g + 1}",
            batch=batch or "",
            method=method,
            seed=seed,
            at=now,
        )
        for (uid, pid), g in zip(rows, groups, strict=True)
    ]
    with transaction.atomic():
        GroupPlacement.objects.bulk_create(placements, batch_size=2000)
        audit.record(
            actor,
            "trial.groups_assigned",
            trial,
            arm=arm,
            batch=batch or "",
            n=len(placements),
            n_groups=n_groups,
            method=method,
            seed=seed,
        )
    return placements


def assignments_frame(trial: Trial) -> pd.DataFrame:
    """The trial's assignment record as a table (for export and analysis)."""
    fields: list[Any] = [
        "unit_id",
        "arm",
        "stratum",
        "batch",
        "cluster",
        "procedure",
        "seed",
        "block",
        "position",
        "misfit",
        "at",
    ]
    return pd.DataFrame.from_records(
        Assignment.objects.filter(trial=trial).order_by("id").values(*fields), columns=fields
    )
