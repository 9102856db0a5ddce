"""The phrasing helper: every direction, ranking, size and significance the prose states
comes from these functions, so they are held to the numbers here."""

from __future__ import annotations

import dataclasses
import math

import pytest

from analysis import pool_proportions
from analysis import text as ph
from analysis.meta.results import PooledProportion, SubgroupAnalysis

BASE = pool_proportions([10, 20, 5], [40, 50, 30])


def fit(estimate: float, low: float, high: float, k: int, n: int = 100, level: float = 0.95, **fields: float) -> PooledProportion:
    """A pooled result with the given estimate and limits (percent), k and n."""
    return dataclasses.replace(BASE, estimate=estimate / 100, ci_low=low / 100, ci_high=high / 100, k=k, n_total=n,
                               level=level, **fields)


def subgroups(groups: dict[str, dict], p: float) -> SubgroupAnalysis:
    return SubgroupAnalysis({g: fit(r["estimate"], r["ci_low"], r["ci_high"], r["k"]) for g, r in groups.items()}, 1.0,
                            len(groups) - 1, p)


def test_plural_and_join() -> None:
    assert ph.plural(1, "cohort") == "1 cohort"
    assert ph.plural(2, "cohort") == "2 cohorts"
    assert ph.plural(1200, "patient") == "1,200 patients"
    assert ph.plural(2, "analysis", "analyses") == "2 analyses"
    assert ph.join([]) == "" and ph.join(["a"]) == "a"
    assert ph.join(["a", "b"]) == "a and b" and ph.join(["a", "b", "c"], "or") == "a, b or c"


def test_interval_never_prints_a_range_of_one_value() -> None:
    assert ph.interval(93.96, 94.04, 0) == "94%"
    assert ph.interval(68.6, 88.2) == "68.6–88.2%"
    assert ph.interval(math.nan, 3) == "not estimable"


@pytest.mark.parametrize(("p", "text"), [(0.0004, "p < 0.001"), (0.0028, "p = 0.003"), (0.028, "p = 0.028"),
                                         (0.28, "p = 0.28"), (math.nan, "p not estimable")])
def test_p_values_are_printed_as_journals_do(p: float, text: str) -> None:
    assert ph.p_value(p) == text


def test_significance_follows_alpha() -> None:
    assert ph.significant(0.03) and not ph.significant(0.03, alpha=0.01)
    assert not ph.significant(math.nan)


GROUPS = {
    "murine": {"estimate": 61.0, "ci_low": 35.3, "ci_high": 81.8, "k": 6},
    "human": {"estimate": 83.7, "ci_low": 70.2, "ci_high": 91.8, "k": 14},
    "camelid": {"estimate": 91.0, "ci_low": 83.8, "ci_high": 95.2, "k": 4},
}


def test_subgroup_sentence_ranks_by_the_estimates_and_tests_at_alpha() -> None:
    text = ph.subgroup_sentence("crs_any", "origin", subgroups(GROUPS, 0.013))
    assert "least frequent with murine binders and most frequent with camelid binders" in text
    assert "p = 0.013, below the 0.05 level" in text
    assert "murine binders 61.0% (95% CI 35.3–81.8%; 6 cohorts)" in text
    flipped = {g: {**r, "estimate": 100 - r["estimate"]} for g, r in GROUPS.items()}
    assert "least frequent with camelid binders" in ph.subgroup_sentence("crs_any", "origin", subgroups(flipped, 0.5))
    strict = ph.subgroup_sentence("crs_any", "origin", subgroups(GROUPS, 0.013), alpha=0.01)
    assert "not below the 0.01 level" in strict and "do not show a difference" in strict


def test_two_subgroups_read_as_a_comparison() -> None:
    two = {g: GROUPS[g] for g in ("murine", "camelid")}
    assert "less frequent with murine binders than with camelid binders" in ph.subgroup_sentence("cr", "origin", subgroups(two, 0.2))
    same = {"murine": {**GROUPS["murine"], "estimate": 50.0}, "camelid": {**GROUPS["camelid"], "estimate": 50.04}}
    assert "about equally frequent" in ph.subgroup_sentence("cr", "origin", subgroups(same, 0.9))


def test_heterogeneity_sentence_follows_the_q_test() -> None:
    assert "more than sampling error" in ph.heterogeneity_sentence(83, 1e-6, 27)
    assert "compatible with sampling error" in ph.heterogeneity_sentence(10, 0.4, 27)
    assert "single cohort" in ph.heterogeneity_sentence(0, math.nan, 1)


