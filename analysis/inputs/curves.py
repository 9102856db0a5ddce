"""Digitized progression-free survival curves: reading and validating a curve folder.

A curve folder (format in ``data/pfs/README.md``) holds ``arms.csv`` (one row per arm:
its study and the attributes the analyses group by), ``risk.csv`` (the numbers-at-risk
tables, long format) and one ``curves/<arm_id>.csv`` per arm (digitized ``time``,
``survival``). :func:`load_curves` checks everything and reports every problem at once,
naming file, arm and column; :func:`analysis.survival.reconstruct_arms` turns each arm
into individual patient data with Guyot's algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..text.quoting import shown
from .errors import InputError, Problem
from .paths import DEFAULT_CURVES
from .studies import CATEGORIES

__all__ = ["ARM_COLUMNS", "KINDS", "DOSE_ACTIVITY", "CurveSet", "load_curves"]

#: What a folder is called in messages.
WHAT = "curve folder"


def _arm_problem(arm: str, column: str, message: str) -> Problem:
    return Problem(arm, column, message, "arm")
ARM_COLUMNS = ["arm_id", "study_id", "arm_label", "kind", "source", "dose_activity", "origin", "loading", "costim", "total_events"]
#: What a curve is: read off a BCMA trial's figure, or not real data at all.
KINDS = ("digitized", "illustrative")
DOSE_ACTIVITY = ("active", "inactive", "ND")


@dataclass(frozen=True)
class CurveSet:
    """Arms (one row each), their digitized curves and their numbers-at-risk tables."""

    arms: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    risk: dict[str, pd.DataFrame]
    folder: Path


def _read(path: Path, problems: list[Problem], arm: str = "(file)") -> pd.DataFrame | None:
    if not path.is_file():
        problems.append(_arm_problem(arm, "(file)", f"{path} is missing"))
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(_arm_problem(arm, "(file)", f"{path.name} cannot be read as CSV: {exc}"))
        return None


def _numeric(frame: pd.DataFrame, columns: list[str], arm: str, where: str, problems: list[Problem]) -> bool:
    ok = True
    for column in columns:
        if column not in frame:
            problems.append(_arm_problem(arm, column, f"{where}: required column is missing"))
            ok = False
        elif not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().any():
            problems.append(_arm_problem(arm, column, f"{where}: values must be numbers, without blanks"))
            ok = False
    return ok


def load_curves(folder: str | Path | None = None) -> CurveSet:
    """Read and validate a curve folder (default ``data/pfs``)."""
    folder = Path(folder) if folder is not None else DEFAULT_CURVES
    problems: list[Problem] = []
    arms = _read(folder / "arms.csv", problems)
    risk_all = _read(folder / "risk.csv", problems)
    if arms is None or risk_all is None:
        raise InputError(folder, problems, WHAT)
    missing = [c for c in ARM_COLUMNS if c not in arms]
    if missing:
        raise InputError(folder / "arms.csv", [_arm_problem("(all)", c, "required column is missing") for c in missing], WHAT)
    if not {"arm_id", "time", "n_risk"} <= set(risk_all):
        absent = sorted({"arm_id", "time", "n_risk"} - set(risk_all))
        raise InputError(folder / "risk.csv", [_arm_problem("(all)", c, "required column is missing") for c in absent], WHAT)
    duplicated = arms["arm_id"][arms["arm_id"].duplicated()]
    problems += [_arm_problem(str(a), "arm_id", "arms.csv: duplicate arm_id") for a in duplicated.unique()]

    allowed = {"kind": KINDS, "dose_activity": DOSE_ACTIVITY, **{c: tuple(CATEGORIES[c]) for c in ("origin", "loading", "costim")}}
    curves: dict[str, pd.DataFrame] = {}
    risk: dict[str, pd.DataFrame] = {}
    for row in arms.itertuples(index=False):
        arm = str(row.arm_id)
        for column, options in allowed.items():
            if getattr(row, column) not in options:
                problems.append(_arm_problem(arm, column, f"arms.csv: {shown(getattr(row, column))} is not one of {list(options)}"))
        if not pd.isna(row.total_events) and (float(row.total_events) < 0 or float(row.total_events) != int(row.total_events)):
            problems.append(_arm_problem(arm, "total_events", f"arms.csv: {row.total_events!r} is not a whole number >= 0"))
        curve = _read(folder / "curves" / f"{arm}.csv", problems, arm)
        if curve is not None and _numeric(curve, ["time", "survival"], arm, f"curves/{arm}.csv", problems):
            if len(curve) < 2:
                problems.append(_arm_problem(arm, "survival", f"curves/{arm}.csv: fewer than two digitized points"))
            elif (curve["survival"] > 1.5).any():
                problems.append(_arm_problem(arm, "survival", f"curves/{arm}.csv: survival must be 0-1, not percent"))
            elif (curve["survival"] < 0).any() or (curve["time"] < 0).any():
                problems.append(_arm_problem(arm, "time", f"curves/{arm}.csv: negative time or survival"))
            else:
                curves[arm] = curve
        table = risk_all[risk_all["arm_id"].astype(str) == arm].sort_values("time")
        if table.empty:
            problems.append(_arm_problem(arm, "n_risk", "risk.csv: no numbers-at-risk rows for this arm"))
        elif _numeric(table, ["time", "n_risk"], arm, "risk.csv", problems):
            if table["time"].iloc[0] != 0:
                problems.append(_arm_problem(arm, "time", "risk.csv: the table must start at time 0"))
            if table["time"].duplicated().any():
                problems.append(_arm_problem(arm, "time", "risk.csv: a time appears twice"))
            if (np.diff(table["n_risk"].to_numpy()) > 0).any():
                problems.append(_arm_problem(arm, "n_risk", "risk.csv: the number at risk increases over time"))
            if arm in curves and table["time"].max() > curves[arm]["time"].max():
                problems.append(_arm_problem(arm, "time", "risk.csv: the table runs past the end of the digitized curve"))
            if not pd.isna(row.total_events) and float(row.total_events) > table["n_risk"].iloc[0]:
                problems.append(_arm_problem(arm, "total_events", "arms.csv: more events than patients at risk at time 0"))
            risk[arm] = table.reset_index(drop=True)
    orphans = sorted(set(risk_all["arm_id"].astype(str)) - set(arms["arm_id"].astype(str)))
    problems += [_arm_problem(a, "arm_id", "risk.csv: arm not listed in arms.csv") for a in orphans]
    if problems:
        raise InputError(folder, problems, WHAT)
    return CurveSet(arms=arms.assign(arm_id=arms["arm_id"].astype(str)), curves=curves, risk=risk, folder=folder)
