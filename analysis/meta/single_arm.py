"""Statistics for one single-arm trial: exact rates and a dose-response trend test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import clopper_pearson

__all__ = ["TrendTest", "exact_rates", "trend_test", "adverse_event_rates", "response_by_dose"]



def exact_rates(events: Sequence[int], n: Sequence[int], level: float = 0.95) -> pd.DataFrame:
    """Proportions (%) with exact Clopper-Pearson CIs (%), one row per pair."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    if x.shape != m.shape:
        raise ValueError(f"events and n must have the same shape, got {x.shape} and {m.shape}")
    if (m <= 0).any() or (x < 0).any() or (x > m).any() or (x != np.round(x)).any():
        raise ValueError("events must be whole numbers between 0 and n, and n positive")
    low, high = clopper_pearson(x, m, level)
    return pd.DataFrame({"events": x.astype(int), "n": m.astype(int), "rate": 100 * x / m, "ci_low": 100 * low, "ci_high": 100 * high})


@dataclass(frozen=True)
class TrendTest:
    """Chi-square test for a linear trend in proportions over ``scores`` (1 df)."""

    statistic: float
    p: float
    slope: float


def trend_test(events: Sequence[int], n: Sequence[int], scores: Sequence[float]) -> TrendTest:
    """R's ``prop.trend.test``: the regression sum of squares of the observed proportions
    on the scores, weighted by n / (p(1 - p)) at the pooled proportion p (the
    Cochran-Armitage test without continuity correction)."""
    x, m, s = (np.asarray(a, dtype=float) for a in (events, n, scores))
    if not (x.shape == m.shape == s.shape) or x.ndim != 1 or len(x) < 2:
        raise ValueError("events, n and scores must be 1-D of equal length (at least 2 groups)")
    exact_rates(x, m)  # validates the counts
    if np.ptp(s) == 0:
        raise ValueError("the scores must differ between groups")
    p = x.sum() / m.sum()
    if p in (0.0, 1.0):
        raise ValueError("a trend test needs both responders and non-responders")
    w = m / (p * (1 - p))
    f = x / m
    s_bar, f_bar = np.average(s, weights=w), np.average(f, weights=w)
    sxy = np.sum(w * (s - s_bar) * (f - f_bar))
    sxx = np.sum(w * (s - s_bar) ** 2)
    statistic = float(sxy**2 / sxx)
    return TrendTest(statistic=statistic, p=float(stats.chi2.sf(statistic, 1)), slope=float(sxy / sxx))


def adverse_event_rates(events: pd.DataFrame, n: int) -> pd.DataFrame:
    """Adverse events (columns ``event``, ``any_grade``, ``grade3``, ``grade4``) with exact
    CIs (%) for any grade and for grade >= 3 (grade 3 + grade 4) among ``n`` patients."""
    severe = events["grade3"] + events["grade4"]
    any_grade = exact_rates(events["any_grade"], np.full(len(events), n))
    grade3 = exact_rates(severe, np.full(len(events), n))
    return events.assign(
        any_rate=any_grade["rate"], any_low=any_grade["ci_low"], any_high=any_grade["ci_high"],
        severe=severe, severe_rate=grade3["rate"], severe_low=grade3["ci_low"], severe_high=grade3["ci_high"],
    )


def response_by_dose(doses: pd.DataFrame, pooled_from: Sequence[float] = (150,)) -> pd.DataFrame:
    """Objective response (%) with exact CIs per dose group of a dose table
    (:func:`analysis.inputs.trial.load_dose_table`),
    then for the doses from each of ``pooled_from`` upwards and for all doses
    (``"150-800"``, ``"50-800"``, named by the dose range as in the trial's Table 3)."""
    groups = list(zip(doses["dose_group"].astype(str), doses["responders"], doses["n"]))
    top = doses["dose_millions"].max()
    for low in (*pooled_from, doses["dose_millions"].min()):
        part = doses[doses["dose_millions"] >= low]
        groups.append((f"{low:g}-{top:g}", int(part["responders"].sum()), int(part["n"].sum())))
    rates = exact_rates([g[1] for g in groups], [g[2] for g in groups])
    rates.insert(0, "dose_group", [g[0] for g in groups])
    return rates
