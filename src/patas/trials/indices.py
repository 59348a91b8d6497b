"""Summary indices of several outcome items.

Both indices first standardise each item by the control group's mean and standard deviation
(ddof=1), so effects are in control-group SD units. An item written "-name" is reversed.

- KLK (Kling, Liebman and Katz 2007): the mean of the available standardised items.
- ICW (Anderson 2008): a weighted mean of the available standardised items, the weights being
  the row sums of the inverse of their covariance matrix (pairwise-complete, all rows), so items
  that repeat each other count less.

Missing components: a row's index uses the items it has (the weights of the missing ones
dropped); a row with none of the items, or fewer than `min_items`, is missing. The index is
then re-standardised by the control group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


class IndexBuildError(ValueError):
    """An index cannot be built (an item missing or constant in the control group)."""


def item_columns(items: Sequence[str]) -> list[tuple[str, float]]:
    return [(i[1:], -1.0) if i.startswith("-") else (i, 1.0) for i in items]


def standardise(data: pd.DataFrame, items: Sequence[str], control: np.ndarray) -> np.ndarray:
    """(rows, items) z-scores against the control group; NaN where missing."""
    cols = []
    for name, sign in item_columns(items):
        x = sign * pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        ref = x[control & np.isfinite(x)]
        if ref.size < 2 or np.std(ref, ddof=1) == 0:
            raise IndexBuildError(f"index item {name!r} has no variation in the control group")
        cols.append((x - ref.mean()) / np.std(ref, ddof=1))
    return np.column_stack(cols)


def _finish(values: np.ndarray, counts: np.ndarray, control: np.ndarray, min_items: int):
    values = np.where(counts >= min_items, values, np.nan)
    ref = values[control & np.isfinite(values)]
    if ref.size < 2 or np.std(ref, ddof=1) == 0:
        raise IndexBuildError("the index has no variation in the control group")
    return (values - ref.mean()) / np.std(ref, ddof=1)


def klk(
    data: pd.DataFrame, items: Sequence[str], control: np.ndarray, min_items: int = 1
) -> np.ndarray:
    z = standardise(data, items, control)
    counts = np.isfinite(z).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.nansum(z, axis=1) / np.where(counts > 0, counts, np.nan)
    return _finish(mean, counts, control, min_items)


def icw_weights(z: np.ndarray) -> np.ndarray:
    cov = pd.DataFrame(z).cov().to_numpy()
    return np.linalg.pinv(cov).sum(axis=1)


def icw(
    data: pd.DataFrame, items: Sequence[str], control: np.ndarray, min_items: int = 1
) -> np.ndarray:
    z = standardise(data, items, control)
    weights = icw_weights(z)
    present = np.isfinite(z)
    total = (present * weights[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(present, z, 0.0) @ weights / np.where(total != 0, total, np.nan)
    return _finish(value, present.sum(axis=1), control, min_items)


def build(
    data: pd.DataFrame, method: str, items: Sequence[str], control: np.ndarray, min_items: int = 1
) -> np.ndarray:
    if method == "icw":
        return icw(data, items, control, min_items)
    return klk(data, items, control, min_items)
