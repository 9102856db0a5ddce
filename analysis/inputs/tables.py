"""The paper's other printed tables -- its Table 2 (the two lead products) and the
study-selection counts of its PRISMA diagram -- and the record of how the update was
found: its search log and the decision on each cohort considered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import DATA_DIR, UPDATE_DIR
from .reader import choices, counts, dates, numbers, read_csv
from .studies import CHOICE_COLUMNS

__all__ = ["load_table2", "load_prisma", "load_search_log", "load_selection", "DECISIONS", "load_randomized", "ENDPOINTS",
           "load_reporting_checklist", "CHECKLISTS", "STATUSES"]


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


def load_search_log(path: str | Path | None = None) -> pd.DataFrame:
    """The update's search log (``data/update/search_log.csv``): one row per search --
    ``search`` (its number), ``date``, ``query``, ``where_searched``, ``records_screened``
    and ``records_used`` (whole numbers, used at most screened), ``used`` and
    ``excluded_with_reason`` (text)."""
    table = read_csv(Path(path) if path is not None else UPDATE_DIR / "search_log.csv", what="search log",
                     required=["search", "date", "query", "where_searched", "records_screened", "records_used", "used",
                               "excluded_with_reason"], kind="search", key="search")
    problems = []
    parsed = {column: counts(table, column) for column in ("search", "records_screened", "records_used")}
    for column, values in parsed.items():
        problems += [table.problem(i, column, values.errors[i] or "is blank")
                     for i in np.flatnonzero((values.errors != "") | values.blank)]
    when = dates(table, "date", allow_nd=False)
    problems += [table.problem(i, "date", when.errors[i] or "is blank") for i in np.flatnonzero((when.errors != "") | when.blank)]
    problems += [table.problem(i, "search", "search number appears twice")
                 for i in np.flatnonzero(table.cells["search"].duplicated().to_numpy())]
    with np.errstate(invalid="ignore"):
        over = parsed["records_used"].values > parsed["records_screened"].values
    problems += [table.problem(i, "records_used", "more records used than screened") for i in np.flatnonzero(over)]
    table.refuse(problems)
    return table.cells.assign(**{column: values.values.astype(np.int64) for column, values in parsed.items()})


#: What became of a cohort considered for the update.
DECISIONS = ("replaces a 2020 row", "included", "sensitivity analysis only", "excluded")


def load_selection(path: str | Path | None = None) -> pd.DataFrame:
    """The decision on each cohort considered for the update
    (``data/update/selection.csv``): ``cohort``, ``trial``, ``decision`` (one of
    :data:`DECISIONS`) and its ``reason`` (never blank)."""
    table = read_csv(Path(path) if path is not None else UPDATE_DIR / "selection.csv", what="selection of cohorts",
                     required=["cohort", "trial", "decision", "reason"], kind="cohort", key="cohort")
    decision = choices(table, "decision", DECISIONS)
    problems = [table.problem(i, "decision", decision.errors[i] or "is blank")
                for i in np.flatnonzero((decision.errors != "") | decision.blank)]
    problems += [table.problem(i, "reason", "a decision needs its reason")
                 for i in np.flatnonzero((table.cells["reason"] == "").to_numpy())]
    problems += [table.problem(i, "cohort", "cohort appears twice")
                 for i in np.flatnonzero(table.cells["cohort"].duplicated().to_numpy())]
    table.refuse(problems)
    return table.cells.assign(decision=decision.values)


#: The time-to-event endpoints of the randomized trials' table.
ENDPOINTS = ("PFS", "OS")
_RANDOMIZED = ["trial", "registration", "cart", "comparator", "endpoint", "analysis", "data_cut", "followup_months",
               "n_cart", "n_control", "hr", "hr_ci_low", "hr_ci_high", "median_cart", "median_control", "crossover_pct",
               "crossover_note", "source_type", "source", "url"]


def load_randomized(path: str | Path | None = None) -> pd.DataFrame:
    """The randomized trials' hazard ratios (``data/update/randomized.csv``): one row per
    trial, endpoint (:data:`ENDPOINTS`) and analysis, the CAR-T arm against its
    comparator: the hazard ratio with its 95% CI (positive, in order), medians and
    follow-up in months (``ND`` allowed), arm sizes, crossover (%), the kind of source and
    the source. Numbers come back as floats (NaN for ``ND``)."""
    table = read_csv(Path(path) if path is not None else UPDATE_DIR / "randomized.csv", what="randomized trials",
                     required=_RANDOMIZED, kind="trial", key="trial")
    cells, problems = table.cells, []

    def refuse(parsed, column: str, blank_ok: bool = False) -> None:
        bad = (parsed.errors != "") | (parsed.blank & (not blank_ok))
        problems.extend(table.problem(i, column, parsed.errors[i] or "is blank") for i in np.flatnonzero(bad))

    parsed = {}
    for column in ("hr", "hr_ci_low", "hr_ci_high"):
        parsed[column] = numbers(table, column, 1e-6, 1e6)
        refuse(parsed[column], column)
    for column in ("followup_months", "median_cart", "median_control"):
        parsed[column] = numbers(table, column, 0.0, 600.0, allow_nd=True)
        refuse(parsed[column], column)
    parsed["crossover_pct"] = numbers(table, "crossover_pct", 0.0, 100.0, allow_nd=True)
    refuse(parsed["crossover_pct"], "crossover_pct", blank_ok=True)
    for column in ("n_cart", "n_control"):
        parsed[column] = counts(table, column)
        refuse(parsed[column], column)
    for column, options in (("endpoint", ENDPOINTS), ("source_type", CHOICE_COLUMNS["source_type"])):
        parsed[column] = choices(table, column, options)
        refuse(parsed[column], column)
    cut = dates(table, "data_cut")
    refuse(cut, "data_cut")
    with np.errstate(invalid="ignore"):
        order = (parsed["hr_ci_low"].values > parsed["hr"].values) | (parsed["hr"].values > parsed["hr_ci_high"].values)
    problems += [table.problem(i, "hr", "the hazard ratio is not inside its CI") for i in np.flatnonzero(order)]
    table.refuse(problems)
    numeric = {c: np.where(parsed[c].nd | parsed[c].blank, np.nan, parsed[c].values).astype(float)
               for c in ("hr", "hr_ci_low", "hr_ci_high", "followup_months", "median_cart", "median_control", "crossover_pct")}
    return cells.assign(**numeric, n_cart=parsed["n_cart"].values.astype(np.int64), n_control=parsed["n_control"].values.astype(np.int64),
                        endpoint=parsed["endpoint"].values, source_type=parsed["source_type"].values)


#: The two PRISMA 2020 checklists and what an item's status may be.
CHECKLISTS = ("main", "abstract")
STATUSES = ("reported", "partly", "not applicable")


def load_reporting_checklist(path: str | Path | None = None) -> pd.DataFrame:
    """Where the book reports each PRISMA 2020 item (``data/reporting/prisma2020.csv``):
    ``checklist`` (:data:`CHECKLISTS`), ``section``, ``item``, ``topic``, ``asks`` (what
    the item asks, in our words), ``status`` (:data:`STATUSES`), ``where`` (a page of the
    book and an anchor, ``page.html#anchor``) and ``note`` (required unless the item is
    simply reported)."""
    table = read_csv(Path(path) if path is not None else DATA_DIR / "reporting" / "prisma2020.csv",
                     what="reporting checklist", required=["checklist", "section", "item", "topic", "asks", "status", "where",
                                                           "note"], kind="item", key="item")
    cells, problems = table.cells, []
    for column, options in (("checklist", CHECKLISTS), ("status", STATUSES)):
        parsed = choices(table, column, options)
        problems += [table.problem(i, column, parsed.errors[i] or "is blank")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
    bad_where = ~cells["where"].str.fullmatch(r"[a-z0-9_]+\.html(#[a-z0-9-]+)?")
    problems += [table.problem(i, "where", "must be a page of the book and an anchor, e.g. quality.html#quality")
                 for i in np.flatnonzero(bad_where.to_numpy() & (cells["status"] != "not applicable").to_numpy())]
    unexplained = (cells["status"].str.lower() != "reported") & (cells["note"] == "")
    problems += [table.problem(i, "note", "an item not simply reported needs its note") for i in np.flatnonzero(unexplained.to_numpy())]
    problems += [table.problem(i, "item", "item appears twice in its checklist")
                 for i in np.flatnonzero(cells[["checklist", "item"]].duplicated().to_numpy())]
    table.refuse(problems)
    return cells.assign(checklist=cells["checklist"].str.lower(), status=cells["status"].str.lower())
