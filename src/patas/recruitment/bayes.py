"""Which ad variant is best? Bayesian comparisons for a designer shifting budget mid-campaign.

Cost per enrolled man: enrolments of variant i are Poisson(rate_i x spend_i), with a
Gamma(a0, b0) prior on rate_i (enrolled men per currency unit); the posterior is
Gamma(a0 + enrolled_i, b0 + spend_i). The best variant has the highest rate (lowest cost).
Completion: completers ~ Binomial(enrolled_i, p_i), Beta(1, 1) prior.
P(best) is estimated from seeded posterior draws; for two variants the closed form is known
(see `prob_rate_greater`) and the tests compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Variant:
    name: str
    spend: float
    enrolled: int
    completed: int


@dataclass(frozen=True)
class Comparison:
    name: str
    cost_per_enrolled: float | None
    p_best_cost: float
    completion_rate: float | None
    p_best_completion: float


def _draw_rates(
    variants: list[Variant], rng: np.random.Generator, draws: int, a0: float, b0: float
) -> np.ndarray:
    return np.column_stack(
        [rng.gamma(a0 + v.enrolled, 1.0 / (b0 + v.spend), size=draws) for v in variants]
    )


def _draw_completion(variants: list[Variant], rng: np.random.Generator, draws: int) -> np.ndarray:
    return np.column_stack(
        [
            rng.beta(1 + v.completed, 1 + max(v.enrolled - v.completed, 0), size=draws)
            for v in variants
        ]
    )


def _p_best(samples: np.ndarray) -> np.ndarray:
    best = samples.argmax(axis=1)
    return np.bincount(best, minlength=samples.shape[1]) / samples.shape[0]


def compare(
    variants: list[Variant], *, draws: int = 20000, seed: int = 1, a0: float = 1.0, b0: float = 1.0
) -> list[Comparison]:
    if not variants:
        return []
    rng = np.random.default_rng(seed)
    p_cost = _p_best(_draw_rates(variants, rng, draws, a0, b0))
    p_done = _p_best(_draw_completion(variants, rng, draws))
    return [
        Comparison(
            name=v.name,
            cost_per_enrolled=(v.spend / v.enrolled) if v.enrolled else None,
            p_best_cost=float(p_cost[i]),
            completion_rate=(v.completed / v.enrolled) if v.enrolled else None,
            p_best_completion=float(p_done[i]),
        )
        for i, v in enumerate(variants)
    ]


def prob_rate_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(rate1 > rate2) for rate_i ~ Gamma(shape a_i, rate b_i), exactly.

    With U = b1*rate1 ~ Gamma(a1), V = b2*rate2 ~ Gamma(a2): rate1 > rate2 iff
    U/(U+V) > b1/(b1+b2), and U/(U+V) ~ Beta(a1, a2).
    """
    return float(stats.beta.sf(b1 / (b1 + b2), a1, a2))
