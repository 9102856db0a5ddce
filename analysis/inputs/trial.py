"""The CRB-401 trial's own tables (Raje et al. 2019): best response by dose group and
adverse events by grade, read by the one checked reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import DATA_DIR
from .reader import Table, counts, read_csv

__all__ = ["RESPONSES", "load_dose_table", "load_adverse_events"]

#: Best-response categories of the dose table.
RESPONSES = ["scr", "cr", "vgpr", "pr", "sd", "pd"]


def _counted(table: Table, columns: list[str]) -> tuple[pd.DataFrame, list]:
    """The table with ``columns`` as exact whole numbers, and the problems found."""
    problems, values = [], {}
    for column in columns:
        parsed = counts(table, column)
        problems += [table.problem(i, column, parsed.errors[i] or "is blank")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
        values[column] = np.nan_to_num(parsed.values).astype(np.int64)
    return table.cells.assign(**values), problems


def load_dose_table(path: str | Path | None = None) -> pd.DataFrame:
    """Best response by dose group (``data/crb401_response.csv``), checked: whole
    numbers, dose groups given once, the response categories add up to n and responders
    are sCR + CR + VGPR + PR."""
    columns = ["dose_millions", "n", "responders", *RESPONSES]
    table = read_csv(Path(path) if path is not None else DATA_DIR / "crb401_response.csv", what="dose table",
                     required=["dose_group", *columns], optional=["bcma_stratum"], kind="dose group", key="dose_group")
    doses, problems = _counted(table, columns)
    problems += [table.problem(i, "dose_group", "dose group appears twice")
                 for i in np.flatnonzero(doses["dose_group"].duplicated().to_numpy())]
    problems += [table.problem(i, "n", "n must be at least 1") for i in np.flatnonzero((doses["n"] < 1).to_numpy())]
    if not problems:
        for i, row in doses.iterrows():
            if row[RESPONSES].sum() != row["n"]:
                problems.append(table.problem(i, "n", f"response categories add up to {row[RESPONSES].sum()}, not n = {row['n']}"))
            if row[["scr", "cr", "vgpr", "pr"]].sum() != row["responders"]:
                problems.append(table.problem(i, "responders", "responders are not sCR + CR + VGPR + PR"))
    table.refuse(problems)
    return doses


def load_adverse_events(path: str | Path | None = None, n: int = 33) -> pd.DataFrame:
    """Adverse events by grade (``data/crb401_adverse_events.csv``), checked against the
    ``n`` patients treated (rates: :func:`analysis.meta.single_arm.adverse_event_rates`)."""
    columns = ["any_grade", "grade3", "grade4"]
    table = read_csv(Path(path) if path is not None else DATA_DIR / "crb401_adverse_events.csv", what="adverse-event table",
                     required=["event", *columns], optional=["category"], kind="adverse event", key="event")
    events, problems = _counted(table, columns)
    if not problems:
        severe = events["grade3"] + events["grade4"]
        problems += [table.problem(i, "any_grade", f"counts exceed n = {n} or grade >= 3 exceeds any grade")
                     for i in np.flatnonzero(((events["any_grade"] > n) | (severe > events["any_grade"])).to_numpy())]
    table.refuse(problems)
    return events
