"""Confidence intervals for the heterogeneity: tau^2, tau, I^2 and H^2 by the Q-profile
method (Viechtbauer 2007), as metafor's ``confint(rma(...))``.

The generalized Q statistic, Q(tau^2) = sum_i w_i (y_i - mu_w)^2 with w_i = 1 / (v_i +
tau^2), falls as tau^2 grows and is chi-square on k - 1 df at the true tau^2. The
interval holds the tau^2 at which Q lies between the chi-square's alpha/2 and 1 - alpha/2
quantiles: the lower limit solves Q = upper quantile, the upper limit Q = lower quantile.
Where Q(0) is already below a quantile, that limit is 0; where the search interval's end
(metafor's ``max(100, 10 * tau^2)``) is reached, the limit is that end. The roots are
found with R's ``uniroot`` steps and tolerance (``brent_root``), so the limits equal
metafor's, not only the mathematical roots (which they match to about 1e-4). I^2 and H^2
limits follow from the tau^2 limits through metafor's typical within-study variance.
The point estimates are those of the chosen tau^2 estimator, which the interval need not
contain under DL or REML (it always contains the PM estimate).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .escalc import ArrayLike, as_counts, prepare, resolve_options
from .estimators import Design, brent_root, fit_random_effects, inverse_variance_weights

__all__ = ["HeterogeneityCI", "heterogeneity_ci"]

_MAXITER = 1000  # confint's uniroot limit
_TOL = float(np.finfo(float).eps) ** 0.25


@dataclass(frozen=True)
class HeterogeneityCI:
    """Heterogeneity estimates with Q-profile confidence limits.

    ``tau2`` and ``tau`` are on the transformed scale, ``i2`` in percent, ``h2`` a ratio.
    Floats for 1-D input, arrays (one entry per meta-analysis) for 2-D input. ``notes``
    (one string per meta-analysis, "" if nothing to say) say where a limit is 0 because
    Q(0) is already below its quantile, or sits at the end of the search interval.
    """

    tau2: float | np.ndarray
    tau2_ci_low: float | np.ndarray
    tau2_ci_high: float | np.ndarray
    tau: float | np.ndarray
    tau_ci_low: float | np.ndarray
    tau_ci_high: float | np.ndarray
    i2: float | np.ndarray
    i2_ci_low: float | np.ndarray
    i2_ci_high: float | np.ndarray
    h2: float | np.ndarray
    h2_ci_low: float | np.ndarray
    h2_ci_high: float | np.ndarray
    k: int | np.ndarray
    transform: str
    tau2_method: str
    level: float
    notes: tuple[str, ...]

    def summary(self) -> dict[str, float]:
        """Plain-float summary of a single meta-analysis, e.g. for glue or tables."""
        return {name: float(getattr(self, name)) for name in _LIMITS}


_LIMITS = (
    "tau2", "tau2_ci_low", "tau2_ci_high", "tau", "tau_ci_low", "tau_ci_high",
    "i2", "i2_ci_low", "i2_ci_high", "h2", "h2_ci_low", "h2_ci_high",
)


def _q_profile(d: Design, tau2_hat: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper Q-profile limits of tau^2 per meta-analysis, and notes."""
    m = len(tau2_hat)
    df = (d.k - d.p).astype(float)
    crit_upper = stats.chi2.isf((1 - level) / 2, df)  # Q at the lower limit
    crit_lower = stats.chi2.ppf((1 - level) / 2, df)  # Q at the upper limit
    upper_end = np.maximum(100.0, 10 * tau2_hat)
    all_rows = np.arange(m)

    def q(t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        sub = d.subset(rows)
        return sub.rss(inverse_variance_weights(sub, t))

    q_zero, q_end = q(np.zeros(m), all_rows), q(upper_end, all_rows)

    def solve(crit: np.ndarray, search: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(search)
        roots = np.full(m, np.nan)
        if rows.size:
            found, failed = brent_root(
                lambda t, r: q(t, rows[r]) - crit[rows[r]], np.zeros(rows.size), upper_end[rows], _TOL, _MAXITER
            )
            roots[rows] = np.where(failed, np.nan, found)
        return roots

    null = q_zero < crit_lower  # the whole interval is {0}
    high_at_end = ~null & (q_end > crit_lower)
    high = np.where(null, 0.0, np.where(high_at_end, upper_end, solve(crit_lower, ~null & ~high_at_end)))
    beyond = q_end > crit_upper  # even the lower limit lies beyond the search interval
    low_at_zero = ~beyond & (q_zero < crit_upper)
    low = np.where(beyond, upper_end, np.where(low_at_zero, 0.0, solve(crit_upper, ~beyond & ~low_at_zero)))
    high = np.where(beyond, upper_end, high)
    notes = np.array([
        "; ".join(note for note, applies in [
            ("the interval is {0}: Q(0) is below the chi-square's lower quantile", is_null),
            ("the lower limit is 0: Q(0) is below the chi-square's upper quantile", at_zero and not is_null),
            (f"the interval reaches the end of the search, tau^2 = {end:.6g}: its true limit lies beyond", at_end),
        ] if applies)
        for is_null, at_zero, at_end, end in zip(null, low_at_zero, high_at_end | beyond, upper_end)
    ], dtype=object)
    for bound, limit in (("lower", low), ("upper", high)):
        if np.isnan(limit).any():
            warnings.warn(f"Q-profile: the search for the {bound} limit of tau^2 did not converge (metafor's warning)", stacklevel=3)
    return low, high, notes


def heterogeneity_ci(
    events: ArrayLike,
    n: ArrayLike,
    *,
    transform: str = "logit",
    tau2: str = "REML",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
) -> HeterogeneityCI:
    """Q-profile confidence intervals for tau^2, tau, I^2 and H^2 (metafor's
    ``confint(rma(escalc(...), method=tau2))``).

    Options are those of :func:`analysis.pool_proportions`: the point estimates come
    from its ``tau2`` estimator on the ``transform`` scale, with its continuity
    correction. ``events`` and ``n`` may be 2-D (one meta-analysis per row, NaN padding),
    giving arrays. Needs at least 2 studies per meta-analysis.
    """
    options = resolve_options(transform, tau2, "z", level, add, to)
    x, m = as_counts(events, n)
    batch = np.ndim(events) == 2
    prep = prepare(x, m, transform=transform, add=options.add, to=options.to)
    bad = np.flatnonzero(prep.why != "")
    if bad.size:
        raise ValueError((f"row {bad[0] + 1}: " if batch else "") + prep.why[bad[0]])
    k = prep.ok.sum(axis=1)
    if (k < 2).any():
        where = f" (row {int(np.argmax(k < 2)) + 1})" if batch else ""
        raise ValueError(f"a confidence interval for tau^2 needs at least 2 studies{where}")
    fit = fit_random_effects(prep.y, prep.v, prep.ok, tau2=tau2, level=level)
    ok_t = np.ascontiguousarray(prep.ok.T)
    design = Design(np.where(ok_t, prep.y.T, 0.0), np.where(ok_t, prep.v.T, 1.0), None, ok_t)
    low, high, notes = _q_profile(design, fit.tau2, level)
    i2_of = lambda t: 100 * t / (fit.vt + t)  # noqa: E731
    h2_of = lambda t: t / fit.vt + 1  # noqa: E731
    values = {
        "tau2": fit.tau2, "tau2_ci_low": low, "tau2_ci_high": high,
        "tau": np.sqrt(fit.tau2), "tau_ci_low": np.sqrt(low), "tau_ci_high": np.sqrt(high),
        "i2": fit.i2, "i2_ci_low": i2_of(low), "i2_ci_high": i2_of(high),
        "h2": fit.h2, "h2_ci_low": h2_of(low), "h2_ci_high": h2_of(high),
        "k": k,
    }
    if not batch:
        values = {name: value[0].item() for name, value in values.items()}
    return HeterogeneityCI(
        **values, transform=transform, tau2_method=tau2, level=level, notes=tuple(str(note) for note in notes)
    )
