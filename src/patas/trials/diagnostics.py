"""Design diagnostics: balance, attrition (with its joint test), Lee bounds, the CONSORT flow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from patas.trials import estimate as est
from patas.trials.bounds import lee_bounds
from patas.trials.plan import Plan
from patas.trials.prepare import Prepared, covariate_matrix, response_indicator


def _wald_rows(fit: est.Fit, idx: list[int], label: str, test: str) -> dict[str, Any]:
    f, p, d1, d2 = fit.wald(idx)
    return {"test": test, "comparison": label, "statistic": f, "df1": d1, "df2": d2, "p_value": p}


def _failed_row(label: str, test: str, exc: Exception) -> dict[str, Any]:
    return {"test": test, "comparison": label, "p_value": np.nan, "note": f"not computed: {exc}"}


def balance(plan: Plan, prep: Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = plan.balance_columns()
    data, arm, names = prep.data, prep.arm, prep.arm_names
    records: list[dict[str, Any]] = []
    for c in cols:
        x = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
        rows = np.flatnonzero(np.isfinite(x))
        row: dict[str, Any] = {"variable": c, "n": rows.size}
        for a, name in enumerate(names):
            sel = x[rows][arm[rows] == a]
            row[f"mean_{name}"], row[f"sd_{name}"] = sel.mean(), sel.std(ddof=1)
        if rows.size > len(names) + 2 and np.nanstd(x) > 0:
            try:
                fit = est.ols_fe(
                    x[rows],
                    est.arm_dummies(arm[rows], len(names)),
                    prep.strata[rows],
                    "HC2" if plan.se != "cluster" else "cluster",
                    prep.cluster[rows] if prep.cluster is not None else None,
                    names=[f"arm {n!r}" for n in names[1:]],
                )
            except est.EstimationError as exc:  # a sparse variable: say why, keep the table
                row["note"] = f"difference not estimated: {exc}"
            else:
                for a in range(1, len(names)):
                    b, _, p, _, _ = fit.test(a - 1)
                    row[f"diff_{names[a]}"], row[f"p_{names[a]}"] = b, p
        records.append(row)
    tests = []
    bal_x, bal_names, _, _ = covariate_matrix(data, cols, "indicator")
    for a in range(1, len(names)):
        rows = np.flatnonzero(np.isin(arm, [0, a]))
        if bal_x.shape[1] == 0 or rows.size <= bal_x.shape[1] + 2:
            continue
        label = f"{names[a]} vs {names[0]}"
        try:
            fit = est.ols_fe(
                (arm[rows] == a).astype(float),
                bal_x[rows],
                prep.strata[rows],
                "HC2" if plan.se != "cluster" else "cluster",
                prep.cluster[rows] if prep.cluster is not None else None,
                required=0,  # a collinear balance column drops out of the joint test (df1)
                names=bal_names,
            )
        except est.EstimationError as exc:
            tests.append(_failed_row(label, "joint: arm on covariates", exc))
            continue
        row = _wald_rows(fit, list(range(bal_x.shape[1])), label, "joint: arm on covariates")
        tests.append({**row, "note": "; ".join(fit.notes())})
    return pd.DataFrame.from_records(records), pd.DataFrame.from_records(tests)


def attrition(plan: Plan, prep: Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = response_indicator(plan, prep).astype(float)
    arm, names = prep.arm, prep.arm_names
    records: list[dict[str, Any]] = []
    labels = np.asarray(prep.stratum_names, dtype=object)[prep.strata]
    for level, key in (("overall", np.full(r.size, "(all)", dtype=object)), ("stratum", labels)):
        for value in pd.unique(key):
            for a, name in enumerate(names):
                sel = (key == value) & (arm == a)
                records.append(
                    {
                        "level": level,
                        "stratum": value,
                        "arm": name,
                        "n": int(sel.sum()),
                        "responded": int(r[sel].sum()),
                        "response_rate": r[sel].mean() if sel.any() else np.nan,
                    }
                )
    table = pd.DataFrame.from_records(records)
    tests = _response_tests(plan, prep, r) if 0 < r.mean() < 1 else []
    return table, pd.DataFrame.from_records(tests)


def _response_tests(plan: Plan, prep: Prepared, r: np.ndarray) -> list[dict[str, Any]]:
    """The difference in response by arm, and the joint test by arm within strata."""
    arm, names, cluster = prep.arm, prep.arm_names, prep.cluster
    se = "cluster" if plan.se == "cluster" else "HC2"
    tests: list[dict[str, Any]] = []
    try:
        arms = [f"arm {n!r}" for n in names[1:]]
        fit = est.ols_fe(r, est.arm_dummies(arm, len(names)), prep.strata, se, cluster, None, arms)
    except est.EstimationError as exc:
        tests.append(_failed_row("all arms", "difference in response", exc))
    else:
        for a in range(1, len(names)):
            b, _, p, _, _ = fit.test(a - 1)
            tests.append(
                {
                    "test": "difference in response",
                    "comparison": f"{names[a]} - {names[0]}",
                    "statistic": b,
                    "df1": 1,
                    "df2": fit.df,
                    "p_value": p,
                }
            )
    if cluster is None:
        return [*tests, response_by_stratum_test(r, arm, len(names), prep.strata)]
    try:
        found = response_by_stratum_regression(r, arm, len(names), prep.strata, cluster)
    except est.EstimationError as exc:
        found = _failed_row("all arms x strata", "joint: response by arm within strata", exc)
    return [*tests, found]


def response_by_stratum_regression(
    r: np.ndarray, arm: np.ndarray, n_arms: int, strata: np.ndarray, cluster: np.ndarray | None
) -> dict[str, Any]:
    """Joint test that response does not differ by arm in any stratum: response on stratum
    fixed effects and arm x stratum dummies, Wald test of all the interactions."""
    n_s = int(strata.max()) + 1
    inter = (
        est.arm_dummies(arm, n_arms)[:, :, None]
        * (strata[:, None] == np.arange(n_s)[None, :])[:, None, :]
    ).reshape(r.size, -1)
    inter = inter[:, inter.any(axis=0)]
    # A stratum where an arm's response does not vary leaves its column collinear: omitted,
    # like the closed form's directions with no variance.
    se = "cluster" if cluster is not None else "HC2"
    fit = est.ols_fe(r, inter, strata, se, cluster, required=0)
    return _wald_rows(
        fit,
        list(range(inter.shape[1])),
        "all arms x strata",
        "joint: response by arm within strata",
    )


def response_by_stratum_test(
    r: np.ndarray, arm: np.ndarray, n_arms: int, strata: np.ndarray
) -> dict[str, Any]:
    """The same joint test in closed form (O(n), for a million rows): in the saturated
    regression each interaction is a within-stratum difference in response rates; its HC2
    variance is s1^2/n1 + s0^2/n0, arms of a stratum share the control part, strata are
    independent; directions with no variance drop out."""
    n_s = int(strata.max()) + 1
    key = strata * n_arms + arm
    size = n_s * n_arms
    n = np.bincount(key, minlength=size).astype(float).reshape(n_s, n_arms)
    total = np.bincount(key, weights=r, minlength=size).reshape(n_s, n_arms)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = mean * (1 - mean) * n / (n - 1)  # r is 0/1: the sample variance (ddof=1)
        diff = mean[:, 1:] - mean[:, :1]
        v = var[:, 1:] / n[:, 1:] + var[:, :1] / n[:, :1]
    wald, df1 = 0.0, 0
    for stratum in range(n_s):
        ok = np.isfinite(v[stratum])
        if not ok.any():
            continue
        own = np.where(ok, var[stratum, 1:] / n[stratum, 1:], 0.0)
        shared = var[stratum, 0] / n[stratum, 0] if n[stratum, 0] > 1 else 0.0
        cov = (np.diag(own) + shared)[np.ix_(ok, ok)]  # the arms share the control mean
        d = diff[stratum, ok]
        rank = int(np.linalg.matrix_rank(cov)) if np.any(cov) else 0
        if rank:
            wald += float(d @ np.linalg.pinv(cov) @ d)
            df1 += rank
    df2 = int(r.size - n_s - ((n[:, 1:] > 0) & (n[:, :1] > 0)).sum())
    f = wald / df1 if df1 else np.nan
    p = float(stats.f.sf(f, df1, df2)) if df1 else np.nan
    return {
        "test": "joint: response by arm within strata",
        "comparison": "all arms x strata",
        "statistic": f,
        "df1": df1,
        "df2": df2,
        "p_value": p,
    }


def lee(plan: Plan, prep: Prepared) -> pd.DataFrame:
    z = stats.norm.ppf(1 - plan.alpha / 2)
    records = []
    for outcome in plan.lee_bounds:
        y = pd.to_numeric(prep.data[outcome], errors="coerce").to_numpy(dtype=float)
        responded = response_indicator(plan, prep) if plan.attrition.response else np.isfinite(y)
        b = lee_bounds(y, prep.arm == 1, responded)
        records.append(
            {
                "outcome": outcome,
                "lower": b.lower,
                "upper": b.upper,
                "se_lower": b.se_lower,
                "se_upper": b.se_upper,
                "ci_low": b.lower - z * b.se_lower,
                "ci_high": b.upper + z * b.se_upper,
                "trimmed_share": b.trimmed_share,
                "trimmed_arm": b.trimmed_arm,
                "response_treatment": b.response_treatment,
                "response_control": b.response_control,
            }
        )
    return pd.DataFrame.from_records(records)


def flow(plan: Plan, prep: Prepared) -> pd.DataFrame:
    """CONSORT-style counts per arm: randomised, surveyed (responded), analysed."""
    r = response_indicator(plan, prep)
    rows = []
    for a, name in enumerate(prep.arm_names):
        sel = prep.arm == a
        rows.append(
            {
                "arm": name,
                "randomised": int(sel.sum()),
                "surveyed": int(r[sel].sum()),
                "analysed": int((r & prep.keep & sel).sum()),
            }
        )
    return pd.DataFrame.from_records(rows)
