"""The first step of every chapter: its study table read (with the chapter's extraction
rules and, where it groups by them, the study covariates) and the page's provenance
glued."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..inputs.covariates import load_covariates, with_covariates
from ..inputs.paths import DEFAULT_COVARIATES
from ..inputs.studies import ExtractionRules, Sources, load_studies
from ..review.paper import STUDIES, is_paper_table
from .output import glue_provenance

__all__ = ["ChapterTable", "open_table"]


@dataclass(frozen=True)
class ChapterTable:
    """A chapter's study table (``studies``, with covariate columns when read with
    them), the covariates file's rows, the table's path (None: the paper's), whether it
    is the paper's own Table 1, and the paper's table read with the same rules (the
    2020 side of any comparison)."""

    studies: pd.DataFrame
    covariates: pd.DataFrame | None
    path: Path | None
    is_paper: bool
    rules: ExtractionRules

    def paper_studies(self) -> pd.DataFrame:
        """The paper's table under this chapter's rules (with the paper's covariates when
        this table has covariates)."""
        paper = load_studies(STUDIES, self.rules)
        return with_covariates(paper, load_covariates()) if self.covariates is not None else paper


def open_table(
    studies_path: str | Path | None,
    *,
    covariates_path: str | Path | None = None,
    rules: ExtractionRules | None = None,
    covariates: bool = True,
    sources: Sources = "primary",
    also: Sequence[str | Path] = (),
) -> ChapterTable:
    """Read a chapter's study table for the main analysis (its cohorts from primary
    sources; ``sources="all"``: the sensitivity analysis, every cohort), with its
    covariates unless ``covariates=False``, and glue the page's provenance
    (``provenance``, ``currency``), naming the other input files the page reads
    (``also``)."""
    rules = rules or ExtractionRules()
    studies = load_studies(studies_path, rules, sources=sources)
    aside = 0
    if sources == "primary":
        every = load_studies(studies_path, rules, sources="all", require_outcome=False)
        aside = int((~every["primary_source"]).sum())
    rows = load_covariates(covariates_path) if covariates else None
    if rows is not None:
        studies = with_covariates(studies, rows)
    others = ([Path(covariates_path or DEFAULT_COVARIATES)] if covariates else []) + [Path(p) for p in also]
    glue_provenance(studies_path, studies, aside, others)
    return ChapterTable(studies, rows, None if studies_path is None else Path(studies_path), is_paper_table(studies_path), rules)
