"""Statistics for one single-arm trial: exact rates and a dose-response trend test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .proportions import clopper_pearson

__all__ = ["TrendTest", "exact_rates", "trend_test"]


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
