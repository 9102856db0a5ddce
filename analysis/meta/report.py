"""Printed reports of fits, as metafor's print methods give them, and the number
formatting every report, table, plot and sentence of the book uses.

``print(pool_proportions(events, n))`` prints the model, k, the τ² estimator and value,
the estimate with its confidence interval at the fit's own level, the heterogeneity,
the prediction interval and the notes, in at most 25 lines. The formatting rules --
halves rounded up as printed tables round them, p-values as journals print them -- are
defined here once: the text layer (:mod:`analysis.text.numbers`) re-exports them, so
prose, tables and plots round alike.

The reports read a fit's fields by name and import no result type (the result types
import this module for their ``__str__``).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from .escalc import TRANSFORMS
from .estimators import CI_NAMES, TAU2_NAMES

__all__ = [
    "MAX_NOTES",
    "round_half_up",
    "fixed",
    "p_value",
    "level_text",
    "fit_report",
    "batch_report",
    "subgroup_report",
    "short_repr",
]

#: Notes listed in a report before the rest are only counted.
MAX_NOTES = 4
#: The longest line a report prints (longer notes are cut, with an ellipsis).
LINE_WIDTH = 100


def round_half_up(value: float, decimals: int = 1) -> float:
    """``value`` rounded as printed tables round: halves away from zero (81.25 -> 81.3),
    not to the even digit as Python's ``round`` does with an exact binary half."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def fixed(value: float, decimals: int = 1) -> str:
    """A number to ``decimals`` places, halves up; ``—`` when not finite."""
    return f"{round_half_up(value, decimals):.{decimals}f}" if math.isfinite(value) else "—"


def p_value(p: float) -> str:
    """``p = 0.028``, ``p = 0.28``, ``p < 0.001`` as journals print them."""
    if not math.isfinite(p):
        return "p not estimable"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {fixed(p, 3)}" if p < 0.1 else f"p = {fixed(p, 2)}"


def level_text(level: float) -> str:
    """``0.95`` -> ``95%``, ``0.9`` -> ``90%``."""
    return f"{100 * level:g}%"


def _percent(value: float, decimals: int = 1) -> str:
    return f"{fixed(100 * value, decimals)}%" if math.isfinite(value) else "—"


def _notes(notes: tuple[str, ...] | list[str]) -> list[str]:
    notes = [note for note in notes if note]
    if not notes:
        return []
    lines = ["Notes:"]
    for note in notes[:MAX_NOTES]:
        text = f"  - {note}"
        lines.append(text if len(text) <= LINE_WIDTH else text[: LINE_WIDTH - 1] + "…")
    if len(notes) > MAX_NOTES:
        lines.append(f"  … and {len(notes) - MAX_NOTES} more")
    return lines


def _model_lines(fit: Any) -> list[str]:
    transform = TRANSFORMS[fit.transform]
    if fit.method == "glmm":
        return ["Model: binomial-normal GLMM (random intercept on the logit scale), maximum likelihood",
                "       with 7-point adaptive Gauss–Hermite quadrature (metafor's rma.glmm, measure PLO)"]
    lines = [f"Model: inverse variance on the {transform.scale} (metafor's measure {transform.measure}); "
             f"τ² by {TAU2_NAMES[fit.tau2_method]} ({fit.tau2_method})"]
    if fit.add > 0 and fit.to != "none":
        where = {"only0": "to studies with 0 or n events", "all": "to every study",
                 "if0all": "to every study, as some have 0 or n events"}[fit.to]
        lines.append(f"Continuity correction: {fit.add:g} added {where}")
    return lines


