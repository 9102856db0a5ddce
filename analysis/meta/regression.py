"""Mixed-effects meta-regression of proportions (metafor's ``rma(yi, vi, mods = ...)``).

Categorical moderators are dummy-coded against a reference level: the one chosen with
``reference``, else their first level (the category order of a pandas Categorical, else
sorted as R's ``factor()`` does; R's ``relevel()`` chooses another); numeric moderators
enter as they are. The omnibus test QM covers every coefficient but the intercept: a chi-square
test for ``ci="z"``, an F test on (m, k - p) df for ``ci="hksj"``, as in metafor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .escalc import ArrayLike, prepare_one, resolve_options
from .estimators import fit_random_effects

__all__ = ["MetaRegression", "meta_regression", "design_matrix"]


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression (coefficients on the transformed scale).

    ``coefficients`` has one row per model term: ``estimate``, ``se``, ``statistic``
    (z or t), ``p``, ``ci_low``, ``ci_high``. ``qm``/``qm_df``/``qm_p`` test the
    moderators, ``qe``/``qe_df``/``qe_p`` the residual heterogeneity; ``r2`` is the
    percentage of tau^2 accounted for (metafor's pseudo-R^2).
    """

    coefficients: pd.DataFrame
    vcov: pd.DataFrame
    tau2: float
    i2: float
    h2: float
    r2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: tuple[int, ...]
    qm_p: float
    k: int
    test: str
    transform: str
    tau2_method: str
    level: float = 0.95


def design_matrix(
    moderators: pd.DataFrame | Mapping[str, ArrayLike] | pd.Series,
    reference: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Intercept plus moderators, categorical ones dummy-coded (``name[level]``) against
    their first level or the level ``reference`` names for them."""
    frame = moderators.to_frame() if isinstance(moderators, pd.Series) else pd.DataFrame(moderators)
    reference = dict(reference or {})
    unknown = [name for name in reference if name not in frame.columns]
    if unknown:
        raise ValueError(f"reference names {unknown}, which are not moderators {list(frame.columns)}")
    columns: dict[str, np.ndarray] = {"intercept": np.ones(len(frame))}
    for name in frame.columns:
        column = frame[name]
        if column.isna().any():
            rows = [str(i) for i in frame.index[column.isna()][:5]]
            raise ValueError(f"moderator {name!r} is missing for studies {rows}")
        if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object or column.dtype == bool:
            if isinstance(column.dtype, pd.CategoricalDtype):
                levels = [c for c in column.cat.categories if (column == c).any()]
            else:
                levels = sorted(column.unique(), key=str)
            if len(levels) < 2:
                raise ValueError(f"moderator {name!r} has a single level {levels}")
            if name in reference:
                if reference[name] not in levels:
                    raise ValueError(f"reference level {reference[name]!r} of {name!r} is not one of its levels {levels}")
                levels = [reference[name]] + [level for level in levels if level != reference[name]]
            for level in levels[1:]:
                columns[f"{name}[{level}]"] = (column == level).to_numpy(dtype=float)
        elif name in reference:
            raise ValueError(f"moderator {name!r} is numeric: it has no reference level")
        else:
            columns[str(name)] = column.to_numpy(dtype=float)
    return pd.DataFrame(columns, index=frame.index)


def meta_regression(
    events: ArrayLike,
    n: ArrayLike,
    moderators: pd.DataFrame | Mapping[str, ArrayLike] | pd.Series,
    *,
    transform: str = "logit",
    tau2: str = "DL",
    ci: str = "z",
    level: float = 0.95,
    add: float | None = None,
    to: str | None = None,
    reference: Mapping[str, Any] | None = None,
) -> MetaRegression:
    """Regress study proportions (on the ``transform`` scale) on study-level moderators.

    Options are those of :func:`analysis.pool_proportions`; ``moderators`` has one row
    per study (a DataFrame, a dict of columns or a Series). ``reference`` maps a
    categorical moderator to its reference level, e.g. ``{"origin": "murine"}``
    (default: the first level).
    """
    prep = prepare_one(events, n, resolve_options(transform, tau2, ci, level, add, to), "meta_regression")
    design = design_matrix(moderators, reference)
    if len(design) != prep.y.shape[1]:
        raise ValueError(f"got {len(design)} moderator rows for {prep.y.shape[1]} studies")
    ok = prep.ok
    X = design.to_numpy()[None, :, :]
    k, p = int(ok.sum()), X.shape[2]
    if np.linalg.matrix_rank(X[0][ok[0]]) < p:
        raise ValueError(f"the moderators are collinear: terms {list(design.columns)} are not estimable")
    if k <= p:
        raise ValueError(f"{k} studies cannot estimate {p} coefficients and tau^2")
    fit = fit_random_effects(prep.y, prep.v, ok, X, tau2=tau2, ci=ci, level=level)
    null = fit_random_effects(prep.y, prep.v, ok, tau2=tau2, ci=ci, level=level)

    beta, vb = fit.beta[0], fit.vb[0]
    se = np.sqrt(np.diag(vb))
    statistic = beta / se
    t_test = ci.startswith("hksj")
    ddf = float(fit.ddf[0])
    p_values = 2 * (stats.t.sf(np.abs(statistic), ddf) if t_test else stats.norm.sf(np.abs(statistic)))
    crit = float(fit.crit[0])
    coefficients = pd.DataFrame(
        {"estimate": beta, "se": se, "statistic": statistic, "p": p_values, "ci_low": beta - crit * se, "ci_high": beta + crit * se},
        index=design.columns,
    )
    tested = slice(1, p)
    qm = float(beta[tested] @ np.linalg.solve(vb[tested, tested], beta[tested]))
    m_terms = p - 1
    if t_test:
        qm /= m_terms
        qm_df: tuple[int, ...] = (m_terms, k - p)
        qm_p = float(stats.f.sf(qm, m_terms, k - p))
    else:
        qm_df = (m_terms,)
        qm_p = float(stats.chi2.sf(qm, m_terms))
    tau2_null = float(null.tau2[0])
    r2 = 0.0 if tau2_null == 0 else max(0.0, 100 * (tau2_null - float(fit.tau2[0])) / tau2_null)
    return MetaRegression(
        coefficients=coefficients,
        vcov=pd.DataFrame(vb, index=design.columns, columns=design.columns),
        tau2=float(fit.tau2[0]), i2=float(fit.i2[0]), h2=float(fit.h2[0]), r2=r2,
        qe=float(fit.q[0]), qe_df=int(fit.q_df[0]), qe_p=float(fit.q_p[0]),
        qm=qm, qm_df=qm_df, qm_p=qm_p, k=k, test="t" if t_test else "z",
        transform=transform, tau2_method=tau2, level=level,
    )