def test_pooled_and_dose_sentences() -> None:
    one = fit(80.2, 68.6, 88.2, 1, 43, pi_low=0.1, pi_high=0.99)
    assert ph.pooled_sentence("crs_any", one) == (
        "The pooled rate of CRS of any grade is 80.2% (95% CI 68.6–88.2%; 1 cohort, 43 patients).")
    assert ph.pooled_sentence("crs_any", None, "no data") == "no data"
    assert "single cohort" in ph.prediction_sentence("crs_any", one)
    none = {"per_kg_min": None, "per_kg_max": None, "flat_min": None, "flat_max": None, "not_reported": 3}
    assert ph.dose_sentence(none, 3) == "No cohort of this table reports its dose."
    flat = {**none, "flat_min": 50.0, "flat_max": 800.0, "not_reported": 1}
    assert ph.dose_sentence(flat, 4) == "Doses were given as a flat dose, from 50 to 800 × 10⁶ cells; 1 cohort of 4 did not report the dose."


def test_findings_sentence_counts_what_differs_from_the_p_values() -> None:
    s = fit(80.2, 70.1, 88.0, 27)
    text = ph.findings_sentence(
        {"crs_any": s, "neurotox": None},
        [("neurotox", "age", 0.002), ("neurotox", "costim", 0.4), ("cr", "loading", 0.05), ("crs_any", "origin", None)])
    assert "CRS of any grade 80.2% (95% CI 70.1–88.0%; 27 cohorts)" in text
    assert "Not estimable here: neurotoxicity." in text
    # p = 0.05 is not below the 0.05 level
    assert "1 shows a difference beyond chance at the 0.05 level (neurotoxicity by median age, p = 0.002)" in text
    assert "2 do not show a difference beyond chance (neurotoxicity by co-stimulatory domain, p = 0.40; complete response by gene-transfer vector, p = 0.050)" in text
    assert text.endswith("and 1 cannot be made on this table.")
    assert "Of the" not in ph.findings_sentence({"crs_any": s}, [])
    none = ph.findings_sentence({"crs_any": None}, [("crs_any", "origin", 0.001)], alpha=0.0001)
    assert none.startswith("No outcome") and "1 does not" in none
    every = ph.findings_sentence({}, [("crs_any", "origin", 0.001), ("cr", "origin", 0.01)])
    assert "Of the 2 subgroup comparisons, all 2 show a difference" in every


def test_trend_sentence_direction_and_significance() -> None:
    assert ph.trend_sentence(0.2, 0.01).startswith("Response rises with dose: ")
    assert ph.trend_sentence(-0.2, 0.001, score="log dose").startswith("Response falls with dose: the test for a linear trend with log dose")
    weak = ph.trend_sentence(0.2, 0.3)
    assert weak.startswith("Response tends to rise with dose, but") and "no trend beyond chance" in weak
    assert ph.trend_sentence(-0.1, 0.3).startswith("Response tends to fall")
    assert ph.trend_sentence(0.0, 1.0).startswith("Response does not change with dose, but")


def test_share_and_round_half_up() -> None:
    assert ph.share(4, 4, "trial") == "All 4 trials"
    assert ph.share(3, 4, "trial") == "3 of the 4 trials"
    assert ph.share(0, 4, "trial") == "None of the 4 trials"
    assert ph.share(1, 1, "trial") == "The one trial"
    assert ph.number(81.25) == "81.3" and ph.number(-0.25) == "-0.3" and ph.number(2.5, 0) == "3"
    assert ph.round_half_up(0.125, 2) == 0.13 and ph.number(float("nan")) == "—"


def test_typeset_ranges_and_signs_but_not_names() -> None:
    assert ph.typeset(">=60") == "≥60" and ph.typeset("150-800") == "150–800"
    assert ph.typeset("450 >=50% BCMA") == "450 ≥50% BCMA" and ph.typeset("4-1BB") == "4-1BB"
    assert ph.typeset("CD19 & BCMA CAR-T") == "CD19 & BCMA CAR-T"


def test_sentences_state_each_fits_own_level() -> None:
    ninety = fit(80.2, 70.1, 88.0, 5, 200, level=0.9, pi_low=0.4, pi_high=0.95)
    assert "(90% CI 70.1–88.0%; 5 cohorts, 200 patients)" in ph.pooled_sentence("crs_any", ninety)
    assert ph.prediction_sentence("crs_any", ninety).startswith("The 90% prediction interval, 40.0–95.0%")
    assert "(90% CI 70.1–88.0%; 5 cohorts)" in ph.findings_sentence({"crs_any": ninety}, [])
    real = pool_proportions([10, 20, 5, 9], [40, 50, 30, 20], level=0.9)
    assert "90% CI" in ph.fit_heterogeneity_sentence(real) and "95%" not in ph.fit_heterogeneity_sentence(real)
    assert "90% CI" in ph.subgroup_sentence("cr", "origin", SubgroupAnalysis({"murine": real, "human": real}, 0.0, 1, 1.0))
