"""OLS with strata fixed effects, covariate adjustment (Lin or additive) and robust SEs.

Fixed effects are absorbed (Frisch-Waugh-Lovell): every column is demeaned within stratum and
the stratum intercepts are counted in K. The covariance uses the demeaned regressors, which is
exact for the non-FE coefficients; HC2 leverages add the fixed-effect part 1/n_stratum.

SE types: classical; HC1 = n/(n-K) HC0; HC2 = e^2/(1-h); cluster = Stata's CR1,
G/(G-1) (N-1)/(N-K). Tests and intervals use t with N-K degrees of freedom (G-1 for cluster),
as Stata does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

SE_TYPES = ("classical", "HC1", "HC2", "cluster")


class EstimationError(ValueError):
    """The regression cannot be run (too few rows, no variation...)."""


@dataclass
class Fit:
    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    n: int
    k: int  # regressors incl. the absorbed stratum intercepts
    df: int  # degrees of freedom for t tests

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def test(self, j: int, alpha: float = 0.05) -> tuple[float, float, float, float, float]:
        """(estimate, se, p, ci_low, ci_high) of coefficient j."""
        b, s = float(self.coef[j]), float(self.se[j])
        t = b / s if s > 0 else np.nan
        p = float(2 * stats.t.sf(abs(t), self.df)) if s > 0 else np.nan
        crit = float(stats.t.ppf(1 - alpha / 2, self.df))
        return b, s, p, b - crit * s, b + crit * s

    def wald(self, idx: list[int]) -> tuple[float, float, int, int]:
        """Joint test that the coefficients `idx` are zero: (F, p, df1, df2)."""
        b = self.coef[idx]
        v = self.cov[np.ix_(idx, idx)]
        q = len(idx)
        f = float(b @ np.linalg.pinv(v) @ b) / q
        return f, float(stats.f.sf(f, q, self.df)), q, self.df


def demean(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Subtract the stratum mean from each column (codes: 0..S-1 ints)."""
    counts = np.bincount(codes).astype(float)
    counts[counts == 0] = 1.0
    values2 = values.reshape(values.shape[0], -1)
    if values2.shape[1] == 0:
        return values.astype(float)
    n_strata = counts.size
    sums = np.stack([np.bincount(codes, weights=c, minlength=n_strata) for c in values2.T], axis=1)
    means = sums / counts[:, None]
    return (values2 - means[codes]).reshape(values.shape)


