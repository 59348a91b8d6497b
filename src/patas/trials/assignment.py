"""Random assignment: pure functions of (units, design, a seeded numpy Generator).

The same functions assign men inside patas (`actions`), assign lists from outside
(`patas assign`), and re-run the design for randomisation inference (`inference`).

Procedures
- complete randomisation within strata (``stratified``; one stratum = complete randomisation);
  with clusters, the clusters are the units (``clustered``, blocked-and-clustered);
- sequential permuted blocks within strata (``blocks``) for men who enrol one at a time.

Misfits rule. Arms have integer weights, e.g. control:1, treatment:1 or 2:1:1; their sum W is
the ratio. In a stratum of n units, the first W * (n // W) units in a random order get exactly
the arm ratio; the remaining n mod W units ("misfits") each get an arm drawn independently with
the arm probabilities w / W. Misfits are flagged in the record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

PROCEDURES = ("stratified", "clustered", "blocks")


class DesignError(ValueError):
    """The design cannot be carried out (bad arms, a cluster split across strata...)."""


@dataclass(frozen=True)
class Arms:
    """Arm names with integer weights, in a fixed order (the first is the reference arm)."""

    names: tuple[str, ...]
    weights: tuple[int, ...]

    @classmethod
    def parse(cls, spec: str | Sequence[tuple[str, int]] | Mapping[str, int]) -> Arms:
        """'control:1,treatment:1' or [('control', 1), ...] or {'control': 1, ...}."""
        pairs: list[tuple[str, int]] = []
        if isinstance(spec, str):
            for part in spec.split(","):
                name, _, weight = part.strip().partition(":")
                try:
                    pairs.append((name.strip(), int(weight or 1)))
                except ValueError as exc:
                    raise DesignError(f"arm weight is not an integer: {part!r}") from exc
        elif isinstance(spec, Mapping):
            pairs = [(str(k), int(v)) for k, v in spec.items()]
        else:
            pairs = [(str(k), int(v)) for k, v in spec]
        names = tuple(p[0] for p in pairs)
        weights = tuple(p[1] for p in pairs)
        if len(names) < 2:
            raise DesignError("a trial needs at least two arms")
        if len(set(names)) != len(names) or any(not n for n in names):
            raise DesignError(f"arm names must be distinct and non-empty: {names}")
        if any(w < 1 for w in weights):
            raise DesignError(f"arm weights must be positive integers: {weights}")
        return cls(names, weights)

    @property
    def ratio(self) -> int:
        return sum(self.weights)

    @property
    def pattern(self) -> np.ndarray:
        """One full ratio of arm codes, e.g. [0, 1] for 1:1 or [0, 0, 1, 2] for 2:1:1."""
        return np.repeat(np.arange(len(self.names)), self.weights)

    @property
    def probabilities(self) -> np.ndarray:
        return np.asarray(self.weights, dtype=float) / self.ratio


@dataclass(frozen=True)
class Draw:
    """One assignment of n units: arm codes (index into Arms.names) and the misfit flags."""

    arm: np.ndarray
    misfit: np.ndarray


def stratum_codes(labels: Sequence[object] | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes for stratum labels (sorted, so codes do not depend on row order)."""
    codes, names = pd.factorize(pd.Series(labels, dtype="string").fillna("nan"), sort=True)
    return codes.astype(np.int64), [str(n) for n in names]


