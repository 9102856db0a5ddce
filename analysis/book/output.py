"""What a page says about where it comes from, and the result tables it publishes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..inputs.paths import ROOT, checksum, display_path
from ..review.paper import is_paper_table
from ..text.numbers import plural
from .glue import glue
from .safety import write_csv

__all__ = ["save_results", "provenance", "glue_provenance"]


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


def provenance(path: str | Path | None, studies: pd.DataFrame) -> str:
    """Which table a page was built from: file path, cohorts, patients, short checksum."""
    edition = " — the paper's Table 1" if is_paper_table(path) else ""
    return (f"{display_path(path)}{edition} ({plural(len(studies), 'cohort')}, {plural(int(studies['n_total'].sum()), 'patient')}; "
            f"SHA-256 {checksum(path)})")


def glue_provenance(path: str | Path | None, studies: pd.DataFrame) -> None:
    """Glue ``provenance`` (see :func:`provenance`) for the page's data note."""
    glue("provenance", provenance(path, studies))
