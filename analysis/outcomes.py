"""Pooling an outcome of the study table by name.

Picks the outcome's denominator (``n_safety`` or ``n_response``), the study labels, and
the studies whose event count is known under the extraction rules in force: a study
whose count is missing (e.g. unreported neurotoxicity with ``unreported_neurotox=
"missing"``) is left out, and the result's ``k`` says how many studies were pooled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
import warnings
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import OUTCOMES, RULE_OPTIONS, ExtractionRules, load_studies, parse_dose
from .phrasing import ALPHA, FACTOR_LABELS, OUTCOME_NOUNS, group_label, join, p_value, plural, significant, subgroup_sentence
from .proportions import PooledProportion, SubgroupAnalysis, pool_proportions, subgroup_analysis
from .regression import meta_regression

__all__ = [
    "outcome_rows",
    "pool_outcome",
    "try_pool",
    "subgroup_outcome",
    "SubgroupComparison",
    "compare_subgroups",
    "MARKS",
    "forest_marks",
    "rule_sensitivity",
    "fit_or_note",
    "MODELS",
    "model_sensitivity",
    "DOSE_SCALES",
    "DoseRegression",
    "dose_regression",
]


def outcome_rows(studies: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Studies with a known count of ``outcome``, with ``events`` and ``n`` columns."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of {sorted(OUTCOMES)}")
    known = studies[studies[outcome].notna()].copy()
    known["events"] = known[outcome].astype(int)
    known["n"] = known[OUTCOMES[outcome]]
    return known


def pool_outcome(studies: pd.DataFrame, outcome: str, **options: Any) -> PooledProportion:
    """:func:`~analysis.pool_proportions` of one outcome column (options by name)."""
    rows = outcome_rows(studies, outcome)
    return pool_proportions(rows["events"], rows["n"], labels=rows["label"], **options)


def try_pool(studies: pd.DataFrame, outcome: str, **options: Any) -> tuple[PooledProportion | None, str]:
    """:func:`pool_outcome`, or ``None`` and a note saying why the table cannot give it."""
    rows = outcome_rows(studies, outcome)
    if rows.empty:
        return None, f"No cohort of this table reports {OUTCOME_NOUNS.get(outcome, outcome)}, so it cannot be pooled."
    return pool_proportions(rows["events"], rows["n"], labels=rows["label"], **options), ""


#: Marks of a forest-plot row whose value is not simply read from a source, and what each means.
MARKS: dict[str, str] = {
    "imputed": "†",
    "inferred": "‡",
}
MARK_NOTES: dict[str, str] = {
    "†": "count rests on a category not printed, assumed zero by the extraction rules",
    "‡": "subgroup inferred, not sourced (see the appendix)",
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
    factor = FACTOR_LABELS.get(by, by)
    noun = OUTCOME_NOUNS.get(outcome, outcome)

    def without(note: str) -> SubgroupComparison:
        return SubgroupComparison(outcome, by, None, note, note, tuple(exclude))

    if by not in studies:
        return without(f"This table has no {factor} for its cohorts, so {noun} cannot be compared by it.")
    rows = outcome_rows(studies, outcome)
    compared = rows[rows[by].notna() & ~rows[by].isin(list(exclude))]
    present = [str(g) for g in pd.unique(compared[by])]
    if len(present) < 2:
        aside = [_excluded_label(str(g), factor) for g in exclude if (rows[by] == g).any()]
        left = f" (cohorts with {join(aside, 'or')} aside)" if aside else ""
        if not present:
            has = f"no cohort reporting {noun} has a known {factor}{left}"
        else:
            has = f"every cohort reporting {noun} has {group_label(present[0])}{left}"
        return without(f"In this table {has}, so there is no subgroup comparison by {factor}.")
    result = subgroup_outcome(studies, outcome, by, exclude=exclude, **options)
    groups = {g: r.summary() for g, r in result.groups.items()}
    sentence = subgroup_sentence(outcome, by, groups, result.p, alpha)
    if exclude:
        left_out = [g for g in exclude if (rows[by] == g).any()]
        if left_out:
            counts = [plural(int((rows[by] == g).sum()), "cohort") + f" with {_excluded_label(g, factor)}" for g in left_out]
            sentence += f" Left out of the comparison: {join(counts)}."
    return SubgroupComparison(outcome, by, result, "", sentence, tuple(exclude), forest_marks(studies, outcome, by))


def _excluded_label(group: str, factor: str) -> str:
    return f"an undisclosed {factor}" if group == "ND" else group_label(group)


def subgroup_outcome(
    studies: pd.DataFrame, outcome: str, by: str, *, exclude: Sequence[object] = (), **options: Any
) -> SubgroupAnalysis:
    """:func:`~analysis.subgroup_analysis` of one outcome by a category column."""
    rows = outcome_rows(studies, outcome)
    return subgroup_analysis(
        rows["events"], rows["n"], rows[by], labels=rows["label"], exclude=exclude, **options
    )


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
            studies = load_studies(path, replace(rules, **{rule: setting}))
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
                note = f"no cohort reports {OUTCOME_NOUNS.get(outcome, outcome)}"
            s = result.summary() if result is not None else _EMPTY
            rows.append({"outcome": outcome, "model": name,
                         **{k: s[k] for k in ("estimate", "ci_low", "ci_high", "tau2", "i2", "k")}, "note": note})
    return pd.DataFrame(rows)


#: Dose scales a cohort may report, in words.
DOSE_SCALES: dict[str, str] = {"per_kg": "per kilogram of body weight", "flat": "as a flat dose"}


@dataclass(frozen=True)
class DoseRegression:
    """A meta-regression of an outcome on log10 dose, over the cohorts that report one
    dose range on ``scale``; ``result`` is None (and ``note`` says why) when the table
    cannot support it. ``rows`` are the cohorts used, with ``dose`` (geometric midpoint
    of the range, 10^6 cells) and ``log_dose``."""

    outcome: str
    scale: str
    rows: pd.DataFrame
    result: Any
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
    noun, unit = OUTCOME_NOUNS.get(outcome, outcome), DOSE_SCALES[scale]
    if len(rows) < min_cohorts or rows["log_dose"].nunique() < 3:
        note = (f"Only {plural(len(rows), 'cohort')} with {noun} report{'s' if len(rows) == 1 else ''} a single dose range "
                f"{unit} (with fewer than three distinct doses or {min_cohorts} cohorts), so there is no dose regression.")
        return DoseRegression(outcome, scale, rows, None, note, note)
    result, note = fit_or_note(lambda: meta_regression(rows["events"], rows["n"], {"log10 dose": rows["log_dose"].to_numpy()},
                                                       tau2="DL"))
    if result is None:
        return DoseRegression(outcome, scale, rows, None, note, f"The dose regression could not be fitted: {note}")
    slope = result.coefficients.loc["log10 dose"]
    odds = float(np.exp(slope["estimate"]))
    direction = "rise" if slope["estimate"] > 0 else "fall"
    sentence = (f"Across the {plural(len(rows), 'cohort')} dosed {unit}, the odds of {noun} {direction} by a factor of "
                f"{odds:.2f} per tenfold higher dose (95% CI {np.exp(slope['ci_low']):.2f}–{np.exp(slope['ci_high']):.2f}; "
                f"test of the moderator {p_value(result.qm_p)}): "
                + ("more than chance alone would explain" if significant(result.qm_p, alpha) else
                   f"not beyond chance at the {alpha:g} level")
                + (f". Dose accounts for {max(result.r2, 0):.0f}% of the between-cohort variance (pseudo-R², the drop "
                   "in τ² when dose enters)." if significant(result.qm_p, alpha) else
                   f". The pseudo-R² (the drop in τ² when dose enters, {max(result.r2, 0):.0f}% here) means little when "
                   "the slope is this uncertain: with few cohorts τ² itself is estimated loosely."))
    return DoseRegression(outcome, scale, rows, result, "", sentence)
