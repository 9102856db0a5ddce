"""Studies on the pooling scale: metafor's ``escalc`` layer for single proportions.

Checking counts, continuity corrections and the five transforms (metafor's measures PR,
PLN, PLO, PAS, PFT), the options every entry point shares, and the exact per-study
intervals. Everything above this module -- result types, the estimators' entry points,
the GLMM, the diagnostics -- takes studies from here; nothing here imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from .estimators import CI_METHODS, TAU2_METHODS, rowsum

__all__ = [
    "ArrayLike",
    "Transform",
    "TRANSFORMS",
    "CORRECTION_TARGETS",
    "PI_METHODS",
    "Options",
    "resolve_options",
    "check_option",
    "check_level",
    "as_counts",
    "count_problems",
    "continuity",
    "Prepared",
    "prepare",
    "prepare_one",
    "harmonic_n",
    "study_labels",
    "clopper_pearson",
]

ArrayLike = Sequence[float] | np.ndarray | pd.Series


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


def _exp(y: np.ndarray, _: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # an overflowing log-scale limit is infinite, and says so
        return np.exp(y)


def _iarcsin(y: np.ndarray, _: np.ndarray) -> np.ndarray:
    return np.where(y < 0, 0.0, np.where(y > np.pi / 2, 1.0, np.sin(y) ** 2))


@dataclass(frozen=True)
class Transform:
    """A scale for pooling: forward to (y, v) from corrected counts, back from it.

    ``inverse`` gets the value on the transformed scale and the harmonic mean of the
    sample sizes (used only by the Freeman-Tukey back-transformation). ``measure`` is
    metafor's name for it and ``scale`` the scale in words ("logit scale").
    """

    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    inverse: Callable[[np.ndarray, np.ndarray], np.ndarray]
    corrected_by_default: bool  # metafor's escalc corrects only PLO, PLN, PR unasked
    measure: str
    scale: str


def _expit(y: np.ndarray, _: np.ndarray) -> np.ndarray:
    # exp(-y) overflows to inf for y below about -709, where 1 / (1 + inf) = 0 is right.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-y))


TRANSFORMS: dict[str, Transform] = {
    "logit": Transform(lambda x, n: (np.log(x / (n - x)), 1 / x + 1 / (n - x)), _expit, True, "PLO", "logit scale"),
    "log": Transform(lambda x, n: (np.log(x / n), 1 / x - 1 / n), _exp, True, "PLN", "log scale"),
    "raw": Transform(lambda x, n: (x / n, (x / n) * (1 - x / n) / n), lambda y, _: y, True, "PR", "proportion scale"),
    "arcsine": Transform(lambda x, n: (np.arcsin(np.sqrt(x / n)), 1 / (4 * n)), _iarcsin, False, "PAS", "arcsine scale"),
    "freeman-tukey": Transform(
        lambda x, n: (_pft(x / n, n), 1 / (4 * n + 2)), _ipft_harmonic, False, "PFT", "Freeman–Tukey scale"
    ),
}

#: The largest sample size pooled: beyond it, floats no longer hold every whole number.
MAX_N = 2.0**53

#: Where a continuity correction is added (metafor's ``to`` argument of escalc).
CORRECTION_TARGETS = ("only0", "all", "if0all", "none")
#: Prediction interval: "z" is metafor's predict() (the CI's quantile: normal, or t on
#: k - 1 df under hksj); "t" is Higgins, Thompson & Spiegelhalter (2009) and Riley et al.
#: (2011), R meta's: t on k - 2 df.
PI_METHODS = ("z", "t")


def check_option(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not supported; choose one of {sorted(allowed)}")


def check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")


@dataclass(frozen=True)
class Options:
    """The options of an inverse-variance meta-analysis of proportions, checked and
    with metafor's defaults filled in (see :func:`resolve_options`)."""

    transform: str
    tau2: str
    ci: str
    level: float
    add: float
    to: str
    pi: str = "z"


def resolve_options(
    transform: str, tau2: str, ci: str, level: float, add: float | None, to: str | None, pi: str = "z"
) -> Options:
    """Check the options and fill in the continuity correction as metafor's escalc does:
    0.5 to studies with 0 or n events for logit, log and raw, none for arcsine and
    Freeman-Tukey unless asked for."""
    check_option("transform", transform, tuple(TRANSFORMS))
    check_option("tau2", tau2, TAU2_METHODS)
    check_option("ci", ci, CI_METHODS)
    check_option("pi", pi, PI_METHODS)
    if add is None and to is None and not TRANSFORMS[transform].corrected_by_default:
        add, to = 0.0, "none"
    add = 0.5 if add is None else add
    to = "only0" if to is None else to
    check_option("to", to, CORRECTION_TARGETS)
    check_level(level)
    if not (np.isfinite(add) and add >= 0):
        raise ValueError(f"add must be a non-negative number, got {add!r}")
    return Options(transform=transform, tau2=tau2, ci=ci, level=level, add=add, to=to, pi=pi)


