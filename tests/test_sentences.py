"""The chapters' sentences, held to their numbers: each function of the text layer that a
chapter glues says what the numbers say, in both directions, on edge cases too."""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd

from analysis import pool_proportions
import analysis
from analysis import text
from analysis.text import survival
from analysis.meta.heterogeneity import heterogeneity_ci
from conftest import ROOT

FIT = pool_proportions([10, 20, 5, 9], [40, 50, 30, 20])


def test_rule_flip_sentence_states_the_move_and_the_rule() -> None:
    used = {"k": 27, "estimate": 10.5, "ci_low": 6.8, "ci_high": 16.0}
    other = {"k": 16, "estimate": 16.2, "ci_low": 10.0, "ci_high": 25.0}
    sentence = text.rule_flip_sentence("neurotox", "zero", used, other, 27)
    assert sentence.startswith("Cohorts that print a neurotoxicity rate: 16 of 27.")
    assert "counted as having none" in sentence and "moves the pooled rate by 5.7 percentage points" in sentence
    assert "left out" in text.rule_flip_sentence("neurotox", "missing", other, used, 27)
    empty = {"k": 0, "estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    assert "moves" not in text.rule_flip_sentence("neurotox", "zero", empty, empty, 3)


def test_overlap_and_covariate_basis() -> None:
    assert text.overlap_sentence(0, 0) == "No cohort of this table has a CD28 domain."
    assert text.overlap_sentence(4, 4).startswith("All 4 cohorts with a CD28 domain were also activated")
    assert "travel together" in text.overlap_sentence(4, 2) and "do not overlap" in text.overlap_sentence(4, 0)
    basis = text.covariate_basis_sentence({"age": pd.Series(["sourced", "inferred", "", "inferred"])})
    assert basis == "These groupings rest on 1 sourced value, 2 inferred and 1 unknown for age."


def test_robustness_sentence_follows_the_threshold() -> None:
    assert text.robustness_sentence(2.9, 3.0).startswith("No single flip moves ORR or CR by more than 2.9")
    assert text.robustness_sentence(3.0, 3.0).startswith("A single flip moves a pooled rate by up to 3.0")
    assert text.robustness_sentence(math.nan, 3.0).startswith("No rule could be applied")


def test_product_dominance_counts_the_majority() -> None:
    most = text.product_dominance_sentence("camelid", 4, "LCAR-B38M", 3, ["cilta-cel"])
    assert most.startswith("3 of the 4 cohorts with camelid binders used one product, LCAR-B38M (listed in")
    assert most.endswith("as much a product comparison as a binder one.")
    assert text.product_dominance_sentence("camelid", 4, "LCAR-B38M", 2, []).endswith("LCAR-B38M.")


def test_model_panel_sentences() -> None:
    verdict = text.model_robustness_sentence(["crs_any"], {"neurotox": (8.0, "GLMM", 10.5, "DL (paper)")}, 3.0)
    assert "within 3 points of each other): CRS, any grade." in verdict
    assert "Neurotoxicity from 8.0% (GLMM) to 10.5% (DL (paper))" in verdict
    assert "none of the outcomes" in text.model_robustness_sentence([], {}, 3.0)
    assert text.refused_models_sentence([]) == ""
    assert "GLMM for complete response (no)" in text.refused_models_sentence([("GLMM", "cr", "no")])
    assert "it puts neurotoxicity at 8.0% against 10.5%" in text.correction_sentence(11, 11, 10.5, 8.0)
    assert "could not be compared" in text.correction_sentence(11, 11, 10.5, math.nan)
    closer = text.estimand_sentence({"DL": 12.0, "GLMM": 11.0}, {"DL": 10.0, "GLMM": 7.0})
    assert closer.endswith("disagree less about the mean than about the median.")
    assert "at least as much" in text.estimand_sentence({"DL": 12.0, "GLMM": 7.0}, {"DL": 10.0, "GLMM": 9.0})


def test_methods_sentences() -> None:
    m = text.methods
    assert m.noted_sentence(1) == "1 cohort has" and m.noted_sentence(3) == "3 cohorts have"
    assert m.outcome_substitute_note("neurotox", "neurotox") == ""
    assert "so the model is taught on complete response instead" in m.outcome_substitute_note("neurotox", "cr")
    assert m.engine_gap_sentence(0.0) == "the two agree to machine precision"
    assert m.engine_gap_sentence(1e-9) == "they differ by 1.0e-09"
    ci = heterogeneity_ci([10, 20, 5, 9], [40, 50, 30, 20], tau2="DL")
    wide = m.heterogeneity_ci_sentence(ci)
    assert wide.startswith(f"Here τ² = {text.number(ci.tau2, 2)} with 95% CI")
    assert wide.endswith("a great deal of heterogeneity.") == (ci.i2_ci_high - ci.i2_ci_low > 50)
    assert "90% CI" in m.heterogeneity_ci_sentence(heterogeneity_ci([10, 20, 5, 9], [40, 50, 30, 20], tau2="DL", level=0.9))
    assert m.heterogeneity_ci_sentence(None).startswith("With a single cohort")
    assert "DL gives τ² = " in m.estimators_sentence({"DL": FIT}, 4) and "single cohort" in m.estimators_sentence({}, 1)
    assert "the GLMM cannot be fitted here (why)" in m.median_mean_sentence(0.2, 0.25, None, None, "why")
    assert "for the GLMM (a logit model too) they are 20.0% and 22.0%" in m.median_mean_sentence(0.2, 0.25, 0.2, 0.22)
    t_fit = pool_proportions([10, 20, 5, 9], [40, 50, 30, 20], pi="t")
    assert m.t_interval_sentence(t_fit, FIT.pi_low, FIT.pi_high).startswith("Here it gives ")
    assert "no degrees of freedom" in m.t_interval_sentence(None, 0.1, 0.2)


def test_coverage_sentences() -> None:
    m = text.methods
    found = m.coverage_findings({"logit-normal": {"the paper's interval": (80.0, 92.0), "HKSJ": (90.0, 95.0)}}, 95)
    assert found == ("under the logit-normal model the paper's interval covers the target in 80.0–92.0% of meta-analyses, "
                     "HKSJ in 90.0–95.0%, against the promised 95%.")
    assert m.fairness_sentence(3.0).endswith("home advantage of the model that made the data.")
    assert "higher when its model is wrong" in m.fairness_sentence(-2.0)
    assert m.mechanism_sentence(95.0) == "" and m.mechanism_sentence(80.0).startswith("Where an interval falls short")
    assert m.small_k_sentence(5, {"DL": 88.4, "HKSJ": 93.6}) == (
        "For 5 studies — the size of many subgroups — the lowest coverage under the logit-normal model is 88.4% for DL and "
        "93.6% for HKSJ.")


def test_diagnostics_sentences() -> None:
    m = text.methods
    assert m.leave_one_out_sentence(("A", 0.1), ("B", 0.2)).endswith("10.0% when A is left out and 20.0% when B is.")
    assert m.influential_sentence(0).startswith("No cohort meets") and m.influential_sentence(2).startswith("2 cohorts meet")
    assert "between 10.0% and 30.0%" in m.gosh_sentence(1000, 0.1, 0.3)
    # the limit against the pooled rate, said as precision (the logit's SE follows the rate), never as size
    assert "is 30.0%, above the pooled 20.0%" in m.egger_sentence(0.2, 0.3, 0.2)
    assert "is 10.0%, below the pooled 20.0%" in m.egger_sentence(0.2, 0.1, 0.2)
    assert "smaller cohorts" not in m.egger_sentence(0.2, 0.1, 0.2)


def test_survival_and_trial_sentences() -> None:
    s = text.survival
    assert s.control_sentence(4, 4, 100, []).startswith("All 4 trials whose lowest doses form the surrogate control are")
    assert s.control_sentence(1, 4, 43, ["X", "Y", "Z"]).endswith("not in this table: X, Y, Z.")
    assert s.comparisons_run_sentence(0, 4).startswith("None of the paper's 4 comparisons can")
    assert s.comparisons_run_sentence(2, 4).startswith("2 of the paper's 4 comparisons could")
    assert s.exact_counts_sentence(["patient counts"]).endswith("the patient counts exactly")
    assert "do not reproduce" in s.exact_counts_sentence([])
    assert s.pfs_findings([], 0.6, 0.59, 0.01).startswith("The paper's PFS comparisons cannot be recomputed here")
    t = text.trial
    assert t.rounding_exceptions([]) == ""
    one = t.rounding_exceptions([("ci_low", "150-800", 73.47, "74")])
    assert one.startswith("The exception: the lower 95% limit for 150–800 × 10⁶ cells (computed 73.47%, which rounds to 73")
    assert t.row_sentence(33, 33).endswith("the trial report 33.") and "later data cut" in t.row_sentence(43, 33)
    assert t.smallest_group_sentence([50.0, 800.0], 3) == "the 50 and 800 × 10⁶ groups have only 3 patients each"


def test_overview_sentences() -> None:
    o = text.overview
    fits = {"orr": FIT, "cr": None}
    summary = o.summary_sentence(fits)
    assert f"objective response rate is {text.percent(100 * FIT.estimate)}" in summary and "not estimable" in summary
    assert "not the share of all patients" in summary  # a random-effects estimate is a typical cohort's rate
    low, high = dataclasses.replace(FIT, i2=10.0), dataclasses.replace(FIT, i2=80.0)
    assert o.heterogeneity_range_sentence({"cr": high, "orr": low}) == (
        "Between-cohort heterogeneity ranges from I² = 10% (objective response) to 80% (complete response).")
    assert o.new_cohorts_sentence(32, 1500, 27, 640, 6, ["A"]).endswith("1 cohort of 2020 was replaced by a later report (A).")
    assert o.phases_sentence({"": 3}) == "The table does not say which phase each trial was in."
    assert o.phases_sentence({"3": 2, "": 1}) == "By phase: phase 3 (2) and not given (1)."
    assert o.cannot_compute_sentence({}) == ""
    assert o.cannot_compute_sentence({"needs curves": 3}) == "Of the 3 numbers that cannot be computed, 3 need curves."


def test_chapters_glue_numbers_as_rounded_text_not_with_format_specs() -> None:
    """Glue's own format spec rounds exact halves to even; the book rounds them up
    (:func:`analysis.book.glue_number`), so no chapter uses one."""
    for chapter in sorted((ROOT / "book").glob("*.md")):
        assert not re.search(r"\{glue:text\}`[^`]*:[.0-9]*[fge%]`", chapter.read_text(encoding="utf-8")), chapter.name


def test_cleaning_sentence_says_what_each_step_did() -> None:
    from analysis.survival import CleaningStep

    steps = [CleaningStep("percent", 40), CleaningStep("negative_time", 1, 0.05, "time"),
             CleaningStep("merged", 2, 0.012, "survival")]
    assert text.survival.cleaning_sentence(steps) == (
        "Survival read in percent and divided by 100, 1 click before time 0 set to 0 (by up to 0.050 in time) and 2 "
        "repeated times resolved to the value after the step (by up to 0.012 in survival).")
    assert text.survival.cleaning_sentence([]) == ""


def test_pfs_patients_sentence_says_when_the_published_numbers_lack_the_count() -> None:
    from analysis.review.pfs import published_pfs_patients

    published = analysis.load_published()
    assert survival.pfs_patients_sentence(published_pfs_patients(published), 640).startswith("The paper had PFS data for ")
    without = published[published["key"] != "pfs:overall:all:patients"]
    assert published_pfs_patients(without) is None
    assert "do not say" in survival.pfs_patients_sentence(None, 640)


def test_a_pooled_fit_names_the_cohorts_it_leaves_out() -> None:
    studies = analysis.load_studies()
    fit = analysis.pool_outcome(studies, "cr")
    left_out = studies.loc[studies["cr"].isna(), "label"]
    assert len(left_out) == len(studies) - fit.k
    assert any(note.startswith("not pooled: ") and all(label in note for label in left_out) for note in fit.notes)
    many = text.phrasing.not_pooled_note("cr", [f"c{i}" for i in range(9)])
    assert "c5 and 3 more (their complete response" in many and "c6" not in many
    assert analysis.pool_outcome(studies, "crs_any").notes == ()  # every cohort reports it


def test_common_and_random_effects_sentence_follows_the_fits() -> None:
    import analysis
    events, n = [2, 8, 30, 5], [10, 12, 40, 30]
    common = analysis.pool_proportions(events, n, tau2="FE", labels=list("ABCD"))
    random = analysis.pool_proportions(events, n, labels=list("ABCD"))
    sentence = text.methods.common_random_sentence(common, random)
    ratio = (random.ci_high - random.ci_low) / (common.ci_high - common.ci_low)
    assert ratio > 1.05 and f"{ratio:.1f} times as wide" in sentence
    assert f"{100 * common.estimate:.1f}%" in sentence and "for C, becomes" in sentence  # C is the largest cohort
    same = text.methods.common_random_sentence(common, common)
    assert "about as wide" in same
    assert text.methods.glmm_sentence(None, random, "too few events").endswith("too few events.")
