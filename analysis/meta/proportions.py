"""Random-effects meta-analysis of single proportions: the entry points.

One entry point, :func:`pool_proportions`, with options by name as in metafor
(``escalc`` measures PR, PLN, PLO, PAS, PFT; ``rma`` estimators and tests), plus
:func:`subgroup_analysis` with R meta's test for subgroup differences (a separate
tau^2 per subgroup). ``events`` and ``n`` may be 2-D -- one meta-analysis per row,
NaN padding for unequal k -- and every field of the result is then an array computed
in one vectorized pass (see :mod:`analysis.meta.estimators`). The studies are prepared
by :mod:`analysis.meta.escalc` and the results are the types of
:mod:`analysis.meta.results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, overload

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import (
    ArrayLike,
    Options,
    as_counts,
    check_option,
    clopper_pearson,
    harmonic_n,
    prepare,
    prepare_one,
    resolve_options,
    study_labels,
)
from .estimators import ERRORS, ConvergenceError, fit_random_effects
from .glmm import pool_glmm
from .results import (
    FIELDS,
    FLOAT_FIELDS,
    PI_UNDEFINED,
    PooledProportion,
    PooledProportionBatch,
    SubgroupAnalysis,
    option_labels,
    pi_crit,
    scatter,
    study_notes,
    summarise,
    with_unfitted_rows,
)

__all__ = [
    "METHODS",
    "pool_proportions",
    "subgroup_analysis",
    "mean_rate",
]

METHODS = ("inverse-variance", "glmm")


@dataclass(frozen=True)
class _Pooled:
    """Row-wise arrays of a pooled batch (internal): ``weights`` (m, k) are the
    random-effects weights, ``notes`` (m,) say why a row failed or needs care."""

    y: np.ndarray
    v: np.ndarray
    ok: np.ndarray
    weights: np.ndarray
    fields: dict[str, np.ndarray]
    notes: np.ndarray


def _pool(
    x: np.ndarray,
    n: np.ndarray,
    options: Options,
    *,
    errors: str = "raise",
    row_name: Callable[[int], str] | None = None,
) -> _Pooled:
    """Pool every row of 2-D counts. A row that cannot be pooled raises ValueError
    (:class:`ConvergenceError` if its estimator failed) prefixed with ``row_name(i)``
    (no prefix for a single meta-analysis), or with ``errors="nan"`` gets NaN fields and
    a note. Rows are fitted independently, so dropping one changes no other."""
    transform, tau2, ci, level, pi = options.transform, options.tau2, options.ci, options.level, options.pi
    prep = prepare(x, n, transform=transform, add=options.add, to=options.to)
    prefix = (lambda i: "") if row_name is None else (lambda i: f"{row_name(i)}: ")
    good = prep.why == ""
    if errors == "raise" and not good.all():
        first = int(np.argmin(good))
        raise ValueError(prefix(first) + prep.why[first])
    ok = prep.ok[good]
    fit = fit_random_effects(prep.y[good], prep.v[good], ok, tau2=tau2, ci=ci, level=level, errors="nan")
    n_harmonic = harmonic_n(prep.n[good], ok)
    fields, undefined = summarise(fit, ok, prep.x[good], prep.n[good], transform, n_harmonic, pi_crit(fit, pi, level))
    if errors == "raise":  # every row is good here: fit rows are the batch's rows
        if fit.failed.any():
            which = np.flatnonzero(fit.failed)
            where = "" if row_name is None else ", ".join(row_name(i) for i in which[:10]) + (" ..." if len(which) > 10 else "")
            raise ConvergenceError(tau2, which, str(fit.notes[which[0]]), where)
        if undefined.any():
            first = int(np.argmax(undefined))
            raise ValueError(prefix(first) + f"the {transform} back-transformation is undefined")
    failed = fit.failed | undefined
    for field in FLOAT_FIELDS:
        fields[field] = np.where(failed, np.nan, fields[field])
    notes = np.where(
        fit.failed,
        f"tau2={tau2!r}: " + fit.notes,
        np.where(undefined, f"the {transform} back-transformation is undefined", np.where((pi == "t") & (fit.k < 3), PI_UNDEFINED, "")),
    )
    all_fields, all_notes = with_unfitted_rows(fields, notes, good, prep.why, x)
    return _Pooled(
        y=prep.y, v=prep.v, ok=prep.ok, weights=scatter(fit.weights, good, np.nan), fields=all_fields, notes=all_notes
    )


def _result_row(
    pooled: _Pooled, row: int, x: np.ndarray, n: np.ndarray, labels: Sequence[str], options: Options
) -> PooledProportion:
    ok = pooled.ok[row]
    xs, ns = x[row, ok], n[row, ok]
    low, high = clopper_pearson(xs, ns, options.level)
    w = pooled.weights[row, ok]
    studies = pd.DataFrame(
        {
            "study": list(labels),
            "events": xs.astype(int),
            "n": ns.astype(int),
            "estimate": xs / ns,
            "ci_low": low,
            "ci_high": high,
            "weight": 100.0 * w / w.sum(),
            "yi": pooled.y[row, ok],
            "vi": pooled.v[row, ok],
        }
    )
    values = {name: pooled.fields[name][row].item() for name in FIELDS}
    notes = study_notes(xs, ns) + ((pooled.notes[row],) if pooled.notes[row] else ())
    return PooledProportion(**values, studies=studies, notes=notes, **option_labels(options))


_HERMITE = np.polynomial.hermite_e.hermegauss(120)  # nodes and weights for E[f(Z)], Z ~ N(0, 1)


def mean_rate(mu: float | np.ndarray, tau2: float | np.ndarray) -> float | np.ndarray:
    """Mean of the cohorts' true rates under a logit random-effects model,
    E[expit(mu + tau Z)] with Z standard normal (Gauss–Hermite quadrature, 120 nodes).

    ``expit(mu)``, the back-transformed pooled logit, is the rate of the *median* cohort;
    this is the *mean* rate over cohorts, which lies nearer to 50% than the median, the
    more so the larger ``tau2``: the rates are skewed, with their long tail towards 50%.
    """
    nodes, weights = _HERMITE
    mu, tau = np.asarray(mu, dtype=float), np.sqrt(np.asarray(tau2, dtype=float))
    if np.any(tau < 0) or np.any(~np.isfinite(tau)):
        raise ValueError("tau2 must be a finite, non-negative number")
    logits = mu[..., None] + tau[..., None] * nodes
    value = (weights * 0.5 * (1 + np.tanh(logits / 2))).sum(axis=-1) / weights.sum()
    return value.item() if value.ndim == 0 else value


# --- public API --------------------------------------------------------------------------


@overload
def pool_proportions(events: Sequence[float] | pd.Series, n: Sequence[float] | pd.Series, **kw: object) -> PooledProportion: ...
@overload
def pool_proportions(events: np.ndarray, n: np.ndarray, **kw: object) -> PooledProportion | PooledProportionBatch: ...


def pool_proportions(
    events: ArrayLike,
    n: ArrayLike,
    *,
    transform: str | None = None,
    tau2: str | None = None,
    ci: str | None = None,
    pi: str = "z",
    method: str = "inverse-variance",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
    labels: Sequence[str] | None = None,
    errors: str = "raise",
) -> PooledProportion | PooledProportionBatch:
    """Pool single proportions with a random-effects model.

    Parameters
    ----------
    events, n
        Event counts and sample sizes: 1-D (one meta-analysis) or 2-D (one per row;
        pad unequal k with NaN in both). Pairs where both are NaN are dropped and ``k``
        says how many studies were pooled; any other invalid value raises ``ValueError``
        naming the study (numbered from 1) and, for 2-D input, the row.
    transform
        Scale on which studies are pooled (metafor's escalc measure): ``"logit"``
        (PLO, the default), ``"log"`` (PLN), ``"raw"`` (PR), ``"arcsine"`` (PAS) or
        ``"freeman-tukey"`` (PFT; back-transformed by Miller's inverse at the harmonic
        mean of n, metafor's ``transf.ipft.hm``).
    tau2
        Between-study variance estimator: ``"DL"`` (the default), ``"REML"``, ``"ML"``,
        ``"PM"``, ``"HE"``, ``"SJ"``, ``"EB"``, ``"HS"`` -- computed as metafor does,
        including the stopping rules of the iterative ones.
    ci
        ``"z"`` (the default): Wald interval with the normal quantile; ``"hksj"``:
        Hartung-Knapp-Sidik-Jonkman, the Knapp-Hartung variance with a t quantile on
        k - 1 df (metafor's ``test="knha"``); ``"hksj-adhoc"``: the same with the
        Knapp-Hartung scale floored at 1 (Knapp & Hartung 2003's ad hoc correction;
        metafor's ``test="adhoc"``), so the interval is never narrower than ``"z"``'s.
    pi
        Prediction interval ``mu +/- crit * sqrt(se^2 + tau^2)``. ``"z"``: metafor's
        ``predict()``, with the CI's quantile (normal; t on k - 1 df under ``"hksj"``).
        ``"t"``: t on k - 2 df (Higgins, Thompson & Spiegelhalter 2009; Riley et al.
        2011; R meta's), undefined for k < 3: NaN and a note. ``pi_method`` records it.
    method
        ``"inverse-variance"`` (the above) or ``"glmm"``: a binomial-normal random
        intercept model fitted by maximum likelihood (see :func:`analysis.glmm.pool_glmm`)
        on the logit scale with z intervals and uncorrected counts; ``transform``,
        ``tau2``, ``ci``, ``add`` and ``to`` other than that raise ``ValueError``.
    add, to
        Continuity correction: ``add`` events (and ``2 * add`` trials) added to studies
        selected by ``to`` -- ``"only0"`` (studies with 0 or n events), ``"all"``,
        ``"if0all"`` (all studies if any has 0 or n events) or ``"none"``. Left unset,
        they follow metafor's escalc: ``add=0.5, to="only0"`` for logit, log and raw;
        no correction for arcsine and Freeman-Tukey, which need none (setting either
        option applies it, with the other at 0.5 / ``"only0"``). Per-study CIs use
        uncorrected counts.
    labels
        Study names for the per-study table (1-D input only).
    errors
        For 2-D input: ``"raise"`` (a row that cannot be fitted raises, naming the row,
        numbered from 1) or ``"nan"`` (its fields are NaN and ``notes`` says why).
    """
    check_option("method", method, METHODS)
    check_option("errors", errors, ERRORS)
    if errors == "nan" and np.ndim(events) != 2:
        raise ValueError("errors='nan' is for a batch (2-D events and n); one meta-analysis raises")
    if method == "glmm":
        _check_glmm_options(transform, tau2, ci, add, to)
        return pool_glmm(events, n, level=level, labels=labels, pi=pi, errors=errors)
    options = resolve_options(transform or "logit", tau2 or "DL", ci or "z", level, add, to, pi)
    x, m = as_counts(events, n)
    batch = np.ndim(events) == 2
    if batch and labels is not None:
        raise ValueError("labels are for a single meta-analysis (1-D events and n)")
    pooled = _pool(x, m, options, errors=errors, row_name=(lambda i: f"row {i + 1}") if batch else None)
    if batch:
        return PooledProportionBatch(**pooled.fields, **option_labels(options), notes=tuple(str(note) for note in pooled.notes))
    keep = ~np.isnan(x[0])
    chosen = [lab for lab, k in zip(study_labels(labels, x.shape[1]), keep) if k]
    return _result_row(pooled, 0, x, m, chosen, options)


def _check_glmm_options(transform: str | None, tau2: str | None, ci: str | None, add: float | None, to: str | None) -> None:
    """The GLMM fits the logit scale by ML with z intervals and uses the counts as they
    are: options asking for anything else would be silently ignored, so they raise."""
    unused = [
        f"{name}={value!r}"
        for name, value, fits in [("transform", transform, "logit"), ("tau2", tau2, "ML"), ("ci", ci, "z")]
        if value not in (None, fits)
    ] + [f"{name}={value!r}" for name, value in [("add", add), ("to", to)] if value is not None]
    if unused:
        raise ValueError(
            f"method='glmm' does not use {', '.join(unused)}: it fits the logit scale by maximum "
            "likelihood (tau^2 by ML), gives z intervals and needs no continuity correction"
        )


def subgroup_analysis(
    events: ArrayLike,
    n: ArrayLike,
    groups: Sequence[object] | np.ndarray | pd.Series,
    *,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
    labels: Sequence[str] | None = None,
    exclude: Sequence[object] = (),
) -> SubgroupAnalysis:
    """Pool each subgroup separately and test whether the subgroup estimates differ.

    ``groups`` gives each study's subgroup; studies whose group is missing (None/NaN)
    or listed in ``exclude`` (e.g. ``["ND"]`` for "not disclosed") are left out of the
    pooled subgroups and of the test. Subgroups keep the order in which they first
    appear, or the category order when ``groups`` is a pandas Categorical. Options are
    those of :func:`pool_proportions`. A subgroup of a single study is allowed: its
    tau^2 is 0 and it enters the test with its within-study variance.
    """
    options = resolve_options(transform, tau2, ci, level, add, to)
    prepare_one(events, n, options, "subgroup_analysis")  # every study valid, numbered from 1
    x_all, m_all = (a[0] for a in as_counts(events, n))
    g = pd.Series(groups, copy=False).reset_index(drop=True)
    if len(g) != len(x_all):
        raise ValueError(f"got {len(g)} group labels for {len(x_all)} studies")
    all_labels = study_labels(labels, len(x_all))
    present = g.notna().to_numpy() & ~g.isin(list(exclude)).to_numpy() & ~np.isnan(x_all)
    if isinstance(g.dtype, pd.CategoricalDtype):
        names = [c for c in g.cat.categories if (present & (g == c).to_numpy()).any()]
    else:
        names = list(pd.unique(g[present]))
    if len(names) < 2:
        raise ValueError(f"a subgroup analysis needs at least two subgroups, got {names}")

    # Pad the subgroups into one (groups x studies) matrix: one vectorized fit.
    members = [np.flatnonzero(present & (g == name).to_numpy()) for name in names]
    width = max(len(idx) for idx in members)
    x = np.full((len(names), width), np.nan)
    m = np.full((len(names), width), np.nan)
    for row, idx in enumerate(members):
        x[row, : len(idx)] = x_all[idx]
        m[row, : len(idx)] = m_all[idx]
    pooled = _pool(x, m, options, row_name=lambda i: f"subgroup {str(names[i])!r}")
    results = {
        str(name): _result_row(pooled, row, x, m, [all_labels[i] for i in idx], options)
        for row, (name, idx) in enumerate(zip(names, members))
    }
    mu, se = pooled.fields["mu"], pooled.fields["se"]
    wg = 1.0 / se**2
    mu_bar = (wg * mu).sum() / wg.sum()
    q_between = float((wg * (mu - mu_bar) ** 2).sum())
    df = len(names) - 1
    notes = tuple(
        f"subgroup {name!r} is a single study: its tau^2 is 0 and it enters the test with its within-study variance"
        for name, result in results.items()
        if result.k == 1
    )
    return SubgroupAnalysis(
        groups=results, q_between=q_between, df=df, p=float(stats.chi2.sf(q_between, df)), notes=notes
    )
