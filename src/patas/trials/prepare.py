"""Getting a data set ready for a plan: checks, derived variables, indices, covariates.

Missing data: each outcome uses its complete cases; a covariate's missing values are set to its
mean and a missing-indicator is added as a covariate (plan `missing.covariates: drop` instead
drops rows with a missing covariate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from patas.trials import indices, inference
from patas.trials.assignment import Arms, cluster_index, stratum_index
from patas.trials.plan import Plan, PlanError, arm_codes, check


@dataclass
class Prepared:
    data: pd.DataFrame
    arm: np.ndarray
    arm_names: list[str]
    strata: np.ndarray
    stratum_names: list[str]
    cluster: np.ndarray | None
    covariates: np.ndarray
    covariate_names: list[str]
    keep: np.ndarray  # rows usable for estimation (all, unless missing.covariates == drop)
    notes: list[str] = field(default_factory=list)


def covariate_matrix(
    data: pd.DataFrame, columns: list[str], rule: str
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """(matrix, names, usable rows, notes) with the missing-data rule applied."""
    parts: list[np.ndarray] = []
    names: list[str] = []
    notes: list[str] = []
    keep = np.ones(len(data), dtype=bool)
    for c in columns:
        raw = data[c]
        values = pd.to_numeric(raw, errors="coerce")
        if (values.isna() & raw.notna()).any():  # categorical: dummies, first level dropped
            dummies = pd.get_dummies(raw.astype("string"), prefix=c, drop_first=True, dtype=float)
            parts.append(dummies.to_numpy())
            names.extend(dummies.columns)
            continue
        x = values.to_numpy(dtype=float)
        gone = ~np.isfinite(x)
        if gone.any() and rule == "drop":
            keep &= ~gone
            notes.append(f"{int(gone.sum())} rows dropped: covariate {c} missing")
        parts.append(np.where(gone, np.nanmean(x), x)[:, None])
        names.append(c)
        if gone.any() and rule != "drop":
            parts.append(gone.astype(float)[:, None])
            names.append(f"{c}_missing")
            notes.append(
                f"covariate {c}: {int(gone.sum())} missing values set to the mean, "
                "with a missing-indicator"
            )
    matrix = np.hstack(parts) if parts else np.zeros((len(data), 0))
    return matrix, names, keep, notes


def derive(data: pd.DataFrame, method: str, items: list[str]) -> np.ndarray:
    """A derived variable (see plan.Derived for the missing-value rules)."""
    block = data[items].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    present = np.isfinite(block)
    with np.errstate(invalid="ignore"):
        if method == "any":
            value = (np.where(present, block, 0) > 0).any(axis=1).astype(float)
            return np.where(present.any(axis=1), value, np.nan)
        if method == "mean":
            return np.nansum(block, axis=1) / np.where(present.any(axis=1), present.sum(1), np.nan)
    return np.where(present.all(axis=1), np.nansum(block, axis=1), np.nan)


def prepare(plan: Plan, data: pd.DataFrame) -> Prepared:
    check(plan, data)
    data = data.reset_index(drop=True).copy()
    arm, names = arm_codes(plan, data)
    codes, stratum_names = stratum_index(data, plan.strata)
    cluster = cluster_index(data[plan.cluster].to_numpy())[0] if plan.cluster else None
    control = arm == 0
    notes = ["Outcomes: complete cases per outcome (rows with the outcome missing are left out)."]
    for name, rule in plan.derived.items():
        data[name] = derive(data, rule.method, rule.items)
        notes.append(f"{name}: {rule.method} of {', '.join(rule.items)}")
    for name, spec in plan.indices.items():
        try:
            data[name] = indices.build(data, spec.method, spec.items, control, spec.min_items)
        except indices.IndexBuildError as exc:
            raise PlanError(f"index {name}: {exc}") from exc
        notes.append(
            f"index {name}: {spec.method.upper()} of {', '.join(spec.items)}; uses the "
            f"items a row has (at least {spec.min_items}), standardised by the control "
            "group"
        )
    cov, cov_names, keep, cov_notes = covariate_matrix(
        data, plan.covariates, plan.missing.covariates
    )
    return Prepared(
        data, arm, names, codes, stratum_names, cluster, cov, cov_names, keep, notes + cov_notes
    )


def design_of(plan: Plan, prep: Prepared) -> inference.Design:
    weights = plan.design.arms or {n: 1 for n in prep.arm_names}
    arms = Arms.parse([(n, weights[n]) for n in prep.arm_names])
    procedure = plan.design.procedure or ("clustered" if prep.cluster is not None else "stratified")
    order = None
    if plan.design.order:
        order = pd.to_numeric(prep.data[plan.design.order], errors="coerce").to_numpy()
    return inference.Design(
        arms, prep.strata, procedure, prep.cluster, order, plan.design.block_sizes
    )


def outcome_rows(plan: Plan, prep: Prepared, outcome: str) -> tuple[np.ndarray, np.ndarray]:
    y = pd.to_numeric(prep.data[outcome], errors="coerce").to_numpy(dtype=float)
    return y, np.flatnonzero(np.isfinite(y) & prep.keep)


def response_indicator(plan: Plan, prep: Prepared) -> np.ndarray:
    if plan.attrition.response:
        r = pd.to_numeric(prep.data[plan.attrition.response], errors="coerce").fillna(0)
        return r.to_numpy(dtype=float) > 0
    present = np.zeros(len(prep.data), dtype=bool)
    for o in plan.all_outcomes():
        present |= pd.to_numeric(prep.data[o], errors="coerce").notna().to_numpy()
    return present
