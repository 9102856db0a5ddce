"""Kaplan-Meier medians and marginal Cox models, as R's survival package gives them.

The Kaplan-Meier estimate itself comes from lifelines. Where R and lifelines differ,
this module follows R:

* **Confidence intervals.** R's ``survfit()`` default is ``conf.type = "log"`` (Greenwood
  standard error of the cumulative hazard, interval on log S, capped at 1); lifelines'
  ``confidence_interval_`` is the log-log ("exponential Greenwood") interval.
  :func:`km_median` offers ``"log"``, ``"log-log"`` and ``"plain"`` exactly as R.
* **The median.** lifelines' ``median_survival_time_`` is the first time S(t) <= 0.5.
  R's ``quantile.survfit`` takes the midpoint of a stretch where S(t) is exactly 0.5
  (to within sqrt(machine epsilon)); the CI limits are the same rule applied to the
  lower and upper confidence curves. Limits (or the median) that are never reached are
  NaN, R's NA.

The marginal Cox model uses lifelines' ``CoxPHFitter`` with ``cluster_col``: Efron ties
and the robust sandwich variance from score residuals summed within clusters, which
is R's ``coxph(... , cluster = id)`` (checked against R in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

from ..meta.regression import design_matrix

__all__ = ["KaplanMeier", "MedianSurvival", "CoxResult", "kaplan_meier", "km_median", "marginal_cox", "group_medians", "compare_groups", "CONF_TYPES"]

CONF_TYPES = ("log", "log-log", "plain")
_TOL = float(np.sqrt(np.finfo(float).eps))


def _check_survival_data(time: np.ndarray, event: np.ndarray) -> None:
    if time.shape != event.shape or time.ndim != 1:
        raise ValueError(f"time and event must be 1-D of equal length, got {time.shape} and {event.shape}")
    if len(time) == 0:
        raise ValueError("no observations")
    if not np.isfinite(time).all() or (time < 0).any():
        bad = int(np.flatnonzero(~np.isfinite(time) | (time < 0))[0])
        raise ValueError(f"observation {bad}: time must be a finite number >= 0, got {time[bad]!r}")
    if not np.isin(event, (0, 1)).all():
        bad = int(np.flatnonzero(~np.isin(event, (0, 1)))[0])
        raise ValueError(f"observation {bad}: event must be 0 (censored) or 1 (event), got {event[bad]!r}")


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier fit: one row per distinct time (``time``, ``n_risk``, ``events``,
    ``censored``, ``survival``, ``std_err`` -- the Greenwood standard error of the
    cumulative hazard, R's ``std.err``)."""

    table: pd.DataFrame
    n: int
    events: int

    def confidence(self, conf_type: str = "log", level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise lower and upper limits as R's ``survfit(conf.type = ...)``."""
        if conf_type not in CONF_TYPES:
            raise ValueError(f"conf_type={conf_type!r} is not supported; choose one of {list(CONF_TYPES)}")
        s = self.table["survival"].to_numpy()
        se = self.table["std_err"].to_numpy()
        z = stats.norm.ppf(0.5 + level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            if conf_type == "plain":
                half = z * se * s
                return np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
            if conf_type == "log":
                xx = np.where(s == 0, np.nan, s)
                return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
            xx = np.where((s == 0) | (s == 1), np.nan, s)
            spread = z * se / np.log(xx)
            return np.exp(-np.exp(np.log(-np.log(xx)) - spread)), np.exp(-np.exp(np.log(-np.log(xx)) + spread))


def kaplan_meier(time: Sequence[float] | np.ndarray, event: Sequence[int] | np.ndarray) -> KaplanMeier:
    """Kaplan-Meier estimate (lifelines) with R's Greenwood standard error."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    _check_survival_data(t, e)
    fitter = KaplanMeierFitter().fit(t, e)
    table = fitter.event_table[fitter.event_table["removed"] > 0]  # drop lifelines' entry row
    n_risk = table["at_risk"].to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        increments = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
    survival = fitter.survival_function_.loc[table.index].iloc[:, 0].to_numpy()
    out = pd.DataFrame(
        {
            "time": table.index.to_numpy(dtype=float),
            "n_risk": n_risk.astype(int),
            "events": d.astype(int),
            "censored": table["censored"].to_numpy(dtype=int),
            "survival": survival,
            "std_err": np.sqrt(np.cumsum(increments)),
        }
    )
    return KaplanMeier(table=out, n=len(t), events=int(e.sum()))


class MedianSurvival(NamedTuple):
    """Median survival with its confidence limits (NaN: not reached, R's NA)."""

    median: float
    ci_low: float
    ci_high: float


def _findq(times: np.ndarray, failure: np.ndarray, p: float) -> float:
    """R survival's findq: the time at which the cumulative failure reaches p."""
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], failure])
    if np.nanmax(y) < p:
        return float("nan")
    xmax = x[-1]
    _, first = np.unique(np.where(np.isnan(y), np.inf, y), return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    present = ~np.isnan(y)
    positions = np.flatnonzero(present)

    def index(shift: float) -> int | None:
        # approx(y + shift, 1:n, p, method = "constant", f = 1): the first point at or
        # after p, NA beyond the last
        candidates = positions[y[present] + shift >= p]
        return int(candidates[0]) if candidates.size else None

    i1, i2 = index(_TOL), index(-_TOL)
    if i1 is None:
        return float("nan")
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL:
        return float((x[i1] + xmax) / 2)
    if i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2)


