"""Where the shipped inputs live, and how a reader sees an input file: its path from
the project root, and a short checksum to tell two files apart."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = [
    "ROOT",
    "DATA_DIR",
    "DEFAULT_STUDIES",
    "DEFAULT_PUBLISHED",
    "DEFAULT_COVARIATES",
    "DEFAULT_CURVES",
    "UPDATE_DIR",
    "display_path",
    "checksum",
    "same_contents",
]

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
DEFAULT_STUDIES = DATA_DIR / "studies.csv"
DEFAULT_PUBLISHED = DATA_DIR / "published.csv"
DEFAULT_COVARIATES = DATA_DIR / "covariates.csv"
DEFAULT_CURVES = DATA_DIR / "pfs"
UPDATE_DIR = DATA_DIR / "update"


def display_path(path: str | Path | None, default: Path = DEFAULT_STUDIES) -> str:
    """A data file as a reader should see it: its path from the project root, or its
    absolute path when it lives elsewhere (two tables may share a file name)."""
    file = Path(path or default).resolve()
    return str(file.relative_to(ROOT)) if file.is_relative_to(ROOT) else str(file)


def checksum(path: str | Path | None, default: Path = DEFAULT_STUDIES) -> str:
    """A short SHA-256 of a file: enough to tell two tables apart at a glance."""
    return hashlib.sha256(Path(path or default).read_bytes()).hexdigest()[:10]


def same_contents(path: str | Path | None, reference: Path) -> bool:
    """Whether ``path`` (None: ``reference`` itself) holds ``reference``'s bytes."""
    return path is None or Path(path).resolve() == reference.resolve() or Path(path).read_bytes() == reference.read_bytes()
