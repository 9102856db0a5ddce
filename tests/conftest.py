"""Shared fixtures: the book built once per test session, from the shipped data."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
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
