"""Monte Carlo coverage of confidence intervals for a pooled proportion.

Meta-analyses are simulated from the random-effects model the book fits -- true study
logits ``mu + N(0, tau^2)``, binomial events -- with sample sizes drawn from a given
pool (the real cohorts' n), and every interval method is applied to the same simulated
data in one vectorized batch. Coverage is the share of intervals containing the true
pooled proportion ``expit(mu)``.
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .estimators import ConvergenceError
from .proportions import pool_proportions

__all__ = ["METHODS", "coverage_simulation"]

METHODS: dict[str, dict[str, str]] = {
    "DL, z (paper)": {"tau2": "DL", "ci": "z"},
    "DL, HKSJ": {"tau2": "DL", "ci": "hksj"},
    "GLMM": {"method": "glmm"},
}


def _simulate(rng: np.random.Generator, sizes: np.ndarray, k: int, mu: float, tau2: float, replicates: int) -> tuple[np.ndarray, np.ndarray]:
    n = rng.choice(sizes, size=(replicates, k), replace=True).astype(float)
    logits = mu + rng.normal(0.0, np.sqrt(tau2), size=(replicates, k))
    events = rng.binomial(n.astype(int), 1 / (1 + np.exp(-logits))).astype(float)
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
) -> pd.DataFrame:
    """Coverage and mean width of each method's CI per scenario (k, tau^2).

    Returns one row per (k, tau2, method): ``coverage`` (share), its Monte Carlo
    standard error ``mc_se``, ``mean_width`` (percentage points), and ``fitted`` (the
    replicates the method could fit -- the GLMM has no estimate when every study has 0
    events, or every one n; those replicates are left out of its coverage and counted).
    """
    methods = methods or METHODS
    rng = np.random.default_rng(seed)
    truth = 1 / (1 + np.exp(-mu))
    pool = np.asarray(sizes)
    rows = []
    for k in ks:
        for tau2 in tau2s:
            events, n = _simulate(rng, pool, k, mu, tau2, replicates)
            for name, options in methods.items():
                keep = np.ones(replicates, dtype=bool)
                if options.get("method") == "glmm":
                    keep &= ~(np.all(events == 0, axis=1) | np.all(events == n, axis=1))
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
                    "k": k, "tau2": tau2, "method": name, "coverage": coverage,
                    "mc_se": float(np.sqrt(coverage * (1 - coverage) / covered.size)),
                    "mean_width": float(100 * (result.ci_high - result.ci_low).mean()),
                    "fitted": int(covered.size), "replicates": replicates,
                })
    return pd.DataFrame(rows)
