"""Individual patient data from a published Kaplan-Meier curve (Guyot et al., 2012).

Input is what can be read off a figure: digitized (time, survival) coordinates of the
curve and the numbers-at-risk table printed below it, optionally the total number of
events. Within each interval of the risk table the algorithm finds the number of
censored patients that, spread evenly over the interval, makes the Kaplan-Meier curve
rebuilt from the digitized drops end the interval with the printed number at risk;
events are the drops in survival times the number at risk. Beyond the last risk-table
time, censoring continues at the average earlier rate, adjusted to the total events
when given. Events are placed at the digitized times, censorings at the midpoints of the
digitized steps (Guyot et al., BMC Med Res Methodol 2012;12:9).

Digitized coordinates are cleaned first (:func:`clean_curve`): sorted by time, the clicks
at one time resolved to the lowest (the value after the step, whatever the order of the
rows), survival within the tolerance of [0, 1] clipped to it, small rises flattened (a rise beyond a tolerance is
refused: it is a click off the curve, not a wobble of the hand), the curve anchored at
(0, 1), and a point added at every risk-table time that was not digitized (the step
curve's value there). Each step is reported with what it moved and by how much
(:class:`CleaningStep`), never silent. As in Guyot's own code, the censorings placed in an
interval never exceed the patients left in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .kaplan_meier import kaplan_meier, km_median

__all__ = [
    "RISE_TOLERANCE",
    "CleaningStep",
    "CurveError",
    "Reconstruction",
    "ReconstructionError",
    "reconstruct_ipd",
    "reconstruct_arms",
    "clean_curve",
    "digitize_km",
    "round_trip",
]

#: The largest rise of a digitized curve (in survival, 0-1) flattened as a wobble of
#: the hand; a larger one is refused.
RISE_TOLERANCE = 0.02


@dataclass(frozen=True)
class CleaningStep:
    """One fix of a digitized curve: what was done (``step``: ``sorted``, ``merged``,
    ``clipped``, ``flattened``, ``anchored``, ``risk_times_added``, or a reading step
    of :func:`analysis.inputs.load_curves`), to how many points (``count``) and the
    largest change it made (``largest``, in the unit of ``unit``; NaN where none)."""

    step: str
    count: int
    largest: float = float("nan")
    unit: str = ""


class CurveError(ValueError):
    """A digitized curve that cannot be cleaned without guessing (a rise beyond the
    tolerance); ``time`` is where, ``size`` by how much."""

    def __init__(self, message: str, time: float = float("nan"), size: float = float("nan")) -> None:
        self.time, self.size = time, size
        super().__init__(message)


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed IPD (``ipd``: columns ``time``, ``event``) and how well its
    Kaplan-Meier curve reproduces the digitized one at the digitized times
    (``max_abs_error``, ``rms_error``), with the cleaning applied (``cleaning``: the
    steps that changed something)."""

    ipd: pd.DataFrame
    max_abs_error: float
    rms_error: float
    cleaning: tuple[CleaningStep, ...]
    n: int
    events: int

    def cleaned(self, step: str) -> int:
        """How many points the cleaning ``step`` changed (0 if it changed none)."""
        return sum(s.count for s in self.cleaning if s.step == step)


