"""Random-effects model fitting, vectorized over many meta-analyses at once.

Arrays have a leading axis of meta-analyses (``m``) and a study axis (``k``):
``y`` and ``v`` are ``(m, k)``, the design ``X`` is ``(m, k, p)`` and ``ok`` marks the
studies present (padding is ``ok == False``; its ``y``, ``v`` and ``X`` are ignored).

The algorithms reproduce R's metafor (``rma.uni``) including its starting values and
stopping rules, so results agree with metafor's *defaults*, not merely with the
mathematical estimator: ML/REML/EB use Fisher scoring from the Hedges (HE) estimate
with metafor's threshold of 1e-5 on the change in tau^2, its limit of 100 iterations,
its step halving at tau^2 = 0 and its check against tau^2 = 0; PM solves its estimating
equation with the same Brent root finder as R's ``uniroot``, the same tolerance and
search interval (0 to ``max(100, 10 * mad(y)^2)``). Iterating further would change
metafor's answer in the sixth significant digit. Every loop is bounded: an estimator that
does not converge fails for its own meta-analysis only (:class:`ConvergenceError`, or a
NaN row with a note under ``errors="nan"``), never by hanging.

Internally arrays are study-major -- ``(k, m)``, each study's values contiguous across
meta-analyses -- so that sums over studies are fast and run sequentially, one study
after another: a meta-analysis then gives the same floating-point result whether it
is fitted alone or inside a padded batch. An intercept-only design (plain pooling)
takes closed forms instead of matrix algebra.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

__all__ = [
    "TAU2_METHODS",
    "TAU2_NAMES",
    "CI_METHODS",
    "CI_NAMES",
    "ERRORS",
    "RandomEffectsFit",
    "ConvergenceError",
    "VarianceRatioWarning",
    "HKSJFallbackWarning",
    "fit_random_effects",
    "Design",
    "inverse_variance_weights",
    "brent_root",
    "study_sum",
    "rowsum",
]

TAU2_METHODS = ("DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS", "FE")
#: "hksj-adhoc": Knapp & Hartung (2003)'s ad hoc correction, the scale floored at 1 (metafor's test="adhoc").
CI_METHODS = ("z", "hksj", "hksj-adhoc")
#: Each estimator and interval by name, for reports and prose (the one place they are named).
TAU2_NAMES: dict[str, str] = {
    "DL": "DerSimonian–Laird", "REML": "restricted maximum likelihood", "ML": "maximum likelihood",
    "PM": "Paule–Mandel", "HE": "Hedges", "SJ": "Sidik–Jonkman", "EB": "empirical Bayes", "HS": "Hunter–Schmidt",
    "FE": "none (common-effect model)",
}
CI_NAMES: dict[str, str] = {
    "z": "normal quantile (Wald)",
    "hksj": "Hartung–Knapp–Sidik–Jonkman (t on k − 1 df)",
    "hksj-adhoc": "Hartung–Knapp–Sidik–Jonkman with the ad hoc correction (t on k − 1 df, scale at least 1)",
}
ERRORS = ("raise", "nan")

# metafor's control defaults (rma.uni): tau2.max, threshold, tol, maxiter (stepadj = 1).
_TAU2_MAX = 100.0
_THRESHOLD = 1e-5
_TOL = float(np.finfo(float).eps) ** 0.25
_MAXITER = 100
_EPS = float(np.finfo(float).eps)
_MAD = 1.4826  # R's mad() constant
# metafor halves a step until tau^2 stays >= 0, without limit; any finite step reaches
# that (or -0.0) within 2100 halvings, so this bound changes no finite case.
_MAX_HALVINGS = 2100
# rma.uni warns when max(v) / min(v) >= 1 / evtol, evtol = 1e-7.
_VARIANCE_RATIO = 1e7


class VarianceRatioWarning(UserWarning):
    """metafor's warning that the sampling variances span seven orders of magnitude or
    more, so that its results may not be stable."""


class HKSJFallbackWarning(UserWarning):
    """The Hartung–Knapp interval needs more studies than coefficients; where a
    meta-analysis has no residual degrees of freedom the z interval is used (as metafor)."""


class ConvergenceError(ValueError):
    """An iterative estimator did not converge for the meta-analyses ``rows`` (0-based
    indices into the batch). The message names them (numbered from 1) or says ``where``
    ("" for a single meta-analysis)."""

    def __init__(self, method: str, rows: np.ndarray, detail: str, where: str | None = None) -> None:
        self.method, self.rows, self.detail = method, np.asarray(rows), detail
        if where is None:
            more = " ..." if len(rows) > 10 else ""
            where = f"meta-analysis rows {', '.join(str(r + 1) for r in rows[:10])}{more}"
        super().__init__(f"{_option_name(method)}: {detail}" + (f" ({where})" if where else ""))


def _option_name(method: str) -> str:
    return "method='glmm'" if method == "glmm" else f"tau2={method!r}"


def rowsum(a: np.ndarray) -> np.ndarray:
    """Sum over axis 1 of an (m, k, ...) array, sequentially (padding-invariant)."""
    return study_sum(np.moveaxis(a, 1, 0))


def study_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the leading (study) axis, one study after another."""
    out = a[0].copy()
    for row in a[1:]:
        out += row
    return out


