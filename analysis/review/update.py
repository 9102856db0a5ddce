"""The update chapter: the paper's 2020 table against its update, pooled by the same
code, in the main analysis (cohorts from journal reports and regulators) and in the
sensitivity analysis (conference abstracts and secondary reports too), with how the
update was found (its search log, the decision on each cohort, a PRISMA 2020 flow)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..inputs.covariates import load_covariates, with_covariates
from ..inputs.paths import UPDATE_DIR
from ..inputs.studies import load_studies
from ..inputs.tables import load_search_log, load_selection
from ..text import editions as words
from ..text.labels import FACTOR_LABELS, OUTCOME_LABELS, group_label
from ..text.overview import iso_date_words, new_cohorts_sentence
from ..text.phrasing import ALPHA
from . import paper
from .editions import Finding, findings, pooled_side_by_side, subgroup_side_by_side

__all__ = ["EDITIONS", "UpdateFlow", "update_flow", "UpdateResults", "update_results", "new_cohorts_table",
           "selection_table", "search_table", "findings_table"]

#: The three analyses the chapter sets side by side, by name.
EDITIONS = ("2020 table", "update", "update, all sources")


@dataclass(frozen=True)
class UpdateFlow:
    """The counts of the update's PRISMA 2020 flow: cohorts of the 2020 table
    (``previous``); searches, the records they returned and the records used; cohorts
    assessed and excluded (reason -> count); cohorts from primary sources (``primary``,
    of which ``replacing`` replace ``replaced`` rows of 2020) and from conference or
    secondary sources only (``sensitivity``); cohorts in the main and the sensitivity
    analysis."""

    previous: int
    searches: int
    records: int
    used: int
    assessed: int
    excluded: Mapping[str, int]
    primary: int
    replacing: int
    replaced: int
    sensitivity: int
    total_main: int
    total_all: int


def update_flow(before: pd.DataFrame, main: pd.DataFrame, every: pd.DataFrame, search_log: pd.DataFrame,
                selection: pd.DataFrame) -> UpdateFlow:
    """The flow of the update from its tables, search log and selection."""
    decided = Counter(selection["decision"])
    excluded = Counter(selection.loc[selection["decision"] == "excluded", "reason"].map(_reason_kind))
    gone = set(before["study_id"]) - set(main["study_id"])
    replaced = len(gone) + len(set(paper.changed_cohorts(main)))
    return UpdateFlow(
        previous=len(before), searches=len(search_log), records=int(search_log["records_screened"].sum()),
        used=int(search_log["records_used"].sum()), assessed=len(selection), excluded=dict(excluded),
        primary=decided["included"] + decided["replaces a 2020 row"], replacing=decided["replaces a 2020 row"],
        replaced=replaced, sensitivity=decided["sensitivity analysis only"], total_main=len(main), total_all=len(every))


def _reason_kind(reason: str) -> str:
    """An exclusion reason, grouped for the flow diagram."""
    if reason.startswith(("no report", "registry entry")):
        return "no report retrieved"
    if "twice" in reason or "same" in reason or "overlap" in reason:
        return "overlap with cohorts already included"
    return "too little reported"


@dataclass(frozen=True)
class UpdateResults:
    """Everything the update chapter shows: the three tables (``tables``, by
    :data:`EDITIONS`), the cohorts new or replaced since 2020, the pooled rates and the
    paper's subgroup comparisons in each, the findings (main analysis and all sources),
    the search log, the selection, the flow, and the sentences."""

    tables: Mapping[str, pd.DataFrame]
    new: pd.DataFrame
    pooled: pd.DataFrame
    subgroups: pd.DataFrame
    findings: list[Finding]
    findings_all: list[Finding]
    search_log: pd.DataFrame
    selection: pd.DataFrame
    flow: UpdateFlow
    sentences: Mapping[str, str]


def update_results(update_path: str | Path | None = None, update_covariates_path: str | Path | None = None,
                   paper_covariates_path: str | Path | None = None, search_log_path: str | Path | None = None,
                   selection_path: str | Path | None = None, alpha: float = ALPHA) -> UpdateResults:
    """The update chapter's results (paths default to ``data/update/``)."""
    update_file = Path(update_path) if update_path is not None else UPDATE_DIR / "studies.csv"
    covariates = load_covariates(update_covariates_path or UPDATE_DIR / "covariates.csv")
    before = with_covariates(load_studies(paper.STUDIES), load_covariates(paper_covariates_path))
    main = with_covariates(load_studies(update_file), covariates)
    every = with_covariates(load_studies(update_file, sources="all"), covariates)
    tables = dict(zip(EDITIONS, (before, main, every)))
    search_log = load_search_log(search_log_path)
    selection = load_selection(selection_path)
    known = set(before["study_id"]) - set(paper.changed_cohorts(main))
    # A cohort given twice shows both rows: its primary one (main analysis) and its secondary one.
    new = pd.concat([main[~main["study_id"].isin(known)], every[~every["study_id"].isin(known) & ~every["primary_source"]]],
                    ignore_index=True)
    pooled = pooled_side_by_side(tables)
    found, found_all = findings(before, main, alpha), findings(before, every, alpha)
    flow = update_flow(before, main, every, search_log, selection)  # before the sentences, which quote it
    places = Counter(search_log["where_searched"])
    shifts, sources = [], []
    for outcome in paper.OUTCOMES:
        rows = pooled[pooled["outcome"] == outcome].set_index("edition")
        shifts.append(words.pooled_shift(outcome, rows.loc[EDITIONS[0]].to_dict(), rows.loc[EDITIONS[1]].to_dict(), "the update"))
        sources.append(words.sources_sentence(outcome, rows.loc[EDITIONS[1]].to_dict(), rows.loc[EDITIONS[2]].to_dict()))
    sentences = {
        "new": new_cohorts_sentence(len(main), int(main["n_total"].sum()), len(before), int(before["n_total"].sum()),
                                    flow.primary - flow.replacing,
                                    sorted(set(paper.changed_cohorts(main)) | (set(before["study_id"]) - set(main["study_id"])))),
        "search": words.search_sentence(len(search_log), flow.records, flow.used, dict(places.most_common()),
                                        iso_date_words(min(search_log["date"])), iso_date_words(max(search_log["date"]))),
        "shifts": " ".join(shifts),
        "sources": " ".join(sources),
        "findings": words.findings_summary(found, "the update"),
        "findings_all": words.findings_summary(found_all, "the update with all sources"),
    }
    return UpdateResults(tables, new, pooled, subgroup_side_by_side(tables, alpha=alpha), found, found_all, search_log,
                         selection, flow, sentences)


