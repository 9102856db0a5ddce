"""Small-study effects: Egger-type regression tests (metafor's ``regtest``), Peters'
test, a rank correlation of the rates with cohort size and trim-and-fill (metafor's
``trimfill``).

``model="rma"`` (metafor's default) adds the predictor as a moderator to the random-
effects model and tests its coefficient (z, or t under ``ci="hksj"``); ``model="lm"`` is
Egger's original test, a weighted least-squares regression with weights 1/v_i and a
multiplicative dispersion, tested with t on k - 2 df. The intercept is the "limit
estimate": the pooled value extrapolated to a study of infinite precision.

For proportions the standard error depends on the event rate itself, so a funnel of
logits against their standard errors is asymmetric without any bias (a rate near 0 has a
large logit variance). Peters' test and the rank correlation use the sample size instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .escalc import TRANSFORMS, ArrayLike, harmonic_n, prepare_one, resolve_options
from .estimators import fit_random_effects

__all__ = ["EggerTest", "egger_test", "peters_test", "RankCorrelation", "rank_correlation_test", "TrimAndFill",
           "trim_and_fill", "PREDICTORS"]

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")


@dataclass(frozen=True)
class EggerTest:
    """Result of a regression test for funnel-plot asymmetry.

    ``statistic`` (z or t) and ``p`` test the predictor's coefficient; ``df`` is the t
    test's df (``inf`` for z). ``limit_mu``/``limit_ci_*`` are the intercept on the
    transformed scale and ``limit_estimate``/``limit_low``/``limit_high`` the same on the
    0-1 scale (only for predictors that vanish at infinite precision: sei, vi, ninv,
    sqrtninv; NaN otherwise).
    """

    statistic: float
    p: float
    df: float
    slope: float
    limit_mu: float
    limit_ci_low: float
    limit_ci_high: float
    limit_estimate: float
    limit_low: float
    limit_high: float
    model: str
    predictor: str
    k: int


def egger_test(
    events: ArrayLike,
    n: ArrayLike,
    *,
    model: str = "rma",
    predictor: str = "sei",
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
) -> EggerTest:
    """Regression test for funnel-plot asymmetry (options as :func:`pool_proportions`)."""
    if model not in ("rma", "lm"):
        raise ValueError(f"model={model!r} is not supported; choose 'rma' or 'lm'")
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor={predictor!r} is not supported; choose one of {list(PREDICTORS)}")
    prep = prepare_one(events, n, resolve_options(transform, tau2, ci, level, add, to), "egger_test")
    keep = prep.ok[0]
    y, v, sizes = prep.y[0, keep], prep.v[0, keep], prep.n[0, keep]
    k = len(y)
    if k < 3:
        raise ValueError(f"a regression test needs at least 3 studies, got k = {k}")
    column = {
        "sei": np.sqrt(v), "vi": v, "ni": sizes, "ninv": 1 / sizes,
        "sqrtni": np.sqrt(sizes), "sqrtninv": 1 / np.sqrt(sizes),
    }[predictor]
    if np.ptp(column) <= 1e-12 * np.abs(column).max():
        raise ValueError(f"the predictor {predictor} is the same for every study, so there is no regression to test "
                         "(every study is as precise as every other)")
    X = np.column_stack([np.ones(k), column])
    if model == "rma":
        fit = fit_random_effects(y[None], v[None], np.ones((1, k), dtype=bool), X[None], tau2=tau2, ci=ci, level=level)
        beta, se = fit.beta[0], fit.se[0]
        df, crit = float(fit.ddf[0]), float(fit.crit[0])
    else:
        w = 1 / v
        xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
        beta = xtwx_inv @ (X.T @ (w * y))
        sigma2 = float(np.sum(w * (y - X @ beta) ** 2) / (k - 2))
        se = np.sqrt(np.diag(xtwx_inv) * sigma2)
        df = float(k - 2)
        crit = float(stats.t.ppf(0.5 + level / 2, df))
    statistic = float(beta[1] / se[1])
    p = float(2 * (stats.norm.sf(abs(statistic)) if np.isinf(df) else stats.t.sf(abs(statistic), df)))
    limits = np.array([beta[0], beta[0] - crit * se[0], beta[0] + crit * se[0]])
    if predictor not in ("sei", "vi", "ninv", "sqrtninv"):
        limits = np.full(3, np.nan)
        back = limits
    else:
        back = TRANSFORMS[transform].inverse(limits, harmonic_n(prep.n, prep.ok)[0])
    return EggerTest(
        statistic=statistic, p=p, df=df, slope=float(beta[1]),
        limit_mu=float(limits[0]), limit_ci_low=float(limits[1]), limit_ci_high=float(limits[2]),
        limit_estimate=float(back[0]), limit_low=float(back[1]), limit_high=float(back[2]),
        model=model, predictor=predictor, k=k,
    )


def peters_test(events: ArrayLike, n: ArrayLike, *, transform: str = "logit", level: float = 0.95,
                add: float | None = None, to: str | None = None) -> EggerTest:
    """Peters' test (Peters et al. 2006): a weighted linear regression of the logit
    proportions on 1/n. Its weights, the inverse variance of the cohort's event rate
    e(n - e)/n, are the logit's inverse variances, so it is metafor's
    ``regtest(model="lm", predictor="ninv")``."""
    return egger_test(events, n, model="lm", predictor="ninv", transform=transform, level=level, add=add, to=to)


@dataclass(frozen=True)
class RankCorrelation:
    """Kendall's tau-b between the cohorts' observed proportions and their sizes, tested
    with the normal approximation corrected for ties (R: ``cor.test(p, n, method =
    "kendall", exact = FALSE)``). A rank statistic needs no scale for the proportions."""

    tau: float
    z: float
    p: float
    k: int


def rank_correlation_test(events: ArrayLike, n: ArrayLike) -> RankCorrelation:
    """Do the observed rates rise or fall with cohort size?"""
    x, m = (np.asarray(a, dtype=float).ravel() for a in (events, n))
    if len(x) != len(m):
        raise ValueError(f"got {len(x)} event counts for {len(m)} sample sizes")
    k = len(x)
    if k < 3:
        raise ValueError(f"a rank correlation needs at least 3 studies, got k = {k}")
    rate = x / m
    if np.ptp(rate) == 0 or np.ptp(m) == 0:
        raise ValueError("the rank correlation needs cohorts that differ in rate and in size")
    result = stats.kendalltau(rate, m, variant="b", method="asymptotic")
    # the z statistic, from tau-b and the tie-corrected variance of Kendall's score S
    t0 = k * (k - 1) / 2
    ties = [np.unique(a, return_counts=True)[1] for a in (rate, m)]
    t1, t2 = (float(np.sum(t * (t - 1)) / 2) for t in ties)
    score = result.statistic * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = k * (k - 1) * (2 * k + 5)
    vt, vu = (float(np.sum(t * (t - 1) * (2 * t + 5))) for t in ties)
    v1 = float(np.sum(ties[0] * (ties[0] - 1)) * np.sum(ties[1] * (ties[1] - 1)))
    v2 = float(np.sum(ties[0] * (ties[0] - 1) * (ties[0] - 2)) * np.sum(ties[1] * (ties[1] - 1) * (ties[1] - 2)))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * k * (k - 1)) + v2 / (9 * k * (k - 1) * (k - 2))
    z = float(score / np.sqrt(var_s))
    return RankCorrelation(tau=float(result.statistic), z=z, p=float(2 * stats.norm.sf(abs(z))), k=k)


@dataclass(frozen=True)
class TrimAndFill:
    """Duval and Tweedie's trim-and-fill, as metafor's ``trimfill`` runs it.

    ``k0`` cohorts (standard error ``se_k0``, estimator ``estimator``) are imputed on the
    ``side`` of the funnel judged to lack them; ``mu``/``se``/``ci_*``/``tau2`` are the
    random-effects fit of the filled data on the pooling scale (z-based, as metafor refits
    it), ``estimate``/``low``/``high`` the same as proportions; ``filled_y``/``filled_v``/
    ``filled_n`` the imputed cohorts (each with the size of the cohort it mirrors). A
    sensitivity analysis: it assumes the asymmetry is bias."""

    k0: int
    se_k0: float
    side: str
    estimator: str
    mu: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    estimate: float
    low: float
    high: float
    filled_y: tuple[float, ...]
    filled_v: tuple[float, ...]
    filled_n: tuple[float, ...]
    k: int
    transform: str


def _intercept_fit(y: np.ndarray, v: np.ndarray, tau2: str, X: np.ndarray | None = None, level: float = 0.95,
                   ci: str = "z"):
    ok = np.ones((1, len(y)), dtype=bool)
    return fit_random_effects(y[None], v[None], ok, None if X is None else X[None], tau2=tau2, ci=ci, level=level)


def trim_and_fill(
    events: ArrayLike,
    n: ArrayLike,
    *,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
    side: str | None = None,
    estimator: str = "L0",
    maxiter: int = 100,
) -> TrimAndFill:
    """Trim-and-fill with the L0 or R0 estimator. Without ``side``, the side is that of
    metafor: "right" (cohorts missing above the pooled value) when the regression of the
    estimates on their standard errors has a negative slope, else "left". As in metafor,
    the trimming fits and the fit of filled data use z tests; with nothing to fill the
    result is the original fit, with its ``ci``."""
    if estimator not in ("L0", "R0"):
        raise ValueError(f"estimator={estimator!r} is not supported; choose 'L0' or 'R0'")
    if side not in (None, "left", "right"):
        raise ValueError(f"side={side!r} is not supported; choose 'left', 'right' or None")
    prep = prepare_one(events, n, resolve_options(transform, tau2, ci, level, add, to), "trim_and_fill")
    keep = prep.ok[0]
    y0, v0, n0 = prep.y[0, keep], prep.v[0, keep], prep.n[0, keep]
    k = len(y0)
    if k < 3:
        raise ValueError(f"trim-and-fill needs at least 3 studies, got k = {k}")
    if side is None:
        slope = _intercept_fit(y0, v0, tau2, np.column_stack([np.ones(k), np.sqrt(v0)])).beta[0, 1]
        side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * y0, kind="stable")
    y, v, sizes = sign * y0[order], v0[order], n0[order]
    k0, previous, se_k0 = 0, -1, 0.0
    for _ in range(maxiter):
        if k0 == previous:
            break
        previous = k0
        beta = float(_intercept_fit(y[: k - k0], v[: k - k0], tau2).beta[0, 0])
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        if estimator == "L0":
            sr = float(signed[signed > 0].sum())
            estimate = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * estimate**3 + 27 * estimate**2 + 17 * estimate
                      - 18 * k * estimate**2 - 18 * k * estimate + 6 * k**2 * estimate) / 24
            # far below zero the variance formula turns negative: no standard error (metafor: NaN)
            se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else np.nan
        else:
            estimate = (k - np.max(-signed[signed < 0], initial=0.0)) - 1
            se_k0 = np.sqrt(2 * max(0.0, estimate) + 2)
        k0 = int(max(0, np.round(estimate)))  # R's round: half to even, as numpy's
        se_k0 = float(se_k0) if np.isnan(se_k0) else float(max(0.0, se_k0))
    else:
        raise ValueError(f"trim-and-fill did not converge in {maxiter} iterations")
    # the k0 most extreme cohorts, mirrored about the trimmed pooled value
    filled_y = sign * (2 * beta - y[k - k0:]) if k0 else np.array([])
    filled_v = v[k - k0:] if k0 else np.array([])
    fit = _intercept_fit(np.concatenate([y0, filled_y]), np.concatenate([v0, filled_v]), tau2, level=level,
                         ci="z" if k0 else ci)
    mu, se = float(fit.beta[0, 0]), float(np.sqrt(fit.vb[0, 0, 0]))
    limits = np.array([mu, mu - fit.crit[0] * se, mu + fit.crit[0] * se])
    every_n = np.concatenate([n0, sizes[k - k0:]])[None]
    back = TRANSFORMS[transform].inverse(limits, harmonic_n(every_n, np.ones_like(every_n, dtype=bool))[0])
    return TrimAndFill(
        k0=k0, se_k0=se_k0, side=side, estimator=estimator, mu=mu, se=se, ci_low=float(limits[1]),
        ci_high=float(limits[2]), tau2=float(fit.tau2[0]), estimate=float(back[0]), low=float(back[1]),
        high=float(back[2]), filled_y=tuple(map(float, filled_y)), filled_v=tuple(map(float, filled_v)),
        filled_n=tuple(map(float, sizes[k - k0:])) if k0 else (), k=k,
        transform=transform,
    )