def km_median(
    time: Sequence[float] | np.ndarray,
    event: Sequence[int] | np.ndarray,
    conf_type: str = "log",
    level: float = 0.95,
) -> MedianSurvival:
    """Median survival and CI exactly as R's ``quantile(survfit(...), 0.5)``."""
    fit = kaplan_meier(time, event)
    lower, upper = fit.confidence(conf_type, level)
    times = fit.table["time"].to_numpy()
    survival = fit.table["survival"].to_numpy()
    return MedianSurvival(
        median=_findq(times, 1 - survival, 0.5),
        ci_low=_findq(times, 1 - lower, 0.5),
        ci_high=_findq(times, 1 - upper, 0.5),
    )


@dataclass(frozen=True)
class CoxResult:
    """A marginal Cox model: per term ``coef``, ``hr``, ``se`` (robust when clustered),
    ``z``, ``p``, ``ci_low``/``ci_high`` (for the hazard ratio); ``n``, ``events``."""

    table: pd.DataFrame
    n: int
    events: int
    clustered: bool


def marginal_cox(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    cluster_col: str | None = None,
    level: float = 0.95,
) -> CoxResult:
    """Cox proportional-hazards model with a cluster-robust (sandwich) variance.

    R: ``coxph(Surv(duration, event) ~ covariates, cluster = cluster_col)``. Categorical
    covariates are dummy-coded against their first level (``name[level]`` terms).
    """
    missing = [c for c in [duration_col, event_col, *covariates, *([cluster_col] if cluster_col else [])] if c not in df]
    if missing:
        raise ValueError(f"columns not in the data: {missing}")
    if not covariates:
        raise ValueError("a Cox model needs at least one covariate")
    _check_survival_data(df[duration_col].to_numpy(dtype=float), df[event_col].to_numpy(dtype=float))
    design = design_matrix(df[list(covariates)].reset_index(drop=True)).drop(columns="intercept")
    data = pd.concat([design, df[[duration_col, event_col]].reset_index(drop=True)], axis=1)
    if cluster_col:
        if df[cluster_col].isna().any():
            raise ValueError(f"cluster column {cluster_col!r} has missing values")
        data["_cluster"] = df[cluster_col].to_numpy()
    fitter = CoxPHFitter().fit(
        data, duration_col=duration_col, event_col=event_col, cluster_col="_cluster" if cluster_col else None
    )
    summary = fitter.summary
    z = stats.norm.ppf(0.5 + level / 2)
    coef, se = summary["coef"].to_numpy(), summary["se(coef)"].to_numpy()
    table = pd.DataFrame(
        {
            "coef": coef,
            "hr": np.exp(coef),
            "se": se,
            "z": coef / se,
            "p": 2 * stats.norm.sf(np.abs(coef / se)),
            "ci_low": np.exp(coef - z * se),
            "ci_high": np.exp(coef + z * se),
        },
        index=summary.index.rename("term"),
    )
    return CoxResult(table=table, n=len(data), events=int(data[event_col].sum()), clustered=bool(cluster_col))


def group_medians(ipd: pd.DataFrame, by: str, conf_type: str = "log") -> pd.DataFrame:
    """Patients, events and median survival with CI per group of ``by`` (NaN: not reached)."""
    rows = []
    for group, part in ipd.groupby(by, observed=True, sort=False):
        m = km_median(part["time"], part["event"], conf_type)
        rows.append({by: group, "patients": len(part), "events": int(part["event"].sum()), **m._asdict()})
    return pd.DataFrame(rows)


def compare_groups(
    ipd: pd.DataFrame, by: str, levels: Sequence[str], cluster_col: str = "study_id"
) -> tuple[pd.DataFrame, CoxResult]:
    """Medians per level of ``by`` and the hazard ratio of each level against the first
    (``levels[0]``), from a Cox model clustered by ``cluster_col`` (the paper's marginal
    model). Rows of other levels are left out."""
    part = ipd[ipd[by].isin(levels)].copy()
    present = [level for level in levels if (part[by] == level).any()]
    if len(present) < 2:
        raise ValueError(f"{by}: need patients in at least two of {list(levels)}, found {present}")
    part[by] = pd.Categorical(part[by], categories=present)
    clusters = part[cluster_col].nunique()
    return group_medians(part, by), marginal_cox(part, "time", "event", [by], cluster_col if clusters > 1 else None)