def fit_report(fit: Any) -> str:
    """The printed report of one :class:`~analysis.meta.results.PooledProportion`."""
    level = level_text(fit.level)
    lines = [f"Random-effects meta-analysis of proportions (k = {fit.k}; {fit.n_total:,} patients, "
             f"{fit.events_total:,} events)", *_model_lines(fit), ""]
    if fit.k > 1:
        test = "likelihood-ratio test" if fit.method == "glmm" else "Q-test"
        lines += [
            f"τ² = {fixed(fit.tau2, 4)} (τ = {fixed(math.sqrt(fit.tau2), 4) if math.isfinite(fit.tau2) else '—'}), "
            f"I² = {fixed(fit.i2, 1)}%, H² = {fixed(fit.h2, 2)}",
            f"Heterogeneity {test}: Q({fit.q_df} df) = {fixed(fit.q, 2)}, {p_value(fit.q_p)}",
            "",
        ]
    else:
        lines += ["A single study: no heterogeneity can be estimated.", ""]
    ci = "normal quantile (Wald)" if fit.method == "glmm" else CI_NAMES[fit.ci_method]
    pi = {"z": "the CI's quantile, as metafor's predict()", "t": "t on k − 2 df"}[fit.pi_method]
    lines += [
        f"Pooled proportion: {_percent(fit.estimate)}  ({level} CI {_percent(fit.ci_low)} to {_percent(fit.ci_high)})",
        f"  CI: {ci}",
        f"  {level} prediction interval: {_percent(fit.pi_low)} to {_percent(fit.pi_high)} ({pi})",
        f"  On the {TRANSFORMS[fit.transform].scale}: μ = {fixed(fit.mu, 4)}, SE = {fixed(fit.se, 4)}",
    ]
    notes = _notes(fit.notes)
    return "\n".join(lines + ([""] + notes if notes else []))


def batch_report(batch: Any) -> str:
    """The printed report of a :class:`~analysis.meta.results.PooledProportionBatch`:
    how many meta-analyses, how many could be fitted, and the spread of their estimates."""
    fitted = np.isfinite(batch.estimate)
    lines = [f"{len(batch.estimate):,} random-effects meta-analyses of proportions "
             f"({int(fitted.sum()):,} fitted; k from {int(batch.k.min())} to {int(batch.k.max())})",
             *_model_lines(batch), ""]
    if fitted.any():
        q = np.percentile(batch.estimate[fitted], [0, 50, 100])
        lines.append(f"Pooled proportions: median {_percent(q[1])}, from {_percent(q[0])} to {_percent(q[2])}")
        lines.append(f"Intervals at the {level_text(batch.level)} level; estimates and limits per row in the fields")
    failed = [f"row {i + 1}: {note}" for i, note in enumerate(batch.notes) if note and not fitted[i]]
    notes = _notes(failed)
    return "\n".join(lines + ([""] + notes if notes else []))


def subgroup_report(result: Any) -> str:
    """The printed report of a :class:`~analysis.meta.results.SubgroupAnalysis`."""
    first = next(iter(result.groups.values()))
    level = level_text(first.level)
    lines = [f"Subgroup analysis: {len(result.groups)} subgroups, each with its own τ²", *_model_lines(first), ""]
    width = max(len(name) for name in result.groups)
    for name, fit in list(result.groups.items())[:12]:
        lines.append(f"  {name:<{width}}  k = {fit.k:>3}  {_percent(fit.estimate):>6}  "
                     f"({level} CI {_percent(fit.ci_low)} to {_percent(fit.ci_high)}), I² = {fixed(fit.i2, 0)}%")
    if len(result.groups) > 12:
        lines.append(f"  … and {len(result.groups) - 12} more subgroups")
    lines += ["", f"Test for subgroup differences: Q = {fixed(result.q_between, 2)} on {result.df} df, {p_value(result.p)}"]
    notes = _notes(result.notes)
    return "\n".join(lines + ([""] + notes if notes else []))


def short_repr(fit: Any) -> str:
    """A one-line summary of a fit (the per-study table is in ``fit.studies``)."""
    return (f"{type(fit).__name__}(estimate={fit.estimate:.4g}, ci=({fit.ci_low:.4g}, {fit.ci_high:.4g}), k={fit.k}, "
            f"tau2={fit.tau2:.4g}, method={fit.method!r}, transform={fit.transform!r}, tau2_method={fit.tau2_method!r}, "
            f"level={fit.level:g})")
