"""The toxicity chapter's analyses, on any study table: CRS and neurotoxicity pooled, the
paper's subgroup comparisons, CRS against dose, and the extraction rules flipped. The
chapter notebook calls :func:`toxicity_results` and shows what it returns; the
property-based tests call the same function."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from ..inputs.studies import ExtractionRules
from ..meta.results import PooledProportion
from ..text import phrasing
from . import paper
from .covariates import covariate_gaps, inferred_counts
from .outcomes import DoseRegression, SubgroupComparison, dose_regression, forest_marks, paper_comparison, rule_sensitivity, try_pool

__all__ = ["SAFETY_OUTCOMES", "SAFETY_RULES", "ToxicityResults", "toxicity_results"]

#: The outcomes of the chapter.
SAFETY_OUTCOMES = ("crs_any", "crs_severe", "neurotox")
#: The extraction rules that can change them, and which outcomes each changes.
SAFETY_RULES: dict[str, list[str]] = {"unreported_neurotox": ["neurotox"], "unreported_crs_grade": ["crs_any", "crs_severe"]}


@dataclass(frozen=True)
class ToxicityResults:
    """Every result of the toxicity chapter: the pooled fits (None and a note where the
    table cannot give one), the paper's comparisons, the dose regression, the rule
    sensitivity table, the forest-plot marks and the sentences the prose glues."""

    fits: Mapping[str, PooledProportion | None]
    notes: Mapping[str, str]
    comparisons: Mapping[str, SubgroupComparison]
    crs_dose: DoseRegression
    rules_table: pd.DataFrame
    marks: Mapping[str, Mapping[str, str]]
    sentences: Mapping[str, str] = field(default_factory=dict)


def toxicity_results(studies: pd.DataFrame, studies_path: str | Path | None, rules: ExtractionRules, covariates: pd.DataFrame,
                     covariates_file: str, *, alpha: float = phrasing.ALPHA,
                     exclude_groups: Sequence[str] = paper.NOT_COMPARED) -> ToxicityResults:
    """The toxicity chapter on ``studies`` (read from ``studies_path`` with ``rules`` and
    merged with ``covariates``, whose file a reader sees as ``covariates_file``)."""
    pooled = {o: try_pool(studies, o) for o in SAFETY_OUTCOMES}
    fits = {o: fit for o, (fit, _) in pooled.items()}
    notes = {o: note for o, (_, note) in pooled.items()}
    comparisons = {f"{o}_{by}": paper_comparison(studies, o, by, exclude_groups, alpha)
                   for o, by in (("crs_any", "origin"), ("neurotox", "expansion"), ("neurotox", "costim"),
                                 ("neurotox", "age"), ("neurotox", "prior_lines"))}
    crs_dose = dose_regression(studies, "crs_any", "per_kg", alpha=alpha)
    rules_table = rule_sensitivity(studies_path, rules, SAFETY_RULES)
    crs, severe, neuro = (fits[o] for o in SAFETY_OUTCOMES)
    neuro_rows = rules_table[rules_table["outcome"] == "neurotox"].set_index("in_use")
    gaps = covariate_gaps(studies, covariates)
    sentences = {
        "crs_sentence": phrasing.pooled_sentence("crs_any", crs, notes["crs_any"]),
        "crs_heterogeneity": phrasing.fit_heterogeneity_sentence(crs, alpha),
        "crs_prediction": phrasing.prediction_sentence("crs_any", crs),
        "severe_sentence": phrasing.pooled_sentence("crs_severe", severe, notes["crs_severe"]),
        "neuro_sentence": phrasing.pooled_sentence("neurotox", neuro, notes["neurotox"]),
        "neuro_heterogeneity": phrasing.fit_heterogeneity_sentence(neuro, alpha),
        "neuro_rule_sentence": phrasing.rule_flip_sentence(
            "neurotox", rules.unreported_neurotox, neuro_rows.loc[True], neuro_rows.loc[False], len(studies)),
        "crs_dose_sentence": crs_dose.sentence,
        "cd28_overlap": phrasing.overlap_sentence(
            int((studies["costim"] == "CD28").sum()), int(((studies["costim"] == "CD28") & (studies["expansion"] == "anti-CD3")).sum())),
        "covariate_basis": phrasing.covariate_basis_sentence(
            {label: studies[f"{by}_status"] for by, label in (("prior_lines", "prior lines"), ("age", "age"))}),
        "covariate_note": phrasing.covariate_note(gaps.without, gaps.unmatched, gaps.changed),
        "inferred": phrasing.inferred_sentence(inferred_counts(studies), len(studies), covariates_file),
    }
    for key, comparison in comparisons.items():
        sentences[f"{key}_sentence"] = comparison.sentence
    sentences["found"] = (phrasing.findings_sentence(fits, [(c.outcome, c.by, c.result.p if c.result else None)
                                                            for c in comparisons.values()], alpha)
                          + " " + crs_dose.sentence)
    marks = {o: forest_marks(studies, o) for o in SAFETY_OUTCOMES}
    return ToxicityResults(fits, notes, comparisons, crs_dose, rules_table, marks, sentences)
