"""Minimum detectable effects, sample sizes, and power by simulation.

Analytic (normal approximation, two-sided test at `alpha`):
    MDE = (z_{1-alpha/2} + z_{power}) * sd * sqrt(DE (1 - R2) / (P (1 - P) N))
with the design effect DE = 1 + (m - 1) rho for clusters of m units and intra-cluster
correlation rho, P the share treated and R2 the share of outcome variance explained by
baseline covariates. The sample size inverts the same formula.

By simulation: synthetic trials randomised with the real assignment procedure
(`assignment.assign_frame`) and estimated with the real estimator (`estimate.ols_fe`, strata
fixed effects, Lin adjustment, HC2 or cluster SEs); power = share of p-values below alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from patas.trials import estimate as est
from patas.trials.synthetic import trial_data


def design_effect(cluster_size: int = 1, icc: float = 0.0) -> float:
    return 1.0 + (max(cluster_size, 1) - 1) * icc


def _multiplier(alpha: float, power: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def mde(
    n: int,
    *,
    share_treated: float = 0.5,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    r2: float = 0.0,
    cluster_size: int = 1,
    icc: float = 0.0,
) -> float:
    """The smallest true effect detected with probability `power` with n units in total."""
    if n <= 0 or not 0 < share_treated < 1:
        raise ValueError("n must be positive and the treated share between 0 and 1")
    variance = design_effect(cluster_size, icc) * (1 - r2) * sd**2
    return _multiplier(alpha, power) * math.sqrt(
        variance / (share_treated * (1 - share_treated) * n)
    )


def sample_size(
    effect: float,
    *,
    share_treated: float = 0.5,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    r2: float = 0.0,
    cluster_size: int = 1,
    icc: float = 0.0,
) -> int:
    """Total units needed to detect `effect` (rounded up to whole clusters)."""
    if effect <= 0:
        raise ValueError("the effect must be positive")
    variance = design_effect(cluster_size, icc) * (1 - r2) * sd**2
    n = (
        _multiplier(alpha, power) ** 2
        * variance
        / (share_treated * (1 - share_treated) * effect**2)
    )
    m = max(cluster_size, 1)
    return int(math.ceil(n / m) * m)


@dataclass
class SimulatedPower:
    power: float
    mc_se: float
    mean_estimate: float
    simulations: int


def simulate(
    n: int,
    effect: float,
    *,
    simulations: int = 200,
    seed: int = 1,
    alpha: float = 0.05,
    r2: float = 0.0,
    cluster_size: int = 0,
    icc: float = 0.0,
    batches: int = 6,
) -> SimulatedPower:
    """Power by simulation, reusing the real assignment procedure and estimator."""
    hits, estimates = 0, []
    for s in range(simulations):
        data = trial_data(
            n,
            1,
            seed=seed * 100_003 + s,
            effect=effect,
            batches=batches,
            response=1.0,
            cluster_size=cluster_size,
            icc=icc,
            r2=r2,
        )
        codes = np.unique(data.stratum.to_numpy(dtype=str), return_inverse=True)[1]
        x = est.design_matrix(data.treat.to_numpy(), 2, data[["x_baseline"]].to_numpy(), True)
        cluster = None
        if cluster_size:
            cluster = np.unique(data.cluster.to_numpy(dtype=str), return_inverse=True)[1]
        fit = est.ols_fe(
            data.y1.to_numpy(), x, codes, "cluster" if cluster_size else "HC2", cluster, 1
        )
        b, _, p, _, _ = fit.test(0, alpha)
        hits += p < alpha
        estimates.append(b)
    share = hits / simulations
    return SimulatedPower(
        share, math.sqrt(share * (1 - share) / simulations), float(np.mean(estimates)), simulations
    )
