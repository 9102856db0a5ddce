"""Pooling an outcome of the study table by name.

Picks the outcome's denominator (``n_safety`` or ``n_response``), the study labels, and
the studies whose event count is known under the extraction rules in force: a study
whose count is missing (e.g. unreported neurotoxicity with ``unreported_neurotox=
"missing"``) is left out, and the result's ``k`` says how many studies were pooled.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..inputs.studies import ALL_OUTCOMES, OUTCOMES, RULE_OPTIONS, ExtractionRules, load_studies, parse_dose
from ..meta.estimators import HKSJFallbackWarning, VarianceRatioWarning
from ..meta.proportions import pool_proportions, subgroup_analysis
from ..meta.regression import MetaRegression, meta_regression
from ..meta.results import PooledProportion, SubgroupAnalysis
from ..text.phrasing import (
    ALPHA,
    comparison_unavailable,
    dose_regression_sentence,
    dose_regression_unavailable,
    left_out_sentence,
    not_reported_note,
    subgroup_sentence,
    hksj_fallback_note,
    not_pooled_note,
    variance_note,
)
from . import paper

__all__ = [
    "outcome_rows",
    "pool_outcome",
    "variances_noted",
    "try_pool",
    "subgroup_outcome",
    "SubgroupComparison",
    "compare_subgroups",
    "paper_comparison",
    "MARKS",
    "forest_marks",
    "rule_sensitivity",
    "fit_or_note",
    "MODELS",
    "model_sensitivity",
    "DoseRegression",
    "dose_regression",
    "pooled_table",
    "subgroup_table",
]


def outcome_rows(studies: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Studies with a known count of ``outcome``, with ``events`` and ``n`` columns."""
    if outcome not in ALL_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of {sorted(ALL_OUTCOMES)}")
    if outcome not in studies:  # an added outcome the table does not carry
        return studies.iloc[:0].assign(events=pd.Series(dtype=int), n=pd.Series(dtype=int))
    known = studies[studies[outcome].notna()].copy()
    known["events"] = known[outcome].astype(int)
    known["n"] = known[ALL_OUTCOMES[outcome]]
    return known


