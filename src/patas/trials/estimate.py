"""OLS with strata fixed effects, covariate adjustment (Lin or additive) and robust SEs.

Fixed effects are absorbed (Frisch-Waugh-Lovell): every column is demeaned within stratum and
the stratum intercepts are counted in K. The covariance uses the demeaned regressors, which is
exact for the non-FE coefficients; HC2 leverages add the fixed-effect part 1/n_stratum.

SE types: classical; HC1 = n/(n-K) HC0; HC2 = e^2/(1-h); cluster = Stata's CR1,
G/(G-1) (N-1)/(N-K). Tests and intervals use t with N-K degrees of freedom (G-1 for cluster),
as Stata does.

Degenerate designs (small samples, many strata, Lin interactions) are caught, never inverted:
a column that the strata and the earlier columns explain (all but RANK_TOL of its norm) is
omitted, as Stata's "omitted because of collinearity"; its coefficient is NaN and K and the
degrees of freedom count only the kept columns. The first `required` columns (the arms) are
never omitted: if one is not identified the fit raises EstimationError. Observations with
leverage 1 have a residual of 0 whatever their outcome: HC2 (0/0 for them) is an error when
they carry more than HC2_MAX_SHARE of an arm's variance, else they are left out with a warning
(Fit.warnings); a required SE that comes out 0 is an error too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

SE_TYPES = ("classical", "HC1", "HC2", "cluster")
# A column is collinear when less than this share of its norm is left once the strata and the
# kept earlier columns are projected out (R's lm uses the same relative tolerance).
RANK_TOL = 1e-7
# Leverage this close to 1: the observation is fit exactly, its residual is roundoff.
LEVERAGE_TOL = 1e-8
# A required coefficient's influence from one observation, relative to its total, that counts.
INFLUENCE_TOL = 1e-6
# HC2 is reported when rows with leverage 1 carry at most this share of an arm's variance
# (left out, the SE is then at most 0.5% too small); above it HC2 is not defined.
HC2_MAX_SHARE = 0.01
# ... and a note says so when the share left out (by HC2 or HC1) is above this.
NOTE_SHARE = 0.001


class EstimationError(ValueError):
    """The regression cannot be run (too few rows, no variation...)."""


@dataclass
class Fit:
    coef: np.ndarray  # one per column of x; NaN for omitted columns
    cov: np.ndarray  # rows and columns of omitted columns are NaN
    resid: np.ndarray
    n: int
    k: int  # kept regressors incl. the absorbed stratum intercepts
    df: int  # degrees of freedom for t tests
    dropped: tuple[int, ...] = ()  # columns of x omitted because of collinearity
    dropped_names: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # caveats worth printing next to the estimates

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def notes(self) -> list[str]:
        """What a reader of the estimates should know: omitted columns and warnings."""
        found = list(self.warnings)
        if self.dropped_names:
            omitted = ", ".join(self.dropped_names)
            found.insert(0, f"omitted because of collinearity: {omitted}")
        return found

    def test(self, j: int, alpha: float = 0.05) -> tuple[float, float, float, float, float]:
        """(estimate, se, p, ci_low, ci_high) of coefficient j (all NaN if it was omitted)."""
        b, s = float(self.coef[j]), float(self.se[j])
        t = b / s if s > 0 else np.nan
        p = float(2 * stats.t.sf(abs(t), self.df)) if s > 0 else np.nan
        crit = float(stats.t.ppf(1 - alpha / 2, self.df))
        return b, s, p, b - crit * s, b + crit * s

    def wald(self, idx: list[int]) -> tuple[float, float, int, int]:
        """Joint test that the coefficients `idx` are zero: (F, p, df1, df2). Omitted columns
        are left out of the restriction (and of df1), as Stata's `test` does."""
        idx = [j for j in idx if j not in self.dropped]
        if not idx:
            return np.nan, np.nan, 0, self.df
        b = self.coef[idx]
        v = self.cov[np.ix_(idx, idx)]
        if not np.isfinite(v).all():
            return np.nan, np.nan, len(idx), self.df
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


