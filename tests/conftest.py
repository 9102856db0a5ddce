"""Shared fixtures: the book built once per test session, from the shipped data; and the
``build`` mark, put automatically on every test that executes chapters or builds the book
(``make test-fast`` runs the others)."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import re
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

#: The front matter that makes a Markdown file a MyST notebook for jupytext.
MYST_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def padded(frames: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Events and n of several meta-analyses (frames with ``events`` and ``n``) as 2-D
    arrays, one row each, padded with NaN: the batch input of the engine."""
    width = max(len(frame) for frame in frames)
    x = np.full((len(frames), width), np.nan)
    n = np.full((len(frames), width), np.nan)
    for i, frame in enumerate(frames):
        x[i, : len(frame)], n[i, : len(frame)] = frame["events"], frame["n"]
    return x, n


def large_table(k: int = 500, seed: int = 500) -> pd.DataFrame:
    """A valid study table of ``k`` cohorts (the scaling benchmark's 500-study table):
    the paper's rows drawn with replacement, each with its own id and its cohort sizes
    scaled by a random factor (kept as published where the scaled counts of the
    row's percentages would not add up); categories, doses and percentages are the
    drawn row's."""
    import tempfile

    import analysis

    rng = np.random.default_rng(seed)
    paper = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False)
    table = paper.iloc[rng.integers(0, len(paper), size=k)].reset_index(drop=True)
    table["study_id"] = [f"S{i + 1:03d}-{sid}" for i, sid in enumerate(table["study_id"])]
    published = table[["n_safety", "n_response"]].copy()
    scale = np.exp(rng.normal(0.0, 0.5, size=k))
    for column in ("n_safety", "n_response"):
        table[column] = np.maximum(1, np.round(table[column].astype(float) * scale)).astype(int).astype(str)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "studies.csv"
        for _ in range(5):
            table.to_csv(path, index=False)
            try:
                analysis.load_studies(path)
                return table
            except analysis.StudyDataError as error:
                bad = table["study_id"].isin({problem.study for problem in error.problems})
                table.loc[bad, ["n_safety", "n_response"]] = published[bad]
    raise AssertionError("could not generate a valid large table")


#: Fixtures that build the book, and calls that execute chapters or build it.
BUILDING_FIXTURES = {"built_book", "hostile_book"}
BUILDING_CALLS = re.compile(r"\bbuild_book\(|run_chapter\.run\(|\.render\(|\"make\", \"(-C|book)")


def builds(item: pytest.Item) -> bool:
    """Whether a test executes chapters or builds the book: it uses a building fixture, or
    its function -- or a function or fixture of its module that it calls or uses -- calls
    a builder."""
    if BUILDING_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    function, module = getattr(item, "function", None), getattr(item, "module", None)
    if function is None:
        return False
    source = inspect.getsource(function)
    helpers = {node.func.id for node in ast.walk(ast.parse(textwrap.dedent(source)))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)} | set(item.fixturenames)
    sources = [source] + [inspect.getsource(getattr(helper, "__wrapped__", helper)) for helper in
                          (getattr(module, name, None) for name in helpers)
                          if inspect.isfunction(getattr(helper, "__wrapped__", helper))
                          and getattr(getattr(helper, "__wrapped__", helper), "__module__", None) == module.__name__]
    return any(BUILDING_CALLS.search(text) for text in sources)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if builds(item):
            item.add_marker(pytest.mark.build)


def script(name: str):
    """Import a module from scripts/ (they are command-line tools, not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [Path(f).name for f in [toc["root"]] + [c["file"] for c in toc["chapters"]]]


def table_chapters() -> list[str]:
    """The chapters that read the study table (their parameters cell declares
    ``studies_path``): the others are the same on every table, and the full build tests them."""
    return [c for c in chapters() if re.search(r"^studies_path = ", (ROOT / "book" / f"{c}.md").read_text(), flags=re.M)]


def data_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "data").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def build_book(build: Path, data: Path = ROOT / "data" / "studies.csv", only: list[str] | None = None, render: bool = True,
               published: Path = ROOT / "data" / "published.csv", curves: Path | None = None, covariates: Path | None = None) -> Path:
    """Execute the chapters (two at a time, as make does) into ``build`` and render;
    ``curves`` and ``covariates`` default to the chapters' own defaults (``data/``)."""
    run_chapter = script("run_chapter")
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(run_chapter.run, chapter, data, published, build, curves=curves, covariates=covariates)
                for chapter in (only or chapters())]
        for job in jobs:
            job.result()
    return script("render").render(build) if render else build


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    before = data_digest()
    html = build_book(tmp_path_factory.mktemp("book") / "_build")
    assert data_digest() == before, "the build wrote into data/"
    return html
