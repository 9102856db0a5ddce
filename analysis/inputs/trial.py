"""The CRB-401 trial's own tables (Raje et al. 2019): best response by dose group and
adverse events by grade."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .paths import DATA_DIR

__all__ = ["RESPONSES", "load_dose_table", "load_adverse_events"]

#: Best-response categories of the dose table.
RESPONSES = ["scr", "cr", "vgpr", "pr", "sd", "pd"]
DOSE_TABLE = "dose table"
EVENT_TABLE = "adverse-event table"


def _read_counts(path: Path, key: str, counts: list[str], kind: str, what: str) -> pd.DataFrame:
    """A table keyed by ``key`` whose ``counts`` columns must be whole numbers >= 0."""
    table = pd.read_csv(path)
    missing = [c for c in [key, *counts] if c not in table]
    if missing:
        raise InputError(path, [Problem("(all)", c, "required column is missing", kind) for c in missing], what)
    problems = []
    for column in counts:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | (values < 0) | (values != values.round())
        problems += [Problem(str(table.loc[i, key]), column, f"{table.loc[i, column]!r} is not a whole number >= 0", kind)
                     for i in table.index[bad]]
    if problems:
        raise InputError(path, problems, what)
    return table


def load_dose_table(path: str | Path | None = None) -> pd.DataFrame:
    """Best response by dose group (``data/crb401_response.csv``), checked: the response
    categories add up to n and responders are sCR + CR + VGPR + PR."""
    path = Path(path) if path is not None else DATA_DIR / "crb401_response.csv"
    table = _read_counts(path, "dose_group", ["dose_millions", "n", "responders", *RESPONSES], "dose group", DOSE_TABLE)
    problems = []
    for _, row in table.iterrows():
        if row[RESPONSES].sum() != row["n"]:
            problems.append(Problem(row["dose_group"], "n", f"response categories add up to {row[RESPONSES].sum()}, not n = {row['n']}", "dose group"))
        if row[["scr", "cr", "vgpr", "pr"]].sum() != row["responders"]:
            problems.append(Problem(row["dose_group"], "responders", "responders are not sCR + CR + VGPR + PR", "dose group"))
    if problems:
        raise InputError(path, problems, DOSE_TABLE)
    return table


def load_adverse_events(path: str | Path | None = None, n: int = 33) -> pd.DataFrame:
    """Adverse events by grade (``data/crb401_adverse_events.csv``), checked against the
    ``n`` patients treated (rates: :func:`analysis.meta.single_arm.adverse_event_rates`)."""
    path = Path(path) if path is not None else DATA_DIR / "crb401_adverse_events.csv"
    table = _read_counts(path, "event", ["any_grade", "grade3", "grade4"], "adverse event", EVENT_TABLE)
    severe = table["grade3"] + table["grade4"]
    bad = table[(table["any_grade"] > n) | (severe > table["any_grade"])]
    if not bad.empty:
        raise InputError(path, [Problem(e, "any_grade", f"counts exceed n = {n} or grade >= 3 exceeds any grade", "adverse event")
                                for e in bad["event"]], EVENT_TABLE)
    return table


