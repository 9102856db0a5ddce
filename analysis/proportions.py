"""Random-effects meta-analysis of single proportions.

One entry point, :func:`pool_proportions`, with options by name as in metafor
(``escalc`` measures PR, PLN, PLO, PAS, PFT; ``rma`` estimators and tests), plus
:func:`subgroup_analysis` with R meta's test for subgroup differences (a separate
tau^2 per subgroup). ``events`` and ``n`` may be 2-D -- one meta-analysis per row,
NaN padding for unequal k -- and every field of the result is then an array computed
in one vectorized pass (see :mod:`analysis.estimators`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, overload

import numpy as np
import pandas as pd
from scipy import stats

from .estimators import CI_METHODS, ERRORS, TAU2_METHODS, ConvergenceError, RandomEffectsFit, _rowsum, fit_random_effects

__all__ = [
    "TRANSFORMS",
    "PI_METHODS",
    "PooledProportion",
    "PooledProportionBatch",
    "SubgroupAnalysis",
    "pool_proportions",
    "subgroup_analysis",
    "clopper_pearson",
    "mean_rate",
]

ArrayLike = Sequence[float] | np.ndarray | pd.Series


# --- transforms -------------------------------------------------------------------------


def _pft(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Freeman-Tukey double arcsine of a proportion (metafor's transf.pft)."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def _ipft_harmonic(y: np.ndarray, n_harmonic: np.ndarray) -> np.ndarray:
    """Miller's inverse of the double arcsine at the harmonic mean n (transf.ipft.hm)."""
    s = np.sin(2 * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n_harmonic) ** 2))
    z = np.where(y > _pft(np.ones_like(n_harmonic), n_harmonic), 1.0, z)
    return np.where(y < _pft(np.zeros_like(n_harmonic), n_harmonic), 0.0, z)


def _iarcsin(y: np.ndarray, _: np.ndarray) -> np.ndarray:
    return np.where(y < 0, 0.0, np.where(y > np.pi / 2, 1.0, np.sin(y) ** 2))


@dataclass(frozen=True)
class _Transform:
    """A scale for pooling: forward to (y, v) from corrected counts, back from it.

    ``inverse`` gets the value on the transformed scale and the harmonic mean of the
    sample sizes (used only by the Freeman-Tukey back-transformation).
    """

    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    inverse: Callable[[np.ndarray, np.ndarray], np.ndarray]
    corrected_by_default: bool  # metafor's escalc corrects only PLO, PLN, PR unasked


#: The scale each transform pools on, for labelling tau^2 ("tau^2 = 0.53 on the logit scale").
SCALE_LABELS: dict[str, str] = {
    "logit": "logit scale",
    "log": "log scale",
    "raw": "proportion scale",
    "arcsine": "arcsine scale",
    "freeman-tukey": "Freeman–Tukey scale",
}

TRANSFORMS: dict[str, _Transform] = {
    "logit": _Transform(
        lambda x, n: (np.log(x / (n - x)), 1 / x + 1 / (n - x)),
        lambda y, _: 1 / (1 + np.exp(-y)),
        True,
    ),
    "log": _Transform(lambda x, n: (np.log(x / n), 1 / x - 1 / n), lambda y, _: np.exp(y), True),
    "raw": _Transform(lambda x, n: (x / n, (x / n) * (1 - x / n) / n), lambda y, _: y, True),
    "arcsine": _Transform(lambda x, n: (np.arcsin(np.sqrt(x / n)), 1 / (4 * n)), _iarcsin, False),
    "freeman-tukey": _Transform(
        lambda x, n: (_pft(x / n, n), 1 / (4 * n + 2)), _ipft_harmonic, False
    ),
}

