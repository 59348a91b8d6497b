"""Degenerate designs: collinear covariates are omitted, unidentified arms and undefined SEs are
errors with a reason, and the report shows the reason instead of a number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from django.core.management import call_command

from patas.trials import analyze, plan, synthetic
from patas.trials import assignment as A
from patas.trials import estimate as est
from patas.trials import inference as inf


def statsmodels_fit(y, regressors, strata, cov_type):
    dummies = pd.get_dummies(strata, drop_first=True, dtype=float).to_numpy()
    exog = sm.add_constant(np.column_stack([regressors, dummies]))
    return sm.OLS(y, exog).fit(cov_type=cov_type)


@pytest.fixture
def collinear():
    rng = np.random.default_rng(5)
    n = 120
    strata = rng.integers(0, 6, n)
    treat = rng.integers(0, 2, n).astype(float)
    x1 = rng.normal(size=n)
    level = np.array([0.3, -1.0, 2.0, 0.5, 1.5, -0.2])[strata]  # constant within each stratum
    y = 0.4 * treat + x1 + strata * 0.1 + rng.normal(size=n) * (1 + treat)
    x = np.column_stack([treat, x1, 2 * x1 - 1, level])
    return y, x, strata


@pytest.mark.parametrize(
    ("ours", "theirs"), [("HC2", "HC2"), ("HC1", "HC1"), ("classical", "nonrobust")]
)
def test_collinear_covariates_are_omitted_and_the_rest_matches_statsmodels(collinear, ours, theirs):
    y, x, strata = collinear
    names = ["arm 'treatment'", "x1", "x2", "level"]
    fit = est.ols_fe(y, x, strata, ours, required=1, names=names)
    ref = statsmodels_fit(y, x[:, :2], strata, theirs)  # without the collinear columns
    assert fit.dropped == (2, 3)
    assert fit.dropped_names == ("x2", "level")
    assert "omitted because of collinearity: x2, level" in fit.notes()
    np.testing.assert_allclose(fit.coef[:2], ref.params[1:3], rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se[:2], ref.bse[1:3], rtol=0, atol=1e-8)
    assert np.isnan(fit.coef[2:]).all() and np.isnan(fit.se[2:]).all()
    assert fit.df == ref.df_resid  # K counts the kept columns only
    assert np.isnan(fit.test(2)[0])


def test_wald_leaves_omitted_columns_out(collinear):
    y, x, strata = collinear
    fit = est.ols_fe(y, x, strata, "HC2", required=0)
    reduced = est.ols_fe(y, x[:, :2], strata, "HC2")
    assert fit.wald([0, 1, 2, 3]) == pytest.approx(reduced.wald([0, 1]), rel=1e-9)
    assert fit.wald([2, 3])[2] == 0


def test_without_required_every_column_must_be_identified(collinear):
    y, x, strata = collinear
    with pytest.raises(est.EstimationError, match="column 2 is collinear with column 0, column 1"):
        est.ols_fe(y, x, strata)


def lin_with_a_treated_only_stratum(seed: int):
    """~90 answers in 15 strata; the last stratum has treated units only, and a covariate (a
    dummy for that stratum) whose Lin interaction is then collinear with the arm."""
    rng = np.random.default_rng(seed)
    strata = np.repeat(np.arange(15), [6] * 14 + [4])
    treat = np.zeros(strata.size, dtype=int)
    for s in range(14):
        treat[rng.permutation(np.flatnonzero(strata == s))[:3]] = 1
    treat[strata == 14] = 1
    x = rng.normal(size=strata.size)
    covariates = np.column_stack([x, strata == 14])
    y = 0.3 * treat + x + rng.normal(size=strata.size)
    return y, treat, covariates, strata


@pytest.mark.parametrize("seed", range(4))
def test_lin_with_a_single_arm_stratum_gives_the_reduced_estimate(seed):
    # Before: inv(X'X) of the singular design gave SEs of 0 or ~1e7 (seed 0: 5.8e6 with HC2).
    y, treat, covariates, strata = lin_with_a_treated_only_stratum(seed)
    x = est.design_matrix(treat, 2, covariates, lin=True)
    names = est.design_names(["control", "treatment"], ["x", "last"], lin=True)
    fit = est.ols_fe(y, x, strata, "HC2", required=1, names=names)
    assert fit.dropped_names == ("last", "treatment x last")
    xc = covariates[:, :1] - covariates[:, :1].mean()
    ref = statsmodels_fit(y, np.column_stack([treat, xc, treat[:, None] * xc]), strata, "HC2")
    assert fit.coef[0] == pytest.approx(ref.params[1], abs=1e-8)
    assert fit.se[0] == pytest.approx(ref.bse[1], abs=1e-8)
    assert 0.05 < fit.se[0] < 1 and abs(fit.coef[0]) < 2


def test_an_arm_without_variation_within_strata_is_an_error():
    strata = np.repeat([0, 1, 2], 10)
    treat = (strata == 1).astype(float)  # stratum 1 treated, the others control
    y = np.arange(30.0) % 7
    x = np.column_stack([treat, np.sin(np.arange(30.0))])
    with pytest.raises(est.EstimationError, match="column 0 does not vary within any stratum"):
        est.ols_fe(y, x, strata, "HC2")
    with pytest.raises(est.EstimationError, match="^arm 'treatment' does not vary within any"):
        est.ols_fe(y, x, strata, "HC2", required=1, names=["arm 'treatment'", "x"])
    with pytest.raises(est.EstimationError, match="does not vary at all"):
        est.ols_fe(y, np.ones((30, 1)), None, names=["arm 'treatment'"])


def test_an_arm_collinear_with_another_arm_is_an_error():
    # No control units in the sample: the two arm dummies add up to 1.
    arm = np.tile([1, 2], 10)
    y = np.arange(20.0) % 3
    with pytest.raises(est.EstimationError, match="arm 'b' is collinear with arm 'a'"):
        est.ols_fe(y, est.arm_dummies(arm, 3), None, names=["arm 'a'", "arm 'b'"])


def one_pair_identifies_the_effect():
    """The arm varies in one stratum of two units only: both have leverage 1."""
    strata = np.repeat([0, 1, 2, 3], [2, 6, 6, 6])
    treat = np.zeros(20)
    treat[0] = 1
    y = np.sin(np.arange(20.0)) + treat
    return y, treat[:, None], strata


def test_hc2_with_leverage_one_is_an_error_not_a_clipped_number():
    y, x, strata = one_pair_identifies_the_effect()
    with pytest.raises(est.EstimationError, match="2 observations have leverage 1.*HC2"):
        est.ols_fe(y, x, strata, "HC2")  # before: HC2 "SE" from resid^2 / 1e-12
    with pytest.raises(est.EstimationError, match="HC1 standard error of column 0 is 0"):
        est.ols_fe(y, x, strata, "HC1")
    classical = est.ols_fe(y, x, strata, "classical")  # pooled variance: defined
    ref = statsmodels_fit(y, x, strata, "nonrobust")
    assert classical.se[0] == pytest.approx(ref.bse[1], abs=1e-10)


def test_leverage_one_in_a_covariate_only_does_not_touch_the_arm_se():
    # A covariate that is 1 for a single unit fits that unit exactly; the arm's coefficient does
    # not depend on it, so HC2 for the arm is the HC2 of the sample without that unit.
    rng = np.random.default_rng(3)
    n = 40
    treat = np.tile([0.0, 1.0], n // 2)
    alone = np.zeros(n)
    alone[7] = 1
    y = treat + rng.normal(size=n)
    fit = est.ols_fe(y, np.column_stack([treat, alone]), None, "HC2", required=1)
    others = np.arange(n) != 7
    ref = sm.OLS(y[others], sm.add_constant(treat[others])).fit(cov_type="HC2")
    assert fit.coef[0] == pytest.approx(ref.params[1], abs=1e-10)
    assert fit.se[0] == pytest.approx(ref.bse[1], abs=1e-10)
    assert np.isnan(fit.se[1])  # the covariate's own HC2 SE is not defined


def test_hc1_warns_when_leverage_one_units_move_the_arm():
    # Lin with a binary covariate where one treated unit alone has x = 1: that unit's cell mean
    # is its own outcome, so no residual measures its variance.
    rng = np.random.default_rng(8)
    n = 40
    treat = np.tile([0, 1], n // 2)
    x = np.zeros((n, 1))
    x[[1, 0, 2, 4]] = 1  # treated: only unit 1; control: units 0, 2, 4
    y = treat + rng.normal(size=n)
    design = est.design_matrix(treat, 2, x, lin=True)
    with pytest.raises(est.EstimationError, match="leverage 1"):
        est.ols_fe(y, design, None, "HC2", required=1)
    fit = est.ols_fe(y, design, None, "HC1", required=1)
    assert any("leverage 1" in w and "understates" in w for w in fit.warnings)


def test_saturated_and_perfect_fits_are_errors():
    strata = np.repeat(np.arange(5), 2)
    treat = np.tile([0.0, 1.0], 5)
    with pytest.raises(est.EstimationError, match="no residual variation"):
        est.ols_fe(strata + 2 * treat, treat[:, None], strata, "HC2")
    i = np.arange(10.0)
    x = np.column_stack([treat, i**2, i**3, np.cos(i), np.sin(0.7 * i), np.sqrt(i)])
    with pytest.raises(est.EstimationError, match="10 rows are too few for 10 parameters"):
        est.ols_fe(np.sin(i), x, strata, "HC2", required=1)  # 5 strata + 5 kept columns


def test_ri_leaves_out_draws_where_the_arm_is_not_identified():
    # Lin with a dummy for stratum 2. Draw 1 treats all of stratum 2: the arm's column and its
    # interaction with the dummy are then collinear, so the arm's coefficient is not identified
    # (before: a value from the singular solve, -0.856 here).
    strata = np.repeat([0, 1, 2], 6)
    rng = np.random.default_rng(4)
    y = rng.normal(size=18)
    x = np.column_stack([strata == 2, rng.normal(size=18)]).astype(float)
    draws = np.array([np.tile([0, 1], 9), np.r_[np.tile([0, 1], 6), np.ones(6, dtype=int)]])
    coefs = inf.ri_coefficients(y, draws, 2, strata, x, lin=True)
    assert np.isfinite(coefs[0]).all() and np.isnan(coefs[1]).all()
    fit = est.ols_fe(y, est.design_matrix(draws[0], 2, x, lin=True), strata, required=1)
    assert coefs[0, 0] == pytest.approx(fit.coef[0], abs=1e-10)


def test_ri_with_collinear_lin_covariates_matches_the_reduced_model():
    rng = np.random.default_rng(2)
    n = 60
    strata = rng.integers(0, 4, n)
    x1 = rng.normal(size=n)
    x = np.column_stack([x1, 3 * x1 + 1])  # the Lin system is singular, the arm identified
    y = x1 + rng.normal(size=n)
    draws = inf.draw_many(inf.Design(A.Arms.parse("c:1,t:1"), strata), 6, 1)
    both = inf.ri_coefficients(y, draws, 2, strata, x, lin=True)
    one = inf.ri_coefficients(y, draws, 2, strata, x[:, :1], lin=True)
    np.testing.assert_allclose(both, one, atol=1e-8)


@pytest.fixture(scope="module")
def sparse_data():
    data = synthetic.trial_data(600, 4, seed=3)
    data["y_rare"] = np.where(data.treat == 1, data.y1, np.nan)  # only the treated answered
    # One answer per arm in every stratum: a nearly saturated Lin regression (age_missing x arm
    # is collinear in these 36 rows).
    tiny = np.zeros(len(data), dtype=bool)
    # Both arms answered only in one stratum, and there one unit each: leverage 1 under HC2.
    pair = np.zeros(len(data), dtype=bool)
    for k, (_, group) in enumerate(data[data.y2.notna()].groupby(["batch", "violence_bl"])):
        for a in (0, 1):
            tiny[group.index[group.treat == a][:1]] = True
            if a == 0 or k == 0:
                pair[group.index[group.treat == a][: 2 if k else 1]] = True
    data["y_tiny"] = np.where(tiny, data.y2, np.nan)
    data["y_pair"] = np.where(pair, data.y2, np.nan)
    return data


def sparse_plan(**extra):
    raw = {
        "treatment": "treat",
        "families": {"primary": ["y1", "y_rare", "y_tiny", "y_pair"]},
        "covariates": ["age", "x_baseline"],
        "strata": ["batch", "violence_bl"],
        "se": "HC2",
        "ri": {"draws": 50, "seed": 4},
    }
    raw.update(extra)
    return raw


def test_analyze_shows_reasons_instead_of_numbers(tmp_path, sparse_data, capsys):
    sparse_data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(sparse_plan()))
    call_command(
        "analyze",
        data=str(tmp_path / "data.csv"),
        plan=str(tmp_path / "plan.yaml"),
        out=str(tmp_path / "out"),
    )
    assert "not estimated (the reason is in the note column): y_rare, y_pair" in (
        capsys.readouterr().err
    )
    table = pd.read_csv(tmp_path / "out" / "estimates.csv").set_index("outcome")
    table["note"] = table.note.fillna("")
    assert np.isfinite(table.loc["y1", ["estimate", "std_error", "ri_p_value"]]).all()
    assert table.loc["y1", "note"] == ""
    for outcome, reason in (
        ("y_rare", "does not vary within any stratum"),
        ("y_pair", "observations have leverage 1"),
    ):
        row = table.loc[outcome]
        assert row.note.startswith("not estimated: ") and reason in row.note
        assert row[["estimate", "std_error", "p_value", "ri_p_value"]].isna().all()
    tiny = table.loc["y_tiny"]
    assert "omitted because of collinearity: treatment x age_missing" in tiny.note
    assert "nearly saturated" in tiny.note
    assert abs(tiny.estimate) < 2 and 0 < tiny.std_error < 1
    assert (table.estimate.abs().fillna(0) < 1e3).all() and (table.std_error.fillna(0) < 1e3).all()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Estimation notes" in html and "observations have leverage 1" in html
    assert "omitted because of collinearity" in html


def test_a_degenerate_outcome_does_not_stop_the_other_sections(sparse_data):
    raw = sparse_plan(
        ri={"draws": 0}, participation={"column": "completed"}, subgroups=["violence_bl"]
    )
    result = analyze.run(plan.parse(raw), sparse_data)
    tot = result.tot.set_index("outcome")
    assert np.isfinite(tot.loc["y1", "estimate"])
    assert tot.loc["y_rare", "note"].startswith("not estimated")
    het = result.heterogeneity
    missing = het.estimate.isna()
    assert missing.any() and het.note[missing].str.startswith("not estimated").all()
    assert np.isfinite(het[(het.outcome == "y1") & (het.level == "none")].estimate).all()


def test_balance_joint_test_omits_a_collinear_balance_column(sparse_data):
    data = sparse_data.assign(x_twice=2 * sparse_data.x_baseline + 1)
    raw = sparse_plan(ri={"draws": 0}, balance=["x_baseline", "x_twice"])
    test = analyze.run(plan.parse(raw), data).balance_tests.iloc[0]
    alone = analyze.run(plan.parse(sparse_plan(ri={"draws": 0}, balance=["x_baseline"])), data)
    assert test.df1 == 1 and "omitted because of collinearity: x_twice" in test.note
    assert test.statistic == pytest.approx(alone.balance_tests.iloc[0].statistic, rel=1e-9)


@pytest.mark.parametrize("se", ["HC2", "HC1", "classical"])
def test_fast_qr_of_a_well_posed_design_matches_householder(monkeypatch, se):
    rng = np.random.default_rng(9)
    n = 400
    strata = rng.integers(0, 8, n)
    treat = rng.integers(0, 2, n).astype(float)
    covariates = rng.normal(size=(n, 3))
    x = est.design_matrix(treat.astype(int), 2, covariates, lin=True)
    y = 0.3 * treat + covariates @ [0.5, -0.2, 0.1] + rng.normal(size=n)
    assert est._well_conditioned_qr(x / np.linalg.norm(x, axis=0)) is not None
    fast = est.ols_fe(y, x, strata, se, required=1)
    monkeypatch.setattr(est, "_well_conditioned_qr", lambda xs: None)
    householder = est.ols_fe(y, x, strata, se, required=1)
    np.testing.assert_allclose(fast.coef, householder.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.se, householder.se, rtol=1e-10, atol=1e-12)
    assert fast.dropped == householder.dropped == ()


def test_a_near_collinear_design_does_not_take_the_fast_qr():
    rng = np.random.default_rng(3)
    a = rng.normal(size=200)
    x = np.column_stack([rng.integers(0, 2, 200), a, a + 1e-9 * rng.normal(size=200)])
    assert est._well_conditioned_qr(x / np.linalg.norm(x, axis=0)) is None
