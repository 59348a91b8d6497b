"""Reading trial data files (.csv, .dta, .parquet)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class DataFileError(ValueError):
    """The data file cannot be read."""


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".dta":
            return pd.read_stata(path, convert_categoricals=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from exc
    raise DataFileError(f"unknown data file type {suffix!r}: use .csv, .dta or .parquet")


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".dta":
        frame.to_stata(path, write_index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
