"""Estimators against independent computations: statsmodels, hand examples, Wald."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from patas.trials import estimate as est


@pytest.fixture
def sample():
    rng = np.random.default_rng(12)
    n = 240
    strata = rng.integers(0, 5, n)
    cluster = strata * 10 + rng.integers(0, 6, n)  # clusters nested in strata
    treat = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2))
    y = 0.3 * treat + x @ [0.5, -0.2] + 0.2 * strata + rng.normal(size=n) * (1 + treat)
    return y, treat, x, strata, cluster


def statsmodels_fit(y, regressors, strata, cov_type, **kwargs):
    dummies = pd.get_dummies(strata, drop_first=True, dtype=float).to_numpy()
    exog = sm.add_constant(np.column_stack([regressors, dummies]))
    return sm.OLS(y, exog).fit(cov_type=cov_type, **kwargs)


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [("classical", "nonrobust", {}), ("HC1", "HC1", {}), ("HC2", "HC2", {})],
)
def test_se_types_match_statsmodels(sample, ours, theirs, kwargs):
    y, treat, x, strata, _ = sample
    regressors = np.column_stack([treat, x])
    fit = est.ols_fe(y, regressors, strata, ours)
    ref = statsmodels_fit(y, regressors, strata, theirs, **kwargs)
    np.testing.assert_allclose(fit.coef, ref.params[1:4], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fit.se, ref.bse[1:4], rtol=0, atol=1e-6)
    assert fit.df == ref.df_resid


def test_cluster_cr1_matches_statsmodels_and_stata_factor(sample):
    y, treat, x, strata, cluster = sample
    regressors = np.column_stack([treat, x])
    fit = est.ols_fe(y, regressors, strata, "cluster", cluster)
    ref = statsmodels_fit(y, regressors, strata, "cluster", cov_kwds={"groups": cluster})
    np.testing.assert_allclose(fit.se, ref.bse[1:4], rtol=0, atol=1e-6)
    assert fit.df == len(np.unique(cluster)) - 1


def test_hand_computed_difference_in_means():
    # y: control 1, 2, 3 (mean 2); treated 4, 6 (mean 5) -> effect 3
    y = np.array([1.0, 2, 3, 4, 6])
    t = np.array([0.0, 0, 0, 1, 1])
    fit = est.ols_fe(y, t[:, None], None, "classical")
    # residuals -1, 0, 1, -1, 1 -> SSR 4, df 3, s2 = 4/3; var = s2 (1/3 + 1/2) = 10/9
    assert fit.coef[0] == pytest.approx(3.0)
    assert fit.se[0] == pytest.approx(np.sqrt(10 / 9))
    hc2 = est.ols_fe(y, t[:, None], None, "HC2")
    # HC2 with a binary regressor = Neyman: s0^2/n0 + s1^2/n1 = 1/3 + 2/2
    assert hc2.se[0] == pytest.approx(np.sqrt(1 / 3 + 2 / 2))


def test_lin_equals_separate_regressions_in_each_arm():
    rng = np.random.default_rng(4)
    n = 300
    t = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + 1
    y = 1 + 0.5 * t + x @ [1.0, 0.5] + t * x[:, 0] + rng.normal(size=n)
    fit = est.ols_fe(y, est.design_matrix(t, 2, x, lin=True), None, "HC2")
    # Lin's estimator = mean over everyone of (fitted treated model - fitted control model)
    xbar = x.mean(axis=0)
    preds = []
    for arm in (0, 1):
        sel = t == arm
        beta = np.linalg.lstsq(np.column_stack([np.ones(sel.sum()), x[sel]]), y[sel], rcond=None)[0]
        preds.append(beta[0] + xbar @ beta[1:])
    assert fit.coef[0] == pytest.approx(preds[1] - preds[0], abs=1e-10)


def test_multi_arm_dummies_and_fit():
    rng = np.random.default_rng(2)
    arm = rng.integers(0, 3, 600)
    y = np.array([0.0, 0.4, -0.3])[arm] + rng.normal(size=600)
    fit = est.ols_fe(y, est.arm_dummies(arm, 3), None, "HC1")
    means = [y[arm == a].mean() for a in range(3)]
    assert fit.coef[0] == pytest.approx(means[1] - means[0])
    assert fit.coef[1] == pytest.approx(means[2] - means[0])


def test_two_stage_equals_wald_estimator():
    rng = np.random.default_rng(8)
    n = 2000
    z = rng.integers(0, 2, n).astype(float)
    took_up = z * (rng.random(n) < 0.6)
    y = 0.5 * took_up + rng.normal(size=n)
    beta, se, df = est.two_stage(y, took_up, z, np.zeros((n, 0)))
    wald = (y[z == 1].mean() - y[z == 0].mean()) / (took_up[z == 1].mean() - took_up[z == 0].mean())
    assert beta == pytest.approx(wald, abs=1e-10)
    assert df == n - 2
    # a manual two-stage computation with covariates and strata gives the same coefficient
    strata = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 1))
    beta2, _, _ = est.two_stage(y, took_up, z, x, strata)
    dummies = pd.get_dummies(strata, drop_first=True, dtype=float).to_numpy()
    exog = np.column_stack([np.ones(n), x, dummies])
    first = np.column_stack([z, exog])
    fitted = first @ np.linalg.lstsq(first, took_up, rcond=None)[0]
    second = np.linalg.lstsq(np.column_stack([fitted, exog]), y, rcond=None)[0]
    assert beta2 == pytest.approx(second[0], abs=1e-9)
    # HC1 IV variance by hand: sum(z~^2 u^2) / (z~'d~)^2 * n / (n - k)
    zt = z - z.mean()
    dt = took_up - took_up.mean()
    u = (y - y.mean()) - beta * dt
    by_hand = np.sqrt(n / (n - 2) * np.sum(zt**2 * u**2) / (zt @ dt) ** 2)
    assert se == pytest.approx(by_hand, rel=1e-10)


def test_errors_are_clear():
    with pytest.raises(est.EstimationError, match="too few"):
        est.ols_fe(np.array([1.0, 2.0]), np.array([[0.0], [1.0]]), None)
    with pytest.raises(est.EstimationError, match="cluster"):
        est.ols_fe(np.arange(10.0), np.arange(10.0)[:, None] % 2, None, "cluster")
    with pytest.raises(est.EstimationError, match="first stage"):
        est.two_stage(np.arange(10.0), np.ones(10), np.arange(10.0) % 2, np.zeros((10, 0)))
