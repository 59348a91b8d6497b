"""Do the trial's standard errors match the spread of its estimates, on the answer model alone?

    python benchmarks/se_check.py [--couples 950] [--samples 300] [--effect 0.3]

Answers the endline forms for a large population of couples under both arms, with the
simulation's own answer model and the runner's reading of the answers (`simulation.truth`,
the machinery that computes the true effects). Then, `--samples` times: draws `--couples`
couples, assigns half of them to treatment at random, takes each couple's answers under its
arm, builds the plan's indices with that sample's control group (as `trials.prepare` does), and
estimates each outcome's effect as a difference in means with its HC2 standard error (for a
difference in means HC2 is the two-sample variance). Prints, per outcome, the SD of the
estimates, the mean SE and their ratio: about 1 when the SEs are right. With 300 samples the
SD's own relative error is about 4%.

This leaves out what a full `patas simulate` adds (arrival, attrition, strata, Lin covariates):
compare its ratios with `coverage.py`'s over many seeds to tell the estimator from the run.
Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import time

OUTCOMES = ("any_violence", "control_index", "consent_index", "communication_index")
SECONDARY = ("psychological_index", "cyber_index")
POPULATION = 20_000  # drawn men; about 3 in 4 enter the trial


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--couples", type=int, default=950)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--effect", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    started = time.process_time()
    rows = spread_and_errors(args.couples, args.samples, args.effect, args.seed)
    print(f"couples={args.couples} samples={args.samples} effect={args.effect}")
    for outcome, sd, se in rows:
        print(f"{outcome:22s} sd of estimates {sd:.4f}  mean SE {se:.4f}  ratio {sd / se:.2f}")
    print(f"cpu={time.process_time() - started:.1f}s")


def spread_and_errors(
    couples: int, samples: int, effect: float, seed: int
) -> list[tuple[str, float, float]]:
    import numpy as np
    import pandas as pd

    from patas.programs.pack import get_pack
    from patas.simulation import truth
    from patas.simulation.bulk_answers import draw_couples
    from patas.trials import plan as plans

    plan = plans.load(get_pack(None).root / "analysis-plan.yaml")
    rng = np.random.default_rng(seed)
    population = draw_couples(POPULATION, truth.SEED)
    both = truth.endline_data(effect, population, plan, None, rng)  # control arm's rows first
    n = len(population)
    control_rows = both.iloc[:n].reset_index(drop=True)
    treated_rows = both.iloc[n:].reset_index(drop=True)
    found: dict[str, list[tuple[float, float]]] = {o: [] for o in (*OUTCOMES, *SECONDARY)}
    for _ in range(samples):
        chosen = rng.choice(n, couples, replace=False)
        treated = np.zeros(couples, dtype=bool)
        treated[rng.choice(couples, couples // 2, replace=False)] = True
        sample = pd.concat(
            [treated_rows.iloc[chosen[treated]], control_rows.iloc[chosen[~treated]]]
        ).reset_index(drop=True)
        is_control = np.r_[np.zeros(treated.sum(), bool), np.ones((~treated).sum(), bool)]
        sample = truth.with_outcomes(plan, sample, is_control)
        for outcome, estimates in found.items():
            y = pd.to_numeric(sample[outcome], errors="coerce").to_numpy(float)
            y1, y0 = y[~is_control], y[is_control]
            y1, y0 = y1[np.isfinite(y1)], y0[np.isfinite(y0)]
            se = np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
            estimates.append((float(y1.mean() - y0.mean()), float(se)))
    out = []
    for outcome, estimates in found.items():
        values = np.asarray(estimates)
        out.append((outcome, float(values[:, 0].std(ddof=1)), float(values[:, 1].mean())))
    return out


if __name__ == "__main__":
    main()
