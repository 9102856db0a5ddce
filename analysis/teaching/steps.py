"""The DerSimonian-Laird random-effects model computed step by step, for teaching.

Every quantity is written out as the textbook formula, with plain sums over a
per-study table, deliberately independent of the vectorized engine in
:mod:`analysis.meta.estimators`: the tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..meta.proportions import pool_proportions
from ..review.outcomes import outcome_rows, variances_noted
from ..text.labels import OUTCOME_LABELS
from ..text.numbers import interval, number

__all__ = ["DLSteps", "dl_steps", "steps_table", "hksj_panel", "hksj_table"]


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


def steps_table(steps: DLSteps, labels: Mapping[str, str]) -> pd.DataFrame:
    """The by-hand table for readers: each cohort by its label (``labels``: id -> label),
    its events (marked "+0.5" where the continuity correction is added to its logit),
    patients, logit and variance, the fixed-effect weight and the sums' terms, the
    random-effects weight and its share."""
    table = steps.table
    return pd.DataFrame({
        "Cohort": table["study"].map(lambda s: labels.get(s, s)),
        "Events": [f"{e:g} (+0.5)" if c else f"{e:g}" for e, c in zip(table["events"], table["corrected"])],
        "Patients": table["n"],
        "Logit y": table["y"],
        "Variance v": table["v"],
        "Weight w = 1/v": table["w"],
        "w·y": table["w*y"],
        "w·y²": table["w*y^2"],
        "w²": table["w^2"],
        "Random-effects weight w*": table["w_star"],
        "Share of w* (%)": table["weight_pct"],
    })


def hksj_panel(studies: pd.DataFrame, analyses: Sequence[tuple[str, str | None]], exclude: Sequence[str] = ("ND",)) -> pd.DataFrame:
    """Pool by DL with the normal-quantile, HKSJ and ad hoc-corrected HKSJ intervals, for
    each (outcome, grouping) of ``analyses``: all cohorts when the grouping is ``None``,
    else each group (``exclude`` left out) with at least two cohorts; groupings the table
    lacks are skipped. One row per fit: ``outcome``, ``group``, ``k``, the Knapp-Hartung
    scale ``q`` (the studies' weighted scatter relative to the model's expectation: the
    HKSJ variance is q times the standard one), and each interval's limits and width in
    percent."""
    cis = ("z", "hksj", "hksj-adhoc")
    rows = []
    for outcome, by in analyses:
        data = outcome_rows(studies, outcome)
        if by is not None and by not in data:
            continue
        parts = [("all cohorts", data)] if by is None else [
            (str(g), part) for g, part in data.groupby(by, observed=True, sort=True) if str(g) not in exclude]
        for group, part in parts:
            if len(part) < 2:
                continue
            with variances_noted():  # each outcome's own fit (pool_outcome) carries the note
                fits = {ci: pool_proportions(part["events"], part["n"], ci=ci) for ci in cis}
            row = {"outcome": outcome, "by": by, "group": group, "k": len(part), "q": (fits["hksj"].se / fits["z"].se) ** 2}
            for ci, fit in fits.items():
                row |= {f"{ci}_low": 100 * fit.ci_low, f"{ci}_high": 100 * fit.ci_high,
                        f"{ci}_width": 100 * (fit.ci_high - fit.ci_low)}
            rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "by", "group", "k", "q"]
                        + [f"{ci}_{part}" for ci in cis for part in ("low", "high", "width")])


def hksj_table(panel: pd.DataFrame) -> pd.DataFrame:
    """A :func:`hksj_panel` for readers: each fit's outcome, what it pools over, k, the
    scale q and the three intervals."""
    return pd.DataFrame({
        "Outcome": panel["outcome"].map(OUTCOME_LABELS),
        "Pooled over": panel["group"].map(lambda g: g if g == "all cohorts" else f"{g} subgroup"),
        "Cohorts (k)": panel["k"],
        "Scale q": panel["q"].map(lambda v: number(v, 2)),
        **{label: [interval(lo, hi) for lo, hi in zip(panel[f"{ci}_low"], panel[f"{ci}_high"])]
           for ci, label in (("z", "Standard (z)"), ("hksj", "HKSJ"), ("hksj-adhoc", "HKSJ, ad hoc"))},
    })