def kept_columns(
    r: np.ndarray, required: int, labels: Sequence[str], n_strata: int, n: int
) -> list[int]:
    """The columns to keep, in order; raises EstimationError if a required one is collinear.

    `r` is the QR factor of the demeaned columns divided by their norms before demeaning, so
    |R_jj| is the share of column j left after the strata and the earlier columns. The first
    column under RANK_TOL is omitted and the rest re-checked (later columns are only judged
    against kept ones). The R factor of a subset of columns is the QR of the same subset of R,
    so the data are not touched again.
    """
    kept = list(range(r.shape[1]))
    while kept:
        sub = linalg.qr(r[:, kept], mode="r")[0]
        left = np.zeros(len(kept))  # fewer rows than columns: the extra columns are dependent
        diag = np.abs(np.diag(sub))
        left[: diag.size] = diag
        bad = np.flatnonzero(left <= RANK_TOL)
        if not bad.size:
            break
        j = kept[int(bad[0])]
        if j < required:
            raise EstimationError(_not_identified(j, r, labels, n_strata, n))
        kept.remove(j)
    return kept


def _not_identified(j: int, r: np.ndarray, labels: Sequence[str], n_strata: int, n: int) -> str:
    if np.linalg.norm(r[:, j]) <= RANK_TOL:  # nothing left after demeaning
        where = "within any stratum" if n_strata > 1 else "at all"
        return (
            f"{labels[j]} does not vary {where} in these {n} rows (no stratum has units both "
            "in and out of it), so its effect is not identified"
        )
    return (
        f"{labels[j]} is collinear with {', '.join(labels[:j])} once the strata are accounted "
        "for, so its effect is not identified"
    )


def ols_fe(
    y: np.ndarray,
    x: np.ndarray,
    strata: np.ndarray | None = None,
    se: str = "HC2",
    cluster: np.ndarray | None = None,
    required: int | None = None,
    names: Sequence[str] | None = None,
) -> Fit:
    """OLS of y on x with stratum fixed effects (an intercept when strata is None).

    The first `required` columns (None: all) must be identified; later collinear columns are
    omitted (NaN coefficient, listed in Fit.dropped). `names` label the columns in messages.
    Solved by QR of the kept demeaned columns, never by inverting X'X.
    """
    if se not in (*SE_TYPES, "HC0"):
        raise EstimationError(f"unknown se type {se!r}; one of {SE_TYPES}")
    if se == "cluster" and cluster is None:
        raise EstimationError("se: cluster needs a cluster column")
    n = y.size
    codes = np.zeros(n, dtype=np.int64) if strata is None else compact(strata)
    n_strata = int(codes.max()) + 1 if n else 0
    raw = np.asarray(x, dtype=float).reshape(n, -1)
    p = raw.shape[1]
    need = p if required is None else min(required, p)
    labels = list(names) if names is not None else [f"column {j}" for j in range(p)]
    if n <= n_strata + need:
        raise EstimationError(f"{n} rows are too few for {n_strata + need} parameters")
    xd = demean(codes, raw)
    yd = demean(codes, np.asarray(y, dtype=float))
    kept, q, r, scale = _kept_qr(xd, raw, need, labels, n_strata)
    k = len(kept) + n_strata
    rinv = linalg.solve_triangular(r, np.eye(len(kept)))
    qy = q.T @ yd
    resid = yd - q @ qy
    ssr = float(resid @ resid)
    if ssr <= 1e-20 * float(yd @ yd):  # also when the outcome is constant within strata
        raise EstimationError(
            "no residual variation: the strata and regressors fit the outcome exactly, so "
            "standard errors are not defined"
        )
    checked = list(range(need)) if need else list(range(len(kept)))
    parts = _Parts(q, rinv, resid, codes, [labels[kept[j]] for j in checked], checked)
    cov_s, df, warnings = _covariance(parts, se, cluster, n - k)
    _check_required_se(cov_s, rinv, ssr / (n - k), need, labels, se)
    coef = np.full(p, np.nan)
    coef[kept] = rinv @ qy / scale
    cov = np.full((p, p), np.nan)
    cov[np.ix_(kept, kept)] = cov_s / np.outer(scale, scale)
    dropped = tuple(j for j in range(p) if j not in kept)
    notes = tuple(warnings + _size_warnings(n, k))
    return Fit(coef, cov, resid, n, k, df, dropped, tuple(labels[j] for j in dropped), notes)


