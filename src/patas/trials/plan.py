"""The pre-registered analysis plan: a YAML file, checked by pydantic and against the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from patas.trials.assignment import stratum_index


class PlanError(ValueError):
    """The plan is malformed or does not fit the data; the message names every problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MultiArm(Strict):
    column: str
    control: str = "control"
    arms: list[str] | None = None  # the non-control arms, in report order (default: sorted)


class RI(Strict):
    draws: int = Field(default=0, ge=0)
    seed: int = 1


class IndexSpec(Strict):
    method: Literal["klk", "icw"] = "klk"
    items: list[str]
    min_items: int = Field(default=1, ge=1)


class Derived(Strict):
    """A variable made from columns before the analysis: any (1 if any item is 1; missing only
    if all are missing), mean (of the items present), sum (missing if any item is missing)."""

    method: Literal["any", "mean", "sum"]
    items: list[str]


class Participation(Strict):
    column: str  # completion / take-up, instrumented by assignment (TOT)
    outcomes: list[str] | None = None  # default: every outcome


class Attrition(Strict):
    response: str | None = None  # a 0/1 column; None = "the outcome is missing"


class DesignSpec(Strict):
    """How assignment was done, so randomisation inference can re-run it."""

    procedure: Literal["stratified", "clustered", "blocks"] | None = None
    arms: dict[str, int] | None = None  # weights; default equal
    block_sizes: list[int] = Field(default_factory=list)
    order: str | None = None  # enrolment order column for blocks


class MissingRules(Strict):
    outcomes: Literal["complete_cases"] = "complete_cases"
    covariates: Literal["indicator", "drop"] = "indicator"


