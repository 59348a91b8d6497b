"""KLK and ICW indices against direct computations; Lee bounds by hand and by bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from patas.trials import indices
from patas.trials.bounds import lee_bounds


@pytest.fixture
def items():
    rng = np.random.default_rng(5)
    n = 60
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame.loc[[1, 7, 9], "b"] = np.nan
    frame.loc[[7], "a"] = np.nan
    frame.loc[[7], "c"] = np.nan  # row 7 has no item at all
    control = np.arange(n) % 2 == 0
    return frame, control


def test_klk_matches_a_direct_computation(items):
    frame, control = items
    got = indices.klk(frame, ["a", "b", "-c"], control)
    z = {}
    for col, sign in (("a", 1), ("b", 1), ("c", -1)):
        ref = frame.loc[control, col].dropna() * sign
        z[col] = (frame[col] * sign - ref.mean()) / ref.std(ddof=1)
    raw = []
    for i in range(len(frame)):
        present = [z[c][i] for c in "abc" if not np.isnan(z[c][i])]
        raw.append(np.mean(present) if present else np.nan)
    raw = pd.Series(raw)
    ref = raw[control].dropna()
    expected = (raw - ref.mean()) / ref.std(ddof=1)
    np.testing.assert_allclose(got, expected.to_numpy(), atol=1e-12)
    assert np.isnan(got[7])
    assert got[control].mean() == pytest.approx(0, abs=1e-12)


def test_icw_weights_and_values_direct(items):
    frame, control = items
    got = indices.icw(frame, ["a", "b", "c"], control)
    z = indices.standardise(frame, ["a", "b", "c"], control)
    weights = np.linalg.inv(pd.DataFrame(z).cov().to_numpy()).sum(axis=1)
    row = 1  # b missing: weighted mean of a and c only
    raw = (weights[0] * z[row, 0] + weights[2] * z[row, 2]) / (weights[0] + weights[2])
    full = (z[~np.isnan(z).any(axis=1)] @ weights) / weights.sum()
    with np.errstate(invalid="ignore"):
        all_raw = np.where(np.isnan(z), 0, z) @ weights / (~np.isnan(z) @ weights)
    ref = all_raw[control & np.isfinite(all_raw)]
    scale = lambda v: (v - ref.mean()) / ref.std(ddof=1)  # noqa: E731
    assert got[row] == pytest.approx(scale(raw))
    np.testing.assert_allclose(got[~np.isnan(z).any(axis=1)], scale(full))


def test_icw_downweights_a_repeated_item():
    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    frame = pd.DataFrame({"a": a, "a2": a + rng.normal(size=500) * 0.01, "b": rng.normal(size=500)})
    z = indices.standardise(frame, ["a", "a2", "b"], np.ones(500, dtype=bool))
    w = indices.icw_weights(z)
    assert w[2] == pytest.approx(w[0] + w[1], rel=0.05)  # the pair together counts like b


def test_index_without_control_variation_is_an_error():
    frame = pd.DataFrame({"a": [1.0, 1.0, 2.0, 3.0]})
    with pytest.raises(indices.IndexBuildError, match="'a'"):
        indices.klk(frame, ["a"], np.array([True, True, False, False]))


def test_lee_bounds_hand_example():
    y = np.array(
        [
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            np.nan,
            np.nan,  # treated: 8 of 10 respond
            2,
            2,
            3,
            3,
            4,
            4,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
        ]
    )  # control: 6 of 10
    treated = np.repeat([1, 0], 10)
    b = lee_bounds(y, treated, np.isfinite(y))
    # p = (.8 - .6) / .8 = .25 -> trim 2 of 8 treated responders; control mean 3
    assert b.trimmed_share == pytest.approx(0.25)
    assert b.trimmed_arm == "treatment"
    assert b.lower == pytest.approx(3.5 - 3)  # keep 1..6
    assert b.upper == pytest.approx(5.5 - 3)  # keep 3..8
    swapped = lee_bounds(y, 1 - treated, np.isfinite(y))
    assert swapped.trimmed_arm == "control"
    assert (swapped.lower, swapped.upper) == pytest.approx((-2.5, -0.5))


def test_lee_standard_errors_agree_with_the_bootstrap():
    rng = np.random.default_rng(2)
    n = 3000
    treated = np.repeat([1, 0], n)
    y = rng.normal(size=2 * n) + 0.3 * treated
    responded = rng.random(2 * n) < np.where(treated == 1, 0.85, 0.7)
    y = np.where(responded, y, np.nan)
    b = lee_bounds(y, treated, responded)
    boot_lo, boot_hi = [], []
    for _ in range(300):
        i = np.concatenate([rng.integers(0, n, n), n + rng.integers(0, n, n)])
        r = lee_bounds(y[i], treated[i], responded[i])
        boot_lo.append(r.lower)
        boot_hi.append(r.upper)
    assert b.se_lower == pytest.approx(np.std(boot_lo), rel=0.2)
    assert b.se_upper == pytest.approx(np.std(boot_hi), rel=0.2)
