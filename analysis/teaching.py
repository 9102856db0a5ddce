"""The DerSimonian-Laird random-effects model computed step by step, for teaching.

Every quantity is written out as the textbook formula, with plain sums over a
per-study table, deliberately independent of the vectorized engine in
:mod:`analysis.estimators`: the tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["DLSteps", "dl_steps"]


@dataclass(frozen=True)
class DLSteps:
    """``table``: one row per study with the counts, the 0.5 correction, the logit
    ``y``, its variance ``v``, the fixed-effect weight ``w = 1/v``, and the columns the
    sums need (``w*y``, ``w*y^2``, ``w^2``), then the random-effects weight ``w_star``
    and its share in percent. ``steps``: the named intermediate results in order."""

    table: pd.DataFrame
    steps: dict[str, float]


def dl_steps(events: Sequence[int], n: Sequence[int], labels: Sequence[str] | None = None, level: float = 0.95) -> DLSteps:
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    k = len(x)
    corrected = (x == 0) | (x == m)
    xc = x + 0.5 * corrected
    mc = m + 1.0 * corrected
    y = np.log(xc / (mc - xc))
    v = 1 / xc + 1 / (mc - xc)
    w = 1 / v
    table = pd.DataFrame(
        {
            "study": labels if labels is not None else [f"study {i + 1}" for i in range(k)],
            "events": x.astype(int), "n": m.astype(int), "corrected": corrected,
            "y": y, "v": v, "w": w, "w*y": w * y, "w*y^2": w * y**2, "w^2": w**2,
        }
    )
    sum_w, sum_wy, sum_wy2, sum_w2 = w.sum(), (w * y).sum(), (w * y**2).sum(), (w**2).sum()
    mu_fixed = sum_wy / sum_w
    q = sum_wy2 - sum_wy**2 / sum_w  # = sum w (y - mu_fixed)^2
    df = k - 1
    c = sum_w - sum_w2 / sum_w
    tau2 = max(0.0, (q - df) / c) if df > 0 else 0.0  # one study: no between-study variance
    w_star = 1 / (v + tau2)
    mu = (w_star * y).sum() / w_star.sum()
    se = np.sqrt(1 / w_star.sum())
    z = stats.norm.ppf(0.5 + level / 2)
    pi_half = z * np.sqrt(se**2 + tau2)
    expit = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    table["w_star"] = w_star
    table["weight_pct"] = 100 * w_star / w_star.sum()
    steps = {
        "sum_w": sum_w, "sum_wy": sum_wy, "sum_wy2": sum_wy2, "sum_w2": sum_w2,
        "mu_fixed": mu_fixed, "q": q, "df": float(df), "q_p": float(stats.chi2.sf(q, df)), "c": c,
        "tau2": tau2, "i2": 100 * max(0.0, (q - df) / q) if q > 0 else 0.0,
        "mu": mu, "se": se, "ci_low_logit": mu - z * se, "ci_high_logit": mu + z * se,
        "estimate": expit(mu), "ci_low": expit(mu - z * se), "ci_high": expit(mu + z * se),
        "pi_low": expit(mu - pi_half), "pi_high": expit(mu + pi_half),
    }
    return DLSteps(table=table, steps={name: float(value) for name, value in steps.items()})
