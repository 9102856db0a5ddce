"""Study covariates the paper groups by but Table 1 does not list (``data/covariates.csv``):
median prior lines, median age and the share of high-risk patients, each sourced or
inferred."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..text.quoting import shown
from .errors import InputError, Problem
from .paths import DEFAULT_COVARIATES

__all__ = ["COVARIATE_GROUPS", "STATUSES", "load_covariates", "with_covariates"]


#: Study-level covariates the paper groups by, with their groups (first: the "high" one).
COVARIATE_GROUPS: dict[str, list[str]] = {"prior_lines": [">=5", "<5"], "age": [">=60", "<60"], "high_risk": [">=50%", "<50%"]}
STATUSES = ("sourced", "inferred")


def load_covariates(path: str | Path | None = None, studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-study median prior lines and age groups (``data/covariates.csv``), checked:
    known groups, a status for every group given, a source for every sourced value,
    and (with ``studies``) study ids that exist in the study table."""
    path = Path(path) if path is not None else DEFAULT_COVARIATES
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    required = ["study_id"] + [f"{c}_{part}" for c in COVARIATE_GROUPS for part in ("group", "status", "source")]
    missing = [c for c in required if c not in table]
    if missing:
        raise InputError(path, [Problem("(all)", c, "required column is missing") for c in missing], "covariates file")
    problems = []
    for _, row in table.iterrows():
        study = row["study_id"]
        for covariate, groups in COVARIATE_GROUPS.items():
            group, status, source = row[f"{covariate}_group"], row[f"{covariate}_status"], row[f"{covariate}_source"]
            if group and group not in groups:
                problems.append(Problem(study, f"{covariate}_group", f"{shown(group)} is not one of {groups}"))
            if group and status not in STATUSES:
                problems.append(Problem(study, f"{covariate}_status", f"{shown(status)}: say 'sourced' or 'inferred'"))
            if status == "sourced" and not source:
                problems.append(Problem(study, f"{covariate}_source", "a sourced value needs its source"))
    if table["study_id"].duplicated().any():
        problems += [Problem(s, "study_id", "duplicate study_id") for s in table["study_id"][table["study_id"].duplicated()]]
    if studies is not None:
        problems += [Problem(s, "study_id", "not in the study table") for s in set(table["study_id"]) - set(studies["study_id"])]
    if problems:
        raise InputError(path, problems, "covariates file")
    return table


def with_covariates(studies: pd.DataFrame, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The study table with categorical ``prior_lines`` and ``age`` columns (and their
    ``*_status``); a study without a value gets ND, which subgroup analyses leave out."""
    covariates = load_covariates(studies=studies) if covariates is None else covariates
    merged = studies.merge(covariates, on="study_id", how="left")
    for covariate, groups in COVARIATE_GROUPS.items():
        values = merged[f"{covariate}_group"].replace("", np.nan).fillna("ND")
        studies = studies.assign(**{
            covariate: pd.Categorical(values, categories=[*groups, "ND"]),
            f"{covariate}_status": merged[f"{covariate}_status"].fillna("").to_numpy(),
        })
    return studies
