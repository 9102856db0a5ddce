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
(tau, mu), as lme4's ``vcov()`` does. Each study's log-likelihood is computed relative to
its saturated binomial log-likelihood, with studies of more than half events mirrored
(x -> n - x, logit -> -logit: the same likelihood), so that with n = 1e6 no digits are
lost to terms of size n; the Hessian's central differences then have no rounding noise to
amplify. (lme4 differences a log-likelihood of size n * log 2 with a 1e-4 step: for
events 500000, 1000, 12, 250000 of 1e6 its SE is 2.198 at 7 nodes and 2.276 at 25, where
the exact value is 2.294, which this Hessian gives at 7 nodes.)

``q`` is metafor's likelihood-ratio test of heterogeneity (``QE.LRT``: saturated vs.
common-proportion binomial model), defined even for studies with 0 or n events; I^2 and
H^2 use metafor's typical within-study variance from the logit-scale sampling variances
(0.5 added to studies with 0 or n events).
"""

from __future__ import annotations

from dataclasses import dataclass, fields as dataclass_fields
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .escalc import PI_METHODS, as_counts, check_level, check_option, clopper_pearson, continuity, count_problems, study_labels
from .estimators import ConvergenceError, fit_random_effects, study_sum
from .results import FIELDS, FLOAT_FIELDS, PI_UNDEFINED, PooledProportion, PooledProportionBatch, with_unfitted_rows

__all__ = ["pool_glmm", "N_QUADRATURE"]

N_QUADRATURE = 7  # lme4's and metafor's default nAGQ
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(N_QUADRATURE)
_LOG_WEIGHTS = np.log(_WEIGHTS / np.sqrt(2 * np.pi))  # weights of a standard normal
_NODE_TERMS = _NODES**2 / 2 + _LOG_WEIGHTS  # the standard normal's nodes and weights, as used in the sum
_MAX_OUTER = 200
_MAX_INNER = 100
_STEP = 1e-4  # finite-difference step for the optimizer (lme4's deriv12 uses 1e-4)
# Step for the Hessian at the optimum: its truncation error (~ step^2) is far below the
# rounding noise that a smaller step would amplify.
_HESSIAN_STEP = 1e-3
_NEAR = 0.05  # steps in (mu, tau) shorter than this start the modes from their prediction


@dataclass(frozen=True)
class _Studies:
    """The studies of a batch, (k, m) study-major, mirrored to at most half events.

    ``sign`` is -1 for mirrored studies, whose logit is -(mu + tau u); the prior of u
    is symmetric, so only mu changes sign. ``eta_hat`` and ``p_hat`` are the logit and
    proportion the log-likelihood is measured from: the saturated model's where
    ``inner`` (x > 0), the empirical logit (0.5 added) at x = 0, where the saturated
    value (the limit at a logit of minus infinity) cannot be a reference point; that
    only shifts a study's log-likelihood by a constant. ``logit`` and ``logit_var`` are
    the empirical logit (0.5 added) and its variance, which start the search for the
    modes.
    """

    sign: np.ndarray
    x: np.ndarray
    n: np.ndarray
    ok: np.ndarray
    inner: np.ndarray
    p_hat: np.ndarray
    q_hat: np.ndarray
    eta_hat: np.ndarray
    logit: np.ndarray
    logit_var: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, n: np.ndarray, ok: np.ndarray) -> "_Studies":
        mirrored = x > n / 2
        x = np.where(mirrored, n - x, x)
        inner = x > 0
        logit = np.log((x + 0.5) / (n - x + 0.5))
        p_hat = np.where(inner, x / n, special.expit(logit))
        return cls(
            sign=np.where(mirrored, -1.0, 1.0), x=x, n=n, ok=ok, inner=inner, p_hat=p_hat, q_hat=1 - p_hat,
            eta_hat=np.where(inner, np.log(np.where(inner, x, 1.0) / (n - x)), logit),
            logit=logit,
            logit_var=1 / (x + 0.5) + 1 / (n - x + 0.5),
        )

    def columns(self, rows: np.ndarray) -> "_Studies":
        return _Studies(**{f.name: getattr(self, f.name)[:, rows] for f in dataclass_fields(self)})

    def loglik(self, eta: np.ndarray) -> np.ndarray:
        """log P(x | n, expit(eta)) minus its value at ``eta_hat`` (the saturated value
        where x > 0; a constant per study either way); ``eta`` (k, m)."""
        return self.loglik_change(eta - self.eta_hat)

    def loglik_change(self, delta: np.ndarray) -> np.ndarray:
        """:meth:`loglik` at ``eta_hat + delta``; ``delta`` (k, m, ...), overwritten."""
        x, n, p_hat, q_hat = (a.reshape(a.shape + (1,) * (delta.ndim - 2)) for a in (self.x, self.n, self.p_hat, self.q_hat))
        # log(1 + e^eta) - log(1 + e^eta_hat) = max(delta, 0) + log1p(a expm1(-|delta|)),
        # a = 1 - p_hat above eta_hat and p_hat below: no overflow on either side.
        change = np.abs(delta)
        np.negative(change, out=change)
        np.expm1(change, out=change)
        change *= np.where(delta > 0, q_hat, p_hat)
        np.log1p(change, out=change)
        change += np.maximum(delta, 0.0)
        change *= n
        delta *= x
        delta -= change
        return delta


def _modes(mu: np.ndarray, tau: np.ndarray, s: _Studies, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Conditional modes of u (k, m) and the curvature there, by safeguarded Newton;
    ``mu`` (k, m) is already signed for mirrored studies.

    h(u) = log P(x | mu + tau u) - u^2 / 2 is strictly concave, so Newton steps with
    halving whenever h fails to increase converge from any start; they start from
    ``start`` where given (the modes predicted from a nearby (mu, tau): one or two steps
    from the answer), else (None or NaN) from the normal approximation's mode (the
    study's empirical logit, 0.5 added, shrunk towards mu), a few steps from the answer
    even when n is 1e6.
    """
    u = tau * (s.logit - mu) / (tau**2 + s.logit_var)
    if start is not None:  # NaN: no prediction
        u = np.where(np.isnan(start), u, start)

    def h(u_: np.ndarray) -> np.ndarray:
        return s.loglik(mu + tau * u_) - u_**2 / 2

    current = None  # h at u, computed when a step needs the safeguard
    # Each element stops on its own, so a study's mode does not depend on which other
    # studies or meta-analyses share the batch.
    moving = np.ones(u.shape, dtype=bool)
    for _ in range(_MAX_INNER):
        eta = mu + tau * u
        p, q = special.expit(eta), special.expit(-eta)
        gradient = tau * (s.x - s.n * p) - u
        curvature = tau**2 * s.n * p * q + 1
        step = np.where(moving, gradient / curvature, 0.0)
        # A step below 1e-7 changes h by less than its rounding error (curvature *
        # step^2), so there a comparison of h says nothing, and the quadratic model is
        # exact enough for a full Newton step: only longer steps are safeguarded.
        guarded = np.abs(step) > 1e-7 * (1 + np.abs(u))
        if guarded.any():
            if current is None:
                current = h(u)
            candidate = u + step
            value = h(candidate)
            for _ in range(30):
                worse = (value < current - 1e-12 * np.abs(current)) & guarded
                if not worse.any():
                    break
                step = np.where(worse, step / 2, step)
                guarded = np.abs(step) > 1e-7 * (1 + np.abs(u))
                candidate = u + step
                value = h(candidate)
            u, current = candidate, value
        else:
            u, current = u + step, None
        moving &= np.abs(step) >= 1e-12 * (1 + np.abs(u))
        if not moving.any():
            break
    eta = mu + tau * u
    return u, tau**2 * s.n * special.expit(eta) * special.expit(-eta) + 1