def as_counts(events: object, n: object) -> tuple[np.ndarray, np.ndarray]:
    """Events and n as 2-D float arrays (rows = meta-analyses, NaN = padding)."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    if x.shape != m.shape:
        raise ValueError(f"events and n must have the same shape, got {x.shape} and {m.shape}")
    if x.ndim not in (1, 2):
        raise ValueError(f"events and n must be 1-D or 2-D, got {x.ndim}-D")
    return np.atleast_2d(x), np.atleast_2d(m)


def count_problems(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The first problem with each row's counts ("" if none), studies numbered from 1."""
    given = ~np.isnan(x)
    why = np.full(x.shape[0], "", dtype=object)
    checks = [
        (np.isnan(x) != np.isnan(n), "events and n must both be given or both be NaN"),
        (given & (np.isinf(x) | np.isinf(n)), "events and n must be finite"),
        (given & (n <= 0), "n must be positive"),
        (given & (n > MAX_N), "n must be at most 2**53, where floating point still counts one by one"),
        (given & (x < 0), "events must not be negative"),
        (given & (x > n), "events must not exceed n"),
    ]
    for bad, message in checks:
        for row in np.flatnonzero(bad.any(axis=1) & (why == "")):
            j = int(np.argmax(bad[row]))
            why[row] = f"study {j + 1}: {message} (events={x[row, j]:g}, n={n[row, j]:g})"
    why[(given.sum(axis=1) == 0) & (why == "")] = "a meta-analysis needs at least one study (k = 0)"
    return why


def continuity(x: np.ndarray, n: np.ndarray, ok: np.ndarray, add: float, to: str) -> tuple[np.ndarray, np.ndarray]:
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
class Prepared:
    """Studies on the pooling scale: y, v, mask, the uncorrected counts, and why a row
    cannot be pooled ("" where it can). Cells outside the mask hold harmless values."""

    y: np.ndarray
    v: np.ndarray
    ok: np.ndarray
    x: np.ndarray
    n: np.ndarray
    transform: str
    why: np.ndarray


def prepare(x: np.ndarray, n: np.ndarray, *, transform: str, add: float, to: str) -> Prepared:
    """Validation, continuity correction and transformation of 2-D counts."""
    why = count_problems(x, n)
    ok = ~np.isnan(x) & (why == "")[:, None]
    xs, ns = np.where(ok, x, 1.0), np.where(ok, n, 2.0)
    xc, nc = continuity(xs, ns, ok, add, to)
    with np.errstate(divide="ignore", invalid="ignore"):
        y, v = TRANSFORMS[transform].forward(xc, nc)
    degenerate = ok & ~(np.isfinite(v) & (v > 0))
    for row in np.flatnonzero(degenerate.any(axis=1)):
        why[row] = (
            f"study {int(np.argmax(degenerate[row])) + 1}: 0 or n events give an infinite or zero "
            f"variance on the {transform} scale; use a continuity correction (add > 0, to='only0')"
        )
    ok &= (why == "")[:, None]
    return Prepared(
        y=np.where(ok, y, 0.0), v=np.where(ok, v, 1.0), ok=ok,
        x=np.where(ok, x, 0.0), n=np.where(ok, n, 0.0), transform=transform, why=why,
    )


def prepare_one(events: ArrayLike, n: ArrayLike, options: Options, name: str) -> Prepared:
    """Validate and prepare the counts of a single meta-analysis for ``name``."""
    x, m = as_counts(events, n)
    if x.shape[0] != 1:
        raise ValueError(f"{name} takes one meta-analysis: 1-D events and n")
    prep = prepare(x, m, transform=options.transform, add=options.add, to=options.to)
    if prep.why[0]:
        raise ValueError(prep.why[0])
    return prep


def harmonic_n(n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Harmonic mean of the sample sizes per row (for the Freeman-Tukey inverse)."""
    return ok.sum(axis=1) / rowsum(np.where(ok, 1.0 / np.where(ok, n, 1.0), 0.0))


def study_labels(labels: Sequence[str] | None, k: int) -> list[str]:
    """The studies' names, ``study 1`` … where none are given."""
    if labels is None:
        return [f"study {i + 1}" for i in range(k)]
    labels = [str(s) for s in labels]
    if len(labels) != k:
        raise ValueError(f"got {len(labels)} labels for {k} studies")
    return labels


def clopper_pearson(events: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) confidence limits for binomial proportions: statsmodels'
    ``proportion_confint(method="beta")``, R's ``binom.test``."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    low, high = proportion_confint(x, m, alpha=1.0 - level, method="beta")
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)