def clean_curve(time: Sequence[float], survival: Sequence[float],
                tolerance: float = RISE_TOLERANCE) -> tuple[np.ndarray, np.ndarray, tuple[CleaningStep, ...]]:
    """Sort, resolve repeated times and make a digitized survival curve monotone (see
    the module docstring); the steps that changed something, with their sizes. A rise
    above ``tolerance`` raises :class:`CurveError`."""
    t = np.asarray(time, dtype=float)
    s = np.asarray(survival, dtype=float)
    if t.shape != s.shape or t.ndim != 1 or len(t) < 2:
        raise CurveError("a digitized curve needs at least two (time, survival) points of equal length")
    if not (np.isfinite(t).all() and np.isfinite(s).all()):
        raise CurveError("digitized times and survival must be finite numbers")
    if (t < 0).any():
        raise CurveError(f"digitized times must be >= 0, got {t.min():g}", float(t.min()))
    if s.max() > 1.5:
        raise CurveError("survival must be a proportion (0-1); divide percentages by 100")
    steps = []
    moved = int((np.diff(t) < 0).sum())
    order = np.lexsort((s, t))  # by time, and at one time the lowest first: no dependence on row order
    t, s = t[order], s[order]
    steps.append(CleaningStep("sorted", moved))
    first = np.r_[True, t[1:] != t[:-1]]
    spread = np.maximum.reduceat(s, np.flatnonzero(first)) - s[first]
    steps.append(CleaningStep("merged", int((~first).sum()), float(spread.max(initial=0.0)), "survival"))
    t, s = t[first], s[first]
    outside = (s < 0) | (s > 1)
    beyond = np.abs(s - np.clip(s, 0, 1)) > tolerance
    if beyond.any():
        worst = int(np.argmax(np.abs(s - np.clip(s, 0, 1))))
        raise CurveError(f"survival {s[worst]:g} at time {t[worst]:g} is outside 0–1 by more than the {tolerance:g} a "
                         "digitizer's hand can explain", float(t[worst]))
    steps.append(CleaningStep("clipped", int(outside.sum()), float(np.abs(s - np.clip(s, 0, 1)).max(initial=0.0)), "survival"))
    s = np.clip(s, 0.0, 1.0)
    floor = np.minimum.accumulate(s)
    rise = s - floor
    if rise.max() > tolerance:
        worst = int(np.argmax(rise))
        raise CurveError(f"the curve rises by {rise[worst]:.3f} at time {t[worst]:g} (from {floor[worst]:.3f} to {s[worst]:.3f}), "
                         f"more than the {tolerance:g} a digitizer's hand can explain: a click off the curve?",
                         float(t[worst]), float(rise[worst]))
    steps.append(CleaningStep("flattened", int((rise > 0).sum()), float(rise.max(initial=0.0)), "survival"))
    s = floor
    anchored = not (t[0] == 0 and s[0] == 1)
    steps.append(CleaningStep("anchored", int(anchored), float(1 - s[0]) if t[0] == 0 else float("nan"), "survival"))
    if t[0] > 0:
        t, s = np.r_[0.0, t], np.r_[1.0, s]
    else:
        s[0] = 1.0
    return t, s, tuple(step for step in steps if step.count)