def _loglik(mu: np.ndarray, tau: np.ndarray, s: _Studies, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Marginal log-likelihood per meta-analysis (m,) by adaptive Gauss-Hermite, up to a
    constant (the saturated log-likelihood and the binomial coefficients), and the
    conditional modes (k, m) (``start``: see :func:`_modes`)."""
    tau = np.abs(tau)  # the likelihood is symmetric in tau; derivatives at 0 need tau < 0
    signed_mu = s.sign * mu
    mode, curvature = _modes(signed_mu, tau, s, start)
    sigma = 1 / np.sqrt(curvature)
    # At the nodes u = mode + sigma z (k, m, nodes): log P(x | mu + tau u) - u^2 / 2 +
    # z^2 / 2 + log w, with the logit's change from eta_hat built without eta itself.
    log_terms = s.loglik_change((signed_mu + tau * mode - s.eta_hat)[..., None] + (tau * sigma)[..., None] * _NODES)
    u = mode[..., None] + sigma[..., None] * _NODES
    u *= u
    u *= 0.5
    log_terms -= u
    log_terms += _NODE_TERMS
    top = log_terms.max(axis=-1)  # log-sum-exp over the nodes (every term is finite)
    log_terms -= top[..., None]
    np.exp(log_terms, out=log_terms)
    per_study = np.log(sigma) + top + np.log(log_terms.sum(axis=-1))
    return study_sum(np.where(s.ok, per_study, 0.0)), mode


def _predictor(s: _Studies, mu: np.ndarray, tau: np.ndarray, mode: np.ndarray):
    """The first-order prediction of the modes at (a, b) from the modes ``mode`` at
    (mu, tau), by implicit differentiation of h'(u) = 0: a start for :func:`_modes`
    whose error is of order |(a, b) - (mu, tau)|^2."""
    t = np.abs(tau)
    eta = s.sign * mu + t * mode
    p = special.expit(eta)
    npq = s.n * p * special.expit(-eta)
    curvature = t**2 * npq + 1
    du_dmu = -s.sign * t * npq / curvature
    du_dtau = (s.x - s.n * p - t * npq * mode) / curvature
    return lambda a, b: mode + du_dmu * (a - mu) + du_dtau * (np.abs(b) - t)


def _derivatives(
    s: _Studies, mu: np.ndarray, tau: np.ndarray, h: float, points: int = 9,
    center: tuple[np.ndarray, np.ndarray] | None = None,
):
    """Value, gradient (m, 2) and Hessian (m, 2, 2) of the log-likelihood in (mu, tau)
    by central differences, on the 9-point stencil or (``points=7``, for the optimizer's
    steps) the 7-point one, whose cross derivative (from the diagonal neighbours
    (+h, +h) and (-h, -h) only) has the same O(h^2) error; and the predictor of the
    modes near (mu, tau) (:func:`_predictor`).

    ``center`` is the value and the modes at (mu, tau) if known. The modes at the
    neighbouring points start from their prediction, an error of order h^2 that one
    Newton step removes; each still converges to the same stopping rule, so the
    derivatives are those of the converged likelihood."""
    f0, mode = center if center is not None else _loglik(mu, tau, s)
    predict = _predictor(s, mu, tau, mode)

    def f(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _loglik(a, b, s, predict(a, b))[0]

    f_mu_p, f_mu_m = f(mu + h, tau), f(mu - h, tau)
    f_tau_p, f_tau_m = f(mu, tau + h), f(mu, tau - h)
    f_pp, f_mm = f(mu + h, tau + h), f(mu - h, tau - h)
    gradient = np.stack([(f_mu_p - f_mu_m) / (2 * h), (f_tau_p - f_tau_m) / (2 * h)], axis=-1)
    h_mm = (f_mu_p - 2 * f0 + f_mu_m) / h**2
    h_tt = (f_tau_p - 2 * f0 + f_tau_m) / h**2
    if points == 7:
        h_mt = (f_pp + f_mm - f_mu_p - f_mu_m - f_tau_p - f_tau_m + 2 * f0) / (2 * h**2)
    else:
        f_pm, f_mp = f(mu + h, tau - h), f(mu - h, tau + h)
        h_mt = (f_pp - f_pm - f_mp + f_mm) / (4 * h**2)
    hessian = np.stack([np.stack([h_mm, h_mt], -1), np.stack([h_mt, h_tt], -1)], -2)
    return f0, gradient, hessian, predict


def _maximize(s: _Studies, mu0: np.ndarray, tau0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ML estimates of (mu, tau >= 0) for every meta-analysis; returns mu, tau, the
    Hessian there and a mask of the meta-analyses that did not converge.

    The value and the modes at each meta-analysis's current point are kept from the
    step that reached it; every other evaluation starts its modes from their prediction
    from there."""
    mu, tau = mu0.astype(float).copy(), tau0.astype(float).copy()
    value_at, mode_at = _loglik(mu, tau, s)
    active = np.arange(len(mu))
    for _ in range(_MAX_OUTER):
        if not active.size:
            break
        rows = active
        studies = s if len(rows) == len(mu) else s.columns(rows)
        value, gradient, hessian, predict = _derivatives(studies, mu[rows], tau[rows], _STEP, points=7,
                                                         center=(value_at[rows], mode_at[:, rows]))
        # Newton step on the log-likelihood with the Hessian's eigenvalues made negative
        # (their sign flipped, their size kept above 1e-3 of the largest): where it is not
        # negative definite (far from the optimum, or where the likelihood is nearly flat)
        # this still scales the step by the curvature, unlike a gradient step.
        curvature, vectors = np.linalg.eigh(hessian)
        size = np.maximum(np.abs(curvature), 1e-3 * np.abs(curvature).max(axis=1, keepdims=True) + 1e-12)
        step = np.einsum("mij,mj,mkj,mk->mi", vectors, 1 / size, vectors, gradient)
        # At the boundary tau = 0 with the likelihood falling for tau > 0: optimize mu only.
        at_boundary = (tau[rows] <= 0) & (gradient[:, 1] <= 0)
        step[:, 1] = np.where(at_boundary, 0.0, step[:, 1])
        step[:, 0] = np.where(at_boundary, -gradient[:, 0] / np.minimum(hessian[:, 0, 0], -1e-12), step[:, 0])
        # Backtracking keeps every row's log-likelihood from decreasing.
        scale = np.ones(len(rows))
        for _ in range(40):
            new_mu = mu[rows] + scale * step[:, 0]
            new_tau = np.maximum(tau[rows] + scale * step[:, 1], 0.0)
            # Modes predicted only for short steps (long ones start afresh).
            near = np.abs(new_mu - mu[rows]) + np.abs(new_tau - tau[rows]) < _NEAR
            new_value, new_mode = _loglik(new_mu, new_tau, studies, np.where(near, predict(new_mu, new_tau), np.nan))
            worse = new_value < value - 1e-12 * np.abs(value)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        moved = np.abs(new_mu - mu[rows]) + np.abs(new_tau - tau[rows])
        mu[rows], tau[rows] = new_mu, new_tau
        value_at[rows], mode_at[:, rows] = new_value, new_mode
        flat = np.abs(gradient[:, 0]) + np.where(at_boundary, 0.0, np.abs(gradient[:, 1]))
        active = rows[(moved > 1e-10) & (flat > 1e-7)]
    failed = np.zeros(len(mu), dtype=bool)
    failed[active] = True
    hessian = _derivatives(s, mu, tau, _HESSIAN_STEP, center=(value_at, mode_at))[2]
    return mu, tau, hessian, failed


def _lrt_heterogeneity(x: np.ndarray, n: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """-2 log LR of a common proportion against one proportion per study (QE.LRT)."""
    p_common = study_sum(np.where(ok, x, 0.0)) / study_sum(np.where(ok, n, 0.0))
    p_study = np.where(ok, x / n, 0.5)
    xlogy = special.xlogy
    saturated = xlogy(x, p_study) + xlogy(n - x, 1 - p_study)
    common = xlogy(x, p_common) + xlogy(n - x, 1 - p_common)
    return np.maximum(0.0, 2 * study_sum(np.where(ok, saturated - common, 0.0)))


def _glmm_problems(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Why each row cannot be fitted by the GLMM ("" if it can)."""
    why = count_problems(x, n)
    ok = ~np.isnan(x)
    xs, ns = np.where(ok, x, 0.0), np.where(ok, n, 1.0)
    checks = [
        (np.any(ok & ((xs != np.round(xs)) | (ns != np.round(ns))), axis=1), "the GLMM needs whole-number events and n"),
        (ok.sum(axis=1) < 2, "the GLMM needs at least 2 studies"),
        # With every study at 0 or n events the likelihood has no maximum (it grows, or
        # stays flat, as tau goes to infinity).
        (np.all(~ok | (xs == 0) | (xs == ns), axis=1), "the GLMM has no finite estimate when every study has 0 or n events"),
    ]
    for bad, message in checks:
        why[bad & (why == "")] = message
    return why


def pool_glmm(
    events: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[float] | np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
    pi: str = "z",
    errors: str = "raise",
) -> PooledProportion | PooledProportionBatch:
    """Pool proportions with the binomial-normal GLMM (see the module docstring).

    Use through ``pool_proportions(..., method="glmm")``. 1-D input gives a
    :class:`PooledProportion`, 2-D input (one meta-analysis per row, NaN padding) a
    :class:`PooledProportionBatch`; ``pi`` and ``errors`` are as there.
    """
    check_level(level)
    check_option("pi", pi, PI_METHODS)
    x2, n2 = as_counts(events, n)
    batch = np.ndim(events) == 2
    if batch and labels is not None:
        raise ValueError("labels are for a single meta-analysis (1-D events and n)")
    why = _glmm_problems(x2, n2)
    bad = np.flatnonzero(why != "")
    if bad.size and errors == "raise":
        raise ValueError((f"row {bad[0] + 1}: " if batch else "") + why[bad[0]])
    good = why == ""
    ok = ~np.isnan(x2[good])
    xs, ns = np.where(ok, x2[good], 0.0), np.where(ok, n2[good], 1.0)

    # Starting values and I^2 come from the logit-scale sampling variances.
    xc, nc = continuity(np.where(ok, xs, 1.0), np.where(ok, ns, 2.0), ok, 0.5, "only0")
    y, v = np.log(xc / (nc - xc)), 1 / xc + 1 / (nc - xc)
    start = fit_random_effects(y, v, ok, tau2="DL")
    k = ok.sum(axis=1)

    xt, nt, okt = np.ascontiguousarray(xs.T), np.ascontiguousarray(ns.T), np.ascontiguousarray(ok.T)
    mu, tau, hessian, failed = _maximize(_Studies.of(xt, nt, okt), start.beta[:, 0], np.maximum(np.sqrt(start.tau2), 0.1))
    if failed.any() and errors == "raise":
        rows = np.flatnonzero(good)[failed]
        raise ConvergenceError("glmm", rows, "maximum likelihood did not converge", None if batch else "")
    with np.errstate(divide="ignore", invalid="ignore"):  # tau = 0 rows handled below
        info = -hessian
        # Var(mu) from the inverse information in (mu, tau); at tau = 0 the cross term
        # vanishes by symmetry and this reduces to 1 / info_mu_mu.
        schur = info[:, 0, 0] - np.where(tau > 0, info[:, 0, 1] ** 2 / info[:, 1, 1], 0.0)
        se = np.where(schur > 0, 1 / np.sqrt(schur), np.nan)
    tau2 = tau**2
    crit = stats.norm.ppf(0.5 + level / 2)
    df = k - 1
    pi_crit = np.full(len(k), crit) if pi == "z" else np.where(k >= 3, stats.t.ppf(0.5 + level / 2, np.maximum(k - 2, 1)), np.nan)
    vt = start.vt
    q = np.where(df > 0, _lrt_heterogeneity(xt, nt, okt), 0.0)
    expit = special.expit
    fields = {
        "estimate": expit(mu),
        "ci_low": expit(mu - crit * se),
        "ci_high": expit(mu + crit * se),
        "pi_low": expit(mu - pi_crit * np.sqrt(se**2 + tau2)),
        "pi_high": expit(mu + pi_crit * np.sqrt(se**2 + tau2)),
        "mu": mu, "se": se, "tau2": tau2,
        "i2": np.where(df > 0, 100 * tau2 / (vt + tau2), 0.0),
        "h2": np.where(df > 0, tau2 / vt + 1, 1.0),
        "q": q, "q_df": df, "q_p": np.where(df > 0, stats.chi2.sf(q, np.maximum(df, 1)), 1.0), "k": k,
        "n_total": ns.sum(axis=1, where=ok).astype(int),
        "events_total": xs.sum(axis=1, where=ok).astype(int),
    }
    notes = np.where(
        failed,
        "method='glmm': maximum likelihood did not converge",
        np.where(np.isnan(se), "method='glmm': the information matrix is not positive definite: no standard error", ""),
    )
    for name in FLOAT_FIELDS:
        fields[name] = np.where(failed, np.nan, fields[name])
    notes = np.where((notes == "") & (pi == "t") & (k < 3), PI_UNDEFINED, notes)
    labels_of = {"transform": "logit", "tau2_method": "ML", "ci_method": "z", "method": "glmm", "level": level, "pi_method": pi,
                 "add": 0.0, "to": "none"}
    if batch:
        all_fields, all_notes = with_unfitted_rows(fields, notes, good, why, x2)
        return PooledProportionBatch(**all_fields, **labels_of, notes=tuple(str(note) for note in all_notes))
    keep = ok[0]
    xs1, ns1 = x2[0, keep], n2[0, keep]
    low, high = clopper_pearson(xs1, ns1, level)
    studies = pd.DataFrame(
        {
            "study": [lab for lab, kept in zip(study_labels(labels, x2.shape[1]), keep) if kept],
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
    note = (str(notes[0]),) if notes[0] else ()
    return PooledProportion(**{name: fields[name][0].item() for name in FIELDS}, studies=studies, notes=note, **labels_of)
