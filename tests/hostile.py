"""Hostile inputs: the paper's tables with script and spreadsheet-formula payloads in every
free-text column the loaders accept (used by ``test_hostile.py``).

The study table (``data/studies.csv``) gets a payload in ``study_id``, ``product``,
``car_product``, ``registration``, ``refs``, ``conditioning``, ``phase`` and ``source``,
and appended to ``dose`` (the dose must still parse, and the parser reads the dose out
of the text around it) and to ``binder`` (its first word must still name an origin,
so a payload can follow it). ``expansion``, ``loading`` and ``costim`` are read as a
fixed vocabulary, and the count and percentage columns must be numbers: the loader
refuses any payload there, by name. The covariates file keeps its groups and statuses
(fixed vocabularies) and gets payloads in its study ids, sources and notes; the curve
folder gets them in ``study_id``, ``arm_label`` and ``source`` and formula-like
``arm_id``s (an ``arm_id`` is a file name, so it cannot hold ``/``); the published table
gets them in ``source`` and in the ``group`` of its PFS rows. Harmless unusual names (CJK, accents, ``&``, a lone ``<``) must
come through unchanged.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

#: Markup that runs script if it reaches a page unescaped (each sets ``window.__pwned``
#: or calls ``alert``, which the browser test watches for).
SCRIPT = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '"><svg onload="window.__pwned=1">',
    "'><img src=x onerror=alert(1)>",
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    "<details open ontoggle=window.__pwned=1>",
    "</table></div><script>window.__pwned=1</script>",
    "$\\href{javascript:window.__pwned=1}{x}$",
]
#: Cells a spreadsheet would run as formulas (OWASP CSV injection).
FORMULA = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3"]
#: Unusual but harmless names: they must survive loading and be shown as written.
HARMLESS = ["伊基奥仑赛 (CJK)", "Ciltacabtagène & autoleucel", "A<B cohort", "100% CAR-T"]
PAYLOADS = SCRIPT + FORMULA + HARMLESS


@dataclass(frozen=True)
class HostileInputs:
    studies: Path
    covariates: Path
    curves: Path
    published: Path
    ids: dict[str, str]  # the paper's study_id -> the hostile one


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def _curve_folder(folder: Path, study_ids: list[str]) -> None:
    """Four digitized arms (exponential curves with numbers at risk), so that the PFS
    chapter runs its comparisons and shows their tables."""
    arms = pd.DataFrame({
        "arm_id": ["=arm1", "+arm2", "@arm3", "-arm4"],
        "study_id": study_ids[:4],
        "arm_label": [SCRIPT[0], SCRIPT[1], FORMULA[0], HARMLESS[0]],
        "kind": "digitized",
        "source": [SCRIPT[2], FORMULA[1], SCRIPT[5], FORMULA[3]],
        "dose_activity": ["inactive", "active", "inactive", "active"],
        "origin": ["murine", "murine", "camelid", "human"],
        "loading": ["retroviral", "lentiviral", "lentiviral", "retroviral"],
        "costim": ["4-1BB", "CD28", "4-1BB", "CD28"],
        "total_events": [np.nan] * 4,
    })
    (folder / "curves").mkdir(parents=True)
    arms.to_csv(folder / "arms.csv", index=False)
    risk = []
    for arm, scale in zip(arms["arm_id"], [6.0, 14.0, 9.0, 20.0]):
        times = np.arange(0, 25, 1.0)
        survival = np.exp(-times / scale)
        # Both corners of every step, as a careful reader digitizes them.
        corners = pd.DataFrame({"time": np.repeat(times, 2)[1:], "survival": np.repeat(survival, 2)[:-1]})
        corners.to_csv(folder / "curves" / f"{arm}.csv", index=False)
        risk += [{"arm_id": arm, "time": t, "n_risk": int(round(30 * np.exp(-t / scale)))} for t in (0, 6, 12, 18)]
    pd.DataFrame(risk).to_csv(folder / "risk.csv", index=False)


def hostile_inputs(folder: Path) -> HostileInputs:
    """Write the hostile study table, covariates, curve folder and published table."""
    folder.mkdir(parents=True, exist_ok=True)
    studies = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False)
    ids = {}
    for i in studies.index:
        old = studies.loc[i, "study_id"]
        new = _payload(i) if i < len(PAYLOADS) else old
        ids[old] = new
        studies.loc[i, "study_id"] = new
        for offset, column in enumerate(["product", "car_product", "registration", "refs", "conditioning", "phase", "source"], 1):
            studies.loc[i, column] = _payload(i + offset)
        if studies.loc[i, "dose"] not in ("", "ND"):
            studies.loc[i, "dose"] = f"{_payload(i + 8)} {studies.loc[i, 'dose']}"
        if studies.loc[i, "binder"] != "ND":
            studies.loc[i, "binder"] = f"{studies.loc[i, 'binder']} {_payload(i + 9)}"
    paths = {name: folder / f"{name}.csv" for name in ("studies", "covariates", "published")}
    studies.to_csv(paths["studies"], index=False)

    covariates = pd.read_csv(ROOT / "data" / "covariates.csv", dtype=str, keep_default_na=False)
    covariates["study_id"] = covariates["study_id"].map(ids)
    for i in covariates.index:
        for offset, column in enumerate([c for c in covariates if c.endswith("_source") or c == "inference_note"]):
            if column == "inference_note" or covariates.loc[i, column]:
                covariates.loc[i, column] = _payload(i + offset)
    covariates.to_csv(paths["covariates"], index=False)

    published = pd.read_csv(ROOT / "data" / "published.csv", dtype=str, keep_default_na=False)
    published["source"] = [_payload(i) for i in range(len(published))]
    # The PFS chapter shows its rows by analysis and group (a table's index), and finds
    # them by key: their groups can carry payloads.
    pfs = published["outcome"] == "pfs"
    published.loc[pfs, "group"] = [_payload(i) for i in range(int(pfs.sum()))]
    published.loc[pfs, "key"] = published.loc[pfs, ["outcome", "analysis", "group", "statistic"]].agg(":".join, axis=1)
    published.to_csv(paths["published"], index=False)

    _curve_folder(folder / "pfs", list(ids.values()))
    return HostileInputs(paths["studies"], paths["covariates"], folder / "pfs", paths["published"], ids)


#: What a spreadsheet reads as a number, not a formula, though it may start with + or -.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def formula_cells(path: Path) -> list[str]:
    """Cells of a CSV file (headers and index included) that a spreadsheet would run as a
    formula: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    (OWASP) that is not simply a number."""
    with path.open(newline="", encoding="utf-8") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    return [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not _NUMBER.fullmatch(c)]