def compact(codes: np.ndarray) -> np.ndarray:
    """Renumber non-negative int codes 0..S-1 (after subsetting some strata may be gone)."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and codes.min() < 0:
        return np.unique(codes, return_inverse=True)[1].astype(np.int64)
    present = np.bincount(codes) > 0
    if present.all():
        return codes
    return (np.cumsum(present) - 1)[codes]


def ols_fe(
    y: np.ndarray,
    x: np.ndarray,
    strata: np.ndarray | None = None,
    se: str = "HC2",
    cluster: np.ndarray | None = None,
) -> Fit:
    """OLS of y on x with stratum fixed effects (an intercept when strata is None)."""
    n = y.size
    codes = np.zeros(n, dtype=np.int64) if strata is None else compact(strata)
    n_strata = int(codes.max()) + 1 if n else 0
    xd = demean(codes, np.asarray(x, dtype=float).reshape(n, -1))
    yd = demean(codes, np.asarray(y, dtype=float))
    k = xd.shape[1] + n_strata
    if n <= k:
        raise EstimationError(f"{n} rows are too few for {k} parameters")
    xtx = xd.T @ xd
    try:
        bread = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        bread = np.linalg.pinv(xtx)
    coef = bread @ (xd.T @ yd)
    resid = yd - xd @ coef
    df = n - k
    if se == "classical":
        cov = bread * float(resid @ resid) / df
    elif se in ("HC1", "HC2", "HC0"):
        if se == "HC2":
            counts = np.bincount(codes).astype(float)
            # b @ X' is much faster than X @ b for a tall, thin X (BLAS layout)
            h = 1.0 / counts[codes] + np.einsum("ij,ji->i", xd, bread @ xd.T)
            weight = resid**2 / np.clip(1.0 - h, 1e-12, None)
        else:
            weight = resid**2 * (n / df if se == "HC1" else 1.0)
        meat = (xd * weight[:, None]).T @ xd
        cov = bread @ meat @ bread
    elif se == "cluster":
        if cluster is None:
            raise EstimationError("se: cluster needs a cluster column")
        groups = compact(cluster)
        n_groups = int(groups.max()) + 1
        if n_groups < 2:
            raise EstimationError("cluster SEs need at least two clusters")
        scores = xd * resid[:, None]
        sums = np.stack([np.bincount(groups, weights=s, minlength=n_groups) for s in scores.T], 1)
        factor = n_groups / (n_groups - 1) * (n - 1) / df
        cov = factor * bread @ (sums.T @ sums) @ bread
        df = n_groups - 1
    else:
        raise EstimationError(f"unknown se type {se!r}; one of {SE_TYPES}")
    return Fit(coef, cov, resid, n, k, df)


def arm_dummies(arm: np.ndarray, n_arms: int) -> np.ndarray:
    """Columns 1..n_arms-1 of the arm indicator (arm 0 is the control)."""
    return (arm[:, None] == np.arange(1, n_arms)[None, :]).astype(float)


def design_matrix(arm: np.ndarray, n_arms: int, covariates: np.ndarray, lin: bool) -> np.ndarray:
    """[arm dummies, covariates, (arm dummies x centred covariates if Lin)].

    The first n_arms-1 columns are the effects of the arms. With Lin (2013) the covariates are
    centred at the analysis sample's mean, so those columns are average effects.
    """
    t = arm_dummies(arm, n_arms)
    if covariates.shape[1] == 0:
        return t
    xc = covariates - covariates.mean(axis=0)
    if not lin:
        return np.hstack([t, xc])
    inter = (t[:, :, None] * xc[:, None, :]).reshape(t.shape[0], -1)
    return np.hstack([t, xc, inter])


def two_stage(
    y: np.ndarray,
    endogenous: np.ndarray,
    instrument: np.ndarray,
    exogenous: np.ndarray,
    strata: np.ndarray | None = None,
    se: str = "HC1",
    cluster: np.ndarray | None = None,
) -> tuple[float, float, int]:
    """Just-identified 2SLS of y on one endogenous regressor (e.g. completion) instrumented by
    assignment, with exogenous covariates and stratum fixed effects. Returns (beta, se, df).

    Robust SEs are HC1 (HC2 is not defined the same way for IV); cluster is CR1.
    """
    n = y.size
    codes = np.zeros(n, dtype=np.int64) if strata is None else compact(strata)
    w = demean(codes, exogenous.reshape(n, -1).astype(float))

    def partial(v: np.ndarray) -> np.ndarray:
        vd = demean(codes, v.astype(float))
        if w.shape[1] == 0:
            return vd
        return vd - w @ np.linalg.lstsq(w, vd, rcond=None)[0]

    yt, dt, zt = partial(y), partial(endogenous), partial(instrument)
    first = float(zt @ dt)
    if abs(first) < 1e-12:
        raise EstimationError("the instrument does not move participation (no first stage)")
    beta = float(zt @ yt) / first
    u = yt - beta * dt
    k = 1 + w.shape[1] + int(codes.max()) + 1
    df = n - k
    if se == "classical":
        var = float(u @ u) / df * float(zt @ zt) / first**2
    elif se == "cluster" and cluster is not None:
        groups = compact(cluster)
        g = int(groups.max()) + 1
        sums = np.bincount(groups, weights=zt * u)
        var = g / (g - 1) * (n - 1) / df * float(sums @ sums) / first**2
        df = g - 1
    else:
        var = n / df * float(np.sum(zt**2 * u**2)) / first**2
    return beta, float(np.sqrt(var)), df
