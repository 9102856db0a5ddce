"""Digitized progression-free survival curves: reading and checking a curve folder.

A curve folder (format in ``data/pfs/README.md``) holds ``arms.csv`` (one row per arm:
its study and the attributes the analyses group by), ``risk.csv`` (the numbers-at-risk
tables, long format) and one ``curves/<arm_id>.csv`` per arm: a digitizer's export as
saved. Every file goes through the one checked reader, and :func:`load_curves` reports
every problem at once, naming the file, the arm and the column.

A digitizer's export is read as it comes: with a header row or without one (two
columns, time then survival), survival as a fraction or in percent, clicks at a small
negative time (within :data:`NEGATIVE_TIME` of the curve's length) set to 0. The curve is
then cleaned by :func:`analysis.survival.clean_curve` (repeated times, rises within
:data:`~analysis.survival.RISE_TOLERANCE`, the anchor at (0, 1)); rows of the risk table
after the last click are left out, as Guyot's algorithm cannot use them. Every step that
changed something is kept in :attr:`CurveSet.cleaning`, with what it moved and by how
much, for the chapter to show under the plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..survival.reconstruct import RISE_TOLERANCE, CleaningStep, CurveError, clean_curve
from .errors import InputError, Problem
from .paths import DEFAULT_CURVES
from .reader import Table, choices, counts, numbers, read_csv
from .studies import CATEGORIES

__all__ = ["ARM_COLUMNS", "ARM_OPTIONAL", "KINDS", "DOSE_ACTIVITY", "NEGATIVE_TIME", "CurveSet", "load_curves"]

ARM_COLUMNS = ["arm_id", "study_id", "arm_label", "kind", "source", "dose_activity", "origin", "loading", "costim", "total_events"]
#: Optional: the median the publication prints for the arm (months), to check the reconstruction against.
ARM_OPTIONAL = ["published_median"]
#: What a curve is: read off a published figure (a real trial's), or not real data at all.
KINDS = ("digitized", "illustrative")
DOSE_ACTIVITY = ("active", "inactive", "ND")
#: Clicks this far before time 0 (a share of the curve's length) are read as time 0.
NEGATIVE_TIME = 0.02
#: What a folder is called in messages.
WHAT = "curve folder"


@dataclass(frozen=True)
class CurveSet:
    """Arms (one row each), their cleaned curves and numbers-at-risk tables, the
    cleaning of each arm (arm -> steps that changed something), and notes a reader must
    see (an arm whose study is not in the study table, say)."""

    arms: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    risk: dict[str, pd.DataFrame]
    folder: Path
    cleaning: dict[str, tuple[CleaningStep, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _arm_problem(arm: str, column: str, message: str) -> Problem:
    return Problem(arm, column, message, "arm")


def _read_curve(path: Path, arm: str, problems: list[Problem]) -> tuple[pd.DataFrame, list[CleaningStep]] | None:
    """One digitizer export: a header row or none, fraction or percent, small negative
    times set to 0, then cleaned; None (and the problems) where it cannot be read."""
    name = f"curves/{path.name}"
    if not path.is_file():
        problems.append(_arm_problem(arm, "(file)", f"{name} is missing"))
        return None
    try:
        table = read_csv(path, what=f"curve of arm {arm!r}", required=["time", "survival"], kind="point", header=False)
    except InputError as error:
        problems.append(_arm_problem(arm, "(file)", f"{name}: a curve is two columns, time and survival, with or without a "
                                                    f"header ({error.problems[0].message})"))
        return None
    header = _has_header(table)
    if header:
        table = Table(table.cells.iloc[1:].reset_index(drop=True), table.lines[1:], table.path, table.what, table.kind)
    time, survival = numbers(table, "time"), numbers(table, "survival")
    for column, parsed in (("time", time), ("survival", survival)):
        problems += [_arm_problem(arm, column, f"{name} line {table.lines[i]}: {parsed.errors[i] or 'is blank'}")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
    if (time.errors != "").any() or (survival.errors != "").any() or time.blank.any() or survival.blank.any():
        return None
    t, s = time.values, survival.values
    steps = [CleaningStep("header", 1)] if header else []
    if s.max() > 1.5:  # a percent scale: no survival fraction exceeds 1.5
        steps.append(CleaningStep("percent", len(s)))
        s = s / 100
    span = t.max() - min(t.min(), 0.0)
    negative = t < 0
    if (t < -NEGATIVE_TIME * span).any():
        first = int(np.argmax(t < -NEGATIVE_TIME * span))
        problems.append(_arm_problem(arm, "time", f"{name} line {table.lines[first]}: time {t[first]:g} is before 0 by more than "
                                                  f"{100 * NEGATIVE_TIME:g}% of the curve's length"))
        return None
    if negative.any():
        steps.append(CleaningStep("negative_time", int(negative.sum()), float(-t.min()), "time"))
        t = np.where(negative, 0.0, t)
    if len(t) < 2:
        problems.append(_arm_problem(arm, "survival", f"{name}: fewer than two digitized points"))
        return None
    try:
        t, s, cleaned = clean_curve(t, s, RISE_TOLERANCE)
    except CurveError as error:
        problems.append(_arm_problem(arm, "survival", f"{name}: {error}"))
        return None
    return pd.DataFrame({"time": t, "survival": s}), [*steps, *cleaned]


def _has_header(table: Table) -> bool:
    """Whether the first row of an export is a header (its cells are not numbers)."""
    first = table.cells.iloc[0]
    try:
        [float(cell) for cell in first]
    except ValueError:
        return True
    return False


def load_curves(folder: str | Path | None = None, studies: pd.DataFrame | None = None) -> CurveSet:
    """Read and check a curve folder (default ``data/pfs``); with ``studies``, an arm
    whose study is not in the study table gets a note."""
    folder = Path(folder) if folder is not None else DEFAULT_CURVES
    problems: list[Problem] = []
    tables = {}
    for name, required, optional in (("arms.csv", ARM_COLUMNS, ARM_OPTIONAL), ("risk.csv", ["arm_id", "time", "n_risk"], [])):
        try:
            tables[name] = read_csv(folder / name, what=name, required=required, optional=optional, kind="arm", key="arm_id")
        except InputError as error:
            problems += [_arm_problem(p.study, p.column, f"{name}: {p.message}") for p in error.problems]
        except FileNotFoundError:
            problems.append(_arm_problem("(file)", "(file)", f"{folder / name} is missing"))
    if problems:
        raise InputError(folder, problems, WHAT)
    arms_table, risk_table = tables["arms.csv"], tables["risk.csv"]
    arms = arms_table.cells
    problems += [_arm_problem(a, "arm_id", "arms.csv: duplicate arm_id") for a in arms["arm_id"][arms["arm_id"].duplicated()].unique()]
    problems += [_arm_problem(f"line {arms_table.lines[i]}", "arm_id", "arms.csv: arm_id is empty")
                 for i in np.flatnonzero((arms["arm_id"] == "").to_numpy())]
    allowed = {"kind": KINDS, "dose_activity": DOSE_ACTIVITY, **{c: tuple(CATEGORIES[c]) for c in ("origin", "loading", "costim")}}
    canonical = {}
    for column, options in allowed.items():
        parsed = choices(arms_table, column, options)
        problems += [_arm_problem(arms.iloc[i]["arm_id"], column, f"arms.csv: {parsed.errors[i] or 'is blank'}")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
        canonical[column] = parsed.values
    events = counts(arms_table, "total_events")
    problems += [_arm_problem(arms.iloc[i]["arm_id"], "total_events", f"arms.csv: {events.errors[i]}")
                 for i in np.flatnonzero(events.errors != "")]
    published = numbers(arms_table, "published_median", 0.0, 600.0, allow_nd=True)
    problems += [_arm_problem(arms.iloc[i]["arm_id"], "published_median", f"arms.csv: {published.errors[i]}")
                 for i in np.flatnonzero(published.errors != "")]
    risk_all = risk_table.cells
    risk_time, risk_n = numbers(risk_table, "time", 0.0), counts(risk_table, "n_risk")
    for column, parsed in (("time", risk_time), ("n_risk", risk_n)):
        problems += [_arm_problem(risk_all.iloc[i]["arm_id"], column, f"risk.csv line {risk_table.lines[i]}: "
                                                                        f"{parsed.errors[i] or 'is blank'}")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
    risk_all = risk_all.assign(time=risk_time.values, n_risk=risk_n.values)
    curves: dict[str, pd.DataFrame] = {}
    risk: dict[str, pd.DataFrame] = {}
    cleaning: dict[str, tuple[CleaningStep, ...]] = {}
    for i, row in enumerate(arms.itertuples(index=False)):
        arm = row.arm_id
        read = _read_curve(folder / "curves" / f"{arm}.csv", arm, problems)
        steps = [] if read is None else read[1]
        if read is not None:
            curves[arm] = read[0]
        table = risk_all[risk_all["arm_id"] == arm].sort_values("time", kind="stable")
        if table.empty:
            problems.append(_arm_problem(arm, "n_risk", "risk.csv: no numbers-at-risk rows for this arm"))
            continue
        if table[["time", "n_risk"]].isna().any().any():
            continue  # already reported
        if table["time"].iloc[0] != 0:
            problems.append(_arm_problem(arm, "time", "risk.csv: the table must start at time 0"))
        if table["time"].duplicated().any():
            problems.append(_arm_problem(arm, "time", "risk.csv: a time appears twice"))
        if (np.diff(table["n_risk"].to_numpy()) > 0).any():
            problems.append(_arm_problem(arm, "n_risk", "risk.csv: the number at risk increases over time"))
        if arm in curves:
            end = curves[arm]["time"].max()
            past = table["time"] > end
            if past.any():
                steps.append(CleaningStep("risk_after_curve", int(past.sum()), float(table["time"].max() - end), "time"))
                table = table[~past]
        if not np.isnan(events.values[i]) and events.values[i] > table["n_risk"].iloc[0]:
            problems.append(_arm_problem(arm, "total_events", "arms.csv: more events than patients at risk at time 0"))
        risk[arm] = table.reset_index(drop=True)
        cleaning[arm] = tuple(steps)
    orphans = sorted(set(risk_all["arm_id"]) - set(arms["arm_id"]))
    problems += [_arm_problem(a, "arm_id", "risk.csv: arm not listed in arms.csv") for a in orphans]
    if problems:
        raise InputError(folder, problems, WHAT)
    notes = ()
    if studies is not None:
        unknown = sorted(set(arms["arm_id"][~arms["study_id"].isin(set(studies["study_id"]))]))
        if unknown:
            notes = (f"{len(unknown)} arm{'s' if len(unknown) != 1 else ''} of the curve folder name a study that is not in the "
                     f"study table ({', '.join(unknown)}); they are analysed, clustered by the study they name.",)
    medians = np.where(published.nd | published.blank, np.nan, published.values).astype(float)
    arms = arms.assign(total_events=events.values, published_median=medians, **canonical)
    return CurveSet(arms=arms, curves=curves, risk=risk, folder=folder, cleaning=cleaning, notes=notes)