def reconstruct_ipd(
    time: Sequence[float],
    survival: Sequence[float],
    risk_times: Sequence[float],
    n_risk: Sequence[int],
    total_events: int | None = None,
) -> Reconstruction:
    """Guyot's algorithm: digitized curve + numbers at risk -> ``DataFrame[time, event]``.

    ``risk_times`` must start at 0 and increase; ``n_risk`` must not increase. The
    reconstructed sample has ``n_risk[0]`` patients; with ``total_events`` the last
    interval's censoring is tuned until the events add up to it.
    """
    t_s, s, cleaning = clean_curve(time, survival)
    cleaning = list(cleaning)
    t_risk = np.asarray(risk_times, dtype=float)
    n_r = np.asarray(n_risk, dtype=float)
    if t_risk.shape != n_r.shape or t_risk.ndim != 1 or len(t_risk) == 0:
        raise ValueError("risk_times and n_risk must be 1-D of equal length")
    if t_risk[0] != 0 or (np.diff(t_risk) <= 0).any():
        raise ValueError("risk_times must start at 0 and strictly increase")
    if (n_r < 0).any() or (np.diff(n_r) > 0).any() or (n_r != np.round(n_r)).any():
        raise ValueError("n_risk must be whole numbers that never increase (a number at risk cannot grow)")
    if n_r[0] == 0:
        raise ValueError("no patients at risk at time 0")
    if t_risk[-1] > t_s[-1]:
        raise ValueError(f"the risk table runs to {t_risk[-1]:g}, past the digitized curve's end at {t_s[-1]:g}")
    if total_events is not None and not 0 <= total_events <= n_r[0]:
        raise ValueError(f"total_events={total_events} is not between 0 and n_risk[0]={int(n_r[0])}")

    # A flat stretch has no corner to digitize: read the step curve at risk-table times.
    absent = t_risk[~np.isin(t_risk, t_s)]
    if absent.size:
        carried = s[np.searchsorted(t_s, absent, side="right") - 1]
        order = np.argsort(np.r_[t_s, absent], kind="stable")
        t_s, s = np.r_[t_s, absent][order], np.r_[s, carried][order]
    if absent.size:
        cleaning.append(CleaningStep("risk_times_added", int(absent.size)))

    n_t, n_int = len(t_s), len(t_risk)
    # Digitized points belonging to each risk-table interval (0-based, inclusive).
    lower = np.searchsorted(t_s, t_risk, side="left")
    upper = np.r_[lower[1:] - 1, n_t - 1]
    if (upper < lower).any():
        empty = int(np.flatnonzero(upper < lower)[0])
        raise ValueError(f"no digitized point between risk-table times {t_risk[empty]:g} and the next one")

    d = np.zeros(n_t)
    cen = np.zeros(n_t)
    n_hat = np.zeros(n_t + 1)
    km_hat = np.ones(n_t)
    n_censor = np.zeros(n_int)
    last_i = np.zeros(n_int, dtype=int)

    def fill(i: int, censor_count: float) -> int:
        """Distribute censorings over interval i, then events; returns the last drop index."""
        cen[lower[i] : upper[i] + 1] = 0
        if censor_count > 0:
            start, end = t_s[lower[i]], t_s[lower[i + 1]] if i + 1 < n_int else t_s[upper[i]]
            times = start + np.arange(1, int(censor_count) + 1) * (end - start) / (censor_count + 1)
            edges = t_s[lower[i] : upper[i] + 2] if upper[i] + 1 < n_t else np.r_[t_s[lower[i] : upper[i] + 1], np.inf]
            counts, _ = np.histogram(times, bins=edges)
            cen[lower[i] : upper[i] + 1] = counts[: upper[i] - lower[i] + 1]
        n_hat[lower[i]] = n_r[i]
        last = last_i[i]
        for k in range(lower[i], upper[i] + 1):
            # Never more censorings than patients left (Guyot's code caps them too).
            cen[k] = min(cen[k], max(0.0, n_hat[k]))
            if i == 0 and k == lower[i]:
                d[k] = 0
                km_hat[k] = 1.0
            else:
                ratio = s[k] / km_hat[last] if km_hat[last] > 0 else 0.0
                d[k] = max(0.0, np.round(n_hat[k] * (1 - ratio)))
                d[k] = min(d[k], n_hat[k])
                km_hat[k] = km_hat[last] * (1 - d[k] / n_hat[k]) if n_hat[k] > 0 else km_hat[last]
            cen[k] = min(cen[k], n_hat[k] - d[k])
            n_hat[k + 1] = max(0.0, n_hat[k] - d[k] - cen[k])
            if d[k] != 0:
                last = k
        return last

    for i in range(n_int - 1):
        start_s = s[lower[i]]
        censor = np.round(n_r[i] * (s[lower[i + 1]] / start_s if start_s > 0 else 0.0) - n_r[i + 1])
        censor = max(censor, 0.0)
        for _ in range(10_000):
            last = fill(i, censor)
            excess = n_hat[lower[i + 1]] - n_r[i + 1]
            if excess == 0 or (excess < 0 and censor <= 0):
                break
            censor = max(censor + excess, 0.0)
        else:
            raise ValueError(f"the censoring in risk interval {i} did not settle; check the risk table")
        n_censor[i] = censor
        if n_hat[lower[i + 1]] < n_r[i + 1]:
            n_r[i + 1] = n_hat[lower[i + 1]]
        last_i[i + 1] = last

    # Last interval: the average censoring rate of the earlier intervals.
    i = n_int - 1
    if n_int > 1:
        span = t_s[upper[n_int - 2]] - t_s[lower[0]]
        rate = n_censor[: n_int - 1].sum() * (t_s[upper[i]] - t_s[lower[i]]) / span if span > 0 else 0.0
        censor = min(np.round(rate), n_r[i])
    else:
        censor = 0.0
    for _ in range(10_000):
        fill(i, censor)
        if total_events is None:
            break
        excess = d.sum() - total_events
        if excess == 0 or (excess < 0 and censor <= 0):
            break
        censor = min(max(censor + excess, 0.0), n_r[i])
        if censor == n_r[i] and excess > 0:
            fill(i, censor)
            break
    else:
        raise ValueError("the censoring after the last risk-table time did not settle")

    ipd = _to_ipd(t_s, d, cen, int(n_r[0]))
    fit = kaplan_meier(ipd["time"], ipd["event"])
    rebuilt = _step_values(fit.table["time"].to_numpy(), fit.table["survival"].to_numpy(), t_s)
    errors = rebuilt - s
    return Reconstruction(
        ipd=ipd,
        max_abs_error=float(np.abs(errors).max()),
        rms_error=float(np.sqrt(np.mean(errors**2))),
        cleaning=tuple(cleaning),
        n=len(ipd),
        events=int(ipd["event"].sum()),
    )


