"""Randomisation inference that re-runs the assignment procedure, and Anderson's q-values.

RI: the design (procedure, arms and weights, strata, clusters, enrolment order) is re-run
`draws` times with `patas.trials.assignment` on all randomised rows; each outcome's regression
coefficient is recomputed for every draw on its analysis rows, vectorised: the stratum fixed
effects and the fixed covariates are projected out once (Frisch-Waugh-Lovell) and the
assignment-dependent columns (arm dummies, and with Lin their interactions with the centred
covariates) of all draws are handled with matrix products, a chunk of draws at a time.
p = share of draws with |coefficient| >= |observed|; its Monte Carlo SE is sqrt(p(1-p)/draws).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from patas.trials import assignment as assign
from patas.trials.estimate import compact, demean

TOLERANCE = 1e-9  # relative: draws equal to the observed statistic count as "as extreme"
# An eigenvalue of a draw's normalised Gram matrix below this is a null direction (the sums
# that build it lose more precision than ols_fe's QR, hence looser than its RANK_TOL^2).
SINGULAR_TOL = 1e-10


@dataclass
class Design:
    """How the units were randomised, over all randomised rows of the data."""

    arms: assign.Arms
    strata: np.ndarray  # int codes per row
    procedure: str = "stratified"  # stratified | clustered | blocks
    clusters: np.ndarray | None = None  # int codes per row
    order: np.ndarray | None = None  # enrolment order (blocks)
    block_sizes: Sequence[int] = ()

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One assignment of every row: arm codes, from the same functions patas assigns with."""
        if self.procedure == "clustered" or (
            self.clusters is not None and self.procedure == "stratified"
        ):
            assert self.clusters is not None
            return assign.clustered_within_strata(self.strata, self.clusters, self.arms, rng).arm
        if self.procedure == "blocks":
            order = self.order if self.order is not None else np.arange(self.strata.size)
            return assign.blocks_within_strata(
                self.strata, order, self.arms, self.block_sizes, rng
            ).arm
        return assign.complete_within_strata(self.strata, self.arms, rng).arm


def draw_many(design: Design, draws: int, seed: int) -> np.ndarray:
    """(draws, rows) arm codes from `seed`; the batch procedure runs all draws at once."""
    rng = np.random.default_rng(seed)
    if design.procedure == "stratified" and design.clusters is None:
        arm = assign.complete_within_strata_many(design.strata, design.arms, rng, draws)[0]
        return arm.astype(np.int8)
    out = np.empty((draws, design.strata.size), dtype=np.int8)
    for d in range(draws):
        out[d] = design.draw(rng)
    return out


@dataclass
class _OutcomeParts:
    """One outcome's pieces for the RI products: where its columns sit in the stacked matrices."""

    w0: int  # columns of v: 1 (additive) or 1 + covariates (Lin)
    kb: int  # rank of the covariate basis
    counts: np.ndarray  # rows per stratum in the outcome's sample
    dense: slice
    sparse: slice


