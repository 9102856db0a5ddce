"""`make book` on any table the loaders accept, and on inputs that change under it.

Every one-study table of the paper, a covariates file without high-risk groups, product
names of a hundred characters and a cohort of 300 million patients each execute every
chapter, strictly (a warning or a cell error fails the chapter), as `make book` does. The
Makefile itself builds from a snapshot of its inputs: a table at a path with spaces
works, a table replaced while the book builds never gives a book of two tables (the next
`make book` rebuilds it from the new one), and a bad table stops the build with its one
message, printed once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.inputs import DEFAULT_COVARIATES, DEFAULT_STUDIES, checksum
from conftest import ROOT, build_book, table_chapters

RAW = pd.read_csv(DEFAULT_STUDIES, dtype=str, keep_default_na=False)
VENV = ROOT / ".venv"


def unusual_tables(tmp_path: Path) -> dict[str, tuple[Path, Path | None]]:
    """Valid inputs that once stopped a strict build: name -> (study table, covariates)."""
    made: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
    covariates = pd.read_csv(DEFAULT_COVARIATES, dtype=str, keep_default_na=False)
    covariates[[c for c in covariates if c.startswith("high_risk")]] = ""
    made["no high-risk groups"] = (RAW, covariates)
    long_names = RAW.copy()
    long_names["product"] = "A product name long enough to fill two lines of any plot or table " + long_names["product"]
    made["100-character names"] = (long_names, None)
    huge = RAW.copy()
    huge.loc[1, ["n_safety", "n_response"]] = ["300000000", "300000000"]
    made["300 million patients"] = (huge, None)
    paths = {}
    for name, (studies, covariate_table) in made.items():
        folder = tmp_path / re.sub(r"\W+", "-", name)
        folder.mkdir()
        studies.to_csv(folder / "studies.csv", index=False)
        if covariate_table is not None:
            covariate_table.to_csv(folder / "covariates.csv", index=False)
        paths[name] = (folder / "studies.csv", folder / "covariates.csv" if covariate_table is not None else None)
    return paths


@pytest.mark.parametrize("row", range(len(RAW)), ids=list(RAW["study_id"]))
def test_every_chapter_executes_on_every_one_study_table_of_the_paper(tmp_path: Path, row: int) -> None:
    data = tmp_path / "studies.csv"
    RAW.iloc[[row]].to_csv(data, index=False)
    # raises on a cell error or any warning
    build_book(tmp_path / "_build", data=data, render=False, only=table_chapters())


@pytest.mark.parametrize("name", ["no high-risk groups", "100-character names", "300 million patients"])
def test_every_chapter_executes_on_inputs_that_once_stopped_the_build(tmp_path: Path, name: str) -> None:
    data, covariates = unusual_tables(tmp_path)[name]
    build = build_book(tmp_path / "_build", data=data, covariates=covariates, render=False)
    assert len(list((build / "executed" / "book").glob("*.ipynb"))) == len(list((ROOT / "book").glob("*.md")))


def repository_copy(place: Path) -> Path:
    """The project's files (tracked, or new and not ignored) at ``place``; the venv is the project's own."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        (place / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, place / name)
    return place


def make_book(repository: Path, data: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(["make", "-C", str(repository), f"VENV={VENV}", f"PYTHON_SYS={sys.executable}", "book",
                             f"DATA={data}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def table_checksums(html: Path, candidates: set[str]) -> set[str]:
    """Which of the ``candidates`` (short SHA-256s of study tables) the book's pages name."""
    found = set()
    for page in html.rglob("*.html"):
        found |= set(re.findall(r"SHA-256 ([0-9a-f]{10})", page.read_text(encoding="utf-8"))) & candidates
    return found


def test_make_book_reads_one_snapshot_at_paths_with_spaces_and_rebuilds_a_replaced_table(tmp_path: Path) -> None:
    repository = repository_copy(tmp_path / "book copy")
    data = tmp_path / "my studies" / "studies.csv"
    data.parent.mkdir()
    first, second = RAW.iloc[[1]], RAW.iloc[[11]]
    first.to_csv(data, index=False)
    old = checksum(data)
    build = make_book(repository, data)
    manifest = repository / "_build" / "inputs" / "manifest.json"
    while not manifest.exists() and build.poll() is None:
        time.sleep(0.2)
    second.to_csv(data, index=False)  # replaced while the chapters execute
    output, _ = build.communicate(timeout=1200)
    assert build.returncode == 0, output[-3000:]
    new = checksum(data)
    html = repository / "_build" / "html"
    assert table_checksums(html, {old, new}) == {old}  # every page from the table the build started with

    rebuild = make_book(repository, data)
    output, _ = rebuild.communicate(timeout=1200)
    assert rebuild.returncode == 0, output[-3000:]
    assert table_checksums(html, {old, new}) == {new}  # the next build is wholly the new table
    assert "my studies" not in "".join(p.read_text(encoding="utf-8") for p in html.rglob("*.html"))  # no machine folders


def test_a_bad_table_stops_make_book_with_its_message_printed_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad studies.csv"
    bad.write_text("\n".join(DEFAULT_STUDIES.read_text(encoding="utf-8").splitlines()[:3] + ["NCT0,NCT0,x"]) + "\n")
    result = subprocess.run(["make", "book", f"DATA={bad}"], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("a ragged row") == 1 and f"DATA={bad}" in output
    assert "Traceback" not in output and "run_chapter" not in output
