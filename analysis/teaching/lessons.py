"""The methods chapter's lessons on any study table: the model taught by hand on one
outcome, the coverage simulation, and the diagnostics of a single study's influence. The
chapter calls these and shows what they return; the property-based tests call them too."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..meta.bias import egger_test
from ..meta.gosh import GoshResult, gosh
from ..meta.heterogeneity import heterogeneity_ci
from ..meta.influence import influence, leave_one_out
from ..meta.proportions import mean_rate, pool_proportions
from ..meta.results import PooledProportion
from ..meta.simulation import GENERATING_MODELS, coverage_simulation, simulated_sizes
from ..review import paper
from ..review.small_studies import SmallStudyEffects, small_study_effects
from ..review.outcomes import fit_or_note, outcome_rows, pool_outcome, variances_noted
from ..text import methods as words
from ..text.labels import OUTCOME_NOUNS
from ..text.numbers import p_value, plural
from ..text.numbers import round_half_up
from ..text.phrasing import fit_estimate, fit_notes_sentence, precision_sentence
from .steps import DLSteps, dl_steps

__all__ = [
    "ModelLesson",
    "model_lesson",
    "CoverageLesson",
    "coverage_lesson",
    "SIMULATED_METHODS",
    "DiagnosticsLesson",
    "diagnostics_lesson",
]


@dataclass(frozen=True)
class ModelLesson:
    """The model taught by hand on ``outcome``: its cohorts (``rows``), the example cohort,
    the by-hand steps, the engine's fit, the numbers the prose quotes (name -> (value,
    decimals)), its sentences, and the common-effect against random-effects table for
    readers (``common_random``)."""

    outcome: str
    rows: pd.DataFrame
    example: str
    steps: DLSteps
    engine: PooledProportion
    numbers: Mapping[str, tuple[float, int]]
    sentences: Mapping[str, str]
    common_random: pd.DataFrame


def _common_random(rows: pd.DataFrame, common: PooledProportion, engine: PooledProportion) -> pd.DataFrame:
    """One row per cohort (label, patients, observed rate, weight under each model) and
    one per model (its pooled rate with CI), for readers."""
    cohorts = pd.DataFrame({
        "Cohort": list(rows["label"]), "Patients": list(rows["n"]),
        "Observed rate (%)": [round_half_up(100 * x / n, 1) for x, n in zip(rows["events"], rows["n"])],
        "Common-effect weight (%)": list(common.studies["weight"]), "Random-effects weight (%)": list(engine.studies["weight"]),
    })
    pooled = pd.DataFrame({
        "Cohort": ["Pooled, common effect", "Pooled, random effects"], "Patients": [int(rows["n"].sum())] * 2,
        "Observed rate (%)": [fit_estimate(common, cohorts=False), fit_estimate(engine, cohorts=False)],
        "Common-effect weight (%)": [100.0, np.nan], "Random-effects weight (%)": [np.nan, 100.0],
    })
    return pd.concat([cohorts.astype({"Observed rate (%)": object}), pooled], ignore_index=True)


def model_lesson(studies: pd.DataFrame, teaching_outcome: str, example_study: str | None = None) -> ModelLesson:
    """Teach the DerSimonian–Laird model on ``teaching_outcome`` (or the first of the
    paper's outcomes that the table reports) with ``example_study`` (or the paper's
    example, or the largest cohort) worked by hand."""
    available = [o for o in [teaching_outcome, *paper.OUTCOMES] if not outcome_rows(studies, o).empty]
    outcome = available[0] if available else teaching_outcome
    rows = outcome_rows(studies, outcome)
    chosen, example_note = paper.example_study(rows, "teaching", example_study)
    steps = dl_steps(rows["events"], rows["n"], labels=rows["study_id"])
    engine = pool_outcome(studies, outcome)
    s = steps.steps
    one = steps.table.set_index("study")
    example = one.loc[chosen]
    numbers: dict[str, tuple[float, int]] = {
        "p": (100 * example["events"] / example["n"], 1), "y": (example["y"], 4), "v": (example["v"], 4),
        "w": (example["w"], 2), "mu_fixed": (s["mu_fixed"], 4), "q": (s["q"], 2), "df": (s["df"], 0), "c": (s["c"], 2),
        "tau2": (s["tau2"], 4), "i2": (s["i2"], 1), "mu": (s["mu"], 4), "se": (s["se"], 4), "estimate": (s["estimate"], 4),
        "ci_low": (s["ci_low"], 4), "ci_high": (s["ci_high"], 4), "pi_low": (s["pi_low"], 4), "pi_high": (s["pi_high"], 4),
        "weight_max": (one["weight_pct"].max(), 1), "weight_min": (one["weight_pct"].min(), 1),
        "fixed_weight_max": (100 * (one["w"] / one["w"].sum()).max(), 1),
    }
    with variances_noted():  # the engine's fit notes an extreme spread of variances
        het = fit_or_note(lambda: heterogeneity_ci(rows["events"], rows["n"], tau2="DL"))[0] if len(rows) >= 2 else None
        fits = {name: fit_or_note(lambda t=tau2: pool_proportions(rows["events"], rows["n"], tau2=t))[0]
                for name, tau2 in [("DerSimonian–Laird", "DL"), ("REML", "REML"), ("Paule–Mandel", "PM")]}
        glmm, glmm_note = fit_or_note(lambda: pool_proportions(rows["events"], rows["n"], method="glmm"))
        common = pool_proportions(rows["events"], rows["n"], tau2="FE", labels=rows["label"])
        t_fit = pool_proportions(rows["events"], rows["n"], tau2="DL", pi="t") if len(rows) >= 3 else None
    sentences = {
        "engine_notes": fit_notes_sentence(engine.notes),
        "outcome_note": words.outcome_substitute_note(teaching_outcome, outcome),
        "example_note": example_note,
        "label": str(rows.set_index("study_id").loc[chosen, "label"]),
        "outcome": OUTCOME_NOUNS[outcome],
        "x": str(int(example["events"])),
        "n": str(int(example["n"])),
        "zero": plural(int(one["corrected"].sum()), "cohort"),
        "k": str(len(one)),
        "engine_gap": words.engine_gap_sentence(abs(s["estimate"] - engine.estimate)),
        "q_p_text": p_value(s["q_p"]),
        "het_ci": words.heterogeneity_ci_sentence(het),
        "estimators": words.estimators_sentence({n: f for n, f in fits.items() if f is not None}, len(rows)),
        "median_mean": words.median_mean_sentence(
            s["estimate"], mean_rate(s["mu"], s["tau2"]), None if glmm is None else glmm.estimate,
            None if glmm is None else mean_rate(glmm.mu, glmm.tau2), glmm_note),
        "pi_t": words.t_interval_sentence(t_fit, s["pi_low"], s["pi_high"]),
        "common_random": words.common_random_sentence(common, engine),
        "glmm": words.glmm_sentence(glmm, engine, glmm_note),
    }
    return ModelLesson(outcome, rows, chosen, steps, engine, numbers, sentences, _common_random(rows, common, engine))


#: The interval methods of the coverage simulation, as the prose names them.
SIMULATED_METHODS: dict[str, str] = {"DL, z (paper)": "the paper's interval", "DL, HKSJ": "HKSJ", "GLMM": "the GLMM"}


@dataclass(frozen=True)
class CoverageLesson:
    """The coverage simulation: its table (one row per model, k, τ² and method), the
    numbers of studies simulated, the target rate, the seconds it took and its sentences."""

    table: pd.DataFrame
    ks: list[int]
    truth: float
    seconds: float
    sentences: Mapping[str, str]

    def coverage(self, k: int, method: str, model: str) -> tuple[float, float]:
        """The lowest and highest coverage (percent) of ``method`` over the τ² scenarios."""
        t = self.table
        part = t[(t["k"] == k) & (t["method"] == method) & (t["model"] == model)]["coverage"]
        return 100 * float(part.min()), 100 * float(part.max())


def coverage_lesson(studies: pd.DataFrame, engine: PooledProportion, replicates: int, seed: int,
                    nominal: float = 95.0) -> CoverageLesson:
    """Simulate meta-analyses like ``studies`` (their sizes) at the taught outcome's pooled
    rate and τ² (``engine``) and a larger τ², under both generating models."""
    start = time.perf_counter()
    truth = engine.estimate
    ks, ks_note = simulated_sizes(len(studies))
    scenarios = {"ks": ks, "tau2s": sorted({round(engine.tau2, 2), 2.0})}
    table = pd.concat([
        coverage_simulation(studies["n_safety"], mu=float(np.log(truth / (1 - truth))), replicates=replicates, seed=seed,
                            model=model, **scenarios)
        for model in GENERATING_MODELS
    ], ignore_index=True)
    seconds = time.perf_counter() - start
    lesson = CoverageLesson(table, ks, truth, seconds, {})
    k = max(ks)
    # A method with no fitted replicate in some scenario (the GLMM on one-patient cohorts)
    # is left out of the comparison, and the prose says so.
    fitted = {method for method in SIMULATED_METHODS
              if (table["method"] == method).sum() == len(ks) * len(scenarios["tau2s"]) * len(GENERATING_MODELS)}
    compared = {method: label for method, label in SIMULATED_METHODS.items() if method in fitted}
    coverages = {model: {label: lesson.coverage(k, method, model) for method, label in compared.items()}
                 for model in GENERATING_MODELS}
    if "GLMM" in fitted:
        fairness = words.fairness_sentence(lesson.coverage(k, "GLMM", "logit-normal")[0] - lesson.coverage(k, "GLMM", "beta")[0])
    else:
        fairness = words.unfitted_glmm_sentence()
    worst = min(lesson.coverage(k, m, "logit-normal")[0] for m in ("DL, z (paper)", "DL, HKSJ"))
    smallest = min(ks)
    sentences = {
        "findings": words.coverage_findings(coverages, nominal),
        "fairness": fairness,
        "mechanism": words.mechanism_sentence(worst),
        "small": words.small_k_sentence(smallest, {"the DL interval": lesson.coverage(smallest, "DL, z (paper)", "logit-normal")[0],
                                                   "HKSJ": lesson.coverage(smallest, "DL, HKSJ", "logit-normal")[0]}),
        "precision": precision_sentence(table),
        "ks_note": ks_note,
    }
    return CoverageLesson(table, ks, truth, seconds, sentences)


@dataclass(frozen=True)
class DiagnosticsLesson:
    """Influence, leave-one-out, GOSH, Egger's test and the small-study analyses of the
    taught outcome (empty tables and None with fewer than three cohorts), and their
    sentences."""

    influence: pd.DataFrame
    leave_one_out: pd.DataFrame
    gosh: GoshResult | None
    small_studies: SmallStudyEffects | None
    sentences: Mapping[str, str]


def diagnostics_lesson(rows: pd.DataFrame, engine: PooledProportion, subsets: int, seed: int) -> DiagnosticsLesson:
    """The single-study diagnostics of the cohorts ``rows`` pooled as ``engine``."""
    if len(rows) < 3:
        few = words.too_few_sentence(len(rows))
        return DiagnosticsLesson(pd.DataFrame(), pd.DataFrame(), None, None, {
            "l1o": few, "influential": "", "gosh": "With fewer than three cohorts there are too few subsets for a GOSH plot.",
            "egger": "Egger's test needs at least three cohorts.",
            "size": "The small-study tests need at least three cohorts.", "trimfill": ""})
    with variances_noted():  # refits of the cohorts of ``engine``, which carries the note
        table = influence(rows["events"], rows["n"], labels=rows["label"])
        l1o = leave_one_out(rows["events"], rows["n"], labels=rows["label"])
        subsets_fit = gosh(rows["events"], rows["n"], subsets=subsets, seed=seed)
        egger, egger_note = fit_or_note(lambda: egger_test(rows["events"], rows["n"]))
        small = small_study_effects(rows, engine)
    lowest, highest = l1o.loc[l1o["estimate"].idxmin()], l1o.loc[l1o["estimate"].idxmax()]
    estimates = subsets_fit.table["estimate"]
    sentences = {
        "l1o": words.leave_one_out_sentence((lowest["study"], lowest["estimate"]), (highest["study"], highest["estimate"])),
        "influential": words.influential_sentence(int(table["influential"].sum())),
        "gosh": words.gosh_sentence(len(subsets_fit.table), estimates.quantile(0.025), estimates.quantile(0.975)),
        "egger": (words.egger_sentence(egger.p, egger.limit_estimate, engine.estimate) if egger is not None
                  else words.egger_unavailable(egger_note)),
        **small.sentences,
    }
    return DiagnosticsLesson(table, l1o, subsets_fit, small, sentences)
