"""The published numbers the book sets beside its own (``data/published.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..text.quoting import shown
from .paths import DEFAULT_PUBLISHED
from .reader import read_csv

__all__ = ["load_published"]


REQUIRED = ["key", "outcome", "analysis", "group", "statistic", "value", "source"]


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """The published numbers that the book sets beside its own (``data/published.csv``),
    read by the one checked reader.

    Columns: ``key``, ``outcome``, ``analysis``, ``group``, ``statistic``, ``value`` (as
    printed, e.g. ``"80.3"`` or ``"<0.0001"``), ``source``. Adds ``relation`` (``"="`` or
    ``"<"``), the numeric ``number`` and the printed ``decimals``. A key must be
    ``outcome:analysis:group:statistic`` of its row, given once; a value a number.
    """
    table = read_csv(Path(path) if path is not None else DEFAULT_PUBLISHED, what="published numbers", required=REQUIRED,
                     kind="number", key="key")
    cells = table.cells.copy()
    problems = []
    keys = cells["key"]
    problems += [table.problem(i, "key", "duplicate key") for i in np.flatnonzero(keys.duplicated().to_numpy())]
    expected = cells["outcome"] + ":" + cells["analysis"] + ":" + cells["group"] + ":" + cells["statistic"]
    problems += [table.problem(i, "key", f"is not outcome:analysis:group:statistic of its row ({shown(expected.iloc[i])})")
                 for i in np.flatnonzero((keys != expected).to_numpy())]
    text = cells["value"]
    relation = np.where(text.str.startswith("<"), "<", "=")
    digits = text.str.lstrip("<").str.strip()
    problems += [table.problem(i, "value", f"{shown(text.iloc[i])} is not a number (or <number)")
                 for i, d in enumerate(digits) if not re.fullmatch(r"-?\d+(\.\d+)?", d)]
    table.refuse(problems)
    return cells.assign(relation=relation, number=digits.astype(float), decimals=digits.str.partition(".")[2].str.len())
