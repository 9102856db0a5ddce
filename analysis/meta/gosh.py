"""GOSH: the pooled result in many subsets of the studies (metafor's ``gosh()``).

With 2^k - 1 subsets or fewer requested, every non-empty subset is fitted; otherwise
``subsets`` random ones, each study included with probability 1/2 (empty subsets
redrawn) -- the distribution metafor samples from (size ~ Binomial(k, 1/2) given at
least one study, then a uniform subset of that size). Subsets are fitted in vectorized
chunks with the full data's transformed values, as metafor does. As in metafor, subset
fits give no warnings (under ``ci="hksj"`` single-study subsets use z, having no residual
df) and a subset whose fit fails gets NaN.

Chunks hold at most :data:`_CHUNK_CELLS` subset-study cells, so memory stays bounded
however many studies there are. The paper's model (DL on the logit scale, the default)
is fitted with the subsets' sums of weights as matrix products, the same formulas as the
engine's (equal to it within rounding); subsets in which one study holds most of the
weight, where those sums lose digits, and every other model are fitted by the engine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .escalc import ArrayLike, harmonic_n, prepare_one, resolve_options
from .estimators import fit_random_effects
from .results import summarise

__all__ = ["GoshResult", "gosh"]

_CHUNK_CELLS = 4_000_000  # subsets x studies per chunk: ~32 MB per array


@dataclass(frozen=True)
class GoshResult:
    """``table``: one row per subset (``k``, ``estimate`` on the 0-1 scale, ``mu``,
    ``i2``, ``tau2``, ``q``); ``included``: (subsets x k) boolean matrix of which studies
    each subset holds; ``exact``: whether every subset was fitted."""

    table: pd.DataFrame
    included: np.ndarray
    exact: bool


def _chunk_rows(k: int) -> int:
    return max(1, _CHUNK_CELLS // max(k, 1))


def _subsets(k: int, subsets: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    if subsets >= 2**k - 1:
        codes = np.arange(1, 2**k, dtype=np.int64)
        return (codes[:, None] >> np.arange(k)) & 1 == 1, True
    # Drawn a chunk of rows at a time (the same stream as one draw, without a float
    # matrix of every subset).
    included = np.empty((subsets, k), dtype=bool)
    for start in range(0, subsets, _chunk_rows(k)):
        rows = min(_chunk_rows(k), subsets - start)
        included[start : start + rows] = rng.random((rows, k)) < 0.5
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
    prep = prepare_one(events, n, resolve_options(transform, tau2, ci, level, add, to), "gosh")
    keep = prep.ok[0]
    y, v = prep.y[:, keep], prep.v[:, keep]
    xs, ns = prep.x[:, keep], prep.n[:, keep]
    k = y.shape[1]
    included, exact = _subsets(k, int(subsets), np.random.default_rng(seed))
    n_harmonic = harmonic_n(prep.n, prep.ok)

    def engine(mask: np.ndarray) -> dict[str, np.ndarray]:
        rows = len(mask)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit = fit_random_effects(
                np.broadcast_to(y, (rows, k)), np.broadcast_to(v, (rows, k)), mask, tau2=tau2, ci=ci, level=level, errors="nan"
            )
        fields, _ = summarise(fit, mask, np.broadcast_to(xs, (rows, k)), np.broadcast_to(ns, (rows, k)), transform, np.repeat(n_harmonic, rows))
        return {c: fields[c] for c in _COLUMNS}

    parts = []
    for start in range(0, len(included), _chunk_rows(k)):
        mask = included[start : start + _chunk_rows(k)]
        if tau2 == "DL" and transform == "logit":
            fields = _dl_logit(y[0], v[0], mask)
            lopsided = np.flatnonzero(np.isnan(fields["q"]))
            if lopsided.size:
                for name, value in engine(mask[lopsided]).items():
                    fields[name][lopsided] = value
        else:
            fields = engine(mask)
        parts.append(pd.DataFrame(fields))
    return GoshResult(table=pd.concat(parts, ignore_index=True), included=included, exact=exact)


_COLUMNS = ["k", "estimate", "mu", "i2", "tau2", "q"]


def _dl_logit(y: np.ndarray, v: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """The DL fit of each subset ``mask`` (subsets x k) of the studies (logit scale),
    from the subsets' sums of weights as matrix products; NaN in every field of a
    subset where one study holds more than half the weight (``s2 > s1^2 / 4``, where
    ``s1 - s2 / s1`` would lose digits: the engine fits those)."""
    members = mask.astype(float)
    w = 1.0 / v
    k = mask.sum(axis=1)
    s1, s2 = members @ w, members @ (w * w)
    # Q is invariant to a shift of y; centred, its sums lose fewer digits.
    centre = float(np.mean(y))
    yc = y - centre
    sy, syy = members @ (w * yc), members @ (w * yc * yc)
    df = k - 1
    has_df = df > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = syy - sy * sy / s1
        tr_p = s1 - s2 / s1
        tau2 = np.where(has_df, np.maximum(0.0, (rss - df) / tr_p), 0.0)
        weights = members / (v + tau2[:, None])
        mu = centre + (weights @ yc) / weights.sum(axis=1)
        vt = df / tr_p
        i2 = np.where(has_df, 100 * tau2 / (vt + tau2), 0.0)
    q = np.where(has_df, np.maximum(0.0, rss), 0.0)
    fields = {"k": k, "estimate": 1 / (1 + np.exp(-mu)), "mu": mu, "i2": i2, "tau2": tau2, "q": q}
    lopsided = s2 > s1**2 / 4
    for name in _COLUMNS[1:]:
        fields[name] = np.where(lopsided, np.nan, fields[name])
    return fields
