"""The paper's other printed tables: its Table 2 (the two lead products) and the
study-selection counts of its PRISMA diagram."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .paths import DATA_DIR

__all__ = ["load_table2", "load_prisma"]


def _read(path: Path, required: list[str], what: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(path, [Problem("(all)", c, "required column is missing", "row") for c in missing], what)
    return table


def load_table2(path: str | Path | None = None) -> pd.DataFrame:
    """The paper's Table 2 as printed (``data/table2.csv``): one row per characteristic,
    one column per trial."""
    return _read(Path(path) if path is not None else DATA_DIR / "table2.csv", ["section", "characteristic"], "Table 2")


def load_prisma(path: str | Path | None = None) -> pd.DataFrame:
    """The study-selection counts the paper states (``data/prisma.csv``): ``stage``,
    ``count`` (a whole number), ``unit``, ``source``."""
    path = Path(path) if path is not None else DATA_DIR / "prisma.csv"
    table = _read(path, ["stage", "count", "unit", "source"], "selection counts")
    counts = pd.to_numeric(table["count"], errors="coerce")
    bad = counts.isna() | (counts < 0) | (counts != counts.round())
    if bad.any():
        raise InputError(path, [Problem(table.loc[i, "stage"], "count", f"{table.loc[i, 'count']!r} is not a whole number >= 0", "stage")
                                for i in table.index[bad]], "selection counts")
    return table.assign(count=counts.astype(int))
