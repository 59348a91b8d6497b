"""The plan, `patas analyze`, `patas assign` and `patas power` end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from django.core.management import CommandError, call_command
from statsmodels.stats.power import NormalIndPower

from patas.trials import analyze, diagnostics, plan, power, synthetic

REQUIRED = [
    "outcome",
    "arm",
    "estimate",
    "std_error",
    "p_value",
    "ci_low",
    "ci_high",
    "n",
    "n_treated",
    "n_control",
    "control_mean",
    "control_sd",
    "ri_p_value",
    "q_value",
    "family",
    "ri_mc_se",
]


@pytest.fixture(scope="module")
def data():
    return synthetic.trial_data(600, 4, seed=3)


def base_plan(**extra):
    raw = {
        "treatment": "treat",
        "families": {"primary": ["y1", "y2"], "secondary": ["y3"]},
        "covariates": ["age", "x_baseline"],
        "strata": ["batch", "violence_bl"],
        "se": "HC2",
        "ri": {"draws": 200, "seed": 4},
        "indices": {"idx": ["y1", "-y2", "y4"]},
    }
    raw.update(extra)
    return raw


def write(tmp_path, data, raw):
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(raw))
    return str(tmp_path / "data.csv"), str(tmp_path / "plan.yaml")


def test_analyze_writes_every_file(tmp_path, data):
    raw = base_plan(
        participation={"column": "completed"}, lee_bounds=["y1"], subgroups=["violence_bl"]
    )
    path, plan_path = write(tmp_path, data, raw)
    call_command("analyze", data=path, plan=plan_path, out=str(tmp_path / "out"))
    out = tmp_path / "out"
    table = pd.read_csv(out / "estimates.csv")
    assert set(REQUIRED) <= set(table.columns)
    assert list(table.outcome) == ["y1", "y2", "y3", "idx"]
    assert set(table.family) == {"primary", "secondary", "indices"}
    assert table.ri_p_value.between(0, 1).all() and table.q_value.between(0, 1).all()
    for name in (
        "balance.csv",
        "attrition.csv",
        "lee_bounds.csv",
        "tot.csv",
        "heterogeneity.csv",
        "report.html",
    ):
        assert (out / name).exists(), name
    html = (out / "report.html").read_text()
    assert "<svg" in html and "q_value" in html and "Línea" not in html
    assert "<script" not in html and 'src="http' not in html and "<link" not in html
    assert "seed: 4" in html and "statsmodels" in html


def test_estimates_equal_statsmodels_with_lin_and_fixed_effects(data):
    the_plan = plan.parse(base_plan(ri={"draws": 0}))
    result = analyze.run(the_plan, data).estimates.set_index("outcome")
    rows = data.y1.notna()
    sub = data[rows]
    age = sub.age.fillna(data.age.mean())
    covs = np.column_stack([age, sub.age.isna(), sub.x_baseline])
    covs = covs - covs.mean(axis=0)
    treat = sub.treat.to_numpy()
    strata = pd.get_dummies(sub.batch.astype(str) + sub.violence_bl, drop_first=True, dtype=float)
    exog = sm.add_constant(np.column_stack([treat, covs, treat[:, None] * covs, strata]))
    ref = sm.OLS(sub.y1.to_numpy(), exog).fit(cov_type="HC2")
    assert result.loc["y1", "estimate"] == pytest.approx(ref.params[1], abs=1e-9)
    assert result.loc["y1", "std_error"] == pytest.approx(ref.bse[1], abs=1e-6)
    assert result.loc["y1", "n"] == rows.sum()


def test_multi_arm_and_cluster_plan():
    frame = synthetic.trial_data(
        900, 2, seed=5, arms="control:1,short:1,long:1", cluster_size=10, icc=0.05
    )
    raw = {
        "treatment": {"column": "arm", "control": "control"},
        "outcomes": ["y1", "y2"],
        "strata": ["batch", "violence_bl"],
        "cluster": "cluster",
        "se": "cluster",
        "ri": {"draws": 100, "seed": 2},
        "covariates": ["x_baseline"],
    }
    result = analyze.run(plan.parse(raw), frame)
    assert sorted(set(result.estimates.arm)) == ["long", "short"]
    assert len(result.estimates) == 4
    assert len(result.balance_tests) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcomes": ["nope"], "families": None}, "nope (outcome)"),
        ({"treatment": "batch"}, "must be 0/1"),
        ({"treatment": {"column": "arm", "control": "placebo"}}, "control arm 'placebo'"),
        (
            {"treatment": {"column": "violence_bl", "control": "none", "arms": ["sexual"]}},
            "'physical', not a known arm",
        ),
        ({"strata": ["missing_col"]}, "missing_col (stratum)"),
        ({"families": {"primary": ["constant"]}}, "constant"),
        ({"strata": ["treat"]}, "no variation in treatment within stratum"),
        ({"se": "HC9"}, "se"),
        ({"covariate_adjustment": "magic"}, "covariate_adjustment"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"se": "cluster"}, "cluster"),
    ],
)
def test_bad_plans_give_clear_errors(tmp_path, data, change, message):
    frame = data.assign(constant=1.0)
    raw = base_plan(**change)
    path, plan_path = write(tmp_path, frame, raw)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("analyze", data=path, plan=plan_path, out=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_bad_data_file(tmp_path):
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(base_plan()))
    with pytest.raises(CommandError, match="no such data file"):
        call_command(
            "analyze",
            data=str(tmp_path / "x.csv"),
            plan=str(tmp_path / "plan.yaml"),
            out=str(tmp_path / "o"),
        )


def test_assign_command_same_path_as_batch(tmp_path, data):
    units = data[["couple_id", "batch", "violence_bl"]]
    units.to_csv(tmp_path / "units.csv", index=False)
    call_command(
        "assign",
        data=str(tmp_path / "units.csv"),
        id="couple_id",
        strata="batch,violence_bl",
        arms="control:1,treatment:1",
        seed=8,
        out=str(tmp_path / "assigned.csv"),
    )
    got = pd.read_csv(tmp_path / "assigned.csv")
    from patas.trials.assignment import Arms, assign_frame

    expected = assign_frame(
        units, "couple_id", ["batch", "violence_bl"], Arms.parse("control:1,treatment:1"), 8
    )
    assert got.arm.tolist() == expected.arm.tolist()
    assert (got.seed == 8).all()
    with pytest.raises(CommandError, match="nope"):
        call_command(
            "assign",
            data=str(tmp_path / "units.csv"),
            id="couple_id",
            strata="nope",
            seed=1,
            out=str(tmp_path / "x.csv"),
        )


def test_power_formulas_match_statsmodels():
    n = 2710
    ours = power.mde(n)
    theirs = NormalIndPower().solve_power(nobs1=n / 2, alpha=0.05, power=0.8, ratio=1.0)
    assert ours == pytest.approx(theirs, rel=1e-3)
    assert power.mde(n, r2=0.3) == pytest.approx(ours * np.sqrt(0.7))
    assert power.mde(n, cluster_size=50, icc=0.05) == pytest.approx(ours * np.sqrt(3.45))
    needed = power.sample_size(ours)
    assert abs(needed - n) <= 1
    assert power.sample_size(0.2, cluster_size=50, icc=0.05) % 50 == 0


def test_power_by_simulation_near_the_formula():
    effect = power.mde(800)
    sim = power.simulate(800, effect, simulations=120, seed=3)
    assert abs(sim.power - 0.8) < 4 * sim.mc_se + 0.02


def test_closed_form_attrition_test_equals_the_regression():
    rng = np.random.default_rng(6)
    n = 400
    strata = rng.integers(0, 4, n)
    arm = rng.integers(0, 3, n)
    r = (rng.random(n) < 0.6 + 0.1 * (arm == 1)).astype(float)
    direct = diagnostics.response_by_stratum_test(r, arm, 3, strata)
    regression = diagnostics.response_by_stratum_regression(r, arm, 3, strata, None)
    assert direct["df1"] == regression["df1"] == 8
    assert direct["df2"] == regression["df2"]
    assert direct["statistic"] == pytest.approx(regression["statistic"], rel=1e-9)
    assert direct["p_value"] == pytest.approx(regression["p_value"], rel=1e-9)


def test_balance_joint_test_equals_statsmodels_robust_f(data):
    data = data.assign(z=np.random.default_rng(1).normal(size=len(data)))
    raw = base_plan(ri={"draws": 0}, balance=["x_baseline", "z"])
    result = analyze.run(plan.parse(raw), data)
    test = result.balance_tests.iloc[0]
    strata = pd.get_dummies(data.batch.astype(str) + data.violence_bl, drop_first=True, dtype=float)
    exog = sm.add_constant(np.column_stack([data.x_baseline, data.z, strata]))
    ref = sm.OLS(data.treat.to_numpy(dtype=float), exog).fit(cov_type="HC2")
    restriction = np.zeros((2, exog.shape[1]))
    restriction[0, 1] = restriction[1, 2] = 1
    f = ref.f_test(restriction)
    assert test.statistic == pytest.approx(float(np.squeeze(f.fvalue)), rel=1e-6)
    assert test.df1 == 2


def test_sequential_design_ri_reruns_permuted_blocks(data):
    frame = data.assign(order=np.arange(len(data)))
    raw = base_plan(
        ri={"draws": 50, "seed": 2},
        design={"procedure": "blocks", "block_sizes": [2, 4], "order": "order"},
    )
    the_plan = plan.parse(raw)
    prep = analyze.prepare(the_plan, frame)
    draws = analyze.inference.draw_many(analyze.design_of(the_plan, prep), 50, 2)
    for stratum in np.unique(prep.strata):
        arms = draws[:, prep.strata == stratum]
        full = arms[:, : (arms.shape[1] // 4) * 4]
        # within a stratum, every run of complete blocks is balanced: |treated - control| <= 2
        assert (np.abs(2 * full.sum(axis=1) - full.shape[1]) <= 2).all()
    assert len(analyze.run(the_plan, frame).estimates) == 4


@pytest.mark.parametrize("suffix", [".parquet", ".dta"])
def test_analyze_reads_parquet_and_stata(tmp_path, data, suffix):
    from patas.trials.io import write_table

    path = tmp_path / f"data{suffix}"
    write_table(data.drop(columns=["stratum"]), path)
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(base_plan(ri={"draws": 0})))
    call_command(
        "analyze", data=str(path), plan=str(tmp_path / "plan.yaml"), out=str(tmp_path / "out")
    )
    table = pd.read_csv(tmp_path / "out" / "estimates.csv")
    reference = analyze.run(plan.parse(base_plan(ri={"draws": 0})), data).estimates
    np.testing.assert_allclose(table.estimate, reference.estimate, rtol=1e-9)


def test_power_command_prints_mde_and_sample_size(capsys):
    call_command("power", n=2710, effect=0.1, r2=0.3)
    out = capsys.readouterr().out
    assert f"{power.mde(2710, r2=0.3):.4f}" in out
    assert str(power.sample_size(0.1, r2=0.3)) in out
    with pytest.raises(CommandError, match="effect"):
        call_command("power", n=100, simulate=10)
