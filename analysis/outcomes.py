"""Pooling an outcome of the study table by name.

Picks the outcome's denominator (``n_safety`` or ``n_response``), the study labels, and
the studies whose event count is known under the extraction rules in force: a study
whose count is missing (e.g. unreported neurotoxicity with ``unreported_neurotox=
"missing"``) is left out, and the result's ``k`` says how many studies were pooled.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .data import OUTCOMES, RULE_OPTIONS, ExtractionRules, load_studies
from .proportions import PooledProportion, SubgroupAnalysis, pool_proportions, subgroup_analysis

__all__ = ["outcome_rows", "pool_outcome", "subgroup_outcome", "rule_sensitivity", "MODELS", "model_sensitivity"]


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
                s = pool_outcome(studies, outcome, **options).summary()
                rows.append(
                    {
                        "rule": rule,
                        "setting": setting,
                        "in_use": setting == current,
                        "outcome": outcome,
                        "k": s["k"],
                        "events": s["events"],
                        "patients": s["n"],
                        "estimate": s["estimate"],
                        "ci_low": s["ci_low"],
                        "ci_high": s["ci_high"],
                        "i2": s["i2"],
                    }
                )
    return pd.DataFrame(rows)


#: The models of the sensitivity panel: name -> options of pool_proportions.
MODELS: dict[str, dict[str, str]] = {
    "DL (paper)": {"tau2": "DL"},
    "REML": {"tau2": "REML"},
    "Paule-Mandel": {"tau2": "PM"},
    "GLMM": {"method": "glmm"},
    "DL + HKSJ": {"tau2": "DL", "ci": "hksj"},
    "Freeman-Tukey": {"transform": "freeman-tukey", "tau2": "DL"},
}


def model_sensitivity(
    studies: pd.DataFrame, outcomes: Sequence[str], models: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """Each outcome pooled under each model: one row per (outcome, model) with
    ``estimate``, ``ci_low``, ``ci_high`` (percent), ``tau2`` (on the model's scale) and
    ``i2``."""
    rows = []
    for outcome in outcomes:
        for name, options in (models or MODELS).items():
            s = pool_outcome(studies, outcome, **options).summary()
            rows.append({"outcome": outcome, "model": name, **{k: s[k] for k in ("estimate", "ci_low", "ci_high", "tau2", "i2", "k")}})
    return pd.DataFrame(rows)