class Plan(Strict):
    title: str = "Trial analysis"
    treatment: str | MultiArm
    outcomes: list[str] | None = None
    families: dict[str, list[str]] | None = None
    covariates: list[str] = Field(default_factory=list)
    covariate_adjustment: Literal["lin", "additive"] = "lin"
    strata: list[str] = Field(default_factory=list)
    cluster: str | None = None
    se: Literal["classical", "HC1", "HC2", "cluster"] = "HC2"
    ri: RI = Field(default_factory=RI)
    indices: dict[str, IndexSpec] = Field(default_factory=dict)
    derived: dict[str, Derived] = Field(default_factory=dict)
    subgroups: list[str] = Field(default_factory=list)
    participation: Participation | None = None
    attrition: Attrition = Field(default_factory=Attrition)
    lee_bounds: list[str] = Field(default_factory=list)
    balance: list[str] | None = None  # default: the covariates
    missing: MissingRules = Field(default_factory=MissingRules)
    design: DesignSpec = Field(default_factory=DesignSpec)
    alpha: float = Field(default=0.05, gt=0, lt=1)

    @field_validator("indices", mode="before")
    @classmethod
    def _indices(cls, value: Any) -> Any:
        """A bare list of items is a KLK index."""
        if isinstance(value, dict):
            return {k: {"items": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    # --- derived -------------------------------------------------------------------------
    def family_map(self) -> dict[str, list[str]]:
        """Family -> outcomes; indices not named anywhere form the family 'indices'."""
        fams = dict(self.families or {})
        if self.outcomes:
            fams.setdefault("outcomes", []).extend(self.outcomes)
        named = {o for v in fams.values() for o in v}
        extra = [i for i in self.indices if i not in named]
        if extra:
            fams.setdefault("indices", []).extend(extra)
        return fams

    def all_outcomes(self) -> list[str]:
        return list(dict.fromkeys(o for v in self.family_map().values() for o in v))

    @property
    def treatment_column(self) -> str:
        return self.treatment if isinstance(self.treatment, str) else self.treatment.column

    def balance_columns(self) -> list[str]:
        return list(self.covariates if self.balance is None else self.balance)


def load(path: str | Path) -> Plan:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"cannot read the plan {path}: {exc}") from exc
    return parse(raw)


def parse(raw: Any) -> Plan:
    if not isinstance(raw, dict):
        raise PlanError("the plan must be a YAML mapping of keys")
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PlanError(f"the plan is not valid: {problems}") from exc
    if not plan.family_map():
        raise PlanError("the plan names no outcomes (outcomes, families or indices)")
    if plan.se == "cluster" and not plan.cluster:
        raise PlanError("se: cluster needs `cluster: COLUMN`")
    return plan


def arm_codes(plan: Plan, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Arm code per row (0 = control) and the arm names; raises PlanError on unknown values."""
    col = data[plan.treatment_column]
    if isinstance(plan.treatment, str):
        values = pd.to_numeric(col, errors="coerce")
        bad = col[~values.isin([0, 1])]
        if len(bad):
            raise PlanError(
                f"treatment column {plan.treatment!r} must be 0/1 for every row; "
                f"found {bad.iloc[0]!r}"
            )
        return values.to_numpy(dtype=np.int64), ["control", "treatment"]
    spec = plan.treatment
    labels = col.astype("string")
    if spec.control not in set(labels.dropna()):
        raise PlanError(f"control arm {spec.control!r} is not in treatment column {spec.column!r}")
    others = spec.arms or sorted(set(labels.dropna()) - {spec.control})
    names = [spec.control, *others]
    unknown = sorted(set(labels.dropna()) - set(names))
    if labels.isna().any() or unknown:
        shown = unknown[0] if unknown else "a missing value"
        raise PlanError(f"treatment column {spec.column!r} has {shown!r}, not a known arm {names}")
    if len(names) < 2:
        raise PlanError(f"treatment column {spec.column!r} has only the control arm")
    lookup = {n: i for i, n in enumerate(names)}
    return labels.map(lookup).to_numpy(dtype=np.int64), names


def check(plan: Plan, data: pd.DataFrame) -> None:
    """Every problem of the plan against the data, in one PlanError; silent when it fits."""
    problems: list[str] = []
    wanted: dict[str, str] = {plan.treatment_column: "treatment"}
    made = set(plan.indices) | set(plan.derived)
    for o in plan.all_outcomes():
        wanted.setdefault(o, "outcome")
    for name, spec in plan.indices.items():
        for item in spec.items:
            if item.lstrip("-") not in plan.derived:
                wanted.setdefault(item.lstrip("-"), f"item of index {name}")
    for name, rule in plan.derived.items():
        for item in rule.items:
            wanted.setdefault(item, f"item of derived {name}")
    for group, cols in (
        ("covariate", plan.covariates),
        ("stratum", plan.strata),
        ("subgroup", plan.subgroups),
        ("balance", plan.balance_columns()),
        ("lee_bounds", plan.lee_bounds),
    ):
        for c in cols:
            wanted.setdefault(c, group)
    optional: tuple[tuple[str | None, str], ...] = (
        (plan.cluster, "cluster"),
        (plan.attrition.response, "response"),
        (plan.participation.column if plan.participation else None, "participation"),
        (plan.design.order, "design order"),
    )
    for column, what in optional:
        if column:
            wanted.setdefault(column, what)
    missing = [
        f"{c} ({what})" for c, what in wanted.items() if c not in data.columns and c not in made
    ]
    if missing:
        raise PlanError(f"column(s) not in the data: {', '.join(missing)}")
    arm, names = arm_codes(plan, data)
    for o in plan.all_outcomes():
        if o in made:
            continue
        values = pd.to_numeric(data[o], errors="coerce")
        if values.notna().sum() and (values.isna() & data[o].notna()).any():
            problems.append(f"outcome {o!r} has values that are not numbers")
        elif not values.notna().any() or values.min() == values.max():
            problems.append(f"outcome {o!r} is constant (or empty): nothing to estimate")
    codes, stratum_names = stratum_index(data, plan.strata)
    per_stratum = np.bincount(codes * len(names) + arm, minlength=len(stratum_names) * len(names))
    arms_present = (per_stratum.reshape(len(stratum_names), len(names)) > 0).sum(axis=1)
    for stratum in np.flatnonzero(arms_present < 2):
        label = stratum_names[stratum] or "(all)"
        problems.append(f"no variation in treatment within stratum {label!r}")
    for c in plan.lee_bounds:
        if c not in plan.all_outcomes():
            problems.append(f"lee_bounds names {c!r}, which is not an outcome")
    if plan.lee_bounds and len(names) > 2:
        problems.append("lee_bounds needs a two-arm treatment")
    if plan.design.arms and set(plan.design.arms) != set(names):
        problems.append(f"design.arms {sorted(plan.design.arms)} differ from the data's {names}")
    if problems:
        raise PlanError("; ".join(problems))
