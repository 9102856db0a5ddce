"""Small-study effects: Egger-type regression tests (metafor's ``regtest``).

``model="rma"`` (metafor's default) adds the predictor as a moderator to the random-
effects model and tests its coefficient (z, or t under ``ci="hksj"``); ``model="lm"`` is
Egger's original test, a weighted least-squares regression with weights 1/v_i and a
multiplicative dispersion, tested with t on k - 2 df. The intercept is the "limit
estimate": the pooled value extrapolated to a study of infinite precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .escalc import TRANSFORMS, ArrayLike, harmonic_n, prepare_one, resolve_options
from .estimators import fit_random_effects

__all__ = ["EggerTest", "egger_test", "PREDICTORS"]

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