def _kept_qr(
    xd: np.ndarray, raw: np.ndarray, need: int, labels: Sequence[str], n_strata: int
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """(kept columns, Q, R, their scale): the QR of the kept demeaned columns divided by their
    norms before demeaning (the scale cancels out of everything but RANK_TOL's meaning)."""
    n, p = xd.shape
    scale = np.linalg.norm(raw, axis=0)
    scale[scale == 0] = 1.0
    xs = xd / scale
    q, r = _well_conditioned_qr(xs) or np.linalg.qr(xs)
    kept = kept_columns(r, need, labels, n_strata, n)
    k = len(kept) + n_strata
    if n <= k:
        raise EstimationError(
            f"{n} rows are too few for {k} parameters ({n_strata} strata, {len(kept)} "
            "regressors): no residual degrees of freedom, so standard errors are not defined"
        )
    if len(kept) < p:
        q, r = np.linalg.qr(xs[:, kept])
    return kept, q, r, scale[kept]


# Below this share of a column left (|R_jj|), the Householder QR is used: CholeskyQR2 is as
# accurate as it only while the design is far from collinear (error ~ eps * cond^2 per pass).
FAST_QR_MIN = 1e-4


def _well_conditioned_qr(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """QR by CholeskyQR2 (two Cholesky passes on the k x k Gram matrix), or None when the
    design is near collinear. For a tall, thin design (a million rows) it costs a fifth of
    the Householder QR, and every well-posed trial takes this path; a degenerate one falls
    back to Householder, which `kept_columns` needs to judge collinearity."""
    if xs.shape[0] < xs.shape[1] or xs.shape[1] == 0:
        return None
    try:
        r1 = linalg.cholesky(xs.T @ xs, lower=False)
        if np.min(np.abs(np.diag(r1))) < FAST_QR_MIN:
            return None
        q1 = linalg.solve_triangular(r1.T, xs.T, lower=True).T
        r2 = linalg.cholesky(q1.T @ q1, lower=False)
        q = linalg.solve_triangular(r2.T, q1.T, lower=True).T
    except (linalg.LinAlgError, ValueError):
        return None
    return q, r2 @ r1


def _size_warnings(n: int, k: int) -> list[str]:
    if k > n / 2:  # most rows have high leverage: robust SEs are far from their asymptotics
        return [
            f"nearly saturated: {k} parameters (with the strata) for {n} rows leave {n - k} "
            "residual degrees of freedom, so the standard errors are imprecise"
        ]
    if n - k < 10:
        return [f"only {n - k} residual degrees of freedom: the SEs are imprecise"]
    return []


@dataclass
class _Parts:
    """The QR pieces the covariance needs (scaled, kept columns): X = Q R."""

    q: np.ndarray
    rinv: np.ndarray
    resid: np.ndarray
    codes: np.ndarray
    checked_names: list[str]  # the coefficients whose SEs must be right (the arms)
    checked: list[int]  # their positions among the kept columns


def _covariance(
    parts: _Parts, se: str, cluster: np.ndarray | None, df: int
) -> tuple[np.ndarray, int, list[str]]:
    """(covariance of the scaled kept coefficients, df for tests, warnings)."""
    q, rinv, resid = parts.q, parts.rinv, parts.resid
    n = resid.size
    if se == "classical":
        return rinv @ rinv.T * float(resid @ resid) / df, df, []
    if se == "cluster":
        assert cluster is not None
        groups = compact(cluster)
        n_groups = int(groups.max()) + 1
        if n_groups < 2:
            raise EstimationError("cluster SEs need at least two clusters")
        scores = q * resid[:, None]
        sums = np.stack([np.bincount(groups, weights=s, minlength=n_groups) for s in scores.T], 1)
        factor = n_groups / (n_groups - 1) * (n - 1) / df
        return factor * rinv @ (sums.T @ sums) @ rinv.T, n_groups - 1, []
    return _robust(parts, se, df)


@dataclass
class _LeverageOne:
    """The observations the model fits exactly (leverage 1) and what they carry."""

    rows: np.ndarray  # bool per observation
    share: np.ndarray  # per kept coefficient: share of its variance from those rows
    hits: int  # how many of them move a checked coefficient


def _leverage_one(parts: _Parts, h: np.ndarray) -> _LeverageOne:
    """y_i enters the coefficients with weight R^-1 q_i, so under equal variances row i's share
    of coefficient j's variance is (R^-1 q_i)_j^2 / (R^-1 R^-T)_jj. Rows with leverage 1 have a
    residual of 0 whatever their outcome: that share is what no residual can estimate.
    Singleton strata have leverage 1 but a zero demeaned row, so they carry nothing."""
    rows = h >= 1.0 - LEVERAGE_TOL
    total = np.sum(parts.rinv**2, axis=1)
    weight = parts.rinv @ parts.q[rows].T
    share = np.sum(weight**2, axis=1) / total
    moving = weight**2 > INFLUENCE_TOL**2 * total[:, None]
    return _LeverageOne(rows, share, int(moving[parts.checked].any(axis=0).sum()))


def _robust(parts: _Parts, se: str, df: int) -> tuple[np.ndarray, int, list[str]]:
    """HC0/HC1/HC2. HC2 divides by 1-h, which is 0/0 at leverage 1: if those rows carry more
    than HC2_MAX_SHARE of an arm's variance, HC2 is not defined (error); below it they get
    weight 0 (their variance is left out, as HC1 always does) and a warning says so."""
    q, rinv, resid = parts.q, parts.rinv, parts.resid
    n = resid.size
    counts = np.bincount(parts.codes).astype(float)
    h = 1.0 / counts[parts.codes] + np.einsum("ij,ij->i", q, q)
    one = _leverage_one(parts, h)
    worst = int(np.argmax(one.share[parts.checked])) if parts.checked else 0
    share = float(one.share[parts.checked][worst]) if parts.checked else 0.0
    if se == "HC2" and share > HC2_MAX_SHARE:
        raise EstimationError(
            f"{one.hits} observations have leverage 1 (the model fits them exactly, so their "
            f"residuals are 0 whatever the outcome) and carry {share:.0%} of the variance of "
            f"{parts.checked_names[worst]}: HC2 standard errors are not defined. Use fewer "
            "covariates or larger strata, or HC1, which leaves their variance out"
        )
    warnings = []
    if one.hits and share > NOTE_SHARE:
        warnings.append(
            f"{one.hits} observations have leverage 1: their residuals are 0, so the {se} "
            f"standard error leaves out their {share:.1%} of the variance of "
            f"{parts.checked_names[worst]} (it understates the uncertainty)"
        )
    if se == "HC2":
        weight = np.zeros(n)
        rest = ~one.rows
        weight[rest] = resid[rest] ** 2 / (1.0 - h[rest])
    else:
        weight = resid**2 * (n / df if se == "HC1" else 1.0)
    cov = rinv @ ((q * weight[:, None]).T @ q) @ rinv.T
    if se == "HC2":  # other coefficients (not reported) with no defined HC2 variance
        blank = one.share > HC2_MAX_SHARE
        cov[blank, :] = np.nan
        cov[:, blank] = np.nan
    return cov, df, warnings


def _check_required_se(
    cov_s: np.ndarray, rinv: np.ndarray, s2: float, need: int, labels: list[str], se: str
) -> None:
    """A required SE of 0 (against the classical one) means the rows that identify the
    coefficient are fit exactly: report it instead of printing p = NaN and a zero-width CI."""
    reference = np.sum(rinv[:need] ** 2, axis=1) * s2
    for j in range(need):
        v = cov_s[j, j]
        if not np.isfinite(v) or v <= 1e-16 * reference[j]:
            raise EstimationError(
                f"the {se} standard error of {labels[j]} is 0: the observations that identify "
                "it are fit exactly (it varies only in strata or clusters that leave no "
                "residual), so it cannot be estimated; use fewer covariates or larger strata"
            )


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


def design_names(arm_names: Sequence[str], covariate_names: Sequence[str], lin: bool) -> list[str]:
    """Labels of design_matrix's columns, in its order (for messages and omitted columns)."""
    arms = [f"arm {a!r}" for a in arm_names[1:]]
    names = arms + list(covariate_names)
    if lin and covariate_names:
        names += [f"{a} x {c}" for a in arm_names[1:] for c in covariate_names]
    return names


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
    rank = int(np.linalg.matrix_rank(w)) if w.shape[1] else 0  # collinear covariates add no K
    k = 1 + rank + int(codes.max()) + 1
    df = n - k
    if df <= 0:
        raise EstimationError(f"{n} rows are too few for {k} parameters")
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