def stratum_index(frame: pd.DataFrame, strata: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Stratum codes straight from the columns (fast on a million rows), with their labels
    'a=1|b=x' in the order of the sorted column values."""
    if not strata:
        return np.zeros(len(frame), dtype=np.int64), [""]
    combined = np.zeros(len(frame), dtype=np.int64)
    levels: list[np.ndarray] = []
    for column in strata:
        codes, uniques = pd.factorize(frame[column].astype("string").fillna("nan"), sort=True)
        combined = combined * len(uniques) + codes
        levels.append(np.asarray(uniques, dtype=object))
    present, dense = np.unique(combined, return_inverse=True)
    names = []
    for value in present:
        parts = []
        for column, level in zip(reversed(strata), reversed(levels), strict=True):
            value, index = divmod(int(value), len(level))
            parts.append(f"{column}={level[index]}")
        names.append("|".join(reversed(parts)))
    return dense.astype(np.int64), names


def complete_within_strata(codes: np.ndarray, arms: Arms, rng: np.random.Generator) -> Draw:
    """Complete randomisation within each stratum (codes: one int per unit), misfits by rule."""
    arm, misfit = complete_within_strata_many(codes, arms, rng, 1)
    return Draw(arm[0], misfit)


def complete_within_strata_many(
    codes: np.ndarray, arms: Arms, rng: np.random.Generator, draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """`draws` independent runs of the procedure at once: ((draws, n) arm codes, misfit flags).

    One random key per unit; units sorted by (stratum, key); the rank inside the stratum picks
    the arm from the repeated ratio pattern; ranks past the last full ratio are the misfits and
    get arms drawn with the arm probabilities. Which units are misfits varies with the keys; the
    flags returned are those of the first run.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = codes.size
    keys = rng.random((draws, n))
    order = np.argsort(codes[None, :] + keys, axis=1, kind="stable")
    sorted_codes = np.sort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(n) - starts[sorted_codes]
    full = (sizes // arms.ratio) * arms.ratio
    is_misfit = rank >= full[sorted_codes]
    arm_sorted = np.tile(arms.pattern[rank % arms.ratio], (draws, 1))
    n_misfits = int(is_misfit.sum())
    if n_misfits:
        arm_sorted[:, is_misfit] = rng.choice(
            len(arms.names), size=(draws, n_misfits), p=arms.probabilities
        )
    arm = np.empty((draws, n), dtype=np.int64)
    np.put_along_axis(arm, order, arm_sorted, axis=1)
    misfit = np.empty(n, dtype=bool)
    misfit[order[0]] = is_misfit
    return arm, misfit


def cluster_index(clusters: Sequence[object] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cluster code per row, first row of each cluster)."""
    codes, _ = pd.factorize(pd.Series(clusters, dtype="string").fillna("nan"), sort=True)
    _, first = np.unique(codes, return_index=True)
    return codes.astype(np.int64), first


def clustered_within_strata(
    codes: np.ndarray, clusters: np.ndarray, arms: Arms, rng: np.random.Generator
) -> Draw:
    """Clusters are the units; every row of a cluster gets its cluster's arm.

    `clusters` are cluster codes from `cluster_index`; a cluster must lie in one stratum.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if clusters.size else 0
    cluster_stratum = np.full(n_clusters, -1, dtype=np.int64)
    cluster_stratum[clusters] = codes
    if np.any(cluster_stratum[clusters] != codes):
        raise DesignError("a cluster spans more than one stratum")
    at_cluster = complete_within_strata(cluster_stratum, arms, rng)
    return Draw(at_cluster.arm[clusters], at_cluster.misfit[clusters])


def permuted_block(arms: Arms, block_sizes: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """One permuted block: its size drawn at random from `block_sizes` (multiples of the ratio)."""
    size = int(rng.choice(np.asarray(block_sizes)))
    if size % arms.ratio:
        raise DesignError(f"block size {size} is not a multiple of the arm ratio {arms.ratio}")
    return rng.permutation(np.tile(arms.pattern, size // arms.ratio))


def check_block_sizes(arms: Arms, block_sizes: Sequence[int]) -> None:
    bad = [b for b in block_sizes if b < 1 or b % arms.ratio]
    if not block_sizes or bad:
        raise DesignError(f"block sizes must be multiples of the arm ratio {arms.ratio}: {bad}")


def blocks_within_strata(
    codes: np.ndarray,
    order: np.ndarray,
    arms: Arms,
    block_sizes: Sequence[int],
    rng: np.random.Generator,
) -> Draw:
    """Sequential permuted blocks within strata, units taken in `order` (enrolment order).

    No misfits: an unfinished last block is simply cut off.
    """
    check_block_sizes(arms, block_sizes)
    codes = np.asarray(codes, dtype=np.int64)
    arm = np.empty(codes.size, dtype=np.int64)
    for stratum in np.unique(codes):
        rows = np.flatnonzero(codes == stratum)
        rows = rows[np.argsort(np.asarray(order)[rows], kind="stable")]
        sequence: list[np.ndarray] = []
        filled = 0
        while filled < rows.size:
            block = permuted_block(arms, block_sizes, rng)
            sequence.append(block)
            filled += block.size
        arm[rows] = np.concatenate(sequence)[: rows.size]
    return Draw(arm, np.zeros(codes.size, dtype=bool))


def stratum_seed(seed: int, stratum: str) -> int:
    """A stable 63-bit number for a stratum label (Python's hash() changes between runs)."""
    digest = hashlib.sha256(f"{seed}:{stratum}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def block_for(seed: int, stratum: str, block: int, arms: Arms, sizes: Sequence[int]) -> np.ndarray:
    """Block number `block` of a stratum in a sequential design: reproducible from the seed."""
    rng = np.random.default_rng([seed, stratum_seed(seed, stratum), block])
    return permuted_block(arms, sizes, rng)


def next_sequential(
    seed: int, stratum: str, last: tuple[int, int] | None, arms: Arms, sizes: Sequence[int]
) -> tuple[int, int, int]:
    """The arm of the next man in a stratum: (arm code, block number, position in block).

    `last` is (block, position) of the previous man in this stratum, or None for the first.
    """
    check_block_sizes(arms, sizes)
    block, position = (0, 0) if last is None else (last[0], last[1] + 1)
    sequence = block_for(seed, stratum, block, arms, sizes)
    if position >= sequence.size:
        block, position = block + 1, 0
        sequence = block_for(seed, stratum, block, arms, sizes)
    return int(sequence[position]), block, position


def groups_for(
    n_units: int, n_groups: int, rng: np.random.Generator, baseline: np.ndarray | None = None
) -> np.ndarray:
    """Second stage: a group number (0..n_groups-1) for each unit, sizes differing by at most 1.

    Random: a random order dealt round-robin. Stratified by a baseline variable: units sorted by
    it (ties and missing values broken at random), then each consecutive run of n_groups units
    is spread over the groups in a random order, so every group gets a similar mix.
    """
    if n_groups < 1:
        raise DesignError("the number of groups must be at least 1")
    if baseline is None:
        order = rng.permutation(n_units)
        groups = np.empty(n_units, dtype=np.int64)
        groups[order] = np.arange(n_units) % n_groups
        return groups
    values = np.asarray(baseline, dtype=float)
    if values.size != n_units:
        raise DesignError("the baseline variable has a different length than the units")
    filled = np.where(np.isnan(values), np.inf, values)
    order = np.lexsort((rng.random(n_units), filled))
    groups = np.empty(n_units, dtype=np.int64)
    for start in range(0, n_units, n_groups):
        run = order[start : start + n_groups]
        groups[run] = rng.permutation(n_groups)[: run.size]
    return groups


def assign_frame(
    units: pd.DataFrame,
    id_column: str,
    strata: Sequence[str],
    arms: Arms,
    seed: int,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Batch mode on a table: one row per unit in, the same rows plus arm/stratum/misfit out.

    Units are sorted by id first, so the result depends on the seed and the list, not on the
    order of its rows. This is the code path of `patas assign` and of `actions.assign_batch`.
    """
    missing = [c for c in [id_column, *strata, *([cluster] if cluster else [])] if c not in units]
    if missing:
        raise DesignError(f"column(s) not in the data: {', '.join(missing)}")
    ids = units[id_column].astype(str)
    if ids.duplicated().any():
        raise DesignError(
            f"unit ids repeat in column {id_column!r}: {ids[ids.duplicated()].iloc[0]}"
        )
    frame = units.assign(**{id_column: ids}).sort_values(id_column, kind="stable")
    frame = frame.reset_index(drop=True)
    labels = stratum_labels(frame, strata)
    codes, _ = stratum_codes(labels)
    rng = np.random.default_rng(seed)
    if cluster:
        clusters, _ = cluster_index(frame[cluster].astype(str).to_numpy())
        draw = clustered_within_strata(codes, clusters, arms, rng)
    else:
        draw = complete_within_strata(codes, arms, rng)
    return frame.assign(
        stratum=labels,
        arm=np.asarray(arms.names, dtype=object)[draw.arm],
        misfit=draw.misfit,
    )


def stratum_labels(frame: pd.DataFrame, strata: Sequence[str]) -> np.ndarray:
    """'batch=1|violence=none' per row; '' when there are no strata."""
    if not strata:
        return np.full(len(frame), "", dtype=object)
    parts = [f"{c}=" + frame[c].astype(str) for c in strata]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "|" + part
    return joined.to_numpy(dtype=object)
