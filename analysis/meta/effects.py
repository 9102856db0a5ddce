"""Pooling any effect with its standard error: log hazard ratios, log medians, or any
estimate on a scale where it is roughly normal -- metafor's ``rma(yi, sei=...)`` -- and
metafor's cumulative meta-analysis (``cumul()``), for effects and for proportions.

:func:`pool_effects` uses the engine of :func:`~analysis.meta.proportions.pool_proportions`
(the same τ² estimators, the common-effect model ``tau2="FE"``, HKSJ and prediction
intervals), on ``scale="log"`` (estimates and intervals exponentiated) or
``"identity"``. :func:`effect_from_ci` turns a published estimate with its confidence
interval into ``yi`` and ``sei`` on the log scale, the usual route from a trial report.
:func:`cumulative` refits the model on the first 1, 2, …, k studies in a given order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import prepare
from .estimators import CI_METHODS, CI_NAMES, TAU2_METHODS, TAU2_NAMES, HKSJFallbackWarning, fit_random_effects
from .report import fixed, level_text, p_value
from .results import pi_crit

__all__ = ["EFFECT_SCALES", "PooledEffect", "pool_effects", "effect_from_ci", "cumulative", "cumulative_proportions"]

#: The scales an effect is pooled on, and how an estimate returns from it.
EFFECT_SCALES = {"log": np.exp, "identity": lambda value: value}


@dataclass(frozen=True, repr=False)
class PooledEffect:
    """Result of pooling effects with their standard errors.

    ``mu``, ``se`` and ``tau2`` are on the pooling scale; ``estimate``, ``ci_*`` and
    ``pi_*`` on the natural scale (exponentiated for ``scale="log"``, so a pooled hazard
    ratio); ``i2`` is a percentage. ``studies`` holds each study's ``yi``, ``sei``, its
    estimate and CI on the natural scale and its weight (%). ``print(fit)`` reports it."""

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    mu: float
    se: float
    z: float
    p: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    k: int
    scale: str
    tau2_method: str
    ci_method: str
    pi_method: str
    level: float
    studies: pd.DataFrame = field(compare=False)
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        model = "Common-effect" if self.tau2_method == "FE" else "Random-effects"
        back = "exp(μ)" if self.scale == "log" else "μ"
        lines = [
            f"{model} meta-analysis of effects (k = {self.k}) on the {self.scale} scale",
            f"Model: inverse variance; τ² by {TAU2_NAMES[self.tau2_method]} ({self.tau2_method}); "
            f"CI: {CI_NAMES[self.ci_method]}",
            "",
            f"τ² = {fixed(self.tau2, 4)}, I² = {fixed(self.i2, 1)}%, H² = {fixed(self.h2, 2)}",
            f"Heterogeneity Q-test: Q({self.q_df} df) = {fixed(self.q, 2)}, {p_value(self.q_p)}",
            "",
            f"Pooled {back}: {fixed(self.estimate, 3)}  ({level_text(self.level)} CI {fixed(self.ci_low, 3)} to "
            f"{fixed(self.ci_high, 3)}), test of μ = 0: {p_value(self.p)}",
            f"  {level_text(self.level)} prediction interval: {fixed(self.pi_low, 3)} to {fixed(self.pi_high, 3)}",
            f"  On the {self.scale} scale: μ = {fixed(self.mu, 4)}, SE = {fixed(self.se, 4)}",
        ]
        return "\n".join(lines + [f"Note: {note}" for note in self.notes])

    def __repr__(self) -> str:
        return (f"PooledEffect(estimate={self.estimate:.4g}, ci=({self.ci_low:.4g}, {self.ci_high:.4g}), "
                f"tau2={self.tau2:.4g}, k={self.k}, scale={self.scale!r})")

    def summary(self) -> dict[str, float]:
        """Plain-float summary, e.g. for glue or tables (natural scale)."""
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high, "pi_low": self.pi_low,
                "pi_high": self.pi_high, "i2": self.i2, "tau2": self.tau2, "q": self.q, "q_p": self.q_p, "p": self.p,
                "k": self.k}


def _variances(yi: np.ndarray, sei: Sequence[float] | None, vi: Sequence[float] | None) -> np.ndarray:
    if (sei is None) == (vi is None):
        raise ValueError("give either sei (standard errors) or vi (sampling variances), not both or neither")
    v = np.asarray(sei, dtype=float) ** 2 if sei is not None else np.asarray(vi, dtype=float)
    if v.shape != yi.shape:
        raise ValueError(f"yi has {yi.size} values but the {'sei' if sei is not None else 'vi'} {v.size}")
    if not (np.isfinite(yi).all() and np.isfinite(v).all()):
        raise ValueError("yi and its standard errors (or variances) must be finite numbers")
    if (v <= 0).any():
        study = int(np.argmax(v <= 0)) + 1
        raise ValueError(f"study {study}: a standard error (or variance) must be positive")
    return v


def _check(scale: str, tau2: str, ci: str, pi: str) -> None:
    for name, value, allowed in (("scale", scale, tuple(EFFECT_SCALES)), ("tau2", tau2, TAU2_METHODS),
                                 ("ci", ci, CI_METHODS), ("pi", pi, ("z", "t"))):
        if value not in allowed:
            raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(allowed)}")


def pool_effects(
    yi: Sequence[float],
    sei: Sequence[float] | None = None,
    vi: Sequence[float] | None = None,
    *,
    scale: str = "log",
    tau2: str = "DL",
    ci: str = "z",
    pi: str = "z",
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> PooledEffect:
    """Pool effects ``yi`` (on ``scale``: ``"log"`` for ratios such as hazard ratios, or
    ``"identity"``) with their standard errors ``sei`` or variances ``vi``; ``tau2``,
    ``ci`` and ``pi`` as in :func:`~analysis.meta.proportions.pool_proportions` (plus
    ``tau2="FE"``, the common-effect model), as metafor's ``rma(yi, sei=..., method=...,
    test=...)`` and ``predict()``."""
    _check(scale, tau2, ci, pi)
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    if y.ndim != 1 or y.size == 0:
        raise ValueError("yi must be a non-empty 1-D sequence of effects")
    v = _variances(y, sei, vi)
    names = list(labels) if labels is not None else [f"study {i + 1}" for i in range(y.size)]
    if len(names) != y.size:
        raise ValueError(f"{len(names)} labels for {y.size} effects")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HKSJFallbackWarning)  # a single study: said in the notes
        fit = fit_random_effects(y[None, :], v[None, :], np.ones((1, y.size), bool), tau2=tau2, ci=ci, level=level)
    mu, se, crit = float(fit.beta[0, 0]), float(fit.se[0, 0]), float(fit.crit[0])
    half_pi = float(pi_crit(fit, pi, level)[0]) * np.sqrt(se**2 + float(fit.tau2[0]))
    back = EFFECT_SCALES[scale]
    z = mu / se
    p = 2 * (stats.t.sf(abs(z), fit.ddf[0]) if np.isfinite(fit.ddf[0]) else stats.norm.sf(abs(z)))
    z_study = stats.norm.ppf(0.5 + level / 2)
    w = fit.weights[0]
    studies = pd.DataFrame({
        "study": names, "yi": y, "sei": np.sqrt(v), "estimate": back(y), "ci_low": back(y - z_study * np.sqrt(v)),
        "ci_high": back(y + z_study * np.sqrt(v)), "weight": 100 * w / w.sum(),
    })
    notes = ()
    if y.size == 1:
        notes = ("a single study: its own estimate, with no heterogeneity to estimate"
                 + ("; HKSJ needs two studies, so its interval is the z interval, as in metafor" if ci != "z" else ""),)
    elif pi == "t" and y.size < 3:
        notes = ("the t prediction interval needs k >= 3 studies (t on k - 2 df): it is NaN",)
    elif y.size == 2 and tau2 != "FE":
        notes = ("with two studies τ² and I² rest on one degree of freedom: the heterogeneity they show is barely "
                 "estimated",)
    return PooledEffect(
        estimate=float(back(mu)), ci_low=float(back(mu - crit * se)), ci_high=float(back(mu + crit * se)),
        pi_low=float(back(mu - half_pi)), pi_high=float(back(mu + half_pi)), mu=mu, se=se, z=float(z), p=float(p),
        tau2=float(fit.tau2[0]), i2=float(fit.i2[0]), h2=float(fit.h2[0]), q=float(fit.q[0]), q_df=int(fit.q_df[0]),
        q_p=float(fit.q_p[0]), k=int(fit.k[0]), scale=scale, tau2_method=tau2, ci_method=ci, pi_method=pi, level=level,
        studies=studies, notes=notes,
    )


def effect_from_ci(estimate: float, ci_low: float, ci_high: float, level: float = 0.95,
                   scale: str = "log") -> tuple[float, float]:
    """``(yi, sei)`` of a published estimate with its ``level`` confidence interval:
    on the log scale for a ratio, the interval's half-width over the normal quantile."""
    if scale not in EFFECT_SCALES:
        raise ValueError(f"scale={scale!r} is not supported; choose one of {', '.join(EFFECT_SCALES)}")
    values = np.array([estimate, ci_low, ci_high], dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("the estimate and both limits must be finite numbers")
    if not ci_low <= estimate <= ci_high or ci_low == ci_high:
        raise ValueError(f"the interval {ci_low:g}–{ci_high:g} does not surround the estimate {estimate:g}")
    if scale == "log":
        if ci_low <= 0:
            raise ValueError("a ratio and its limits must be positive to be pooled on the log scale")
        values = np.log(values)
    z = stats.norm.ppf(0.5 + level / 2)
    return float(values[0]), float((values[2] - values[1]) / (2 * z))


def _cumulative_fit(y: np.ndarray, v: np.ndarray, tau2: str, ci: str, level: float) -> pd.DataFrame:
    """The model on the first 1, 2, …, k studies, all at once (row i of the batch holds
    the first i + 1 studies); the first step, one study, has the z interval."""
    k = y.size
    ok = np.tri(k, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HKSJFallbackWarning)  # the first step is one study: z, as metafor's cumul()
        fit = fit_random_effects(np.where(ok, y, 0.0), np.where(ok, v, 1.0), ok, tau2=tau2, ci=ci, level=level)
    mu, se = fit.beta[:, 0], fit.se[:, 0]
    return pd.DataFrame({"k": fit.k, "mu": mu, "se": se, "mu_low": mu - fit.crit * se, "mu_high": mu + fit.crit * se,
                         "tau2": fit.tau2, "i2": fit.i2, "h2": fit.h2, "q": fit.q, "q_p": fit.q_p})


def cumulative(yi: Sequence[float], sei: Sequence[float] | None = None, vi: Sequence[float] | None = None, *,
               labels: Sequence[str] | None = None, scale: str = "log", tau2: str = "DL", ci: str = "z",
               level: float = 0.95) -> pd.DataFrame:
    """metafor's ``cumul()`` of ``rma(yi, sei=...)``: the model refitted as each study is
    added, in the order given. One row per step: the study added, ``k``, ``mu`` and its
    CI on the pooling scale, ``estimate`` and its CI on the natural scale, ``tau2``,
    ``i2``, ``h2``, ``q``, ``q_p``."""
    _check(scale, tau2, ci, "z")
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    v = _variances(y, sei, vi)
    table = _cumulative_fit(y, v, tau2, ci, level)
    back = EFFECT_SCALES[scale]
    names = list(labels) if labels is not None else [f"study {i + 1}" for i in range(y.size)]
    return table.assign(added=names, estimate=back(table["mu"]), ci_low=back(table["mu_low"]),
                        ci_high=back(table["mu_high"]))


def cumulative_proportions(events: Sequence[float], n: Sequence[float], *, labels: Sequence[str] | None = None,
                           tau2: str = "DL", ci: str = "z", level: float = 0.95) -> pd.DataFrame:
    """:func:`cumulative` for proportions on the logit scale, as metafor's ``cumul()`` of
    ``rma(measure="PLO")`` with escalc's continuity correction (0.5 where a study has 0
    or n events): one row per study added, with ``estimate`` and its CI as proportions."""
    x, m = np.asarray(events, dtype=float)[None, :], np.asarray(n, dtype=float)[None, :]
    prep = prepare(x, m, transform="logit", add=0.5, to="only0")
    if prep.why[0]:
        raise ValueError(prep.why[0])
    table = _cumulative_fit(prep.y[0], prep.v[0], tau2, ci, level)
    names = list(labels) if labels is not None else [f"study {i + 1}" for i in range(x.shape[1])]
    expit = lambda value: 1 / (1 + np.exp(-value))  # noqa: E731
    return table.assign(added=names, estimate=expit(table["mu"]), ci_low=expit(table["mu_low"]),
                        ci_high=expit(table["mu_high"]))
