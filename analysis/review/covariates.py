"""What a reader must know about the study covariates used with a table: cohorts with
none, covariate rows that match no cohort, cohorts whose covariates may describe an
earlier report, and how many groups are inferred rather than sourced."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..inputs.covariates import load_covariates
from . import paper

__all__ = ["CovariateGaps", "covariate_gaps", "inferred_counts"]


@dataclass(frozen=True)
class CovariateGaps:
    """Study ids: ``without`` any covariate group, covariate rows ``unmatched`` by a
    cohort, and cohorts ``changed`` from the paper's cohort of the same id whose
    covariates are still the 2020 ones."""

    without: tuple[str, ...]
    unmatched: tuple[str, ...]
    changed: tuple[str, ...]


def covariate_gaps(studies: pd.DataFrame, covariates: pd.DataFrame) -> CovariateGaps:
    """The gaps between a study table and its covariates (see :class:`CovariateGaps`)."""
    ids = set(studies["study_id"])
    given = covariates.set_index("study_id")
    columns = [c for c in given.columns if c.endswith("_group")]
    has_any = {sid for sid, row in given[columns].iterrows() if (row != "").any()}
    # A changed cohort is a concern only if its covariates are still the 2020 ones.
    old = load_covariates(paper.COVARIATES).set_index("study_id")
    changed = [sid for sid in paper.changed_cohorts(studies)
               if sid in has_any and sid in old.index and old.loc[sid].equals(given.loc[sid].reindex(old.columns))]
    return CovariateGaps(tuple(sorted(ids - has_any)), tuple(sorted(set(given.index) - ids)), tuple(changed))


def inferred_counts(studies: pd.DataFrame, factors: tuple[str, ...] = ("age", "prior_lines")) -> dict[str, int]:
    """Per covariate of ``factors`` that the table has: how many cohorts' groups are inferred."""
    return {by: int((studies[f"{by}_status"] == "inferred").sum()) for by in factors if f"{by}_status" in studies}
