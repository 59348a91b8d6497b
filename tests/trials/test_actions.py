"""Recording assignments: once, audited, append-only; sequential and group stages."""

from __future__ import annotations

import pandas as pd
import pytest

from patas.core.models import AuditEntry
from patas.trials import actions
from patas.trials import assignment as A
from patas.trials.models import AppendOnlyError, Assignment, GroupPlacement

pytestmark = pytest.mark.django_db


def units(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": [f"m{i:04d}" for i in range(start, start + n)],
            "violence": ["none", "physical", "sexual"] * (n // 3) + ["none"] * (n % 3),
        }
    )


def test_assign_batch_records_same_as_assign_frame(vclock):
    trial = actions.create_trial("hep", "control:1,treatment:1", seed=11, strata=["violence"])
    frame = units(51)
    run = actions.assign_batch(trial, frame, batch="1")
    expected = A.assign_frame(frame, "unit_id", ["violence"], actions.trial_arms(trial), 11)
    stored = actions.assignments_frame(trial).set_index("unit_id")
    assert run.n_units == 51 and len(stored) == 51
    assert stored.loc[expected.unit_id, "arm"].tolist() == expected.arm.tolist()
    assert stored.misfit.sum() == expected.misfit.sum() == 3  # 17 units in each stratum
    assert set(stored["at"]) == {vclock.now()}
    assert AuditEntry.objects.filter(action="trial.assigned").count() == 51
    assert AuditEntry.objects.filter(action="trial.batch_assigned").count() == 1


def test_second_assignment_raises_and_changes_nothing():
    trial = actions.create_trial("t2", "control:1,treatment:1", seed=1)
    actions.assign_batch(trial, units(10))
    before = list(Assignment.objects.order_by("id").values_list("unit_id", "arm"))
    with pytest.raises(actions.AlreadyAssignedError):
        actions.assign_batch(trial, units(12, start=5), strata=[])
    assert list(Assignment.objects.order_by("id").values_list("unit_id", "arm")) == before


def test_assignments_cannot_be_updated_or_deleted():
    trial = actions.create_trial("t3", "control:1,treatment:1", seed=1)
    actions.assign_batch(trial, units(4), strata=[])
    row = Assignment.objects.first()
    assert row is not None
    row.arm = "treatment" if row.arm == "control" else "control"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        Assignment.objects.filter(trial=trial).update(arm="control")
    with pytest.raises(AppendOnlyError):
        Assignment.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        row.delete()


def test_assign_next_follows_the_seeded_blocks(vclock):
    trial = actions.create_trial(
        "seq", "control:1,treatment:1", seed=5, procedure="blocks", block_sizes=[2, 4]
    )
    rows = [actions.assign_next(trial, unit_id=f"u{i}", stratum="b1") for i in range(12)]
    arms = actions.trial_arms(trial)
    last = None
    for row in rows:
        code, block, pos = A.next_sequential(5, "b1", last, arms, [2, 4])
        assert (row.arm, row.block, row.position) == (arms.names[code], block, pos)
        last = (block, pos)
    with pytest.raises(actions.AlreadyAssignedError):
        actions.assign_next(trial, unit_id="u3", stratum="b1")
    other = actions.assign_next(trial, unit_id="x", stratum="b2")
    assert (other.block, other.position) == (0, 0)


def test_assign_next_refuses_batch_trials():
    trial = actions.create_trial("batchy", "control:1,treatment:1", seed=5)
    with pytest.raises(A.DesignError):
        actions.assign_next(trial, unit_id="u", stratum="")


def test_assign_groups_random_and_stratified():
    trial = actions.create_trial("grp", "control:1,treatment:1", seed=3)
    actions.assign_batch(trial, units(60), strata=[])
    placements = actions.assign_groups(trial, 3)
    treated = Assignment.objects.filter(trial=trial, arm="treatment").count()
    assert len(placements) == treated == 30
    sizes = pd.Series([p.group for p in placements]).value_counts()
    assert sorted(sizes) == [10, 10, 10]
    with pytest.raises(actions.AlreadyAssignedError):
        actions.assign_groups(trial, 3)
    assert GroupPlacement.objects.count() == 30
    assert AuditEntry.objects.filter(action="trial.groups_assigned").exists()


def test_assign_groups_stratified_by_baseline():
    trial = actions.create_trial("grp2", "control:1,treatment:1", seed=4)
    actions.assign_batch(trial, units(40), strata=[])
    treated = list(
        Assignment.objects.filter(trial=trial, arm="treatment").values_list("unit_id", flat=True)
    )
    risk = {uid: float(i) for i, uid in enumerate(sorted(treated))}
    placements = actions.assign_groups(trial, 2, baseline=risk, baseline_name="risk")
    assert {p.method for p in placements} == {"stratified:risk"}
    by_group = pd.Series({p.unit_id: p.group for p in placements})
    means = pd.Series(risk).groupby(by_group).mean()
    assert abs(means.iloc[0] - means.iloc[1]) <= 2


def test_export_seam_is_deidentified():
    from patas.trials.export import build_dataset

    trial = actions.create_trial("exp", "control:1,treatment:1", seed=2)
    actions.assign_batch(trial, units(6), strata=[])
    actions.assign_groups(trial, 1)
    frame = build_dataset(
        trial, surveys=lambda t, ids: pd.DataFrame({"unit_id": ids, "y": range(len(ids))})
    )
    assert "unit_id" not in frame.columns and len(frame) == 6
    assert frame.pseudonym.str.startswith("U").all()
    assert frame.group.notna().sum() == 3 and "y" in frame.columns


def test_control_condition_is_recorded_and_checked():
    from patas.trials.models import Trial

    trial = actions.create_trial(
        "wait", "control:1,treatment:1", seed=1, control_condition="waitlist"
    )
    assert trial.control_condition == Trial.ControlCondition.WAITLIST
    with pytest.raises(A.DesignError, match="placebo"):
        actions.create_trial("plc", "control:1,treatment:1", seed=1, control_condition="placebo")
    with pytest.raises(A.DesignError, match="unknown control"):
        actions.create_trial("bad", "control:1,treatment:1", seed=1, control_condition="nothing")
