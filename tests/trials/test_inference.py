"""Randomisation inference and Anderson's sharpened q-values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from patas.trials import assignment as A
from patas.trials import estimate as est
from patas.trials import inference as inf


def test_sharpened_q_hand_example():
    # Worked by hand (see the module's rule): p = .001 is first rejected at q = .005
    # (stage one R1 = 1, stage two level .004975 * 4/3), p = .01 at .016, p = .03 at .021
    # (R1 = 2 doubles the stage-two level), p = .2 at .053 (R1 = 3 -> stage two at 4 q').
    p = [0.03, 0.001, float("nan"), 0.2, 0.01]
    q = inf.sharpened_q(p)
    np.testing.assert_allclose(q[[1, 4, 0, 3]], [0.005, 0.016, 0.021, 0.053], atol=1e-12)
    assert np.isnan(q[2])


def naive_sharpened_q(p: np.ndarray) -> np.ndarray:
    """A literal loop over the grid, from 1 down to 0.001, as Anderson describes it."""
    m = p.size
    order = np.argsort(p)
    rank = np.empty(m, dtype=int)
    rank[order] = np.arange(1, m + 1)
    q_values = np.ones(m)
    for k in range(1000, 0, -1):
        q = k / 1000
        q1 = q / (1 + q)
        r1 = max([r for r in range(1, m + 1) if np.sort(p)[r - 1] <= q1 * r / m], default=0)
        if r1 == m:
            q_values[:] = q
            continue
        q2 = q1 * m / (m - r1)
        r2 = max([r for r in range(1, m + 1) if np.sort(p)[r - 1] <= q2 * r / m], default=0)
        q_values[rank <= r2] = q
    return q_values


def test_sharpened_q_matches_a_literal_loop():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.02, 6), rng.uniform(0, 1, 14)])
    np.testing.assert_allclose(inf.sharpened_q(p), naive_sharpened_q(p), atol=1e-12)
    assert (inf.sharpened_q(p) >= 0.001).all()


def test_ri_draws_come_from_the_assignment_procedure():
    strata = np.repeat([0, 1, 2], [7, 10, 5])
    arms = A.Arms.parse("control:1,treatment:1")
    design = inf.Design(arms, strata)
    draws = inf.draw_many(design, 50, seed=9)
    same = A.complete_within_strata_many(strata, arms, np.random.default_rng(9), 50)[0]
    assert (draws == same).all()  # the very function the batch assignment runs
    single = A.complete_within_strata(strata, arms, np.random.default_rng(9)).arm
    assert (
        single == A.complete_within_strata_many(strata, arms, np.random.default_rng(9), 1)[0]
    ).all()
    for s, n in ((0, 7), (1, 10), (2, 5)):
        treated = draws[:, strata == s].sum(axis=1)
        assert set(treated) <= {n // 2, n // 2 + 1}  # n//2 from full pairs, plus the misfit
    clusters = np.repeat(np.arange(11), 2)
    paired_strata = np.repeat([0, 1], [10, 12])
    clustered = inf.draw_many(inf.Design(arms, paired_strata, "clustered", clusters), 20, 1)
    assert (clustered[:, ::2] == clustered[:, 1::2]).all()


def test_ri_coefficients_equal_regression_per_draw():
    rng = np.random.default_rng(0)
    n = 150
    strata = rng.integers(0, 4, n)
    x = rng.normal(size=(n, 2))
    y = x @ [1.0, -1.0] + rng.normal(size=n)
    draws = inf.draw_many(inf.Design(A.Arms.parse("c:1,a:1,b:1"), strata), 5, 3)
    for lin in (True, False):
        coefs = inf.ri_coefficients(y, draws, 3, strata, x, lin)
        for d in range(5):
            fit = est.ols_fe(y, est.design_matrix(draws[d].astype(int), 3, x, lin), strata)
            np.testing.assert_allclose(coefs[d], fit.coef[:2], atol=1e-10)


def test_ri_agrees_with_exact_enumeration_within_monte_carlo_error():
    strata = np.repeat([0, 1], [4, 6])
    rng = np.random.default_rng(21)
    observed = A.complete_within_strata(strata, A.Arms.parse("c:1,t:1"), rng).arm
    y = 0.4 * observed + rng.normal(size=10)

    def coefficient(arm: np.ndarray) -> float:
        return float(est.ols_fe(y, arm[:, None].astype(float), strata, "classical").coef[0])

    stat = coefficient(observed)
    everything = []
    first = [c for c in itertools.combinations(range(4), 2)]
    second = [c for c in itertools.combinations(range(4, 10), 3)]
    for a, b in itertools.product(first, second):
        arm = np.zeros(10, dtype=int)
        arm[list(a) + list(b)] = 1
        everything.append(coefficient(arm))
    assert len(everything) == 120
    exact = np.mean(np.abs(everything) >= abs(stat) - 1e-12)
    draws = inf.draw_many(inf.Design(A.Arms.parse("c:1,t:1"), strata), 4000, 5)
    coefs = inf.ri_coefficients(y, draws, 2, strata, np.zeros((10, 0)), lin=True)[:, 0]
    p, mc_se = inf.ri_pvalue(stat, coefs)
    assert 0.02 < exact < 0.6  # the example is informative
    assert abs(p - exact) <= 4 * np.sqrt(exact * (1 - exact) / 4000)
    assert mc_se == pytest.approx(np.sqrt(p * (1 - p) / 4000))