# Where a continuity correction is added (metafor's `to` argument of escalc).
_CORRECTION_TARGETS = ("only0", "all", "if0all", "none")
METHODS = ("inverse-variance", "glmm")
# Prediction interval: "z" is metafor's predict() (the CI's quantile: normal, or t on
# k - 1 df under hksj); "t" is Higgins, Thompson & Spiegelhalter (2009) and Riley et al.
# (2011), R meta's: t on k - 2 df.
PI_METHODS = ("z", "t")
_PI_UNDEFINED = "the t prediction interval needs k >= 3 studies (t on k - 2 df): it is NaN"


# --- results ---------------------------------------------------------------------------

_FIELDS = (
    "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "tau2", "i2", "h2",
    "q", "q_df", "q_p", "k", "n_total", "events_total",
)
_FLOAT_FIELDS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "tau2", "i2", "h2", "q", "q_p")


@dataclass(frozen=True)
class PooledProportion:
    """Result of one random-effects meta-analysis of proportions.

    Proportions (``estimate``, ``ci_*``, ``pi_*``) are on the 0-1 scale; ``mu`` and ``se``
    are on the transformed scale; ``i2`` is a percentage. ``studies`` holds one row per
    study with its observed proportion, Clopper-Pearson CI and random-effects weight (%).
    ``notes`` say where the result needs care (a single study; every study at 0 or n
    events; a t prediction interval with k < 3); the forest plots print them.
    ``pi_method`` says how the prediction interval was computed (see ``PI_METHODS``).
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
    studies: pd.DataFrame
    notes: tuple[str, ...] = ()
    pi_method: str = "z"
    add: float = 0.5
    to: str = "only0"

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

    def heterogeneity_ci(self):
        """Q-profile confidence intervals for tau^2 and I^2 of this fit
        (:func:`analysis.heterogeneity_ci` with the same options); None for the GLMM,
        whose tau^2 is not a normal-normal one, and for a single study."""
        from .heterogeneity import heterogeneity_ci

        if self.method != "inverse-variance" or self.k < 2:
            return None
        return heterogeneity_ci(self.studies["events"], self.studies["n"], transform=self.transform,
                                tau2=self.tau2_method, level=self.level, add=self.add, to=self.to)


@dataclass(frozen=True)
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

    def row(self, i: int) -> dict[str, float]:
        """The scalar fields of meta-analysis ``i``."""
        return {name: getattr(self, name)[i].item() for name in _FIELDS}


@dataclass(frozen=True)
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

    def table(self) -> pd.DataFrame:
        """One row per subgroup on the percent scale."""
        rows = [{"group": g, **r.summary()} for g, r in self.groups.items()]
        return pd.DataFrame(rows).set_index("group")


# --- helpers -----------------------------------------------------------------------------


def clopper_pearson(
    events: np.ndarray, n: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) confidence limits for binomial proportions."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
    return low, high


def _check_option(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not supported; choose one of {sorted(allowed)}")


def _as_counts(events: object, n: object) -> tuple[np.ndarray, np.ndarray]:
    """Events and n as 2-D float arrays (rows = meta-analyses, NaN = padding)."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    if x.shape != m.shape:
        raise ValueError(f"events and n must have the same shape, got {x.shape} and {m.shape}")
    if x.ndim not in (1, 2):
        raise ValueError(f"events and n must be 1-D or 2-D, got {x.ndim}-D")
    return np.atleast_2d(x), np.atleast_2d(m)


