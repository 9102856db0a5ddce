"""The response chapter's analyses, on any study table: objective and complete response
pooled, the extraction rules that decide response flipped, the paper's subgroup
comparisons of complete response and objective response by product design."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from ..inputs.studies import ExtractionRules
from ..meta.results import PooledProportion
from ..text import phrasing
from ..text.labels import FACTOR_LABELS
from . import paper
from .covariates import inferred_counts
from .outcomes import SubgroupComparison, forest_marks, paper_comparison, rule_sensitivity, try_pool

__all__ = ["RESPONSE_OUTCOMES", "RESPONSE_RULES", "ResponseResults", "response_results", "design_table"]

RESPONSE_OUTCOMES = ("orr", "cr")
#: The extraction rules that decide response, and which outcomes each changes.
RESPONSE_RULES: dict[str, list[str]] = {
    "combined_cr_vgpr": ["cr"], "not_disclosed": ["orr", "cr"], "unreported_response": ["orr", "cr"],
}


@dataclass(frozen=True)
class ResponseResults:
    """Every result of the response chapter (see :class:`~analysis.review.toxicity.ToxicityResults`);
    ``design`` holds the comparisons of objective response by product design."""

    fits: Mapping[str, PooledProportion | None]
    notes: Mapping[str, str]
    comparisons: Mapping[str, SubgroupComparison]
    design: Mapping[str, SubgroupComparison]
    rules_table: pd.DataFrame
    marks: Mapping[str, Mapping[str, str]]
    sentences: Mapping[str, str]


def _dominant_product(studies: pd.DataFrame, comparison: SubgroupComparison) -> str:
    """How much the subgroup with the highest rate rests on one product (a sentence)."""
    if comparison.result is None:
        return ""
    top = max(comparison.result.groups, key=lambda g: comparison.result.groups[g].estimate)
    members = studies[studies[comparison.by] == top]
    counts = members["car_product"].value_counts()
    product = counts.index[0]
    aliases = [n for n in members.loc[members["car_product"] == product, "product"].unique() if n != product]
    return phrasing.product_dominance_sentence(top, len(members), product, int(counts.iloc[0]), aliases)


def response_results(studies: pd.DataFrame, studies_path: str | Path | None, rules: ExtractionRules, covariates_file: str, *,
                     alpha: float = phrasing.ALPHA, exclude_groups: Sequence[str] = paper.NOT_COMPARED,
                     robust_points: float = 3.0) -> ResponseResults:
    """The response chapter on ``studies`` (read from ``studies_path`` with ``rules``)."""
    pooled = {o: try_pool(studies, o) for o in RESPONSE_OUTCOMES}
    fits = {o: fit for o, (fit, _) in pooled.items()}
    notes = {o: note for o, (_, note) in pooled.items()}
    comparisons = {f"cr_{by}": paper_comparison(studies, "cr", by, exclude_groups, alpha) for by in ("origin", "loading", "prior_lines")}
    design = {by: paper_comparison(studies, "orr", by, exclude_groups, alpha) for by in paper.ORR_FACTORS}
    rules_table = rule_sensitivity(studies_path, rules, RESPONSE_RULES)
    largest = rules_table.groupby(["rule", "outcome"])["estimate"].agg(lambda e: e.max() - e.min()).max()
    sentences = {
        **{f"{o}_sentence": phrasing.pooled_sentence(o, fits[o], notes[o]) for o in RESPONSE_OUTCOMES},
        **{f"{o}_heterogeneity": phrasing.fit_heterogeneity_sentence(fits[o], alpha) for o in RESPONSE_OUTCOMES},
        "rule_sentence": phrasing.robustness_sentence(float(largest), robust_points),
        **{f"{key}_sentence": c.sentence for key, c in comparisons.items()},
        "cr_origin_products": _dominant_product(studies, comparisons["cr_origin"]),
        "inferred": phrasing.inferred_sentence(inferred_counts(studies, ("prior_lines",)), len(studies), covariates_file),
        "design_sentences": " ".join(c.sentence for c in design.values()),
        "found": phrasing.findings_sentence(fits, [(c.outcome, c.by, c.result.p if c.result else None)
                                                   for c in (*comparisons.values(), *design.values())], alpha),
    }
    marks = {o: forest_marks(studies, o) for o in RESPONSE_OUTCOMES}
    return ResponseResults(fits, notes, comparisons, design, rules_table, marks, sentences)


def design_table(design: Mapping[str, SubgroupComparison]) -> pd.DataFrame:
    """The comparisons of objective response by product design that could be made, one
    row per subgroup ("" when none could)."""
    tested = {FACTOR_LABELS[by]: c.result.table()[["estimate", "ci_low", "ci_high", "i2", "k"]]
              for by, c in design.items() if c.result is not None}
    if not tested:
        return pd.DataFrame()
    return pd.concat(tested).rename_axis(["Grouping", "Group"]).reset_index()
