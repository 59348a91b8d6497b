"""Assignment: counts per stratum, misfits, seeds, clusters, sequential blocks, groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from patas.trials import assignment as A


def test_arms_parse_and_errors():
    arms = A.Arms.parse("control:2,a:1,b:1")
    assert arms.names == ("control", "a", "b") and arms.ratio == 4
    assert list(arms.pattern) == [0, 0, 1, 2]
    for bad in ("control:1", "a:1,a:1", "a:0,b:1", "a:x,b:1"):
        with pytest.raises(A.DesignError):
            A.Arms.parse(bad)


def test_complete_within_strata_exact_counts_and_misfits():
    sizes = [10, 7, 5, 1]
    codes = np.repeat(np.arange(4), sizes)
    arms = A.Arms.parse("control:1,treatment:1")
    draw = A.complete_within_strata(codes, arms, np.random.default_rng(3))
    for s, n in enumerate(sizes):
        sel = codes == s
        full_pairs = n // 2
        assert draw.misfit[sel].sum() == n % 2
        treated_in_full = draw.arm[sel & ~draw.misfit].sum()
        assert treated_in_full == full_pairs  # exactly half of the full ratio blocks


def test_weighted_three_arms_counts():
    codes = np.repeat([0, 1], [40, 13])
    arms = A.Arms.parse("control:2,a:1,b:1")
    draw = A.complete_within_strata(codes, arms, np.random.default_rng(0))
    first = np.bincount(draw.arm[codes == 0], minlength=3)
    assert list(first) == [20, 10, 10]
    second = draw.arm[(codes == 1) & ~draw.misfit]
    assert list(np.bincount(second, minlength=3)) == [6, 3, 3]
    assert draw.misfit[codes == 1].sum() == 1


def test_misfits_follow_arm_probabilities():
    # 3 units per stratum with 1:1 arms: one misfit each, treated about half the time
    codes = np.repeat(np.arange(2000), 3)
    draw = A.complete_within_strata(codes, A.Arms.parse("c:1,t:1"), np.random.default_rng(1))
    share = draw.arm[draw.misfit].mean()
    assert draw.misfit.sum() == 2000
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 2000)


def test_assign_frame_reproducible_by_seed_and_not_by_row_order():
    units = pd.DataFrame({"id": [f"u{i}" for i in range(101)], "s": np.arange(101) % 3})
    arms = A.Arms.parse("control:1,treatment:1")
    one = A.assign_frame(units, "id", ["s"], arms, seed=42)
    two = A.assign_frame(units.sample(frac=1, random_state=1), "id", ["s"], arms, seed=42)
    other = A.assign_frame(units, "id", ["s"], arms, seed=43)
    assert one.arm.tolist() == two.arm.tolist()
    assert one.arm.tolist() != other.arm.tolist()
    assert set(one.stratum) == {"s=0", "s=1", "s=2"}


def test_assign_frame_bad_input():
    units = pd.DataFrame({"id": ["a", "a"], "s": [1, 2]})
    with pytest.raises(A.DesignError, match="repeat"):
        A.assign_frame(units, "id", ["s"], A.Arms.parse("c:1,t:1"), 1)
    with pytest.raises(A.DesignError, match="nope"):
        A.assign_frame(units, "id", ["nope"], A.Arms.parse("c:1,t:1"), 1)


def test_clustered_assigns_whole_clusters_within_strata():
    clusters = np.repeat(np.arange(12), 5)
    strata = np.repeat([0, 1], 30)
    draw = A.clustered_within_strata(
        strata, clusters, A.Arms.parse("c:1,t:1"), np.random.default_rng(5)
    )
    per_cluster = pd.Series(draw.arm).groupby(clusters).nunique()
    assert (per_cluster == 1).all()
    for s in (0, 1):
        assert draw.arm[strata == s].sum() == 15  # 3 of 6 clusters of 5
    with pytest.raises(A.DesignError, match="spans"):
        A.clustered_within_strata(
            np.array([0, 1]), np.array([0, 0]), A.Arms.parse("c:1,t:1"), np.random.default_rng(0)
        )


def test_sequential_blocks_balance_and_reproducibility():
    arms = A.Arms.parse("control:1,treatment:1")
    last = None
    seq = []
    for _ in range(40):
        code, block, pos = A.next_sequential(9, "b1", last, arms, [2, 4, 6])
        seq.append((code, block, pos))
        last = (block, pos)
    # at the end of every block the arms are balanced
    arms_seen = np.array([s[0] for s in seq])
    blocks = np.array([s[1] for s in seq])
    for b in np.unique(blocks)[:-1]:
        assert arms_seen[blocks == b].mean() == 0.5
    assert len(set(np.bincount(blocks)[:-1])) > 1  # block sizes vary
    again = A.next_sequential(9, "b1", (seq[9][1], seq[9][2]), arms, [2, 4, 6])
    assert again == seq[10]
    with pytest.raises(A.DesignError):
        A.next_sequential(9, "b1", None, arms, [3])


def test_blocks_within_strata_each_stratum_balanced_per_block():
    codes = np.repeat([0, 1], [24, 24])
    draw = A.blocks_within_strata(
        codes, np.arange(48), A.Arms.parse("c:1,t:1"), [4], np.random.default_rng(2)
    )
    for s in (0, 1):
        arms = draw.arm[codes == s].reshape(-1, 4)
        assert (arms.sum(axis=1) == 2).all()


def test_groups_random_and_stratified_sizes():
    rng = np.random.default_rng(0)
    random_groups = A.groups_for(103, 5, rng)
    assert sorted(np.bincount(random_groups)) == [20, 20, 21, 21, 21]
    risk = np.arange(100, dtype=float)
    groups = A.groups_for(100, 5, rng, risk)
    means = [risk[groups == g].mean() for g in range(5)]
    assert max(means) - min(means) < 5  # each group spans the whole risk range
    assert all(np.bincount(groups) == 20)
