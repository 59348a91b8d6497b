"""The true effects a simulated trial should recover (issue #9), in the report's own units.

`patas simulate --effect E` moves every treated couple's latent scores by E SD at endline, but
the report does not estimate E: its outcomes are survey answers coarsened into choices, read
by the survey runner, coded as `patas export-trial` codes them, and combined by the analysis
plan (KLK indices standardised by the control group, `any_violence` as a 0/1 share). The truth
is the average treatment effect on *those* outcomes:

1. draw a large population of couples from the simulation's own model (`population.py`; only
   the eligible men who consent can enter the trial);
2. answer the real endline forms (men's by chat, partners' typed by an enumerator) from the
   pack's survey files under both arms, with the simulation's answer model and the runner's
   own reading of the answers (`bulk_answers.py`), the same noise in both arms (common random
   numbers: the difference between the arms is then the effect alone, so a few thousand
   couples give a precise truth);
3. compute the submitted answers (calculates, relevance) as `surveys.engine.finalize` does, code
   them with `trials.export.code_answers`, and build the plan's derived variables and indices
   with the plan's own code, the control arm's answers being the control group;
4. truth = mean(Y1) - mean(Y0) per outcome, with its Monte-Carlo standard error.

Survey response in the simulation does not depend on the latent scores or the effect, so the
responders' average effect is the population's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patas.programs.pack import get_pack
from patas.simulation.bulk_answers import Couples, answer_both_arms, draw_couples, finalize
from patas.surveys.actions import find_form_file
from patas.surveys.form import Form, load_form
from patas.trials import indices
from patas.trials import plan as plans
from patas.trials.export import WAVES, answer_names, code_answers
from patas.trials.prepare import derive

COUPLES = 20_000  # drawn men; about 3 in 4 are eligible and consent
SEED = 2026


def endline_forms(program_id: str | None) -> list[tuple[str, Form, bool]]:
    """(column prefix, form, answered by chat) of the men's endline (by chat) and the
    partners' (typed by an enumerator), named as the export names them."""
    pack = get_pack(program_id)
    cfg = pack.program.trial
    ids = dict((prefix, form_id) for prefix, form_id, _ in WAVES)
    if cfg is not None:
        ids.update(m_el=cfg.endline_form, p_el=cfg.partner_endline_form)
    folder = pack.root / "surveys"
    return [
        (prefix, load_form(find_form_file(ids[prefix], folder)), prefix == "m_el")
        for prefix in ("m_el", "p_el")
    ]


def endline_data(
    effect: float,
    couples: Couples,
    plan: plans.Plan,
    program_id: str | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The endline columns the plan uses, for every couple under both arms (2n rows: the
    control arm first), coded as `patas export-trial` codes them."""
    wanted = plan_columns(plan)
    waves = []
    for prefix, form, by_chat in endline_forms(program_id):
        raw = finalize(form, answer_both_arms(form, couples, effect, by_chat, rng))
        used = [
            name
            for name in answer_names(form)
            if {f"{prefix}_{name}", f"{prefix}_{name}_shared"} & wanted
        ]
        waves.append(code_answers(raw[used], prefix))
    return pd.concat(waves, axis=1)


def plan_columns(plan: plans.Plan) -> set[str]:
    """Every dataset column the plan's outcomes, derived variables and indices name."""
    names = set(plan.all_outcomes())
    for rule in plan.derived.values():
        names.update(rule.items)
    for spec in plan.indices.values():
        names.update(item.lstrip("-") for item in spec.items)
    return names


def with_outcomes(plan: plans.Plan, data: pd.DataFrame, control: np.ndarray) -> pd.DataFrame:
    """The plan's derived variables and indices, built as `trials.prepare` builds them (derived
    first, then indices), for those whose items are all in the data (baseline ones are not)."""
    data = data.copy()
    for name, rule in plan.derived.items():
        if set(rule.items) <= set(data.columns):
            data[name] = derive(data, rule.method, rule.items)
    for name, spec in plan.indices.items():
        if {item.lstrip("-") for item in spec.items} <= set(data.columns):
            data[name] = indices.build(data, spec.method, spec.items, control, spec.min_items)
    return data


def truth_table(
    effect: float,
    *,
    program_id: str | None = None,
    n: int = COUPLES,
    seed: int = SEED,
) -> pd.DataFrame:
    """family, outcome, truth (mean Y1 - mean Y0), mc_se (its Monte-Carlo standard error),
    control_mean, couples: one row per outcome of the program's plan that comes from endline
    answers."""
    rng = np.random.default_rng(seed)
    couples = draw_couples(n, seed)
    plan = plans.load(get_pack(program_id).root / "analysis-plan.yaml")
    data = endline_data(effect, couples, plan, program_id, rng)
    control = np.arange(len(data)) < len(couples)
    data = with_outcomes(plan, data, control)
    records = []
    for family, outcomes in plan.family_map().items():
        for outcome in outcomes:
            if outcome in data.columns:
                y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float)
                records.append({"family": family, "outcome": outcome, **_effect(y, control)})
    return pd.DataFrame.from_records(records)


def _effect(y: np.ndarray, control: np.ndarray) -> dict[str, float]:
    y0, y1 = y[control], y[~control]
    both = np.isfinite(y0) & np.isfinite(y1)
    paired = y1[both] - y0[both]
    return {
        "truth": float(np.nanmean(y1) - np.nanmean(y0)),
        "mc_se": float(paired.std(ddof=1) / np.sqrt(both.sum())) if both.sum() > 1 else np.nan,
        "control_mean": float(np.nanmean(y0)),
        "couples": int(control.sum()),
    }


def true_effects(
    effect: float, *, program_id: str | None = None, n: int = COUPLES, seed: int = SEED
) -> dict[str, float]:
    """{outcome: the true average treatment effect in the report's units} for the plan's
    outcomes that come from endline answers (primary and secondary families)."""
    table = truth_table(effect, program_id=program_id, n=n, seed=seed)
    return dict(zip(table.outcome, table.truth, strict=True))
