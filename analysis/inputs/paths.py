"""Where the inputs live, and how a reader sees an input file: its path from the project
root (or its name, when it lives elsewhere), and a short checksum to tell two files apart.

A book build reads a snapshot of its inputs (``scripts/snapshot.py``): the chapters' kernels
get its folder in the environment variable ``BCMA_SNAPSHOT``, and then ``data/`` means the
snapshot's copy of it, and a snapshot file is shown by the name of the file it copies.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

__all__ = [
    "ROOT",
    "DATA_DIR",
    "DEFAULT_STUDIES",
    "DEFAULT_PUBLISHED",
    "DEFAULT_COVARIATES",
    "DEFAULT_CURVES",
    "UPDATE_DIR",
    "SNAPSHOT",
    "MANIFEST",
    "display_path",
    "checksum",
    "same_contents",
]

ROOT = Path(__file__).resolve().parents[2]
#: The build's snapshot of its inputs, when this process was started by a build.
SNAPSHOT = Path(os.environ["BCMA_SNAPSHOT"]) if os.environ.get("BCMA_SNAPSHOT") else None
#: The snapshot's record of where each of its files came from.
MANIFEST = "manifest.json"
DATA_DIR = SNAPSHOT / "data" if SNAPSHOT else ROOT / "data"
DEFAULT_STUDIES = DATA_DIR / "studies.csv"
DEFAULT_PUBLISHED = DATA_DIR / "published.csv"
DEFAULT_COVARIATES = DATA_DIR / "covariates.csv"
DEFAULT_CURVES = DATA_DIR / "pfs"
UPDATE_DIR = DATA_DIR / "update"


@cache
def _sources(snapshot: Path) -> dict[str, str]:
    manifest = snapshot / MANIFEST
    if not manifest.is_file():
        return {}
    return {place: entry["source"] for place, entry in json.loads(manifest.read_text(encoding="utf-8")).items()}


def display_path(path: str | Path | None, default: Path = DEFAULT_STUDIES) -> str:
    """A data file as a reader should see it: its path from the project root, or only
    its name when it lives elsewhere (a page never shows the folders of the machine that
    built it); a snapshot file as the file it copies."""
    file = Path(path or default).resolve()
    if SNAPSHOT is not None and file.is_relative_to(SNAPSHOT.resolve()):
        place = str(file.relative_to(SNAPSHOT.resolve()))
        known = _sources(SNAPSHOT.resolve())
        if place in known:
            return known[place]
    return str(file.relative_to(ROOT)) if file.is_relative_to(ROOT) else file.name


def checksum(path: str | Path | None, default: Path = DEFAULT_STUDIES) -> str:
    """A short SHA-256 of a file: enough to tell two tables apart at a glance."""
    return hashlib.sha256(Path(path or default).read_bytes()).hexdigest()[:10]


def same_contents(path: str | Path | None, reference: Path) -> bool:
    """Whether ``path`` (None: ``reference`` itself) holds ``reference``'s bytes."""
    return path is None or Path(path).resolve() == reference.resolve() or Path(path).read_bytes() == reference.read_bytes()
