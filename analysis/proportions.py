"""Random-effects meta-analysis of single proportions.

The computation follows R's metafor (``escalc(measure="PLO")`` + ``rma(method="DL")``)
and, for subgroup tests, R's meta (``metaprop(..., subgroup=)`` with a separate tau^2
per subgroup). The core works on 2-D arrays (one meta-analysis per row, NaN padding),
so a subgroup analysis is a single vectorized call and batch pooling can be added
without touching the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PooledProportion",
    "SubgroupAnalysis",
    "pool_proportions",
    "subgroup_analysis",
    "clopper_pearson",
]


# --- transforms -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transform:
    """A variance-stabilizing scale for proportions: forward to (y, v) and back."""

    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    inverse: Callable[[np.ndarray], np.ndarray]


def _logit_forward(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.log(x / (n - x)), 1.0 / x + 1.0 / (n - x)


def _expit(y: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-y))


_TRANSFORMS: dict[str, _Transform] = {
    "logit": _Transform(forward=_logit_forward, inverse=_expit),
}

# Where a continuity correction is added (metafor's `to` argument of escalc).
_CORRECTION_TARGETS = ("only0", "all", "if0all", "none")


# --- between-study variance estimators ---------------------------------------------------


def _fixed_effect(
    y: np.ndarray, v: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse-variance weights, their row sums and Cochran's Q (rowwise)."""
    w = np.where(ok, 1.0 / v, 0.0)
    sw = w.sum(axis=1)
    mu = (w * y).sum(axis=1) / sw
    q = (w * np.where(ok, y - mu[:, None], 0.0) ** 2).sum(axis=1)
    return w, sw, q


def _tau2_dl(y: np.ndarray, v: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """DerSimonian-Laird moment estimator, truncated at zero (rowwise)."""
    w, sw, q = _fixed_effect(y, v, ok)
    df = ok.sum(axis=1) - 1
    c = sw - (w**2).sum(axis=1) / sw
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(df > 0, np.maximum(0.0, (q - df) / c), 0.0)


_TAU2: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "DL": _tau2_dl,
}

_CI_METHODS = ("z",)


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PooledProportion:
    """Result of one random-effects meta-analysis of proportions.

    Proportions (``estimate``, ``ci_*``, ``pi_*``) are on the 0-1 scale; ``mu`` and ``se``
    are on the transformed scale; ``i2`` is a percentage. ``studies`` holds one row per
    study with its observed proportion, Clopper-Pearson CI and random-effects weight (%).
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
    level: float
    studies: pd.DataFrame

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
    """Validate events and n as 2-D float arrays (rows = meta-analyses, NaN = padding)."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    if x.shape != m.shape:
        raise ValueError(f"events and n must have the same shape, got {x.shape} and {m.shape}")
    if x.ndim not in (1, 2):
        raise ValueError(f"events and n must be 1-D or 2-D, got {x.ndim}-D")
    x2, m2 = np.atleast_2d(x), np.atleast_2d(m)
    half_missing = np.isnan(x2) != np.isnan(m2)
    if half_missing.any():
        i = int(np.argwhere(half_missing)[0][-1])
        raise ValueError(f"study {i}: events and n must both be given or both be NaN")
    ok = ~np.isnan(x2)
    if np.isinf(x2[ok]).any() or np.isinf(m2[ok]).any():
        raise ValueError("events and n must be finite")
    checks = [
        (m2 <= 0, "n must be positive"),
        (x2 < 0, "events must not be negative"),
        (x2 > m2, "events must not exceed n"),
    ]
    for bad, message in checks:
        bad = bad & ok
        if bad.any():
            i = int(np.argwhere(bad)[0][-1])
            raise ValueError(f"study {i}: {message} (events={x2[bad][0]:g}, n={m2[bad][0]:g})")
    if (ok.sum(axis=1) == 0).any():
        raise ValueError("a meta-analysis needs at least one study (k = 0)")
    return x2, m2


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
class _Fit:
    """Row-wise arrays from the vectorized core (internal)."""

    y: np.ndarray
    v: np.ndarray
    ok: np.ndarray
    w: np.ndarray
    mu: np.ndarray
    se: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    ci: tuple[np.ndarray, np.ndarray]
    pi: tuple[np.ndarray, np.ndarray]


