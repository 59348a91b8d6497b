"""Lee (2009) bounds on an effect when response differs by arm.

The arm that responds more has its responders trimmed by the share p = (q_more - q_less) /
q_more: trimming its top gives one bound, its bottom the other. round(p * responders)
observations are trimmed. Standard errors are analytic (delta method, as in Lee 2009,
Proposition 3): the trimmed mean's variance with p known, (s2_t + p (y_p - m_t)^2) /
((1 - p) n_r), plus the part from estimating p, ((m_t - y_p) / (1 - p))^2 Var(p_hat), plus the
variance of the other arm's mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LeeBounds:
    lower: float
    upper: float
    se_lower: float
    se_upper: float
    trimmed_share: float
    trimmed_arm: str  # "treatment" | "control" | "none"
    response_treatment: float
    response_control: float


def _trimmed(y: np.ndarray, p: float, keep_top: bool) -> tuple[float, float, float]:
    """(mean, variance, cut point) of y after dropping round(p * n) from one end."""
    ys = np.sort(y)
    drop = int(round(p * ys.size))
    kept = ys[drop:] if keep_top else ys[: ys.size - drop]
    cut = ys[min(drop, ys.size - 1)] if keep_top else ys[max(ys.size - drop - 1, 0)]
    return float(kept.mean()), float(kept.var(ddof=1)) if kept.size > 1 else 0.0, float(cut)


def lee_bounds(y: np.ndarray, treated: np.ndarray, responded: np.ndarray) -> LeeBounds:
    """Bounds on the effect for always-responders. y may be NaN where not responded."""
    treated = treated.astype(bool)
    responded = responded.astype(bool) & np.isfinite(y)
    n1, n0 = int(treated.sum()), int((~treated).sum())
    q1 = responded[treated].mean()
    q0 = responded[~treated].mean()
    y1, y0 = y[treated & responded], y[~treated & responded]
    if y1.size < 2 or y0.size < 2:
        raise ValueError("Lee bounds need at least two responders per arm")
    more_treated = q1 >= q0
    q_more, q_less = (q1, q0) if more_treated else (q0, q1)
    n_more, n_less = (n1, n0) if more_treated else (n0, n1)
    p = float((q_more - q_less) / q_more) if q_more > 0 else 0.0
    trim, other = (y1, y0) if more_treated else (y0, y1)
    var_p = (q_less * (1 - q_less) / n_less) / q_more**2 + (
        q_less**2 * q_more * (1 - q_more) / n_more
    ) / q_more**4
    other_mean, other_var = float(other.mean()), float(other.var(ddof=1)) / other.size
    results = {}
    for keep_top in (True, False):
        mean, var, cut = _trimmed(trim, p, keep_top)
        n_r = trim.size
        v = (var + p * (cut - mean) ** 2) / ((1 - p) * n_r) + ((mean - cut) / (1 - p)) ** 2 * var_p
        results[keep_top] = (mean, float(np.sqrt(v + other_var)))
    if more_treated:  # effect = trimmed treated mean - control mean
        (hi, se_hi), (lo, se_lo) = results[True], results[False]
        lower, upper = lo - other_mean, hi - other_mean
    else:  # effect = treated mean - trimmed control mean
        (hi, se_hi), (lo, se_lo) = results[True], results[False]
        lower, upper = other_mean - hi, other_mean - lo
        se_lo, se_hi = se_hi, se_lo
    arm = "none" if p == 0 else ("treatment" if more_treated else "control")
    return LeeBounds(lower, upper, se_lo, se_hi, p, arm, float(q1), float(q0))