def new_cohorts_table(results: UpdateResults) -> pd.DataFrame:
    """The cohorts new or replaced since 2020, for readers: cohort, trial, design and
    population, patients, the analysis each enters with its kind of source, data cut and
    source."""
    new = results.new
    return pd.DataFrame({
        "Cohort": new["label"],
        "Trial": new["trial"],
        "Design and population": [", ".join(part for part in (d, p) if part) or "—"
                                  for d, p in zip(new["design"], new["population"])],
        "Patients (safety / response)": new["n_safety"].astype(str) + " / " + new["n_response"].astype(str)
        + new["response_denominator"].map({"itt": " randomized", "infused": "", "": ""}),
        "Enters (kind of source)": [f"{'main' if main else 'sensitivity only'} ({kind or '—'})"
                                    for main, kind in zip(new["primary_source"], new["source_type"])],
        "Data cut": new["data_cut"].map(lambda d: iso_date_words(d) if d else "not retrieved"),
        "Source": new["source"],
    })


def selection_table(results: UpdateResults) -> pd.DataFrame:
    """Every cohort considered for the update and what became of it, for readers."""
    table = results.selection
    return pd.DataFrame({"Cohort": table["cohort"], "Trial": table["trial"], "Decision": table["decision"],
                         "Reason": table["reason"]})


def search_table(results: UpdateResults) -> pd.DataFrame:
    """The search log, for readers."""
    log = results.search_log
    return pd.DataFrame({"Search": log["search"], "Date": log["date"], "Query": log["query"], "Where": log["where_searched"],
                         "Records screened": log["records_screened"], "Records used": log["records_used"],
                         "Used": log["used"], "Set aside, and why": log["excluded_with_reason"]})


def findings_table(results: UpdateResults) -> pd.DataFrame:
    """The paper's subgroup comparisons in the 2020 table, the update and the update
    with all sources, for readers."""
    return pd.DataFrame({
        "Comparison": [f"{OUTCOME_LABELS[f.outcome]} by {FACTOR_LABELS[f.by]}" for f in results.findings],
        "2020 table": [f.then for f in results.findings],
        "Update": [f.now for f in results.findings],
        "Status": [f.status for f in results.findings],
        "Groups without a new cohort": [", ".join(group_label(g) for g in f.unchanged) or words.UNCHANGED_NONE
                                        for f in results.findings],
        "Status, all sources": [f.status for f in results.findings_all],
    })
