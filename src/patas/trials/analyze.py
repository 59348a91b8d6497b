"""Run a plan on a data set: the estimates, balance, attrition, bounds, TOT and subgroups.

Pure: (plan, DataFrame) -> Results of DataFrames. The command writes them; the report shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from patas.trials import estimate as est
from patas.trials import inference
from patas.trials.diagnostics import attrition, balance, flow, lee
from patas.trials.plan import Plan
from patas.trials.prepare import Prepared, design_of, outcome_rows, prepare

__all__ = ["Results", "design_of", "estimates", "outcome_rows", "prepare", "run"]


@dataclass
class Results:
    plan: Plan
    estimates: pd.DataFrame
    balance: pd.DataFrame
    balance_tests: pd.DataFrame
    attrition: pd.DataFrame
    attrition_tests: pd.DataFrame
    lee: pd.DataFrame
    tot: pd.DataFrame
    heterogeneity: pd.DataFrame
    flow: pd.DataFrame
    notes: list[str]


def fit_outcome(plan: Plan, prep: Prepared, y: np.ndarray, rows: np.ndarray) -> est.Fit:
    """The plan's regression on `rows`; the arm columns come first and must be identified,
    collinear covariate columns are omitted (Fit.dropped)."""
    n_arms = len(prep.arm_names)
    lin = plan.covariate_adjustment == "lin"
    x = est.design_matrix(prep.arm[rows], n_arms, prep.covariates[rows], lin)
    names = est.design_names(prep.arm_names, prep.covariate_names, lin)
    cluster = prep.cluster[rows] if prep.cluster is not None else None
    return est.ols_fe(y[rows], x, prep.strata[rows], plan.se, cluster, n_arms - 1, names)


def try_fit(
    plan: Plan, prep: Prepared, y: np.ndarray, rows: np.ndarray
) -> tuple[est.Fit | None, str]:
    """(fit, note): the note says why there is no fit, or what to know about it."""
    if rows.size == 0:
        return None, "not estimated: no rows with this outcome"
    try:
        fit = fit_outcome(plan, prep, y, rows)
    except est.EstimationError as exc:
        return None, f"not estimated: {exc}"
    return fit, "; ".join(fit.notes())


def _ri_draws(ri: np.ndarray | None, fit: est.Fit | None) -> tuple[np.ndarray | None, str]:
    """The draws' RI coefficients, if the RI regression reproduces the reported estimate.

    Row 0 of `ri` is the observed assignment re-estimated by the RI code. If it differs from
    the fit, the draws estimate another regression than the reported one (the fit omitted a
    collinear Lin interaction that other draws identify) and the p-value would be invalid.
    """
    if ri is None or fit is None:
        return None, ""
    observed, drawn = ri[0], ri[1:]
    reported = fit.coef[: observed.size]
    tolerance = 1e-6 * np.maximum(np.abs(reported), fit.se[: observed.size])
    if np.all(np.abs(observed - reported) <= tolerance):
        return drawn, ""
    return None, (
        "randomisation inference not computed: the regression omitted collinear Lin "
        "interactions, so the draws would estimate a different regression"
    )


def ri_for_outcomes(
    plan: Plan, prep: Prepared, draws: np.ndarray, samples: list[tuple[np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """RI coefficients of every outcome, several outcomes per matrix product (memory-capped)."""
    per_outcome = (
        (1 + prep.covariates.shape[1]) ** 2 * 3 if plan.covariate_adjustment == "lin" else 3
    )
    group = max(1, int(40_000_000 // max(1, draws.shape[1] * per_outcome)))
    found: list[np.ndarray] = []
    for start in range(0, len(samples), group):
        found += inference.ri_coefficients_many(
            samples[start : start + group],
            draws,
            len(prep.arm_names),
            prep.strata,
            prep.covariates,
            plan.covariate_adjustment == "lin",
        )
    return found


def estimates(plan: Plan, prep: Prepared, draws: np.ndarray | None) -> pd.DataFrame:
    """One row per outcome and arm. An outcome that cannot be estimated keeps its rows, with
    empty numbers and the reason in `note` (the rest of the report still gets written)."""
    listed = [(f, o) for f, outcomes in plan.family_map().items() for o in outcomes]
    samples = [outcome_rows(plan, prep, o) for _, o in listed]
    ri_all = None
    if draws is not None:  # row 0: the observed assignment, to check the RI regression
        observed = prep.arm.astype(draws.dtype)[None, :]
        ri_all = ri_for_outcomes(plan, prep, np.vstack([observed, draws]), samples)
    records: list[dict[str, Any]] = []
    for k, ((family, outcome), (y, rows)) in enumerate(zip(listed, samples, strict=True)):
        fit, note = try_fit(plan, prep, y, rows)
        ri, ri_note = _ri_draws(ri_all[k] if ri_all is not None else None, fit)
        note = "; ".join(part for part in (note, ri_note) if part)
        for row in _arm_rows(plan, prep, y, rows, fit, ri):
            records.append({"family": family, "outcome": outcome, **row, "note": note})
    table = pd.DataFrame.from_records(records)
    table["q_value"] = np.nan
    for _, idx in table.groupby(["family", "arm"]).groups.items():
        table.loc[idx, "q_value"] = inference.sharpened_q(table.loc[idx, "p_value"].to_numpy())
    return table


def _arm_rows(
    plan: Plan,
    prep: Prepared,
    y: np.ndarray,
    rows: np.ndarray,
    fit: est.Fit | None,
    ri: np.ndarray | None,
) -> list[dict[str, Any]]:
    arm = prep.arm[rows]
    ctrl = y[rows][arm == 0]
    found = []
    for a in range(1, len(prep.arm_names)):
        b, se, p, lo, hi = fit.test(a - 1, plan.alpha) if fit else (np.nan,) * 5
        ri_p, ri_se = inference.ri_pvalue(b, ri[:, a - 1]) if ri is not None else (np.nan,) * 2
        found.append(
            {
                "arm": prep.arm_names[a],
                "estimate": b,
                "std_error": se,
                "p_value": p,
                "ci_low": lo,
                "ci_high": hi,
                "n": rows.size,
                "n_treated": int((arm == a).sum()),
                "n_control": int((arm == 0).sum()),
                "control_mean": _mean(ctrl),
                "control_sd": ctrl.std(ddof=1) if ctrl.size > 1 else np.nan,
                "ri_p_value": ri_p,
                "ri_mc_se": ri_se,
                "se_type": plan.se,
                "adjustment": plan.covariate_adjustment,
            }
        )
    return found


def tot(plan: Plan, prep: Prepared) -> pd.DataFrame:
    if plan.participation is None:
        return pd.DataFrame()
    d = pd.to_numeric(prep.data[plan.participation.column], errors="coerce").to_numpy(float)
    outcomes = plan.participation.outcomes or plan.all_outcomes()
    records = []
    for outcome in outcomes:
        y, rows = outcome_rows(plan, prep, outcome)
        rows = rows[np.isfinite(d[rows])]
        for a in range(1, len(prep.arm_names)):
            sub = rows[np.isin(prep.arm[rows], [0, a])]
            z = (prep.arm[sub] == a).astype(float)
            se = plan.se if plan.se in ("classical", "cluster") else "HC1"
            cl = prep.cluster[sub] if prep.cluster is not None else None
            note = ""
            try:
                beta, s, df = est.two_stage(
                    y[sub], d[sub], z, prep.covariates[sub], prep.strata[sub], se, cl
                )
            except est.EstimationError as exc:  # one outcome's problem, not the whole report's
                beta, s, df, note = np.nan, np.nan, 1, f"not estimated: {exc}"
            p = float(2 * stats.t.sf(abs(beta / s), df)) if s > 0 else np.nan
            crit = float(stats.t.ppf(1 - plan.alpha / 2, df))
            records.append(
                {
                    "outcome": outcome,
                    "arm": prep.arm_names[a],
                    "estimate": beta,
                    "std_error": s,
                    "p_value": p,
                    "ci_low": beta - crit * s,
                    "ci_high": beta + crit * s,
                    "n": sub.size,
                    "participation_treated": _mean(d[sub][z == 1]),
                    "participation_control": _mean(d[sub][z == 0]),
                    "note": note,
                }
            )
    return pd.DataFrame.from_records(records)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else np.nan


def heterogeneity(plan: Plan, prep: Prepared) -> pd.DataFrame:
    records = []
    for group in plan.subgroups:
        levels = prep.data[group].astype("string")
        for outcome in plan.all_outcomes():
            y, rows = outcome_rows(plan, prep, outcome)
            found = []
            for level in sorted(levels.dropna().unique()):
                sub = rows[(levels.iloc[rows] == level).fillna(False).to_numpy()]
                fit, note = try_fit(plan, prep, y, sub)
                for a in range(1, len(prep.arm_names)):
                    b, s, p, lo, hi = fit.test(a - 1, plan.alpha) if fit else (np.nan,) * 5
                    found.append(
                        {
                            "subgroup": group,
                            "level": level,
                            "outcome": outcome,
                            "arm": prep.arm_names[a],
                            "estimate": b,
                            "std_error": s,
                            "p_value": p,
                            "ci_low": lo,
                            "ci_high": hi,
                            "n": sub.size,
                            "note": note,
                        }
                    )
            frame = pd.DataFrame.from_records(found)
            for _, part in frame.groupby("arm") if len(frame) else []:
                frame.loc[part.index, "p_equal_effects"] = _p_equal_effects(part)
            records.extend(frame.to_dict("records"))
    return pd.DataFrame.from_records(records)


def _p_equal_effects(part: pd.DataFrame) -> float:
    """Cochran's Q test that the subgroups' effects are equal (inverse-variance weights). Levels
    without a usable standard error (a level too small to estimate) are left out."""
    usable = part[np.isfinite(part.std_error) & (part.std_error > 0)]
    if len(usable) < 2:
        return np.nan
    w = 1 / usable.std_error**2
    mean = float((w * usable.estimate).sum() / w.sum())
    q = float((w * (usable.estimate - mean) ** 2).sum())
    return float(stats.chi2.sf(q, len(usable) - 1))


def run(plan: Plan, data: pd.DataFrame) -> Results:
    prep = prepare(plan, data)
    draws = None
    if plan.ri.draws:
        draws = inference.draw_many(design_of(plan, prep), plan.ri.draws, plan.ri.seed)
    table = estimates(plan, prep, draws)
    bal, bal_tests = balance(plan, prep)
    att, att_tests = attrition(plan, prep)
    notes = list(prep.notes)
    if draws is not None:
        notes.append(
            f"Randomisation inference: {plan.ri.draws} draws of the assignment "
            f"procedure ({design_of(plan, prep).procedure}), seed {plan.ri.seed}."
        )
    if plan.participation and plan.se == "HC2":
        notes.append("TOT (2SLS) standard errors are HC1.")
    return Results(
        plan,
        table,
        bal,
        bal_tests,
        att,
        att_tests,
        lee(plan, prep),
        tot(plan, prep),
        heterogeneity(plan, prep),
        flow(plan, prep),
        notes,
    )
