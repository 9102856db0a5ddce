"""Binomial-normal random-intercept model (GLMM) for single proportions.

The model is metafor's ``rma.glmm(measure="PLO")``, which fits with lme4
``glmer(cbind(x, n - x) ~ 1 + (1 | study), family = binomial, nAGQ = 7)``:

    x_i ~ Binomial(n_i, expit(mu + tau * u_i)),   u_i ~ N(0, 1),

fitted by maximum likelihood with each study's integral over ``u_i`` approximated by
7-point *adaptive* Gauss-Hermite quadrature (nodes centred at the conditional mode and
scaled by its curvature, as lme4 does). The fit is vectorized over studies and over
meta-analyses: all rows are maximized together by a damped Newton method with
finite-difference derivatives, so a batch of simulated meta-analyses is one computation.

The standard error of ``mu`` comes from the inverse Hessian of the log-likelihood in
(tau, mu), as lme4's ``vcov()`` does. ``q`` is metafor's likelihood-ratio test of
heterogeneity (``QE.LRT``: saturated vs. common-proportion binomial model), defined even
for studies with 0 or n events; I^2 and H^2 use metafor's typical within-study variance
from the logit-scale sampling variances (0.5 added to studies with 0 or n events).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .estimators import ConvergenceError, _study_sum, fit_random_effects
from .proportions import (
    _FIELDS,
    PooledProportion,
    PooledProportionBatch,
    _as_counts,
    _continuity,
    _labels,
    clopper_pearson,
)

__all__ = ["pool_glmm", "N_QUADRATURE"]

N_QUADRATURE = 7  # lme4's and metafor's default nAGQ
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(N_QUADRATURE)
_LOG_WEIGHTS = np.log(_WEIGHTS / np.sqrt(2 * np.pi))  # weights of a standard normal
_MAX_OUTER = 200
_MAX_INNER = 100
_STEP = 1e-4  # finite-difference step for the outer derivatives (lme4's deriv12 uses 1e-4)


def _log_binomial(x: np.ndarray, n: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """log P(x | n, expit(eta)) without the binomial coefficient."""
    return x * eta - n * np.logaddexp(0.0, eta)


def _modes(mu: np.ndarray, tau: np.ndarray, x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conditional modes of u (k, m) and the curvature there, by safeguarded Newton.

    h(u) = log P(x | mu + tau u) - u^2 / 2 is strictly concave, so Newton steps with
    halving whenever h fails to increase converge from u = 0.
    """
    u = np.zeros_like(x)

    def h(u_: np.ndarray) -> np.ndarray:
        return _log_binomial(x, n, mu + tau * u_) - u_**2 / 2

    current = h(u)
    # Each element stops on its own, so a study's mode does not depend on which other
    # studies or meta-analyses share the batch.
    moving = np.ones(u.shape, dtype=bool)
    for _ in range(_MAX_INNER):
        p = special.expit(mu + tau * u)
        gradient = tau * (x - n * p) - u
        curvature = tau**2 * n * p * (1 - p) + 1
        step = np.where(moving, gradient / curvature, 0.0)
        candidate = u + step
        value = h(candidate)
        for _ in range(30):
            worse = value < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
            candidate = u + step
            value = h(candidate)
        u, current = candidate, value
        moving &= np.abs(step) >= 1e-12 * (1 + np.abs(u))
        if not moving.any():
            break
    p = special.expit(mu + tau * u)
    return u, tau**2 * n * p * (1 - p) + 1


def _loglik(mu: np.ndarray, tau: np.ndarray, x: np.ndarray, n: np.ndarray, ok: np.ndarray, log_choose: np.ndarray) -> np.ndarray:
    """Marginal log-likelihood per meta-analysis (m,) by adaptive Gauss-Hermite."""
    tau = np.abs(tau)  # the likelihood is symmetric in tau; derivatives at 0 need tau < 0
    mode, curvature = _modes(mu, tau, x, n)
    sigma = 1 / np.sqrt(curvature)
    u = mode[..., None] + sigma[..., None] * _NODES  # (k, m, nodes)
    log_terms = (
        _log_binomial(x[..., None], n[..., None], mu[..., None] + tau[..., None] * u)
        - u**2 / 2
        + _NODES**2 / 2
        + _LOG_WEIGHTS
    )
    per_study = np.log(sigma) + special.logsumexp(log_terms, axis=-1) + log_choose
    return _study_sum(np.where(ok, per_study, 0.0))