def _fit(
    x: np.ndarray,
    n: np.ndarray,
    *,
    transform: str,
    tau2: str,
    ci: str,
    level: float,
    add: float,
    to: str,
) -> _Fit:
    ok = ~np.isnan(x)
    xc, nc = _continuity(np.where(ok, x, 1.0), np.where(ok, n, 2.0), ok, add, to)
    with np.errstate(divide="ignore", invalid="ignore"):
        y, v = _TRANSFORMS[transform].forward(xc, nc)
    if (ok & ~np.isfinite(v)).any():
        raise ValueError(
            "a study with 0 or n events has infinite variance on the "
            f"{transform} scale; use a continuity correction (add > 0, to='only0')"
        )
    y = np.where(ok, y, 0.0)
    v = np.where(ok, v, 1.0)
    k = ok.sum(axis=1)
    df = k - 1

    # Heterogeneity statistics come from the fixed-effect (inverse-variance) fit.
    w_fixed, sw, q = _fixed_effect(y, v, ok)
    tau2_hat = _TAU2[tau2](y, v, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        # metafor's "typical" within-study variance, so I^2 = tau^2 / (tau^2 + s^2).
        s2 = df * sw / (sw**2 - (w_fixed**2).sum(axis=1))
        i2 = np.where(df > 0, 100.0 * tau2_hat / (tau2_hat + s2), 0.0)
        h2 = np.where(df > 0, (tau2_hat + s2) / s2, 1.0)
    q_p = np.where(df > 0, stats.chi2.sf(q, np.maximum(df, 1)), 1.0)

    w = np.where(ok, 1.0 / (v + tau2_hat[:, None]), 0.0)
    mu = (w * y).sum(axis=1) / w.sum(axis=1)
    se = np.sqrt(1.0 / w.sum(axis=1))
    crit = stats.norm.ppf(0.5 + level / 2)
    half_pi = crit * np.sqrt(se**2 + tau2_hat)
    return _Fit(
        y=y,
        v=v,
        ok=ok,
        w=w,
        mu=mu,
        se=se,
        tau2=tau2_hat,
        q=q,
        df=df,
        q_p=q_p,
        i2=i2,
        h2=h2,
        ci=(mu - crit * se, mu + crit * se),
        pi=(mu - half_pi, mu + half_pi),
    )


def _result_row(
    fit: _Fit,
    row: int,
    x: np.ndarray,
    n: np.ndarray,
    labels: Sequence[str],
    *,
    transform: str,
    tau2: str,
    ci: str,
    level: float,
) -> PooledProportion:
    ok = fit.ok[row]
    back = _TRANSFORMS[transform].inverse
    xs, ns = x[row, ok], n[row, ok]
    low, high = clopper_pearson(xs, ns, level)
    w = fit.w[row, ok]
    studies = pd.DataFrame(
        {
            "study": list(labels),
            "events": xs.astype(int),
            "n": ns.astype(int),
            "estimate": xs / ns,
            "ci_low": low,
            "ci_high": high,
            "weight": 100.0 * w / w.sum(),
            "yi": fit.y[row, ok],
            "vi": fit.v[row, ok],
        }
    )
    return PooledProportion(
        estimate=float(back(fit.mu[row])),
        ci_low=float(back(fit.ci[0][row])),
        ci_high=float(back(fit.ci[1][row])),
        pi_low=float(back(fit.pi[0][row])),
        pi_high=float(back(fit.pi[1][row])),
        mu=float(fit.mu[row]),
        se=float(fit.se[row]),
        tau2=float(fit.tau2[row]),
        i2=float(fit.i2[row]),
        h2=float(fit.h2[row]),
        q=float(fit.q[row]),
        q_df=int(fit.df[row]),
        q_p=float(fit.q_p[row]),
        k=int(ok.sum()),
        n_total=int(ns.sum()),
        events_total=int(xs.sum()),
        transform=transform,
        tau2_method=tau2,
        ci_method=ci,
        level=level,
        studies=studies,
    )


def _validate_options(transform: str, tau2: str, ci: str, level: float, add: float, to: str) -> None:
    _check_option("transform", transform, tuple(_TRANSFORMS))
    _check_option("tau2", tau2, tuple(_TAU2))
    _check_option("ci", ci, _CI_METHODS)
    _check_option("to", to, _CORRECTION_TARGETS)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if not (np.isfinite(add) and add >= 0):
        raise ValueError(f"add must be a non-negative number, got {add!r}")


def _labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"study {i + 1}" for i in range(k)]
    labels = [str(s) for s in labels]
    if len(labels) != k:
        raise ValueError(f"got {len(labels)} labels for {k} studies")
    return labels


