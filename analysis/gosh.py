"""GOSH: the pooled result in many subsets of the studies (metafor's ``gosh()``).

With 2^k - 1 subsets or fewer requested, every non-empty subset is fitted; otherwise
``subsets`` random ones, each study included with probability 1/2 (empty subsets
redrawn) -- the distribution metafor samples from (size ~ Binomial(k, 1/2) given at
least one study, then a uniform subset of that size). Subsets are fitted in vectorized
chunks with the full data's transformed values, as metafor does. As in metafor, subset
fits give no warnings (under ``ci="hksj"`` single-study subsets use z, having no residual
df) and a subset whose fit fails gets NaN.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .estimators import fit_random_effects
from .proportions import ArrayLike, _harmonic_n, _options, _prepare_one, _summarise

__all__ = ["GoshResult", "gosh"]

_CHUNK = 100_000


@dataclass(frozen=True)
class GoshResult:
    """``table``: one row per subset (``k``, ``estimate`` on the 0-1 scale, ``mu``,
    ``i2``, ``tau2``, ``q``); ``included``: (subsets x k) boolean matrix of which studies
    each subset holds; ``exact``: whether every subset was fitted."""

    table: pd.DataFrame
    included: np.ndarray
    exact: bool


def _subsets(k: int, subsets: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    if subsets >= 2**k - 1:
        codes = np.arange(1, 2**k, dtype=np.int64)
        return (codes[:, None] >> np.arange(k)) & 1 == 1, True
    included = rng.random((subsets, k)) < 0.5
    while True:
        empty = ~included.any(axis=1)
        if not empty.any():
            return included, False
        included[empty] = rng.random((int(empty.sum()), k)) < 0.5


def gosh(
    events: ArrayLike,
    n: ArrayLike,
    *,
    subsets: int = 1_000_000,
    seed: int = 0,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
) -> GoshResult:
    """Fit the random-effects model in subsets of the studies (options as
    :func:`pool_proportions`); ``seed`` makes the random subsets reproducible."""
    if int(subsets) < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets!r}")
    prep = _prepare_one(events, n, _options(transform, tau2, ci, level, add, to), "gosh")
    keep = prep.ok[0]
    y, v = prep.y[:, keep], prep.v[:, keep]
    xs, ns = prep.x[:, keep], prep.n[:, keep]
    k = y.shape[1]
    included, exact = _subsets(k, int(subsets), np.random.default_rng(seed))
    n_harmonic = _harmonic_n(prep.n, prep.ok)
    parts = []
    for start in range(0, len(included), _CHUNK):
        mask = included[start : start + _CHUNK]
        rows = len(mask)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit = fit_random_effects(
                np.broadcast_to(y, (rows, k)), np.broadcast_to(v, (rows, k)), mask, tau2=tau2, ci=ci, level=level, errors="nan"
            )
        fields, _ = _summarise(fit, mask, np.broadcast_to(xs, (rows, k)), np.broadcast_to(ns, (rows, k)), transform, np.repeat(n_harmonic, rows))
        parts.append(pd.DataFrame({c: fields[c] for c in ["k", "estimate", "mu", "i2", "tau2", "q"]}))
    return GoshResult(table=pd.concat(parts, ignore_index=True), included=included, exact=exact)
