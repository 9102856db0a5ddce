"""The sensitivity chapter's analyses: every outcome pooled under each model of the panel,
which outcomes are robust to the model, what the model does to a rare outcome, and what
the cohorts known only from conference abstracts or secondary reports change."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from ..inputs.studies import ExtractionRules, load_studies
from ..meta.proportions import mean_rate
from ..text import phrasing
from ..text.editions import ALL_PRIMARY, sources_sentence
from ..text.labels import OUTCOME_LABELS, SCALE_LABELS
from .editions import pooled_side_by_side
from .outcomes import MODELS, fit_or_note, model_sensitivity, try_pool

__all__ = ["SensitivityResults", "sensitivity_results", "panel_display", "PRIMARY", "ALL_SOURCES"]

#: The two analyses by source, by name.
PRIMARY, ALL_SOURCES = "primary sources", "all sources"


@dataclass(frozen=True)
class SensitivityResults:
    """The model panel (one row per outcome and model), its estimates in wide form
    (models x outcomes) and the sentences the prose glues."""

    panel: pd.DataFrame
    wide: pd.DataFrame
    sentences: Mapping[str, str]
    #: Each outcome pooled from primary sources and from all sources (:func:`~analysis.review.editions.pooled_side_by_side`);
    #: empty when every cohort of the table is from a primary source.
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)


def sensitivity_results(studies: pd.DataFrame, studies_path: str | Path | None, outcomes: Sequence[str],
                        robust_points: float = 3.0) -> SensitivityResults:
    """The panel on ``studies`` (read from ``studies_path``, which is read again with
    unlisted neurotoxicity left out, to count the cohorts whose zero is assumed)."""
    strict = load_studies(studies_path, ExtractionRules(unreported_neurotox="missing"), require_outcome=False)
    panel = model_sensitivity(studies, outcomes)
    wide = panel.pivot(index="model", columns="outcome", values="estimate").loc[list(MODELS), list(outcomes)]
    spread = wide.max() - wide.min()
    fitted = [o for o in outcomes if wide[o].notna().sum() >= 2]
    robust = [o for o in fitted if spread[o] < robust_points]
    fragile = {o: (float(wide[o].min()), str(wide[o].idxmin()), float(wide[o].max()), str(wide[o].idxmax()))
               for o in fitted if spread[o] >= robust_points}
    refused = [(r.model, r.outcome, r.note) for r in panel[panel["note"] != ""].itertuples()]
    zero = studies["neurotox"] == 0
    zeros, unreported = int(zero.sum()), int((zero & strict["neurotox"].isna()).sum())
    sentences = {
        "verdict": phrasing.model_robustness_sentence(robust, fragile, robust_points),
        "refused": phrasing.refused_models_sentence(refused),
        "neuro": phrasing.correction_sentence(zeros, unreported, wide.loc["DL (paper)", "neurotox"], wide.loc["GLMM", "neurotox"])
        if "neurotox" in outcomes else "",
        "estimands": _estimands(studies),
    }
    # The same table with its conference and secondary sources: the sensitivity analysis by source.
    every = load_studies(studies_path, sources="all", require_outcome=False)
    sources = pd.DataFrame()
    if (~every["primary_source"]).any():
        sources = pooled_side_by_side({PRIMARY: studies, ALL_SOURCES: every}, outcomes)
        by_outcome = {o: sources[sources["outcome"] == o].set_index("edition") for o in outcomes}
        sentences["sources"] = " ".join(sources_sentence(o, rows.loc[PRIMARY].to_dict(), rows.loc[ALL_SOURCES].to_dict())
                                        for o, rows in by_outcome.items())
    else:
        sentences["sources"] = ALL_PRIMARY
    return SensitivityResults(panel, wide, sentences, sources)


def _estimands(studies: pd.DataFrame) -> str:
    """The mean and the median cohort's neurotoxicity rate under DL and the GLMM."""
    fits = {model: fit_or_note(lambda m=model: try_pool(studies, "neurotox", **MODELS[m])[0])[0] for model in ("DL (paper)", "GLMM")}
    if None in fits.values():
        return ""
    means = {model: 100 * mean_rate(fit.mu, fit.tau2) for model, fit in fits.items()}
    medians = {model: 100 * fit.estimate for model, fit in fits.items()}
    return phrasing.estimand_sentence(means, medians)


def panel_display(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel for readers: outcome and model in words, the scale each τ² is on, and
    the note column only when some model could not be fitted."""
    scale = panel["model"].map(lambda m: SCALE_LABELS[MODELS[m].get("transform", "logit")].removesuffix(" scale"))
    shown = panel.assign(outcome=panel["outcome"].map(OUTCOME_LABELS)).drop(columns="note").assign(scale=scale, note=panel["note"])
    shown.columns = ["Outcome", "Model", "Estimate (%)", "CI low (%)", "CI high (%)", "τ²", "I² (%)", "Cohorts", "Scale of τ²", "Note"]
    return shown.drop(columns="Note") if (shown["Note"].fillna("") == "").all() else shown