# --- public API --------------------------------------------------------------------------


def pool_proportions(
    events: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[float] | np.ndarray | pd.Series,
    *,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float = 0.5,
    to: str = "only0",
    labels: Sequence[str] | None = None,
) -> PooledProportion:
    """Pool single proportions with a random-effects model.

    Parameters
    ----------
    events, n
        Event counts and sample sizes, one per study. Pairs where both are NaN are
        dropped (and ``k`` says how many studies were pooled); any other invalid value
        raises ``ValueError``.
    transform
        Scale on which studies are pooled; ``"logit"`` (log odds, R's ``PLO``).
    tau2
        Between-study variance estimator; ``"DL"`` (DerSimonian-Laird).
    ci
        ``"z"``: Wald interval with the normal quantile. The prediction interval is
        ``mu +/- z * sqrt(se^2 + tau^2)``, the convention of metafor's ``predict()``
        for ``test="z"``.
    add, to
        Continuity correction: ``add`` events (and ``2 * add`` trials) added to studies
        selected by ``to`` -- ``"only0"`` (studies with 0 or n events; R's default),
        ``"all"``, ``"if0all"`` (all studies if any has 0 or n events) or ``"none"``.
        Per-study confidence intervals always use the uncorrected counts.
    labels
        Study names for the per-study table.
    """
    _validate_options(transform, tau2, ci, level, add, to)
    x, m = _as_counts(events, n)
    if x.shape[0] != 1:
        raise ValueError("pool_proportions takes one meta-analysis: 1-D events and n")
    keep = ~np.isnan(x[0])
    all_labels = _labels(labels, x.shape[1])
    fit = _fit(x, m, transform=transform, tau2=tau2, ci=ci, level=level, add=add, to=to)
    chosen = [lab for lab, k in zip(all_labels, keep) if k]
    return _result_row(fit, 0, x, m, chosen, transform=transform, tau2=tau2, ci=ci, level=level)


def subgroup_analysis(
    events: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[float] | np.ndarray | pd.Series,
    groups: Sequence[object] | np.ndarray | pd.Series,
    *,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float = 0.5,
    to: str = "only0",
    labels: Sequence[str] | None = None,
    exclude: Sequence[object] = (),
) -> SubgroupAnalysis:
    """Pool each subgroup separately and test whether the subgroup estimates differ.

    ``groups`` gives each study's subgroup; studies whose group is missing (None/NaN)
    or listed in ``exclude`` (e.g. ``["ND"]`` for "not disclosed") are left out of the
    pooled subgroups and of the test. Subgroups keep the order in which they first appear, or the category
    order when ``groups`` is a pandas Categorical. Options are those of
    :func:`pool_proportions`. A subgroup of a single study is allowed: its tau^2 is 0
    and it enters the test with its within-study variance.
    """
    _validate_options(transform, tau2, ci, level, add, to)
    x_all, m_all = _as_counts(events, n)
    if x_all.shape[0] != 1:
        raise ValueError("subgroup_analysis takes one meta-analysis: 1-D events and n")
    x_all, m_all = x_all[0], m_all[0]
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
    fit = _fit(x, m, transform=transform, tau2=tau2, ci=ci, level=level, add=add, to=to)
    results = {
        str(name): _result_row(
            fit,
            row,
            x,
            m,
            [all_labels[i] for i in idx],
            transform=transform,
            tau2=tau2,
            ci=ci,
            level=level,
        )
        for row, (name, idx) in enumerate(zip(names, members))
    }
    wg = 1.0 / fit.se**2
    mu_bar = (wg * fit.mu).sum() / wg.sum()
    q_between = float((wg * (fit.mu - mu_bar) ** 2).sum())
    df = len(names) - 1
    return SubgroupAnalysis(
        groups=results, q_between=q_between, df=df, p=float(stats.chi2.sf(q_between, df))
    )
