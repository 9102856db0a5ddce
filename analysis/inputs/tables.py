"""The paper's other printed tables: its Table 2 (the two lead products) and the
study-selection counts of its PRISMA diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import DATA_DIR
from .reader import counts, read_csv

__all__ = ["load_table2", "load_prisma"]


def load_table2(path: str | Path | None = None) -> pd.DataFrame:
    """The paper's Table 2 as printed (``data/table2.csv``): one row per characteristic,
    one column per trial (any trial column is kept)."""
    table = read_csv(Path(path) if path is not None else DATA_DIR / "table2.csv", what="Table 2",
                     required=["characteristic", "section"], kind="characteristic", key="characteristic", allow_unknown=True)
    table.refuse([table.problem(i, "characteristic", "characteristic appears twice")
                  for i in np.flatnonzero(table.cells["characteristic"].duplicated().to_numpy())])
    return table.cells


def load_prisma(path: str | Path | None = None) -> pd.DataFrame:
    """The study-selection counts the paper states (``data/prisma.csv``): ``stage``,
    ``count`` (a whole number), ``unit``, ``source``."""
    table = read_csv(Path(path) if path is not None else DATA_DIR / "prisma.csv", what="selection counts",
                     required=["stage", "count", "unit", "source"], kind="stage", key="stage")
    parsed = counts(table, "count")
    table.refuse([table.problem(i, "count", parsed.errors[i] or "is blank")
                  for i in np.flatnonzero((parsed.errors != "") | parsed.blank)])
    return table.cells.assign(count=parsed.values.astype(np.int64))