def _derivatives(f, mu: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, gradient (m, 2) and Hessian (m, 2, 2) of f(mu, tau) by central differences."""
    h = _STEP
    f0 = f(mu, tau)
    f_mu_p, f_mu_m = f(mu + h, tau), f(mu - h, tau)
    f_tau_p, f_tau_m = f(mu, tau + h), f(mu, tau - h)
    f_pp, f_mm = f(mu + h, tau + h), f(mu - h, tau - h)
    f_pm, f_mp = f(mu + h, tau - h), f(mu - h, tau + h)
    gradient = np.stack([(f_mu_p - f_mu_m) / (2 * h), (f_tau_p - f_tau_m) / (2 * h)], axis=-1)
    h_mm = (f_mu_p - 2 * f0 + f_mu_m) / h**2
    h_tt = (f_tau_p - 2 * f0 + f_tau_m) / h**2
    h_mt = (f_pp - f_pm - f_mp + f_mm) / (4 * h**2)
    hessian = np.stack([np.stack([h_mm, h_mt], -1), np.stack([h_mt, h_tt], -1)], -2)
    return f0, gradient, hessian


def _maximize(x: np.ndarray, n: np.ndarray, ok: np.ndarray, mu0: np.ndarray, tau0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ML estimates of (mu, tau >= 0) for every meta-analysis; returns mu, tau, Hessian."""
    log_choose = np.where(ok, special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1), 0.0)

    def f(mu_: np.ndarray, tau_: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return _loglik(mu_, tau_, x[:, rows], n[:, rows], ok[:, rows], log_choose[:, rows])

    mu, tau = mu0.astype(float).copy(), tau0.astype(float).copy()
    active = np.arange(len(mu))
    for _ in range(_MAX_OUTER):
        if not active.size:
            break
        rows = active
        value, gradient, hessian = _derivatives(lambda a, b: f(a, b, rows), mu[rows], tau[rows])
        # Newton step on the log-likelihood; where the Hessian is not negative definite
        # (far from the optimum), a gradient step instead.
        det = hessian[:, 0, 0] * hessian[:, 1, 1] - hessian[:, 0, 1] ** 2
        concave = (hessian[:, 0, 0] < 0) & (det > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = -np.linalg.solve(np.where(concave[:, None, None], hessian, -np.eye(2)), gradient[..., None])[..., 0]
        step = np.where(concave[:, None], newton, 0.1 * gradient)
        # At the boundary tau = 0 with the likelihood falling for tau > 0: optimize mu only.
        at_boundary = (tau[rows] <= 0) & (gradient[:, 1] <= 0)
        step[:, 1] = np.where(at_boundary, 0.0, step[:, 1])
        step[:, 0] = np.where(at_boundary, -gradient[:, 0] / np.minimum(hessian[:, 0, 0], -1e-12), step[:, 0])
        # Backtracking keeps every row's log-likelihood from decreasing.
        scale = np.ones(len(rows))
        for _ in range(40):
            new_mu = mu[rows] + scale * step[:, 0]
            new_tau = np.maximum(tau[rows] + scale * step[:, 1], 0.0)
            new_value = f(new_mu, new_tau, rows)
            worse = new_value < value - 1e-12 * np.abs(value)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        moved = np.abs(new_mu - mu[rows]) + np.abs(new_tau - tau[rows])
        mu[rows], tau[rows] = new_mu, new_tau
        flat = np.abs(gradient[:, 0]) + np.where(at_boundary, 0.0, np.abs(gradient[:, 1]))
        active = rows[(moved > 1e-10) & (flat > 1e-7)]
    if active.size:
        raise ConvergenceError("glmm", active, "maximum likelihood did not converge")
    all_rows = np.arange(len(mu))
    _, _, hessian = _derivatives(lambda a, b: f(a, b, all_rows), mu, tau)
    return mu, tau, hessian


def _lrt_heterogeneity(x: np.ndarray, n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """-2 log LR of a common proportion against one proportion per study (QE.LRT)."""
    p_common = _study_sum(np.where(ok, x, 0.0)) / _study_sum(np.where(ok, n, 0.0))
    p_study = np.where(ok, x / n, 0.5)
    xlogy = special.xlogy
    saturated = xlogy(x, p_study) + xlogy(n - x, 1 - p_study)
    common = xlogy(x, p_common) + xlogy(n - x, 1 - p_common)
    return np.maximum(0.0, 2 * _study_sum(np.where(ok, saturated - common, 0.0)))


def pool_glmm(
    events: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[float] | np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> PooledProportion | PooledProportionBatch:
    """Pool proportions with the binomial-normal GLMM (see the module docstring).

    Use through ``pool_proportions(..., method="glmm")``. 1-D input gives a
    :class:`PooledProportion`, 2-D input (one meta-analysis per row, NaN padding) a
    :class:`PooledProportionBatch`.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    x2, n2 = _as_counts(events, n)
    ok = ~np.isnan(x2)
    xs, ns = np.where(ok, x2, 0.0), np.where(ok, n2, 1.0)
    if np.any(xs != np.round(xs)) or np.any(ns != np.round(ns)):
        raise ValueError("the GLMM needs whole-number events and n")
    too_few = np.flatnonzero(ok.sum(axis=1) < 2)
    if too_few.size:
        raise ValueError(f"the GLMM needs at least 2 studies (rows {too_few[:10].tolist()})")
    # With every study at 0 events (or every one at n) the likelihood has no maximum.
    degenerate = np.flatnonzero(np.all(~ok | (xs == 0), axis=1) | np.all(~ok | (xs == ns), axis=1))
    if degenerate.size:
        raise ValueError(
            "the GLMM has no finite estimate when every study has 0 events or every study "
            f"has n events (rows {degenerate[:10].tolist()})"
        )

    # Starting values and I^2 come from the logit-scale sampling variances.
    xc, nc = _continuity(np.where(ok, x2, 1.0), np.where(ok, n2, 2.0), ok, 0.5, "only0")
    y, v = np.log(xc / (nc - xc)), 1 / xc + 1 / (nc - xc)
    start = fit_random_effects(y, v, ok, tau2="DL")
    k = ok.sum(axis=1)

    xt, nt, okt = np.ascontiguousarray(xs.T), np.ascontiguousarray(ns.T), np.ascontiguousarray(ok.T)
    mu, tau, hessian = _maximize(xt, nt, okt, start.beta[:, 0], np.maximum(np.sqrt(start.tau2), 0.1))
    with np.errstate(divide="ignore", invalid="ignore"):  # tau = 0 rows handled below
        info = -hessian
        # Var(mu) from the inverse information in (mu, tau); at tau = 0 the cross term
        # vanishes by symmetry and this reduces to 1 / info_mu_mu.
        schur = info[:, 0, 0] - np.where(tau > 0, info[:, 0, 1] ** 2 / info[:, 1, 1], 0.0)
    se = np.sqrt(1 / schur)
    tau2 = tau**2
    crit = stats.norm.ppf(0.5 + level / 2)
    df = k - 1
    vt = start.vt
    i2 = np.where(df > 0, 100 * tau2 / (vt + tau2), 0.0)
    h2 = np.where(df > 0, tau2 / vt + 1, 1.0)
    q = np.where(df > 0, _lrt_heterogeneity(xt, nt, okt), 0.0)
    expit = special.expit
    fields = {
        "estimate": expit(mu),
        "ci_low": expit(mu - crit * se),
        "ci_high": expit(mu + crit * se),
        "pi_low": expit(mu - crit * np.sqrt(se**2 + tau2)),
        "pi_high": expit(mu + crit * np.sqrt(se**2 + tau2)),
        "mu": mu, "se": se, "tau2": tau2, "i2": i2, "h2": h2, "q": q, "q_df": df,
        "q_p": np.where(df > 0, stats.chi2.sf(q, np.maximum(df, 1)), 1.0), "k": k,
        "n_total": np.where(ok, n2, 0).sum(axis=1).astype(int),
        "events_total": np.where(ok, x2, 0).sum(axis=1).astype(int),
    }
    labels_of = {"transform": "logit", "tau2_method": "ML", "ci_method": "z", "method": "glmm", "level": level}
    if np.ndim(events) == 2:
        if labels is not None:
            raise ValueError("labels are for a single meta-analysis (1-D events and n)")
        return PooledProportionBatch(**fields, **labels_of)
    keep = ok[0]
    xs1, ns1 = x2[0, keep], n2[0, keep]
    low, high = clopper_pearson(xs1, ns1, level)
    studies = pd.DataFrame(
        {
            "study": [lab for lab, kept in zip(_labels(labels, x2.shape[1]), keep) if kept],
            "events": xs1.astype(int),
            "n": ns1.astype(int),
            "estimate": xs1 / ns1,
            "ci_low": low,
            "ci_high": high,
            "weight": np.full(int(keep.sum()), np.nan),
            "yi": y[0, keep],
            "vi": v[0, keep],
        }
    )
    return PooledProportion(**{name: fields[name][0].item() for name in _FIELDS}, studies=studies, **labels_of)