def _to_ipd(t_s: np.ndarray, d: np.ndarray, cen: np.ndarray, n: int) -> pd.DataFrame:
    """Events at the digitized times, censorings at step midpoints, the rest at the end."""
    events = np.repeat(t_s, d.astype(int))
    mid = np.r_[(t_s[:-1] + t_s[1:]) / 2, t_s[-1]]
    censored = np.repeat(mid, cen.astype(int))
    remaining = n - len(events) - len(censored)
    if remaining < 0:
        raise ValueError("the digitized curve implies more events and censorings than patients at risk")
    time = np.r_[events, censored, np.full(remaining, t_s[-1])]
    event = np.r_[np.ones(len(events), dtype=int), np.zeros(len(censored) + remaining, dtype=int)]
    return pd.DataFrame({"time": time, "event": event})


def _step_values(times: np.ndarray, survival: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A right-continuous step function (1 before the first time) evaluated at ``at``."""
    index = np.searchsorted(times, at, side="right") - 1
    return np.where(index >= 0, survival[np.maximum(index, 0)], 1.0)


def digitize_km(time: Sequence[float], event: Sequence[int], every: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a Kaplan-Meier curve as a digitizer would, for validating reconstruction on
    data whose patients are known: both corners of every step plus the curve's end, or
    (with ``every``) the curve's value on a regular grid of that spacing."""
    fit = kaplan_meier(time, event).table
    t_km, s_km = fit["time"].to_numpy(), fit["survival"].to_numpy()
    end = float(np.max(time))
    if every is not None:
        grid = np.arange(0, end + every, every)
        return grid, _step_values(t_km, s_km, grid)
    drop = fit["events"].to_numpy() > 0
    t, s = t_km[drop], s_km[drop]
    before = np.r_[1.0, s[:-1]]
    return np.r_[np.c_[t, t].ravel(), end], np.r_[np.c_[before, s].ravel(), s_km[-1]]


def round_trip(
    data: pd.DataFrame, time_col: str, event_col: str, group_col: str, risk_every: float, every: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check reconstruction on known patients: digitize each group's Kaplan-Meier curve
    (:func:`digitize_km`), read its numbers at risk every ``risk_every``, reconstruct, and
    compare. Returns one row per group (patients, events and median: true and rebuilt;
    curve errors) and the rebuilt IPD with ``group_col``."""
    rows, rebuilt = [], []
    for group, part in data.groupby(group_col, sort=True):
        time, survival = digitize_km(part[time_col], part[event_col], every)
        risk_times = np.arange(0, part[time_col].max(), risk_every)
        n_risk = [int((part[time_col] >= t).sum()) for t in risk_times]
        result = reconstruct_ipd(time, survival, risk_times, n_risk, total_events=int(part[event_col].sum()))
        rebuilt.append(result.ipd.assign(**{group_col: group}))
        rows.append({
            group_col: group,
            "patients": len(part), "rebuilt patients": result.n,
            "events": int(part[event_col].sum()), "rebuilt events": result.events,
            "median": km_median(part[time_col], part[event_col]).median,
            "rebuilt median": km_median(result.ipd["time"], result.ipd["event"]).median,
            "max |dS|": result.max_abs_error, "RMS dS": result.rms_error,
        })
    return pd.DataFrame(rows), pd.concat(rebuilt, ignore_index=True)


class ReconstructionError(ValueError):
    """An arm's curve and numbers at risk admit no reconstruction; ``arm`` names it."""

    def __init__(self, arm: str, detail: str) -> None:
        self.arm = arm
        super().__init__(f"arm {arm!r} (curves/{arm}.csv with its rows of risk.csv): {detail}")


#: The arm attributes carried onto every reconstructed patient.
ARM_ATTRIBUTES = ("arm_id", "study_id", "arm_label", "kind", "dose_activity", "origin", "loading", "costim")


def reconstruct_arms(curve_set: Any) -> tuple[pd.DataFrame, dict[str, Reconstruction]]:
    """Reconstructed IPD of every arm of a curve set (``arms``, ``curves``, ``risk``, as
    :func:`analysis.inputs.load_curves` gives them), with the arm's attributes on each
    patient row; an arm that cannot be reconstructed raises :class:`ReconstructionError`."""
    frames, reports = [], {}
    for row in curve_set.arms.itertuples(index=False):
        arm = row.arm_id
        curve, risk = curve_set.curves[arm], curve_set.risk[arm]
        total = None if pd.isna(row.total_events) else int(row.total_events)
        try:
            result = reconstruct_ipd(curve["time"], curve["survival"], risk["time"], risk["n_risk"], total)
        except ValueError as exc:
            raise ReconstructionError(arm, str(exc)) from None
        reports[arm] = result
        frames.append(result.ipd.assign(**{c: getattr(row, c) for c in ARM_ATTRIBUTES}))
    ipd = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["time", "event", *ARM_ATTRIBUTES])
    return ipd, reports
