"""What a haematologist asks (issue 20): the randomized trials pooled beside the paper's
surrogate control, median PFS across cohorts, each product, the new cohorts' weight and
the new cohorts alone, the cumulative analysis, ICANS apart, phases and late harms --
each computed on the data and phrased from the numbers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.inputs import UPDATE_DIR, load_randomized
from analysis.meta import effect_from_ci, pool_effects
from analysis.review import editions, evidence
from analysis.text import evidence as words

PAPER = analysis.load_studies()
MAIN = analysis.load_studies(UPDATE_DIR / "studies.csv")
EVERY = analysis.load_studies(UPDATE_DIR / "studies.csv", sources="all")
PUBLISHED = analysis.load_published()


def test_the_randomized_trials_are_pooled_from_each_trials_latest_journal_analysis() -> None:
    randomized = load_randomized()
    found = evidence.randomized_evidence(randomized, PUBLISHED)
    used = found.used[found.used["endpoint"] == "PFS"].set_index("trial")
    assert used.loc["KarMMa-3", "analysis"] == "final PFS analysis"  # the final, not the interim, analysis
    assert set(found.used["source_type"]) == {"journal"}
    effects = [effect_from_ci(0.49, 0.38, 0.63), effect_from_ci(0.26, 0.18, 0.38)]
    expected = pool_effects([e[0] for e in effects], [e[1] for e in effects])
    assert found.pooled["PFS"].estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert found.pooled["OS"].k == 1 and found.pooled_all["OS"].k == 2  # CARTITUDE-4's OS only from secondary sources
    assert found.surrogate == 0.14
    assert "lies below the interval" in found.sentences["surrogate"]
    assert "56% of its control arm crossing over" in found.sentences["os"]


def test_randomized_sentences_follow_the_intervals() -> None:
    fit = lambda hrs: pool_effects(*zip(*[effect_from_ci(*h) for h in hrs]))  # noqa: E731
    assert "lower with CAR-T" in words.randomized_sentence("PFS", fit([(0.5, 0.4, 0.6), (0.6, 0.5, 0.7)]), ["A", "B"], "x")
    assert "not clearly different" in words.randomized_sentence("OS", fit([(0.9, 0.6, 1.3), (1.1, 0.8, 1.5)]), ["A", "B"], "x")
    assert "higher with CAR-T" in words.randomized_sentence("OS", fit([(1.5, 1.2, 1.9), (1.4, 1.1, 1.8)]), ["A", "B"], "x")
    assert "nothing to pool" in words.randomized_sentence("OS", fit([(1.01, 0.73, 1.4)]), ["KarMMa-3"], "x")
    inside = words.surrogate_sentence(fit([(0.2, 0.1, 0.4), (0.15, 0.08, 0.3)]), 0.14)
    assert "lies inside the interval" in inside and "compatible" in inside
    assert "lies above" in words.surrogate_sentence(fit([(0.05, 0.03, 0.08)]), 0.14)


def test_median_pfs_pools_the_medians_with_both_limits_on_the_log_scale() -> None:
    table, sentences = evidence.median_pfs({"2020 table": PAPER, "update": MAIN, "update, all sources": EVERY}, PUBLISHED)
    by = table.set_index("edition")
    # The paper's Table 2: bb2121 12.1 (8.8–12.3) and LCAR-B38M 19.9 (9.6–31).
    effects = [effect_from_ci(12.1, 8.8, 12.3), effect_from_ci(19.9, 9.6, 31)]
    assert by.loc["2020 table", "estimate"] == pytest.approx(pool_effects(*zip(*effects)).estimate, rel=1e-12)
    with_ci = MAIN.dropna(subset=["pfs_median", "pfs_ci_low", "pfs_ci_high"])
    assert by.loc["update", "k"] == len(with_ci) and by.loc["update", "reported"] == MAIN["pfs_median"].notna().sum()
    assert "one cohort is not a pool" in sentences["update"] or by.loc["update", "k"] != 1


def test_each_product_with_two_cohorts_is_pooled_with_its_trials_named() -> None:
    products, trials = evidence.product_results(MAIN)
    counts = MAIN["car_product"].value_counts()
    assert set(products["product"]) == set(counts[counts >= 2].index)
    cilta = products[(products["product"] == "LCAR-B38M") & (products["outcome"] == "orr")].iloc[0]
    rows = analysis.outcome_rows(MAIN[MAIN["car_product"] == "LCAR-B38M"], "orr")
    assert cilta["k"] == len(rows) and cilta["estimate"] == pytest.approx(100 * analysis.pool_outcome(rows, "orr").estimate)
    assert "CARTITUDE-1" in trials["LCAR-B38M"] and "KarMMa-3" in trials["bb2121"]
    assert evidence.product_names(MAIN)["bb2121"] == "bb2121 (ide-cel)"


def test_the_new_cohorts_weight_and_alone() -> None:
    shares = evidence.weight_shares(MAIN, PAPER).set_index("outcome")
    fit = analysis.pool_outcome(MAIN, "cr")
    new = fit.studies["study"].isin(MAIN.loc[evidence.new_cohorts(MAIN, PAPER), "label"])
    assert shares.loc["cr", "weight"] == pytest.approx(fit.studies.loc[new, "weight"].sum())
    assert shares.loc["cr", "new_k"] == new.sum() and 0 < shares.loc["cr", "weight"] < 100
    assert "but only" in words.weight_share_sentence("cr", 3, 10, 60.0, 30.0)
    assert "but only" not in words.weight_share_sentence("cr", 3, 10, 30.0, 60.0)
    questions = evidence.update_questions(PAPER, MAIN, EVERY)
    assert set(questions.new_alone["edition"]) == {"2020 table", "new cohorts only", "update"}


def test_the_cumulative_analysis_ends_at_the_full_pool_and_starts_with_the_2020_table() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = evidence.cumulative_by_date(MAIN, PAPER)
    for outcome in analysis.review.paper.OUTCOMES:
        part = table[table["outcome"] == outcome]
        assert part["added"].iloc[0] == evidence.KEPT_2020
        assert part["estimate"].iloc[-1] == pytest.approx(analysis.pool_outcome(MAIN, outcome).estimate, rel=1e-10)
        dates = [d for d in part["date"].iloc[1:] if d]
        assert dates == sorted(dates)


def test_a_finding_whose_group_gains_no_cohort_is_untested() -> None:
    before = analysis.with_covariates(PAPER, analysis.load_covariates())
    after = analysis.with_covariates(MAIN, analysis.load_covariates(UPDATE_DIR / "covariates.csv"))
    found = editions.findings(before, after)
    for f in found:
        assert (f.status == "untested") == (bool(f.unchanged) and f.status != "moved")
    assert any(f.status == "untested" for f in found)
    assert "untested" in analysis.text.editions.findings_summary(found, "the update")


def test_icans_phases_and_late_harms() -> None:
    sentence = evidence.icans_apart(EVERY)
    icans = analysis.pool_outcome(EVERY, "icans")
    assert analysis.text.percent(100 * icans.estimate) in sentence
    imputed = int(EVERY.loc[EVERY["neurotox"].notna(), "neurotox_imputed"].sum())
    assert (f"{imputed} of the" in sentence) == (imputed > 0)
    phased = evidence.phase_groups(MAIN)
    assert set(phased["phase_group"]) <= {"phase 1", "phase 2 or 3", "ND"}
    assert (phased.loc[MAIN["phase"] == "3", "phase_group"] == "phase 2 or 3").all()
    harms, sentences = evidence.late_harms(EVERY)
    by = harms.set_index("Harm")
    for harm in analysis.inputs.studies.LATE_HARMS:
        k = int(EVERY[harm].notna().sum())
        row = by.loc[analysis.text.OUTCOME_LABELS[harm]]
        assert row["Cohorts"] == k and (row["Pooled rate (95% CI)"] != "—") == (k >= 2)
    assert any("reported by one cohort only" in s for s in sentences)


def test_every_subgroup_test_gets_its_holm_adjusted_p() -> None:
    from analysis.review.multiplicity import TESTED, subgroup_tests

    studies = analysis.with_covariates(PAPER, analysis.load_covariates())
    tests = subgroup_tests(studies)
    p = np.sort(tests.table["p"].to_numpy())
    m = len(p)
    holm = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p))  # Holm's step-down, by hand
    assert m == len(TESTED) and np.allclose(np.sort(tests.table["p_holm"]), holm)
    raw, adjusted = int((tests.table["p"] < 0.05).sum()), int((tests.table["p_holm"] < 0.05).sum())
    assert tests.sentence.startswith(f"Of the {m} subgroup tests run on this table, {raw} fall below")
    assert f"(Holm's adjustment), {adjusted} do" in tests.sentence and adjusted < raw
    assert "nothing to adjust" in subgroup_tests(PAPER.head(1)).sentence
