"""The published numbers the book sets beside its own (``data/published.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .paths import DEFAULT_PUBLISHED

__all__ = ["load_published"]


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """The published numbers that the book sets beside its own (``data/published.csv``).

    Columns: ``key``, ``outcome``, ``analysis``, ``group``, ``statistic``, ``value`` (as
    printed, e.g. ``"80.3"`` or ``"<0.0001"``), ``source``. Adds ``relation`` (``"="`` or
    ``"<"``), the numeric ``number`` and the printed ``decimals``.
    """
    path = Path(path) if path is not None else DEFAULT_PUBLISHED
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    required = ["key", "outcome", "analysis", "group", "statistic", "value", "source"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(path, [Problem("(all)", c, "required column is missing") for c in missing], "published numbers")
    duplicated = table["key"][table["key"].duplicated()]
    if not duplicated.empty:
        raise InputError(path, [Problem(k, "key", "duplicate key", "number") for k in duplicated], "published numbers")
    text = table["value"].str.strip()
    table["relation"] = np.where(text.str.startswith("<"), "<", "=")
    digits = text.str.lstrip("<").str.strip()
    bad = [k for k, d in zip(table["key"], digits) if not re.fullmatch(r"-?\d+(\.\d+)?", d)]
    if bad:
        raise InputError(path, [Problem(k, "value", "not a number", "number") for k in bad], "published numbers")
    table["number"] = digits.astype(float)
    table["decimals"] = digits.str.partition(".")[2].str.len()
    return table