def _outcome_features(
    y: np.ndarray, rows: np.ndarray, strata: np.ndarray, covariates: np.ndarray, lin: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(dense features, sparse column index, sparse values, stratum counts, kb) for one outcome."""
    n = rows.size
    codes = compact(strata[rows])
    counts = np.bincount(codes).astype(float)
    cov = covariates[rows]
    xc = cov - cov.mean(axis=0) if cov.shape[1] else cov
    basis = np.zeros((n, 0))
    if xc.shape[1]:
        q, r = np.linalg.qr(demean(codes, xc))
        basis = q[:, np.abs(r.diagonal()) > 1e-10 * max(1.0, np.abs(r).max())]
    yt = demean(codes, y[rows].astype(float))
    if basis.shape[1]:
        yt = yt - basis @ (basis.T @ yt)
    v = np.hstack([np.ones((n, 1)), xc]) if lin else np.ones((n, 1))  # t * v = arm columns
    w0 = v.shape[1]
    dense = np.hstack(
        [
            (v[:, :, None] * v[:, None, :]).reshape(n, -1),  # Z'Z
            (basis[:, :, None] * v[:, None, :]).reshape(n, -1),  # B'Z
            v * yt[:, None],  # Z'My
        ]
    )
    sparse_cols = codes[:, None] * w0 + np.arange(w0)[None, :]  # D'Z
    return dense, sparse_cols, v, counts, basis.shape[1]


def ri_coefficients_many(
    outcomes: Sequence[tuple[np.ndarray, np.ndarray]],
    arm_draws: np.ndarray,
    n_arms: int,
    strata: np.ndarray,
    covariates: np.ndarray,
    lin: bool,
    chunk: int = 250,
) -> list[np.ndarray]:
    """The arms' coefficients for every draw, for several outcomes: one (draws, n_arms-1) each.

    `outcomes` are (y over all rows, the outcome's analysis rows); arm_draws is (draws, all rows).
    By FWL the arm columns Z (arm dummies t, and t * centred covariates with Lin) are regressed
    on y after projecting out the stratum dummies D and the fixed covariates (basis B). Every
    piece of Z'MZ = Z'Z - Z'D(D'D)^-1 D'Z - Z'BB'Z and of Z'My is a sum over the treated rows,
    so for all draws and all outcomes at once it is one product of the 0/1 draw matrix with a
    stacked feature matrix (rows outside an outcome's sample are zero); only small
    (arms x covariates) systems are solved per draw.
    """
    n_all = arm_draws.shape[1]
    dense_parts, sp_rows, sp_cols, sp_vals, meta = [], [], [], [], []
    d_at = s_at = 0
    for y, rows in outcomes:
        dense, cols, v, counts, kb = _outcome_features(y, rows, strata, covariates, lin)
        full = np.zeros((n_all, dense.shape[1]))
        full[rows] = dense
        dense_parts.append(full)
        w0 = v.shape[1]
        sp_rows.append(np.repeat(rows, w0))
        sp_cols.append((cols + s_at).ravel())
        sp_vals.append(v.ravel())
        width_s = counts.size * w0
        meta.append(
            _OutcomeParts(
                w0, kb, counts, slice(d_at, d_at + dense.shape[1]), slice(s_at, s_at + width_s)
            )
        )
        d_at += dense.shape[1]
        s_at += width_s
    dense_all = np.hstack(dense_parts)
    by_stratum = sparse.csr_matrix(
        (np.concatenate(sp_vals), (np.concatenate(sp_cols), np.concatenate(sp_rows))),
        shape=(s_at, n_all),
    )
    n_draws = arm_draws.shape[0]
    results = [np.empty((n_draws, n_arms - 1)) for _ in meta]
    for start in range(0, n_draws, chunk):
        block = arm_draws[start : start + chunk]
        c = block.shape[0]
        sums = []
        for a in range(1, n_arms):
            t = (block == a).astype(float)
            sums.append((t @ dense_all, np.asarray(by_stratum @ t.T).T))
        for o, m in enumerate(meta):
            results[o][start : start + c] = _solve_chunk(m, sums, c, n_arms)
    return results


def _solve_chunk(m: _OutcomeParts, sums: list, c: int, n_arms: int) -> np.ndarray:
    w0, kb = m.w0, m.kb
    cuts = np.cumsum([w0 * w0, kb * w0])
    parts = []
    for dense, by_stratum in sums:
        zz, bz, zy = np.split(dense[:, m.dense], cuts, axis=1)
        dz = by_stratum[:, m.sparse].reshape(c, -1, w0)
        parts.append((zz.reshape(c, w0, w0), dz, bz.reshape(c, kb, w0), zy))
    width = (n_arms - 1) * w0
    gram = np.zeros((c, width, width))
    rhs = np.zeros((c, width))
    for i, (zz_i, dz_i, bz_i, zy_i) in enumerate(parts):
        rhs[:, i * w0 : (i + 1) * w0] = zy_i
        for j, (_, dz_j, bz_j, _) in enumerate(parts):
            g = -np.einsum("csi,s,csj->cij", dz_i, 1 / m.counts, dz_j)
            g -= np.einsum("cki,ckj->cij", bz_i, bz_j)
            if i == j:
                g += zz_i
            gram[:, i * w0 : (i + 1) * w0, j * w0 : (j + 1) * w0] = g
    return solve_arms(gram, rhs, w0, n_arms)


def solve_arms(gram: np.ndarray, rhs: np.ndarray, w0: int, n_arms: int) -> np.ndarray:
    """The arm coefficients of each draw's normal equations (c, w, w) x (c, w).

    A re-drawn assignment can leave an outcome's complete cases with no variation of an arm
    inside the fixed effects, or make Lin interactions collinear. Such systems are (nearly)
    singular and a plain solve returns roundoff-sized garbage rather than an error. So: draws
    whose normalised Gram determinant is tiny are solved by eigendecomposition, dropping the
    null directions; an arm whose coefficient moves along a null direction is not identified
    and is NaN (left out of the p-value; the report states how many draws were used). An arm
    orthogonal to the null directions is identified and gets its unique value.
    """
    c = gram.shape[0]
    d = np.sqrt(np.abs(np.einsum("cii->ci", gram)))
    d[d == 0] = 1.0  # a column with no variation: its zero row makes the system singular
    normed = gram / (d[:, :, None] * d[:, None, :])
    b = rhs / d
    sign, logdet = np.linalg.slogdet(normed)
    fine = (sign > 0) & (logdet > np.log(SINGULAR_TOL))
    out = np.full((c, n_arms - 1), np.nan)
    if fine.any():
        sol = np.linalg.solve(normed[fine], b[fine][:, :, None])[:, :, 0]
        out[fine] = (sol / d[fine])[:, ::w0]
    for k in np.flatnonzero(~fine):
        out[k] = (_solve_degenerate(normed[k], b[k], w0) / d[k])[::w0]
    return out


def _solve_degenerate(normed: np.ndarray, b: np.ndarray, w0: int) -> np.ndarray:
    """Minimum-norm solution of one singular system; NaN for arms that are not identified."""
    lam, vec = np.linalg.eigh(normed)
    null = lam <= SINGULAR_TOL * max(float(lam.max()), 1.0)
    keep = vec[:, ~null]
    sol = keep @ ((keep.T @ b) / lam[~null])
    arms = np.arange(0, normed.shape[0], w0)
    moved = (np.abs(vec[np.ix_(arms, np.flatnonzero(null))]) > 1e-6).any(axis=1)
    sol[arms[moved]] = np.nan
    return sol


def ri_coefficients(
    y: np.ndarray,
    arm_draws: np.ndarray,
    n_arms: int,
    strata: np.ndarray,
    covariates: np.ndarray,
    lin: bool,
) -> np.ndarray:
    """One outcome, every row of y in the sample: (draws, n_arms-1) coefficients."""
    rows = np.arange(y.size)
    return ri_coefficients_many([(y, rows)], arm_draws, n_arms, strata, covariates, lin)[0]


def ri_pvalue(observed: float, drawn: np.ndarray) -> tuple[float, float]:
    """Two-sided RI p-value and its Monte Carlo standard error (unidentified draws left out)."""
    drawn = drawn[np.isfinite(drawn)]
    if drawn.size == 0 or not np.isfinite(observed):
        return np.nan, np.nan
    bar = abs(observed) * (1 - TOLERANCE) - 1e-12
    p = float(np.mean(np.abs(drawn) >= bar))
    return p, float(np.sqrt(p * (1 - p) / drawn.size))


def sharpened_q(pvalues: Sequence[float] | np.ndarray, step: float = 0.001) -> np.ndarray:
    """Anderson (2008) sharpened FDR q-values (Benjamini, Krieger and Yekutieli 2006 two-stage).

    For every level q on a grid (0.001 .. 1): stage one runs Benjamini-Hochberg at q/(1+q) and
    rejects r1 hypotheses; stage two runs it at q/(1+q) * m/(m - r1). A hypothesis' q-value is
    the smallest grid q at which stage two rejects it (1 if never). Missing p-values stay NaN;
    tied p-values share the highest of their ranks.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    sorted_p = np.sort(pv)
    rank = np.searchsorted(sorted_p, pv, side="right")  # ties: the highest rank
    ranks = np.arange(1, m + 1)
    grid = np.arange(1, int(round(1 / step)) + 1) * step
    q1 = grid / (1 + grid)
    below1 = sorted_p[None, :] <= q1[:, None] * ranks[None, :] / m
    r1 = np.where(below1.any(axis=1), m - np.argmax(below1[:, ::-1], axis=1), 0)
    with np.errstate(divide="ignore"):
        q2 = np.where(r1 < m, q1 * m / np.maximum(m - r1, 1), np.inf)
    below2 = sorted_p[None, :] <= q2[:, None] * ranks[None, :] / m
    r2 = np.where(below2.any(axis=1), m - np.argmax(below2[:, ::-1], axis=1), 0)
    # q-value of rank r: the smallest grid q with r <= r2(q)
    qv = np.ones(m)
    for j in range(grid.size - 1, -1, -1):
        qv[rank <= r2[j]] = grid[j]
    out[ok] = qv
    return out