def _count_problems(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The first problem with each row's counts ("" if none), studies numbered from 1."""
    given = ~np.isnan(x)
    why = np.full(x.shape[0], "", dtype=object)
    checks = [
        (np.isnan(x) != np.isnan(n), "events and n must both be given or both be NaN"),
        (given & (np.isinf(x) | np.isinf(n)), "events and n must be finite"),
        (given & (n <= 0), "n must be positive"),
        (given & (x < 0), "events must not be negative"),
        (given & (x > n), "events must not exceed n"),
    ]
    for bad, message in checks:
        for row in np.flatnonzero(bad.any(axis=1) & (why == "")):
            j = int(np.argmax(bad[row]))
            why[row] = f"study {j + 1}: {message} (events={x[row, j]:g}, n={n[row, j]:g})"
    why[(given.sum(axis=1) == 0) & (why == "")] = "a meta-analysis needs at least one study (k = 0)"
    return why


def _continuity(
    x: np.ndarray, n: np.ndarray, ok: np.ndarray, add: float, to: str
) -> tuple[np.ndarray, np.ndarray]:
    """Add ``add`` events and ``2 * add`` trials following metafor's ``to`` rule."""
    boundary = ok & ((x == 0) | (x == n))
    if to == "only0":
        which = boundary
    elif to == "all":
        which = ok
    elif to == "if0all":
        which = ok & boundary.any(axis=1, keepdims=True)
    else:
        which = np.zeros_like(ok)
    return x + add * which, n + 2 * add * which


@dataclass(frozen=True)
class _Prepared:
    """Studies on the pooling scale (internal): y, v, mask, the uncorrected counts, and
    why a row cannot be pooled ("" where it can)."""

    y: np.ndarray
    v: np.ndarray
    ok: np.ndarray
    x: np.ndarray
    n: np.ndarray
    transform: str
    why: np.ndarray


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


def _prepare(x: np.ndarray, n: np.ndarray, *, transform: str, add: float, to: str) -> _Prepared:
    """Validation, continuity correction and transformation of 2-D counts."""
    why = _count_problems(x, n)
    ok = ~np.isnan(x) & (why == "")[:, None]
    xs, ns = np.where(ok, x, 1.0), np.where(ok, n, 2.0)
    xc, nc = _continuity(xs, ns, ok, add, to)
    with np.errstate(divide="ignore", invalid="ignore"):
        y, v = TRANSFORMS[transform].forward(xc, nc)
    degenerate = ok & ~(np.isfinite(v) & (v > 0))
    for row in np.flatnonzero(degenerate.any(axis=1)):
        why[row] = (
            f"study {int(np.argmax(degenerate[row])) + 1}: 0 or n events give an infinite or zero "
            f"variance on the {transform} scale; use a continuity correction (add > 0, to='only0')"
        )
    ok &= (why == "")[:, None]
    return _Prepared(
        y=np.where(ok, y, 0.0), v=np.where(ok, v, 1.0), ok=ok,
        x=np.where(ok, x, 0.0), n=np.where(ok, n, 0.0), transform=transform, why=why,
    )


def _prepare_one(events: ArrayLike, n: ArrayLike, options: dict, name: str) -> _Prepared:
    """Validate and prepare the counts of a single meta-analysis for ``name``."""
    x, m = _as_counts(events, n)
    if x.shape[0] != 1:
        raise ValueError(f"{name} takes one meta-analysis: 1-D events and n")
    prep = _prepare(x, m, transform=options["transform"], add=options["add"], to=options["to"])
    if prep.why[0]:
        raise ValueError(prep.why[0])
    return prep


def _pi_crit(fit: RandomEffectsFit, pi: str, level: float) -> np.ndarray:
    """The prediction interval's quantile per meta-analysis (NaN where undefined)."""
    if pi == "z":
        return fit.crit
    df = fit.k - 2
    return np.where(df >= 1, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)


def _summarise(
    fit: RandomEffectsFit,
    ok: np.ndarray,
    x: np.ndarray,
    n: np.ndarray,
    transform: str,
    n_harmonic: np.ndarray,
    pi_crit: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The result fields (proportion scale where it applies) of a batch of fits, and
    the rows whose back-transformation is undefined (their fields are then NaN)."""
    mu, se = fit.beta[:, 0], fit.se[:, 0]
    half_ci = fit.crit * se
    half_pi = (fit.crit if pi_crit is None else pi_crit) * np.sqrt(se**2 + fit.tau2)
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
    for name in _FLOAT_FIELDS:
        fields[name] = np.where(undefined, np.nan, fields[name])
    return fields, undefined


def _harmonic_n(n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Harmonic mean of the sample sizes per row (for the Freeman-Tukey inverse)."""
    return ok.sum(axis=1) / _rowsum(np.where(ok, 1.0 / np.where(ok, n, 1.0), 0.0))


def _pool(
    x: np.ndarray,
    n: np.ndarray,
    *,
    transform: str,
    tau2: str,
    ci: str,
    level: float,
    add: float,
    to: str,
    pi: str = "z",
    errors: str = "raise",
    row_name: Callable[[int], str] | None = None,
) -> _Pooled:
    """Pool every row of 2-D counts. A row that cannot be pooled raises ValueError
    (:class:`ConvergenceError` if its estimator failed) prefixed with ``row_name(i)``
    (no prefix for a single meta-analysis), or with ``errors="nan"`` gets NaN fields and
    a note. Rows are fitted independently, so dropping one changes no other."""
    prep = _prepare(x, n, transform=transform, add=add, to=to)
    prefix = (lambda i: "") if row_name is None else (lambda i: f"{row_name(i)}: ")
    good = prep.why == ""
    if errors == "raise" and not good.all():
        first = int(np.argmin(good))
        raise ValueError(prefix(first) + prep.why[first])
    ok = prep.ok[good]
    fit = fit_random_effects(prep.y[good], prep.v[good], ok, tau2=tau2, ci=ci, level=level, errors="nan")
    n_harmonic = _harmonic_n(prep.n[good], ok)
    fields, undefined = _summarise(fit, ok, prep.x[good], prep.n[good], transform, n_harmonic, _pi_crit(fit, pi, level))
    if errors == "raise":  # every row is good here: fit rows are the batch's rows
        if fit.failed.any():
            which = np.flatnonzero(fit.failed)
            where = "" if row_name is None else ", ".join(row_name(i) for i in which[:10]) + (" ..." if len(which) > 10 else "")
            raise ConvergenceError(tau2, which, str(fit.notes[which[0]]), where)
        if undefined.any():
            first = int(np.argmax(undefined))
            raise ValueError(prefix(first) + f"the {transform} back-transformation is undefined")
    failed = fit.failed | undefined
    for field in _FLOAT_FIELDS:
        fields[field] = np.where(failed, np.nan, fields[field])
    notes = np.where(
        fit.failed,
        f"tau2={tau2!r}: " + fit.notes,
        np.where(undefined, f"the {transform} back-transformation is undefined", np.where((pi == "t") & (fit.k < 3), _PI_UNDEFINED, "")),
    )
    all_fields, all_notes = _with_unfitted_rows(fields, notes, good, prep.why, x)
    return _Pooled(
        y=prep.y, v=prep.v, ok=prep.ok, weights=_scatter(fit.weights, good, np.nan), fields=all_fields, notes=all_notes
    )


def _with_unfitted_rows(
    fields: dict[str, np.ndarray], notes: np.ndarray, fitted: np.ndarray, why: np.ndarray, x: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fields and notes of the ``fitted`` rows placed among the rows that were not (NaN
    floats, 0 counts but k, and ``why`` as their note); ``x`` are all rows' events."""
    out = {field: _scatter(value, fitted, np.nan if field in _FLOAT_FIELDS else 0) for field, value in fields.items()}
    out["k"] = np.where(fitted, out["k"], (~np.isnan(x)).sum(axis=1))
    all_notes = np.array(why, dtype=object)
    all_notes[fitted] = notes
    return out, all_notes


def _scatter(values: np.ndarray, rows: np.ndarray, fill: float) -> np.ndarray:
    """Rows of ``values`` placed at ``rows`` (a mask) of a larger array filled with ``fill``."""
    if rows.all():
        return values
    out = np.full((len(rows),) + values.shape[1:], fill, dtype=values.dtype)
    out[rows] = values
    return out


def _result_row(
    pooled: _Pooled, row: int, x: np.ndarray, n: np.ndarray, labels: Sequence[str], options: dict
) -> PooledProportion:
    ok = pooled.ok[row]
    xs, ns = x[row, ok], n[row, ok]
    low, high = clopper_pearson(xs, ns, options["level"])
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
    values = {name: pooled.fields[name][row].item() for name in _FIELDS}
    notes = _notes(xs, ns) + ((pooled.notes[row],) if pooled.notes[row] else ())
    return PooledProportion(**values, studies=studies, notes=notes, **_labels_of(options))


def _notes(events: np.ndarray, n: np.ndarray) -> tuple[str, ...]:
    notes = []
    if len(events) == 1:
        notes.append("a single study: no heterogeneity can be estimated (tau^2 = 0, I^2 = 0)")
    if (events == 0).all():
        notes.append("every study has 0 events: the estimate rests on the continuity correction")
    elif (events == n).all():
        notes.append("every study has n events: the estimate rests on the continuity correction")
    return tuple(notes)


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


def _labels_of(options: dict) -> dict:
    return {
        "transform": options["transform"],
        "tau2_method": options["tau2"],
        "ci_method": options["ci"],
        "method": "inverse-variance",
        "level": options["level"],
        "pi_method": options["pi"],
        "add": options["add"],
        "to": options["to"],
    }


def _options(
    transform: str, tau2: str, ci: str, level: float, add: float | None, to: str | None, pi: str = "z"
) -> dict:
    _check_option("transform", transform, tuple(TRANSFORMS))
    _check_option("tau2", tau2, TAU2_METHODS)
    _check_option("ci", ci, CI_METHODS)
    _check_option("pi", pi, PI_METHODS)
    if add is None and to is None and not TRANSFORMS[transform].corrected_by_default:
        add, to = 0.0, "none"
    add = 0.5 if add is None else add
    to = "only0" if to is None else to
    _check_option("to", to, _CORRECTION_TARGETS)
    _check_level(level)
    if not (np.isfinite(add) and add >= 0):
        raise ValueError(f"add must be a non-negative number, got {add!r}")
    return {"transform": transform, "tau2": tau2, "ci": ci, "level": level, "add": add, "to": to, "pi": pi}


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")


def _labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"study {i + 1}" for i in range(k)]
    labels = [str(s) for s in labels]
    if len(labels) != k:
        raise ValueError(f"got {len(labels)} labels for {k} studies")
    return labels


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
    _check_option("method", method, METHODS)
    _check_option("errors", errors, ERRORS)
    if errors == "nan" and np.ndim(events) != 2:
        raise ValueError("errors='nan' is for a batch (2-D events and n); one meta-analysis raises")
    if method == "glmm":
        from .glmm import pool_glmm

        _check_glmm_options(transform, tau2, ci, add, to)
        return pool_glmm(events, n, level=level, labels=labels, pi=pi, errors=errors)
    options = _options(transform or "logit", tau2 or "DL", ci or "z", level, add, to, pi)
    x, m = _as_counts(events, n)
    batch = np.ndim(events) == 2
    if batch and labels is not None:
        raise ValueError("labels are for a single meta-analysis (1-D events and n)")
    pooled = _pool(x, m, **options, errors=errors, row_name=(lambda i: f"row {i + 1}") if batch else None)
    if batch:
        return PooledProportionBatch(**pooled.fields, **_labels_of(options), notes=tuple(str(note) for note in pooled.notes))
    keep = ~np.isnan(x[0])
    chosen = [lab for lab, k in zip(_labels(labels, x.shape[1]), keep) if k]
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
    options = _options(transform, tau2, ci, level, add, to)
    _prepare_one(events, n, options, "subgroup_analysis")  # every study valid, numbered from 1
    x_all, m_all = (a[0] for a in _as_counts(events, n))
    g = pd.Series(groups, copy=False).reset_index(drop=True)
    if len(g) != len(x_all):
        raise ValueError(f"got {len(g)} group labels for {len(x_all)} studies")
    all_labels = _labels(labels, len(x_all))
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
    pooled = _pool(x, m, **options, row_name=lambda i: f"subgroup {str(names[i])!r}")
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