def _others(a: np.ndarray, total: np.ndarray, lopsided: np.ndarray) -> np.ndarray:
    """For each study, the sum of non-negative ``a`` over the other studies, ``total``
    being the sum over all. ``total - a`` loses digits only for a study holding most of
    the total; in the ``lopsided`` meta-analyses, where one may, the sum before the study
    and the sum after it are added up instead."""
    out = total - a
    if lopsided.size:
        part = a[:, lopsided]
        before = np.zeros_like(part)
        for i in range(1, len(part)):
            before[i] = before[i - 1] + part[i - 1]
        after = np.zeros_like(part)
        for i in range(len(part) - 2, -1, -1):
            after[i] = after[i + 1] + part[i + 1]
        out[:, lopsided] = before + after
    return out


def _lopsided(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Meta-analyses where one weight may exceed half the sum of weights: elsewhere
    max(w)^2 <= s2 <= s1^2 / 4, so s1 - w_i keeps its digits and so, within a factor k,
    does s2 - w_i^2."""
    return np.flatnonzero(s2 > s1**2 / 4)


def _trace(a: np.ndarray) -> np.ndarray:
    return np.trace(a, axis1=-2, axis2=-1)


@dataclass(frozen=True)
class Design:
    """A batch in study-major layout: y, v, ok (k, m); X (k, m, p) or None for an
    intercept-only model. Padding has y = 0, v = 1 and zero weight everywhere."""

    y: np.ndarray
    v: np.ndarray
    X: np.ndarray | None
    ok: np.ndarray

    @property
    def k(self) -> np.ndarray:
        return study_sum(self.ok.astype(np.int64))

    @property
    def p(self) -> int:
        return 1 if self.X is None else self.X.shape[2]

    def cross(self, w: np.ndarray) -> np.ndarray:
        """X'WX for weights ``w`` (k, m) -> (m, p, p)."""
        if self.X is None:
            return study_sum(w)[:, None, None]
        return study_sum(w[:, :, None, None] * self.X[:, :, :, None] * self.X[:, :, None, :])

    def inv_cross(self, w: np.ndarray) -> np.ndarray:
        a = self.cross(w)
        return 1.0 / a if self.p == 1 else np.linalg.inv(a)

    def wls(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weighted least squares: coefficients (m, p), (X'WX)^-1 and residuals (k, m)."""
        if self.X is None:
            sw = study_sum(w)
            beta = study_sum(w * self.y) / sw
            resid = np.where(self.ok, self.y - beta, 0.0)
            return beta[:, None], (1.0 / sw)[:, None, None], resid
        a_inv = self.inv_cross(w)
        xty = study_sum(w[:, :, None] * self.X * self.y[:, :, None])
        beta = np.einsum("mij,mj->mi", a_inv, xty)
        fitted = study_sum(np.moveaxis(self.X * beta[None, :, :], 2, 0))
        return beta, a_inv, np.where(self.ok, self.y - fitted, 0.0)

    def rss(self, w: np.ndarray) -> np.ndarray:
        """y'Py: the weighted residual sum of squares (Cochran's Q for w = 1/v)."""
        _, _, e = self.wls(w)
        return study_sum(w * e**2)

    def trace_p(self, w: np.ndarray) -> np.ndarray:
        """tr(P) for P = W - WX(X'WX)^-1X'W (see :meth:`traces`)."""
        if self.X is None:
            s1 = study_sum(w)
            return study_sum(w * _others(w, s1, _lopsided(s1, study_sum(w**2)))) / s1
        return self.traces(w)[0]

    def traces(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """tr(P) and tr(PP) for P = W - WX(X'WX)^-1X'W, as sums of P's elements.

        The textbook closed forms (e.g. s1 - s2 / s1) cancel catastrophically when one
        weight dwarfs the others (v from 1e-12 to 1e-2), giving tr(PP) = 0 and an infinite
        Fisher-scoring step; summing P's elements keeps the full precision metafor has.
        """
        if self.X is None:
            # P_ii = w_i o_i / s1 with o_i the sum of the other weights, P_ij = -w_i w_j / s1:
            # tr(PP) = sum_i w_i^2 (o_i^2 + sum of the other squared weights) / s1^2.
            w2 = w**2
            s1, s2 = study_sum(w), study_sum(w2)
            lopsided = _lopsided(s1, s2)
            o = _others(w, s1, lopsided)
            return study_sum(w * o) / s1, study_sum(w2 * (o**2 + _others(w2, s2, lopsided))) / s1**2
        a_inv = self.inv_cross(w)
        hat = np.einsum("ima,mab,jmb->ijm", self.X, a_inv, self.X)
        P = np.eye(len(w))[:, :, None] * w[:, None, :] - w[:, None, :] * hat * w[None, :, :]
        return study_sum(np.diagonal(P, axis1=0, axis2=1).T), study_sum(study_sum(P**2))

    def subset(self, rows: np.ndarray) -> "Design":
        if len(rows) == self.y.shape[1]:
            return self
        X = None if self.X is None else self.X[:, rows]
        return Design(self.y[:, rows], self.v[:, rows], X, self.ok[:, rows])


def inverse_variance_weights(d: Design, tau2: np.ndarray | float) -> np.ndarray:
    return np.where(d.ok, 1.0 / (d.v + tau2), 0.0)


# --- tau^2 estimators (untruncated; truncation at 0 happens once, in _tau2) -----------


def _tau2_dl(d: Design) -> np.ndarray:
    w = inverse_variance_weights(d, 0.0)
    return (d.rss(w) - (d.k - d.p)) / d.trace_p(w)


def _tau2_he(d: Design) -> np.ndarray:
    _, a_inv, e = d.wls(d.ok.astype(float))
    v = np.where(d.ok, d.v, 0.0)
    tr_pv = study_sum(v) - _trace(a_inv @ d.cross(v))
    return (study_sum(e**2) - tr_pv) / (d.k - d.p)


def _tau2_hs(d: Design) -> np.ndarray:
    w = inverse_variance_weights(d, 0.0)
    return (d.rss(w) - d.k) / study_sum(w)


def _tau2_sj(d: Design) -> np.ndarray:
    k = d.k
    centred = np.where(d.ok, d.y - study_sum(d.y) / k, 0.0)
    tau0 = study_sum(centred**2) / k
    return tau0 * d.rss(inverse_variance_weights(d, tau0)) / (k - d.p)


def _fisher_scoring(d: Design, method: str) -> tuple[np.ndarray, np.ndarray]:
    """ML, REML or EB by metafor's Fisher scoring (start: HE truncated at 0).

    Returns tau^2 and the reason for each meta-analysis that failed ("" if none): more
    than 100 iterations, as metafor, or an infinite step, which metafor would halve
    forever (a NaN step is 0, as in metafor).
    """
    tau2 = np.maximum(0.0, _tau2_he(d))
    why = np.full(len(tau2), "", dtype=object)
    active = np.arange(len(tau2))
    for iteration in range(1, _MAXITER + 2):
        if not active.size:
            break
        sub = d.subset(active)
        t = tau2[active]
        w = inverse_variance_weights(sub, t)
        _, _, e = sub.wls(w)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if method == "EB":
                k = sub.k
                adj = (study_sum(w * e**2) * k / (k - sub.p) - k) / study_sum(w)
            else:
                ypp_y = study_sum((w * e) ** 2)
                if method == "ML":
                    adj = (ypp_y - study_sum(w)) / study_sum(w**2)
                else:
                    tr_p, tr_pp = sub.traces(w)
                    adj = (ypp_y - tr_p) / tr_pp
        adj = np.where(np.isnan(adj), 0.0, adj)  # as metafor
        for _ in range(_MAX_HALVINGS):  # step halving keeps tau^2 >= 0
            below = t + adj < 0
            if not below.any():
                break
            adj = np.where(below, adj / 2, adj)
        new = t + adj
        broken = ~np.isfinite(new)
        why[active[broken]] = "the Fisher scoring step is not finite"
        tau2[active] = np.where(broken, np.nan, new)
        with np.errstate(invalid="ignore"):
            moving = np.abs(new - t) > _THRESHOLD
        if iteration > _MAXITER:  # metafor gives up after iteration 101 whatever its change
            why[active[~broken]] = f"Fisher scoring did not converge in {_MAXITER} iterations"
            tau2[active] = np.nan
            break
        active = active[moving & ~broken]
    ok = why == ""
    if method in ("ML", "REML") and ok.any():
        rows = np.flatnonzero(ok)
        tau2[rows] = _ll0_check(d.subset(rows), tau2[rows], method)
    return tau2, why


def _loglik(d: Design, tau2: np.ndarray, method: str) -> np.ndarray:
    w = inverse_variance_weights(d, tau2)
    _, _, e = d.wls(w)
    rss = study_sum(w * e**2)
    log_var = study_sum(np.where(d.ok, np.log(d.v + tau2), 0.0))
    if method == "ML":
        return -0.5 * d.k * np.log(2 * np.pi) - 0.5 * log_var - 0.5 * rss
    logdet = np.linalg.slogdet(d.cross(w))[1]
    return -0.5 * (d.k - d.p) * np.log(2 * np.pi) - 0.5 * log_var - 0.5 * logdet - 0.5 * rss


def _ll0_check(d: Design, tau2: np.ndarray, method: str) -> np.ndarray:
    """metafor: if tau^2 = 0 has a clearly higher likelihood, the scoring got stuck."""
    stuck = (_loglik(d, np.zeros_like(tau2), method) - _loglik(d, tau2, method) > _TOL) & (tau2 > _THRESHOLD)
    if stuck.any():
        warnings.warn(
            f"tau2={method!r}: Fisher scoring may have stopped at a local maximum in "
            f"{int(stuck.sum())} meta-analyses; tau^2 set to 0 there (as metafor does)",
            stacklevel=4,
        )
    return np.where(stuck, 0.0, tau2)


def brent_root(f: Callable[[np.ndarray, np.ndarray], np.ndarray], lower: np.ndarray, upper: np.ndarray, tol: float, maxiter: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized Brent root finder with the steps and stopping rule of R's uniroot.

    ``f(x, rows)`` evaluates the function for the given rows. Returns the roots and a
    mask of rows that did not converge within ``maxiter`` iterations.
    """
    rows_all = np.arange(len(lower))
    a, b = lower.astype(float).copy(), upper.astype(float).copy()
    fa, fb = f(a, rows_all), f(b, rows_all)
    c, fc = a.copy(), fa.copy()
    root = np.where(fa == 0, a, np.where(fb == 0, b, np.nan))
    active = rows_all[(fa != 0) & (fb != 0)]
    for _ in range(maxiter + 1):
        if not active.size:
            break
        A, B, C, FA, FB, FC = a[active], b[active], c[active], fa[active], fb[active], fc[active]
        prev_step = B - A
        swap = np.abs(FC) < np.abs(FB)
        A, B, C = np.where(swap, B, A), np.where(swap, C, B), np.where(swap, B, C)
        FA, FB, FC = np.where(swap, FB, FA), np.where(swap, FC, FB), np.where(swap, FB, FC)
        tol_act = 2 * _EPS * np.abs(B) + tol / 2
        new_step = (C - B) / 2
        done = (np.abs(new_step) <= tol_act) | (FB == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cb = C - B
            linear = A == C
            t1_lin = FB / FA
            q0, t1, t2 = FA / FC, FB / FC, FB / FA
            p = np.where(linear, cb * t1_lin, t2 * (cb * q0 * (q0 - t1) - (B - A) * (t1 - 1.0)))
            q = np.where(linear, 1.0 - t1_lin, (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0))
            q = np.where(p > 0, -q, q)
            p = np.abs(p)
            try_interp = (np.abs(prev_step) >= tol_act) & (np.abs(FA) > np.abs(FB))
            accept = try_interp & (p < 0.75 * cb * q - np.abs(tol_act * q) / 2) & (p < np.abs(prev_step * q / 2))
            new_step = np.where(accept, p / q, new_step)
        new_step = np.where(np.abs(new_step) < tol_act, np.where(new_step > 0, tol_act, -tol_act), new_step)
        root[active[done]] = B[done]
        keep = ~done
        idx = active[keep]
        A, FA = B[keep], FB[keep]
        B = B[keep] + new_step[keep]
        FB = f(B, idx)
        C, FC = C[keep], FC[keep]
        same_sign = ((FB > 0) & (FC > 0)) | ((FB < 0) & (FC < 0))
        C, FC = np.where(same_sign, A, C), np.where(same_sign, FA, FC)
        a[idx], b[idx], c[idx], fa[idx], fb[idx], fc[idx] = A, B, C, FA, FB, FC
        active = idx
    failed = np.zeros(len(lower), dtype=bool)
    failed[active] = True
    root[active] = b[active]
    return root, failed


def _tau2_max(d: Design) -> np.ndarray:
    """metafor's upper end of the tau^2 search: max(100, 10 * mad(y)^2) per meta-analysis."""
    y = np.where(d.ok, d.y, np.nan).T
    centre = np.nanmedian(y, axis=1)
    mad = _MAD * np.nanmedian(np.abs(y - centre[:, None]), axis=1)
    return np.maximum(_TAU2_MAX, 10 * mad**2)


def _tau2_pm(d: Design) -> tuple[np.ndarray, np.ndarray]:
    """Paule-Mandel: the tau^2 at which the generalized Q equals its df."""
    target = (d.k - d.p).astype(float)
    m = len(target)

    def excess(t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        sub = d.subset(rows)
        return sub.rss(inverse_variance_weights(sub, t)) - target[rows]

    all_rows = np.arange(m)
    upper = _tau2_max(d)
    at_zero = excess(np.zeros(m), all_rows) < 0
    too_low = ~at_zero & (excess(upper, all_rows) > 0)
    why = np.full(m, "", dtype=object)
    why[too_low] = [f"the root lies above the search bound tau2 = {u:.6g} (metafor: tau2.max)" for u in upper[too_low]]
    tau2 = np.where(too_low, np.nan, 0.0)
    search = np.flatnonzero(~at_zero & ~too_low)
    if search.size:
        roots, failed = brent_root(
            lambda t, rows: excess(t, search[rows]), np.zeros(search.size), upper[search], _TOL, _MAXITER
        )
        tau2[search] = np.where(failed, np.nan, roots)
        why[search[failed]] = f"the root search did not converge in {_MAXITER} iterations"
    return tau2, why


def _closed_form(estimator: Callable[[Design], np.ndarray]) -> Callable[[Design], tuple[np.ndarray, np.ndarray]]:
    """A non-iterative estimator, which cannot fail, with the iterative ones' signature."""
    return lambda d: (estimator(d), np.full(d.y.shape[1], "", dtype=object))


_TAU2_ESTIMATORS: dict[str, Callable[[Design], tuple[np.ndarray, np.ndarray]]] = {
    "DL": _closed_form(_tau2_dl),
    "HE": _closed_form(_tau2_he),
    "HS": _closed_form(_tau2_hs),
    "SJ": _closed_form(_tau2_sj),
    "ML": lambda d: _fisher_scoring(d, "ML"),
    "REML": lambda d: _fisher_scoring(d, "REML"),
    "EB": lambda d: _fisher_scoring(d, "EB"),
    "PM": _tau2_pm,
    # The common-effect model: tau^2 is 0 by assumption (metafor's method="FE").
    "FE": lambda d: (np.zeros(d.y.shape[1]), np.full(d.y.shape[1], "", dtype=object)),
}


def _tau2(d: Design, method: str) -> tuple[np.ndarray, np.ndarray]:
    """tau^2 (truncated at 0; NaN where the estimator failed) and why it failed."""
    m = d.y.shape[1]
    tau2, why = np.zeros(m), np.full(m, "", dtype=object)
    several = d.k > d.p  # metafor fixes tau^2 = 0 when there is no residual df (k = 1)
    if several.any():
        rows = np.flatnonzero(several)
        estimate, why[rows] = _TAU2_ESTIMATORS[method](d.subset(rows))
        tau2[rows] = np.maximum(0.0, estimate)
    return tau2, why


def _nan_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a`` (m, ...) with NaN in the rows marked by ``rows`` (m,)."""
    return np.where(rows.reshape((-1,) + (1,) * (a.ndim - 1)), np.nan, a)


def _warn_variance_ratio(d: Design) -> None:
    """metafor's warning when the sampling variances span seven orders of magnitude."""
    v = np.where(d.ok, d.v, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        extreme = np.nanmax(v, axis=0) / np.nanmin(v, axis=0) >= _VARIANCE_RATIO
    if extreme.any():
        where = "" if len(extreme) == 1 else f" in {int(extreme.sum())} meta-analyses"
        warnings.warn(
            "Ratio of largest to smallest sampling variance extremely large" + where
            + ". May not be able to obtain stable results (metafor's warning).",
            VarianceRatioWarning,
            stacklevel=4,
        )


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomEffectsFit:
    """Arrays over meta-analyses (leading axis ``m``) of one random-effects fit.

    ``beta`` (m, p) and ``vb`` (m, p, p) are the coefficients and their covariance
    (Knapp-Hartung-scaled for ``ci="hksj"``); ``crit`` is the normal or t quantile used
    for CIs, with ``ddf`` degrees of freedom (``inf`` for z).
    ``q``/``q_df``/``q_p`` test residual heterogeneity, ``i2`` (%) and ``h2`` follow
    metafor's definitions, ``weights`` are the random-effects weights (m, k) and ``s2w``
    the Knapp-Hartung scale factor applied to ``vb`` (1 for ``ci="z"``). ``vt`` is
    metafor's "typical" within-study variance (k - p) / tr(P), which defines I^2 and H^2.
    ``notes`` says why a meta-analysis could not be fitted ("" where it was); its fields
    are NaN (only with ``errors="nan"``).
    """

    beta: np.ndarray
    vb: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    ddf: np.ndarray
    crit: np.ndarray
    weights: np.ndarray
    k: np.ndarray
    s2w: np.ndarray
    vt: np.ndarray
    notes: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.vb, axis1=1, axis2=2))

    @property
    def failed(self) -> np.ndarray:
        return self.notes != ""


def fit_random_effects(
    y: np.ndarray,
    v: np.ndarray,
    ok: np.ndarray,
    X: np.ndarray | None = None,
    *,
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    errors: str = "raise",
) -> RandomEffectsFit:
    """Fit ``y_i ~ N(x_i' beta, v_i + tau^2)`` for every row of a batch.

    ``y``, ``v``, ``ok`` are (m, k) and ``X`` (m, k, p), defaulting to an intercept.
    Where an iterative estimator fails, raises :class:`ConvergenceError` naming the
    rows, or with ``errors="nan"`` gives those rows NaN fields and a note.
    """
    if tau2 not in TAU2_METHODS:
        raise ValueError(f"tau2={tau2!r} is not supported; choose one of {sorted(TAU2_METHODS)}")
    if ci not in CI_METHODS:
        raise ValueError(f"ci={ci!r} is not supported; choose one of {sorted(CI_METHODS)}")
    if errors not in ERRORS:
        raise ValueError(f"errors={errors!r} is not supported; choose one of {sorted(ERRORS)}")
    ok_t = np.ascontiguousarray(ok.T)
    X_t = None if X is None else np.where(ok_t[:, :, None], np.moveaxis(X, 0, 1), 0.0)
    d = Design(np.where(ok_t, y.T, 0.0), np.where(ok_t, v.T, 1.0), X_t, ok_t)
    k, p = d.k, d.p
    if (k < p).any():
        raise ValueError(f"a model with {p} coefficients needs at least {p} studies")
    _warn_variance_ratio(d)
    tau2_hat, notes = _tau2(d, tau2)
    failed = notes != ""
    if failed.any() and errors == "raise":
        rows = np.flatnonzero(failed)
        raise ConvergenceError(tau2, rows, str(notes[rows[0]]), "" if len(k) == 1 else None)
    tau2_hat = np.where(failed, 0.0, tau2_hat)  # fitted as tau^2 = 0, then set to NaN

    w = inverse_variance_weights(d, tau2_hat)
    beta, vb, e = d.wls(w)
    ddf = np.full(len(k), np.inf)
    crit = np.full(len(k), stats.norm.ppf(0.5 + level / 2))
    scale = np.ones(len(k))
    if ci.startswith("hksj"):
        # Knapp-Hartung needs residual df; like metafor, fall back to z without them.
        knha = k > p
        if not knha.all():
            warnings.warn(
                f"ci={ci!r} needs more studies than coefficients; z used for "
                f"{int((~knha).sum())} meta-analyses with k = {p}",
                HKSJFallbackWarning,
                stacklevel=3,
            )
        rss = study_sum(w * e**2)
        s2w = np.where(rss <= _EPS, 0.0, rss / np.maximum(k - p, 1))
        # The ad hoc correction never lets the scale shrink the variance (Knapp & Hartung 2003).
        scale = np.where(knha, np.maximum(s2w, 1.0) if ci == "hksj-adhoc" else s2w, 1.0)
        vb = vb * scale[:, None, None]
        ddf = np.where(knha, k - p, np.inf)
        crit = np.where(knha, stats.t.ppf(0.5 + level / 2, np.maximum(k - p, 1)), crit)

    # Heterogeneity from the fixed-effect weights, with metafor's conventions at k = p.
    w_fixed = inverse_variance_weights(d, 0.0)
    df = k - p
    has_df = df > 0
    q = np.where(has_df, np.maximum(0.0, d.rss(w_fixed)), 0.0)
    tr_p = d.trace_p(w_fixed)
    with np.errstate(divide="ignore", invalid="ignore"):
        vt = np.where(has_df, df / tr_p, 0.0)
        if tau2 == "FE":  # metafor's common-effect I^2 and H^2 come from Q itself
            i2 = np.where(has_df & (q > 0), 100 * np.maximum(0.0, (q - df) / q), 0.0)
            h2 = np.where(has_df, q / np.maximum(df, 1), 1.0)
        else:
            i2 = np.where(has_df, 100 * tau2_hat / (vt + tau2_hat), 0.0)
            h2 = np.where(has_df, tau2_hat / vt + 1, 1.0)
    q_p = np.where(has_df, stats.chi2.sf(q, np.maximum(df, 1)), 1.0)
    if failed.any():
        beta, vb, tau2_hat, i2, h2, scale = (_nan_rows(a, failed) for a in (beta, vb, tau2_hat, i2, h2, scale))
        w = np.where(failed, np.nan, w)
    return RandomEffectsFit(
        beta=beta, vb=vb, tau2=tau2_hat, q=q, q_df=df, q_p=q_p, i2=i2, h2=h2,
        ddf=ddf, crit=crit, weights=np.ascontiguousarray(w.T), k=k, s2w=scale, vt=vt, notes=notes,
    )