def _with_notes(fit: Callable[[], Any]) -> Any:
    """Run a pooling: two warnings of the engine on a valid table become notes on the
    result -- metafor's warning on sampling variances that span seven orders of
    magnitude (naming the studies at the two ends), and the z interval used where HKSJ
    has no residual degrees of freedom (naming the groups); every other warning is
    passed on as it came."""
    handled = (VarianceRatioWarning, HKSJFallbackWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", handled)
        result = fit()
    for warning in caught:
        if not issubclass(warning.category, handled):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    notes: tuple[str, ...] = ()
    if any(issubclass(w.category, VarianceRatioWarning) for w in caught):
        if isinstance(result, SubgroupAnalysis):
            fits = [g for g in result.groups.values() if len(g.studies) > 1]
            notes += tuple(variance_note(g.studies) for g in fits if g.studies["vi"].max() / g.studies["vi"].min() >= 1e7)
        else:
            notes += (variance_note(result.studies),)
    if any(issubclass(w.category, HKSJFallbackWarning) for w in caught):
        groups = [str(name) for name, g in result.groups.items() if len(g.studies) < 2] if isinstance(result, SubgroupAnalysis) else []
        notes += (hksj_fallback_note(groups),)
    return replace(result, notes=result.notes + notes) if notes else result


@contextmanager
def variances_noted() -> Iterator[None]:
    """For further analyses of cohorts whose fit by :func:`pool_outcome` already carries
    metafor's variance-ratio warning as a note: the same warning, raised again by each
    refit (influence, leave-one-out, other estimators), is not repeated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VarianceRatioWarning)
        yield


def pool_outcome(studies: pd.DataFrame, outcome: str, **options: Any) -> PooledProportion:
    """:func:`~analysis.pool_proportions` of one outcome column (options by name); an
    extreme spread of sampling variances is a note on the result, not a warning."""
    rows = outcome_rows(studies, outcome)
    fit = _with_notes(lambda: pool_proportions(rows["events"], rows["n"], labels=rows["label"], **options))
    left_out = studies.loc[studies[outcome].isna(), "label"] if "label" in studies else pd.Series([], dtype=str)
    return replace(fit, notes=fit.notes + (not_pooled_note(outcome, list(left_out)),)) if len(left_out) else fit


def try_pool(studies: pd.DataFrame, outcome: str, **options: Any) -> tuple[PooledProportion | None, str]:
    """:func:`pool_outcome`, or ``None`` and a note saying why the table cannot give it."""
    if outcome_rows(studies, outcome).empty:
        return None, not_reported_note(outcome)
    return pool_outcome(studies, outcome, **options), ""


#: Marks of a forest-plot row whose value is not simply read from a source, and what each means.
MARKS: dict[str, str] = {
    "imputed": "†",
    "inferred": "‡",
}


def forest_marks(studies: pd.DataFrame, outcome: str, by: str | None = None) -> dict[str, str]:
    """Study label -> marks for a forest plot of ``outcome`` (optionally by ``by``): † where
    the count rests on an assumed zero, ‡ where the study's ``by`` group is inferred."""
    rows = outcome_rows(studies, outcome)
    imputed = rows.get(f"{outcome}_imputed", pd.Series(False, index=rows.index)).to_numpy(dtype=bool)
    inferred = (rows[f"{by}_status"] == "inferred").to_numpy(dtype=bool) if by and f"{by}_status" in rows else np.zeros(len(rows), bool)
    marks = np.char.add(np.where(imputed, MARKS["imputed"], ""), np.where(inferred, MARKS["inferred"], ""))
    return {label: mark for label, mark in zip(rows["label"], marks) if mark}


@dataclass(frozen=True)
class SubgroupComparison:
    """A subgroup comparison as a chapter shows it: the analysis, or ``None`` and a note
    saying why this table cannot support it, the sentence that reports it, and the
    forest-plot marks of its studies (:func:`forest_marks`)."""

    outcome: str
    by: str
    result: SubgroupAnalysis | None
    note: str
    sentence: str
    excluded: tuple[str, ...]
    marks: Mapping[str, str] = field(default_factory=dict)


def compare_subgroups(
    studies: pd.DataFrame,
    outcome: str,
    by: str,
    *,
    exclude: Sequence[str] = (),
    alpha: float = ALPHA,
    **options: Any,
) -> SubgroupComparison:
    """:func:`subgroup_outcome` for any table: when the table lacks the column, or has
    fewer than two compared categories among the cohorts reporting ``outcome``, the
    result is ``None`` and the note and sentence say which."""
    def without(note: str) -> SubgroupComparison:
        return SubgroupComparison(outcome, by, None, note, note, tuple(exclude))

    if by not in studies:
        return without(comparison_unavailable(outcome, by, None, []))
    rows = outcome_rows(studies, outcome)
    compared = rows[rows[by].notna() & ~rows[by].isin(list(exclude))]
    present = [str(g) for g in pd.unique(compared[by])]
    aside = {str(g): int((rows[by] == g).sum()) for g in exclude if (rows[by] == g).any()}
    if len(present) < 2:
        return without(comparison_unavailable(outcome, by, present, list(aside)))
    result = subgroup_outcome(studies, outcome, by, exclude=exclude, **options)
    sentence = subgroup_sentence(outcome, by, result, alpha) + left_out_sentence(by, aside)
    return SubgroupComparison(outcome, by, result, "", sentence, tuple(exclude), forest_marks(studies, outcome, by))


def paper_comparison(studies: pd.DataFrame, outcome: str, by: str, exclude_groups: Sequence[str] = paper.NOT_COMPARED,
                     alpha: float = ALPHA, **options: object) -> SubgroupComparison:
    """The paper's comparison of ``outcome`` by ``by`` on this table (or a note), with the
    categories the paper left out of it."""
    return compare_subgroups(studies, outcome, by, exclude=paper.excluded(by, exclude_groups), alpha=alpha, **options)


def subgroup_outcome(
    studies: pd.DataFrame, outcome: str, by: str, *, exclude: Sequence[object] = (), **options: Any
) -> SubgroupAnalysis:
    """:func:`~analysis.subgroup_analysis` of one outcome by a category column."""
    rows = outcome_rows(studies, outcome)
    return _with_notes(lambda: subgroup_analysis(
        rows["events"], rows["n"], rows[by], labels=rows["label"], exclude=exclude, **options))


def rule_sensitivity(
    path: str | Path | None,
    rules: ExtractionRules,
    affected: Mapping[str, Sequence[str]],
    **options: Any,
) -> pd.DataFrame:
    """Pool outcomes under each extraction rule as set and with that rule flipped.

    ``affected`` maps a rule name to the outcomes it can change, e.g.
    ``{"unreported_neurotox": ["neurotox"]}``. Returns one row per rule, setting and
    outcome: ``k``, ``events``, ``patients`` and the pooled ``estimate``, ``ci_low``,
    ``ci_high`` (percent) and ``i2``, with ``in_use`` marking the setting in force.
    """
    rows = []
    for rule, outcomes in affected.items():
        if rule not in RULE_OPTIONS:
            raise ValueError(f"unknown extraction rule {rule!r}; choose from {sorted(RULE_OPTIONS)}")
        current = getattr(rules, rule)
        for setting in (current, *(o for o in RULE_OPTIONS[rule] if o != current)):
            studies = load_studies(path, replace(rules, **{rule: setting}), require_outcome=False)
            for outcome in outcomes:
                result, _ = try_pool(studies, outcome, **options)
                s = result.summary() if result is not None else _EMPTY
                rows.append(
                    {
                        "rule": rule,
                        "setting": setting,
                        "in_use": setting == current,
                        "outcome": outcome,
                        "k": int(s["k"]),
                        "events": int(s["events"]),
                        "patients": int(s["n"]),
                        "estimate": s["estimate"],
                        "ci_low": s["ci_low"],
                        "ci_high": s["ci_high"],
                        "i2": s["i2"],
                    }
                )
    return pd.DataFrame(rows)


_EMPTY = {"k": 0, "events": 0, "n": 0, "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "i2": np.nan, "tau2": np.nan}


def fit_or_note(fit: Callable[[], PooledProportion | None]) -> tuple[PooledProportion | None, str]:
    """Run one fit; a refusal (``ValueError``) or a warning becomes ``None`` and a note,
    so that a model the data cannot support shows as a note, not a crash or a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return fit(), ""
        except (ValueError, Warning) as exc:
            return None, str(exc).split("\n")[0]


#: The models of the sensitivity panel: name -> options of pool_proportions.
MODELS: dict[str, dict[str, str]] = {
    "DL (paper)": {"tau2": "DL"},
    "REML": {"tau2": "REML"},
    "Paule–Mandel": {"tau2": "PM"},
    "GLMM": {"method": "glmm"},
    "DL + HKSJ": {"tau2": "DL", "ci": "hksj"},
    "Freeman–Tukey": {"transform": "freeman-tukey", "tau2": "DL"},
}


def model_sensitivity(
    studies: pd.DataFrame, outcomes: Sequence[str], models: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """Each outcome pooled under each model: one row per (outcome, model) with
    ``estimate``, ``ci_low``, ``ci_high`` (percent), ``tau2`` (on the model's scale) and
    ``i2``, and a ``note`` where the model cannot be fitted to these data (the row is then
    empty)."""
    rows = []
    for outcome in outcomes:
        for name, options in (models or MODELS).items():
            result, note = fit_or_note(lambda: try_pool(studies, outcome, **options)[0])
            if result is None and not note:
                note = not_reported_note(outcome)
            s = result.summary() if result is not None else _EMPTY
            rows.append({"outcome": outcome, "model": name,
                         **{k: s[k] for k in ("estimate", "ci_low", "ci_high", "tau2", "i2", "k")}, "note": note})
    return pd.DataFrame(rows)


#: Dose scales a cohort may report.
DOSE_SCALES = ("per_kg", "flat")


@dataclass(frozen=True)
class DoseRegression:
    """A meta-regression of an outcome on log10 dose, over the cohorts that report one
    dose range on ``scale``; ``result`` is None (and ``note`` says why) when the table
    cannot support it. ``rows`` are the cohorts used, with ``dose`` (geometric midpoint
    of the range, 10^6 cells) and ``log_dose``."""

    outcome: str
    scale: str
    rows: pd.DataFrame
    result: MetaRegression | None
    note: str
    sentence: str


def dose_regression(studies: pd.DataFrame, outcome: str, scale: str = "per_kg", alpha: float = ALPHA,
                    min_cohorts: int = 5) -> DoseRegression:
    """Regress ``outcome`` (logit scale, DL) on log10 dose among the cohorts that report a
    single dose range per kilogram (``scale="per_kg"``) or flat (``"flat"``): doses on
    the two scales cannot be compared without assuming a body weight."""
    if scale not in DOSE_SCALES:
        raise ValueError(f"scale must be one of {', '.join(DOSE_SCALES)}, got {scale!r}")
    rows = outcome_rows(studies, outcome)
    ranges = [parse_dose(str(text)) for text in rows["dose"]] if "dose" in rows else [[] for _ in range(len(rows))]
    single = [len(r) == 1 and r[0][2] == (scale == "per_kg") for r in ranges]
    rows = rows[single].assign(dose=[float(np.sqrt(r[0][0] * r[0][1])) for r, keep in zip(ranges, single) if keep])
    rows = rows.assign(log_dose=np.log10(rows["dose"]))
    if len(rows) < min_cohorts or rows["log_dose"].nunique() < 3:
        note = dose_regression_unavailable(outcome, scale, len(rows), min_cohorts)
        return DoseRegression(outcome, scale, rows, None, note, note)
    result, note = fit_or_note(lambda: meta_regression(rows["events"], rows["n"], {"log10 dose": rows["log_dose"].to_numpy()},
                                                       tau2="DL"))
    if result is None:
        return DoseRegression(outcome, scale, rows, None, note, f"The dose regression could not be fitted: {note}")
    sentence = dose_regression_sentence(outcome, scale, len(rows), result, "log10 dose", alpha)
    return DoseRegression(outcome, scale, rows, result, "", sentence)


def pooled_table(fits: Mapping[str, PooledProportion | None]) -> pd.DataFrame:
    """One row per pooled outcome (:meth:`PooledProportion.summary`), for a result file."""
    rows = {name: fit.summary() for name, fit in fits.items() if fit is not None}
    return pd.DataFrame(rows).T if rows else pd.DataFrame()


def subgroup_table(comparisons: Mapping[str, SubgroupComparison]) -> pd.DataFrame:
    """Every subgroup of the comparisons that could be made, keyed by comparison."""
    tables = {key: c.result.table() for key, c in comparisons.items() if c.result is not None}
    return pd.concat(tables) if tables else pd.DataFrame()
