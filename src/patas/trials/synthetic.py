"""Synthetic trial data (HEP-like): for power by simulation, benchmarks and tests.

Rows are randomised with the real batch procedure (`assignment.assign_frame`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patas.trials.assignment import Arms, assign_frame


def trial_data(
    n: int = 2710,
    n_outcomes: int = 4,
    *,
    seed: int = 7,
    effect: float = 0.2,
    batches: int = 6,
    response: float = 0.85,
    cluster_size: int = 0,
    icc: float = 0.0,
    r2: float = 0.3,
    arms: str = "control:1,treatment:1",
) -> pd.DataFrame:
    """n couples in batches, stratified by baseline violence, outcomes y1..yK in SD units.

    Each outcome = effect * treated + a baseline covariate's share (R^2 = r2) + noise (with a
    cluster effect of intra-cluster correlation `icc` when cluster_size > 0); missing for
    non-responders.
    """
    rng = np.random.default_rng(seed)
    units = pd.DataFrame(
        {
            "couple_id": [f"C{i:07d}" for i in range(n)],
            "batch": rng.integers(1, batches + 1, n),
            "violence_bl": rng.choice(["none", "sexual", "physical"], n, p=[0.6, 0.15, 0.25]),
            "age": rng.integers(18, 61, n).astype(float),
            "x_baseline": rng.normal(size=n),
        }
    )
    cluster = None
    if cluster_size:
        # clusters nested in strata: number them within (batch, violence) in id order
        key = units.batch.astype(str) + units.violence_bl
        rank = units.groupby(key).cumcount()
        units["cluster"] = key + "-" + (rank // cluster_size).astype(str)
        cluster = "cluster"
    assigned = assign_frame(
        units, "couple_id", ["batch", "violence_bl"], Arms.parse(arms), seed + 1, cluster
    )
    names = Arms.parse(arms).names
    treated = (assigned.arm != names[0]).to_numpy(dtype=float)
    m = len(assigned)
    cluster_effect = np.zeros(m)
    if cluster_size:
        codes = pd.factorize(assigned["cluster"])[0]
        cluster_effect = rng.normal(size=codes.max() + 1)[codes] * np.sqrt(icc)
    responded = rng.random(m) < response
    x = assigned.x_baseline.to_numpy()
    for k in range(1, n_outcomes + 1):
        noise = rng.normal(size=m) * np.sqrt(max(1 - r2 - icc, 0.0))
        y = effect * treated + np.sqrt(r2) * x + cluster_effect + noise
        assigned[f"y{k}"] = np.where(responded, y, np.nan)
    assigned["treat"] = treated.astype(int)
    assigned["responded"] = responded.astype(int)
    assigned["completed"] = (treated * (rng.random(m) < 0.67)).astype(int)
    assigned.loc[rng.random(m) < 0.03, "age"] = np.nan
    return assigned
