"""What a page says about where it comes from, and the result tables it publishes."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from ..inputs.paths import ROOT, checksum, display_path
from ..review.paper import SEARCH_END, is_paper_table
from ..text.numbers import plural
from ..text.overview import aside_clause, currency_sentence
from .glue import glue
from .safety import write_csv

__all__ = ["save_results", "provenance", "currency", "glue_provenance"]


def save_results(output_dir: str | Path | None, chapter: str, **tables: pd.DataFrame) -> list[Path]:
    """Write a chapter's result tables as ``<output_dir>/results/<chapter>/<name>.csv``
    (the build publishes them next to the HTML); ``output_dir=None``: the repository's
    ``_build``. Text that a spreadsheet would run as a formula is defused
    (:func:`analysis.book.safety.write_csv`). Returns the files written."""
    folder = Path(output_dir or ROOT / "_build") / "results" / chapter
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        written.append(write_csv(table, folder / f"{name}.csv"))
    return written


def provenance(path: str | Path | None, studies: pd.DataFrame, aside: int = 0) -> str:
    """Which table a page was built from: file path, cohorts, patients, short checksum,
    and how many of its cohorts (``aside``) only the sensitivity analysis reads."""
    edition = " — the paper's Table 1" if is_paper_table(path) else ""
    return (f"{display_path(path)}{edition} ({plural(len(studies), 'cohort')}, {plural(int(studies['n_total'].sum()), 'patient')}; "
            f"SHA-256 {checksum(path)}{aside_clause(aside)})")


def currency(path: str | Path | None, studies: pd.DataFrame) -> str:
    """How current the evidence of the page's table is (:func:`~analysis.text.overview.currency_sentence`)."""
    def dated(column: str) -> pd.Series:
        return studies[column][studies[column] != ""] if column in studies else pd.Series([], dtype=str)

    cuts, reports = dated("data_cut"), dated("publication_date")
    return currency_sentence(max(cuts) if len(cuts) else None, len(studies) - len(cuts), len(studies),
                             SEARCH_END if is_paper_table(path) else None, max(reports) if len(reports) else None)


def glue_provenance(path: str | Path | None, studies: pd.DataFrame, aside: int = 0, also: Sequence[Path] = ()) -> None:
    """Glue ``provenance`` (:func:`provenance`, with the other input files the page read,
    ``also``, each with its checksum) and ``currency`` (:func:`currency`) for the page's
    data note."""
    others = "".join(f"; with {display_path(p)} (SHA-256 {checksum(p)})" for p in also)
    glue("provenance", provenance(path, studies, aside) + others)
    glue("currency", currency(path, studies))
