"""Study covariates the paper groups by but Table 1 does not list (``data/covariates.csv``):
median prior lines, median age and the share of high-risk patients, each sourced or
inferred."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..text.quoting import shown
from .paths import DEFAULT_COVARIATES
from .reader import numbers, read_csv

__all__ = ["COVARIATE_GROUPS", "STATUSES", "load_covariates", "with_covariates"]


#: Study-level covariates the paper groups by, with their groups (first: the "high" one).
COVARIATE_GROUPS: dict[str, list[str]] = {"prior_lines": [">=5", "<5"], "age": [">=60", "<60"], "high_risk": [">=50%", "<50%"]}
STATUSES = ("sourced", "inferred")


#: The columns of a covariates file: per covariate its group, status and source, and
#: optionally the value itself (median prior lines, median age, high-risk share).
REQUIRED = ["study_id", *(f"{c}_{part}" for c in COVARIATE_GROUPS for part in ("group", "status", "source"))]
VALUES: dict[str, tuple[float, float]] = {"prior_lines_median": (0, 30), "age_median": (0, 120), "high_risk_pct": (0, 100)}
OPTIONAL = [*VALUES, "inference_note"]
WHAT = "covariates file"


def load_covariates(path: str | Path | None = None, studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-study median prior lines and age groups (``data/covariates.csv``), checked by
    the one reader (:func:`~analysis.inputs.reader.read_csv`), then: known groups, a
    status for every group given, a source for every sourced value, values in range,
    study ids given once and (with ``studies``) found in the study table."""
    table = read_csv(Path(path) if path is not None else DEFAULT_COVARIATES, what=WHAT, required=REQUIRED, optional=OPTIONAL,
                     kind="study", key="study_id")
    cells = table.cells
    problems = []
    for column, (low, high) in VALUES.items():
        parsed = numbers(table, column, low, high, allow_nd=True)
        problems += [table.problem(i, column, parsed.errors[i]) for i in np.flatnonzero(parsed.errors != "")]
    for i, row in enumerate(cells.itertuples(index=False)):
        row = row._asdict()
        for covariate, groups in COVARIATE_GROUPS.items():
            group, status, source = row[f"{covariate}_group"], row[f"{covariate}_status"], row[f"{covariate}_source"]
            if group and group not in groups:
                problems.append(table.problem(i, f"{covariate}_group", f"{shown(group)} is not one of {groups}"))
            if group and status not in STATUSES:
                problems.append(table.problem(i, f"{covariate}_status", f"{shown(status)}: say 'sourced' or 'inferred'"))
            if status == "sourced" and not source:
                problems.append(table.problem(i, f"{covariate}_source", "a sourced value needs its source"))
    ids = cells["study_id"]
    problems += [table.problem(i, "study_id", "study_id is empty") for i in np.flatnonzero((ids == "").to_numpy())]
    problems += [table.problem(i, "study_id", "duplicate study_id") for i in np.flatnonzero(ids.duplicated().to_numpy())]
    if studies is not None:
        problems += [table.problem(i, "study_id", "not in the study table")
                     for i in np.flatnonzero((~ids.isin(set(studies["study_id"]))).to_numpy())]
    table.refuse(problems)
    return cells.reindex(columns=[*REQUIRED[:1], *(c for c in cells.columns if c != "study_id")])


def with_covariates(studies: pd.DataFrame, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The study table with categorical ``prior_lines``, ``age`` and ``high_risk``
    columns (and their ``*_status``); a study without a value gets ND, which subgroup
    analyses leave out."""
    covariates = load_covariates(studies=studies) if covariates is None else covariates
    merged = studies[["study_id"]].merge(covariates, on="study_id", how="left")
    for covariate, groups in COVARIATE_GROUPS.items():
        group = merged[f"{covariate}_group"]
        values = group.where(group.notna() & (group != ""), "ND").astype(str)
        studies = studies.assign(**{
            covariate: pd.Categorical(values.to_numpy(), categories=[*groups, "ND"]),
            f"{covariate}_status": merged[f"{covariate}_status"].where(merged[f"{covariate}_status"].notna(), "").to_numpy(),
        })
    return studies
