"""The results of pooling proportions, and the steps from a fitted model to them.

:class:`PooledProportion` is the hub, as metafor's ``rma`` object is: ``print(fit)``
gives a short report (:mod:`analysis.meta.report`), its fields are named as in metafor,
``studies`` holds the per-study table and :meth:`PooledProportion.heterogeneity_ci`
the Q-profile intervals. :class:`PooledProportionBatch` holds many meta-analyses as
arrays, :class:`SubgroupAnalysis` a comparison of subgroups.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import TRANSFORMS, Options
from .estimators import RandomEffectsFit, VarianceRatioWarning
from .heterogeneity import HeterogeneityCI, heterogeneity_ci
from .report import batch_report, fit_report, short_repr, subgroup_report

__all__ = [
    "FIELDS",
    "FLOAT_FIELDS",
    "PI_UNDEFINED",
    "PooledProportion",
    "PooledProportionBatch",
    "SubgroupAnalysis",
    "option_labels",
    "pi_crit",
    "summarise",
    "with_unfitted_rows",
    "scatter",
    "study_notes",
]

#: The scalar fields of a pooled result, in the order of :class:`PooledProportion`.
FIELDS = (
    "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "tau2", "i2", "h2",
    "q", "q_df", "q_p", "k", "n_total", "events_total",
)
#: Those that are NaN where a fit fails.
FLOAT_FIELDS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "tau2", "i2", "h2", "q", "q_p")
PI_UNDEFINED = "the t prediction interval needs k >= 3 studies (t on k - 2 df): it is NaN"


@dataclass(frozen=True, repr=False)
class PooledProportion:
    """Result of one random-effects meta-analysis of proportions.

    Proportions (``estimate``, ``ci_*``, ``pi_*``) are on the 0-1 scale; ``mu`` and ``se``
    are on the transformed scale; ``i2`` is a percentage. ``studies`` holds one row per
    study with its observed proportion, Clopper-Pearson CI and random-effects weight (%).
    ``notes`` say where the result needs care (a single study; every study at 0 or n
    events; a t prediction interval with k < 3); the forest plots print them.
    ``pi_method`` says how the prediction interval was computed (see ``PI_METHODS``);
    ``level`` is the level of both intervals. ``print(fit)`` gives a short report.
    """

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    mu: float
    se: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    k: int
    n_total: int
    events_total: int
    transform: str
    tau2_method: str
    ci_method: str
    method: str
    level: float
    studies: pd.DataFrame = field(compare=False)
    notes: tuple[str, ...] = ()
    pi_method: str = "z"
    add: float = 0.5
    to: str = "only0"

    def __str__(self) -> str:
        return fit_report(self)

    def __repr__(self) -> str:
        return short_repr(self)

    def summary(self) -> dict[str, float]:
        """Plain-float summary (percent scale for proportions), e.g. for glue or tables."""
        return {
            "estimate": 100 * self.estimate,
            "ci_low": 100 * self.ci_low,
            "ci_high": 100 * self.ci_high,
            "pi_low": 100 * self.pi_low,
            "pi_high": 100 * self.pi_high,
            "i2": self.i2,
            "tau2": self.tau2,
            "q": self.q,
            "q_p": self.q_p,
            "k": self.k,
            "n": self.n_total,
            "events": self.events_total,
        }

    def heterogeneity_ci(self) -> HeterogeneityCI | None:
        """Q-profile confidence intervals for tau^2 and I^2 of this fit
        (:func:`analysis.heterogeneity_ci` with the same options); None for the GLMM,
        whose tau^2 is not a normal-normal one, and for a single study."""
        if self.method != "inverse-variance" or self.k < 2:
            return None
        with warnings.catch_warnings():
            # Pooling these studies has warned of their variances already.
            warnings.simplefilter("ignore", VarianceRatioWarning)
            return heterogeneity_ci(self.studies["events"], self.studies["n"], transform=self.transform,
                                    tau2=self.tau2_method, level=self.level, add=self.add, to=self.to)


@dataclass(frozen=True, repr=False)
class PooledProportionBatch:
    """Many meta-analyses at once: the fields of :class:`PooledProportion` as arrays,
    one entry per row of the 2-D input (no per-study table).

    ``notes`` has one string per row, "" where there is nothing to say. With
    ``errors="nan"`` a row that cannot be fitted has NaN in every float field (and 0 in
    ``q_df``, ``n_total``, ``events_total`` if its counts are invalid) and its note says why.
    """

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    mu: np.ndarray
    se: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    k: np.ndarray
    n_total: np.ndarray
    events_total: np.ndarray
    transform: str
    tau2_method: str
    ci_method: str
    method: str
    level: float
    pi_method: str = "z"
    add: float = 0.5
    to: str = "only0"
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.estimate)

    def __str__(self) -> str:
        return batch_report(self)

    def __repr__(self) -> str:
        return f"PooledProportionBatch({len(self)} meta-analyses, method={self.method!r}, tau2={self.tau2_method!r})"

    def row(self, i: int) -> dict[str, float]:
        """The scalar fields of meta-analysis ``i``."""
        return {name: getattr(self, name)[i].item() for name in FIELDS}


@dataclass(frozen=True, repr=False)
class SubgroupAnalysis:
    """Per-subgroup pooled results and the test for differences between subgroups.

    The test statistic is Cochran's Q computed on the subgroup estimates (transformed
    scale) weighted by their inverse squared standard errors, each subgroup having its
    own tau^2 (R meta's default, ``tau.common = FALSE``); ``df`` is the number of
    subgroups minus one.
    """

    groups: dict[str, PooledProportion]
    q_between: float
    df: int
    p: float
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return subgroup_report(self)

    def __repr__(self) -> str:
        return f"SubgroupAnalysis(groups={list(self.groups)}, q_between={self.q_between:.4g}, df={self.df}, p={self.p:.4g})"

    @property
    def level(self) -> float:
        """The level of the subgroups' intervals."""
        return next(iter(self.groups.values())).level

    def table(self) -> pd.DataFrame:
        """One row per subgroup on the percent scale."""
        rows = [{"group": g, **r.summary()} for g, r in self.groups.items()]
        return pd.DataFrame(rows).set_index("group")


def option_labels(options: Options) -> dict:
    """The descriptive fields of a result fitted with ``options``."""
    return {
        "transform": options.transform,
        "tau2_method": options.tau2,
        "ci_method": options.ci,
        "method": "inverse-variance",
        "level": options.level,
        "pi_method": options.pi,
        "add": options.add,
        "to": options.to,
    }


def pi_crit(fit: RandomEffectsFit, pi: str, level: float) -> np.ndarray:
    """The prediction interval's quantile per meta-analysis (NaN where undefined)."""
    if pi == "z":
        return fit.crit
    df = fit.k - 2
    return np.where(df >= 1, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)


def summarise(
    fit: RandomEffectsFit,
    ok: np.ndarray,
    x: np.ndarray,
    n: np.ndarray,
    transform: str,
    n_harmonic: np.ndarray,
    pi_quantile: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The result fields (proportion scale where it applies) of a batch of fits, and
    the rows whose back-transformation is undefined (their fields are then NaN)."""
    mu, se = fit.beta[:, 0], fit.se[:, 0]
    half_ci = fit.crit * se
    half_pi = (fit.crit if pi_quantile is None else pi_quantile) * np.sqrt(se**2 + fit.tau2)
    back = lambda value: TRANSFORMS[transform].inverse(value, n_harmonic)  # noqa: E731
    scale = {"estimate": mu, "ci_low": mu - half_ci, "ci_high": mu + half_ci, "pi_low": mu - half_pi, "pi_high": mu + half_pi}
    fields = {name: back(value) for name, value in scale.items()}
    undefined = np.zeros(len(mu), dtype=bool)
    for name, value in scale.items():
        undefined |= np.isnan(fields[name]) & np.isfinite(value)
    fields.update(
        mu=mu, se=se, tau2=fit.tau2, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_p=fit.q_p, k=fit.k,
        n_total=np.where(ok, n, 0.0).sum(axis=1).astype(int),
        events_total=np.where(ok, x, 0.0).sum(axis=1).astype(int),
    )
    for name in FLOAT_FIELDS:
        fields[name] = np.where(undefined, np.nan, fields[name])
    return fields, undefined


def with_unfitted_rows(
    fields: Mapping[str, np.ndarray], notes: np.ndarray, fitted: np.ndarray, why: np.ndarray, x: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fields and notes of the ``fitted`` rows placed among the rows that were not (NaN
    floats, 0 counts but k, and ``why`` as their note); ``x`` are all rows' events."""
    out = {name: scatter(value, fitted, np.nan if name in FLOAT_FIELDS else 0) for name, value in fields.items()}
    out["k"] = np.where(fitted, out["k"], (~np.isnan(x)).sum(axis=1))
    all_notes = np.array(why, dtype=object)
    all_notes[fitted] = notes
    return out, all_notes


def scatter(values: np.ndarray, rows: np.ndarray, fill: float) -> np.ndarray:
    """Rows of ``values`` placed at ``rows`` (a mask) of a larger array filled with ``fill``."""
    if rows.all():
        return values
    out = np.full((len(rows),) + values.shape[1:], fill, dtype=values.dtype)
    out[rows] = values
    return out


def study_notes(events: np.ndarray, n: np.ndarray) -> tuple[str, ...]:
    """What a reader must know about the studies of one meta-analysis."""
    notes = []
    if len(events) == 1:
        notes.append("a single study: no heterogeneity can be estimated (tau^2 = 0, I^2 = 0)")
    if (events == 0).all():
        notes.append("every study has 0 events: the estimate rests on the continuity correction")
    elif (events == n).all():
        notes.append("every study has n events: the estimate rests on the continuity correction")
    return tuple(notes)
