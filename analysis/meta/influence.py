"""Leave-one-out analysis and influence diagnostics (metafor's ``leave1out``,
``influence`` and ``baujat`` for ``rma.uni`` models).

All k leave-one-out fits are one batch: a (k x k) mask with the diagonal left out. As in
metafor they reuse the full data's transformed values and sampling variances (the
continuity correction is not recomputed per subset), their warnings are not shown
(metafor's ``suppressWarnings``) and a fit that fails gives a row of NaN (metafor's NA).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import ArrayLike, Options, harmonic_n, prepare_one, resolve_options, study_labels
from .estimators import fit_random_effects
from .results import summarise

__all__ = ["leave_one_out", "influence"]


def _fits(events: ArrayLike, n: ArrayLike, labels: Sequence[str] | None, options: Options):
    prep = prepare_one(events, n, options, "leave-one-out and influence")
    keep = prep.ok[0]
    k = int(keep.sum())
    if k < 3:
        raise ValueError(f"leave-one-out needs at least 3 studies, got k = {k}")
    y, v = prep.y[:, keep], prep.v[:, keep]
    settings = dict(tau2=options.tau2, ci=options.ci, level=options.level)
    full = fit_random_effects(y, v, np.ones_like(y, dtype=bool), **settings)
    mask = ~np.eye(k, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        deleted = fit_random_effects(np.repeat(y, k, axis=0), np.repeat(v, k, axis=0), mask, **settings, errors="nan")
    names = [label for label, kept in zip(study_labels(labels, len(keep)), keep) if kept]
    return prep, keep, y[0], v[0], full, deleted, mask, names


def leave_one_out(
    events: ArrayLike,
    n: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
) -> pd.DataFrame:
    """The pooled result with each study left out in turn (one row per omitted study).

    Columns: ``study`` (the one left out), ``estimate``, ``ci_low``, ``ci_high`` (0-1
    scale), ``mu`` and ``se`` (transformed scale), ``tau2``, ``i2``, ``h2``, ``q``,
    ``q_p``, ``k``.
    """
    options = resolve_options(transform, tau2, ci, level, add, to)
    prep, keep, _, _, _, deleted, mask, names = _fits(events, n, labels, options)
    xs = np.repeat(prep.x[:, keep], len(names), axis=0)
    ns = np.repeat(prep.n[:, keep], len(names), axis=0)
    n_harmonic = np.repeat(harmonic_n(prep.n, prep.ok), len(names))  # of all studies, as metafor's targs
    fields, _ = summarise(deleted, mask, xs, ns, transform, n_harmonic)
    columns = ["estimate", "ci_low", "ci_high", "mu", "se", "tau2", "i2", "h2", "q", "q_p", "k"]
    return pd.DataFrame({"study": names, **{c: fields[c] for c in columns}})


def influence(
    events: ArrayLike,
    n: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
) -> pd.DataFrame:
    """Influence diagnostics per study, as metafor's ``influence()`` and ``baujat()``.

    Columns: ``rstudent`` (externally studentized residual), ``dffits``, ``cook_d``,
    ``cov_r``, ``tau2_del``, ``q_del``, ``hat``, ``weight`` (%), ``dfbeta`` (metafor's
    DFBETAS), ``influential`` (metafor's rule of thumb), and ``baujat_x`` (contribution
    to heterogeneity) and ``baujat_y`` (influence on the pooled estimate).
    """
    options = resolve_options(transform, tau2, ci, level, add, to)
    _, _, y, v, full, deleted, _, names = _fits(events, n, labels, options)
    k, p = len(y), 1
    mu, vb, tau2_hat = full.beta[0, 0], full.vb[0, 0, 0], full.tau2[0]
    w = full.weights[0]
    hat = w / w.sum()
    mu_del, vb_del, tau2_del, s2w_del = deleted.beta[:, 0], deleted.vb[:, 0, 0], deleted.tau2, deleted.s2w
    shift = mu - mu_del
    dffits = shift / np.sqrt(s2w_del * hat * (tau2_del + v))
    # Variance of the full-data estimate had tau^2 been the deleted-data value.
    vb_with_tau2_del = 1 / (1 / (v[None, :] + tau2_del[:, None])).sum(axis=1)
    dfbeta = shift / np.sqrt(s2w_del * vb_with_tau2_del)
    cook_d = shift**2 / vb
    resid = y - mu_del
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    rstudent = resid / np.sqrt(v * s2w_del + vb_del + tau2_del * s2w_del)
    influential = (
        (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(cook_d, p) > 0.5)
        | (hat > 3 * p / k)
        | (np.abs(dfbeta) > 1)
    )
    return pd.DataFrame(
        {
            "study": names,
            "rstudent": rstudent,
            "dffits": dffits,
            "cook_d": cook_d,
            "cov_r": vb_del / vb,
            "tau2_del": tau2_del,
            "q_del": deleted.q,
            "hat": hat,
            "weight": 100 * hat,
            "dfbeta": dfbeta,
            "influential": influential,
            "baujat_x": (y - mu) ** 2 / (tau2_hat + v),
            "baujat_y": (mu_del - mu) ** 2 / vb_del,
        }
    )
