"""Monte Carlo coverage of confidence intervals for a pooled proportion.

Meta-analyses are simulated with sample sizes drawn from a given pool (the real
cohorts' n) and binomial events, from one of two models of the true study rates:

- ``"logit-normal"``: logits ``mu + N(0, tau^2)``, the random-effects model the book
  fits (and exactly the GLMM's likelihood, which favours the GLMM by construction);
- ``"beta"``: rates from a beta distribution whose logit has mean ``mu`` and variance
  ``tau^2`` (a beta-binomial model), under which every method's normal random effects
  are misspecified.

Either way the target is ``expit(mu)``, the rate at the centre of the logits (the
median cohort's rate under the logit-normal model). Every interval method is applied to
the same simulated data in one vectorized batch; coverage is the share of intervals
containing the target.
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from .estimators import ConvergenceError
from .proportions import pool_proportions

__all__ = ["METHODS", "GENERATING_MODELS", "MAX_SIMULATED_K", "beta_parameters", "coverage_simulation", "simulated_sizes"]

#: The most studies a simulated meta-analysis has. The GLMM's cost grows with the number
#: of studies; beyond this, a table's own size would cost minutes per build.
MAX_SIMULATED_K = 50

#: The models that draw the true study rates (see the module docstring).
GENERATING_MODELS = ("logit-normal", "beta")

METHODS: dict[str, dict[str, str]] = {
    "DL, z (paper)": {"tau2": "DL", "ci": "z"},
    "DL, HKSJ": {"tau2": "DL", "ci": "hksj"},
    "GLMM": {"method": "glmm"},
}


def beta_parameters(mu: float, tau2: float) -> tuple[float, float]:
    """``(a, b)`` of the beta distribution whose logit has mean ``mu`` and variance
    ``tau2``: digamma(a) - digamma(b) = mu, trigamma(a) + trigamma(b) = tau2."""
    if tau2 <= 0:
        raise ValueError("a beta distribution needs tau2 > 0")
    m = special.expit(mu)
    start = np.log([m / (tau2 * m * (1 - m)), (1 - m) / (tau2 * m * (1 - m))])  # normal approximation

    def equations(log_ab: np.ndarray) -> np.ndarray:
        a, b = np.exp(log_ab)
        return np.array([special.digamma(a) - special.digamma(b) - mu, special.polygamma(1, a) + special.polygamma(1, b) - tau2])

    solution = optimize.root(equations, start, tol=1e-12)
    if not solution.success or np.abs(equations(solution.x)).max() > 1e-8:
        raise ValueError(f"no beta distribution with logit mean {mu:g} and variance {tau2:g}")
    a, b = np.exp(solution.x)
    return float(a), float(b)


def _simulate(rng: np.random.Generator, sizes: np.ndarray, k: int, mu: float, tau2: float, replicates: int,
              model: str = "logit-normal") -> tuple[np.ndarray, np.ndarray]:
    n = rng.choice(sizes, size=(replicates, k), replace=True).astype(float)
    if model == "beta" and tau2 > 0:
        rates = rng.beta(*beta_parameters(mu, tau2), size=(replicates, k))
    else:  # with tau2 = 0 both models are the same fixed rate
        rates = special.expit(mu + rng.normal(0.0, np.sqrt(tau2), size=(replicates, k)))
    events = rng.binomial(n.astype(int), rates).astype(float)
    return events, n


def coverage_simulation(
    sizes: Sequence[int],
    *,
    mu: float,
    ks: Sequence[int],
    tau2s: Sequence[float],
    replicates: int = 1000,
    seed: int = 2020,
    methods: Mapping[str, Mapping[str, str]] | None = None,
    level: float = 0.95,
    model: str = "logit-normal",
) -> pd.DataFrame:
    """Coverage and mean width of each method's CI per scenario (k, tau^2), with the
    true rates drawn by ``model`` (one of :data:`GENERATING_MODELS`).

    Returns one row per (k, tau2, method): ``coverage`` (share), its Monte Carlo
    standard error ``mc_se``, ``mean_width`` (percentage points), and ``fitted`` (the
    replicates the method could fit -- the GLMM has no estimate when every study has 0
    events, or every one n; those replicates are left out of its coverage and counted).
    A method that can fit none of a scenario's replicates (the GLMM when every cohort
    has one patient) has no row for that scenario.
    """
    if model not in GENERATING_MODELS:
        raise ValueError(f"model must be one of {', '.join(GENERATING_MODELS)}, got {model!r}")
    methods = methods or METHODS
    rng = np.random.default_rng(seed)
    truth = 1 / (1 + np.exp(-mu))
    pool = np.asarray(sizes)
    rows = []
    for k in ks:
        for tau2 in tau2s:
            events, n = _simulate(rng, pool, k, mu, tau2, replicates, model)
            for name, options in methods.items():
                keep = np.ones(replicates, dtype=bool)
                if options.get("method") == "glmm":
                    keep &= ~np.all((events == 0) | (events == n), axis=1)  # the GLMM has no estimate then
                if not keep.any():
                    continue
                result = None
                for _ in range(3):  # refit without replicates whose optimizer fails
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", UserWarning)  # ML "local maximum" notes
                            result = pool_proportions(events[keep], n[keep], level=level, **options)
                        break
                    except ConvergenceError as exc:
                        keep[np.flatnonzero(keep)[exc.rows]] = False
                if result is None:
                    raise RuntimeError(f"{name}: could not fit the simulated meta-analyses (k={k}, tau2={tau2})")
                covered = (result.ci_low <= truth) & (truth <= result.ci_high)
                coverage = float(covered.mean())
                rows.append({
                    "model": model, "k": k, "tau2": tau2, "method": name, "coverage": coverage,
                    "mc_se": float(np.sqrt(coverage * (1 - coverage) / covered.size)),
                    "mean_width": float(100 * (result.ci_high - result.ci_low).mean()),
                    "fitted": int(covered.size), "replicates": replicates,
                })
    return pd.DataFrame(rows)


def simulated_sizes(k: int) -> tuple[list[int], str]:
    """The numbers of studies to simulate for a table of ``k`` cohorts -- 5 (the size of
    many subgroups) and ``k`` itself, at most :data:`MAX_SIMULATED_K` -- and a note
    saying so where ``k`` was capped ("" otherwise)."""
    simulated = min(k, MAX_SIMULATED_K)
    sizes = sorted({5, simulated} if k >= 2 else {5})
    if simulated == k:
        return sizes, ""
    return sizes, (f"This table has {k} cohorts; the simulation draws meta-analyses of at most {MAX_SIMULATED_K} "
                   f"studies, so its coverage is that of {MAX_SIMULATED_K}-study meta-analyses, not of {k}.")
