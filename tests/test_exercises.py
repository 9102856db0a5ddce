"""Each exercise's answer says what its numbers say: the claim is recomputed here from the
engine, on the paper's table and on tables cut from it and from the update."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis
from analysis.review import paper
from analysis.teaching import exercises
from analysis.review.outcomes import compare_subgroups, try_pool
from analysis.survival import round_trip
from analysis.meta.single_arm import trend_test
from analysis.teaching import dl_steps
from conftest import ROOT

UPDATE = ROOT / "data" / "update"


def table_files(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    """name -> (study table, covariates): the paper's, the update's, and cuts of the paper's."""
    source = pd.read_csv(paper.STUDIES, dtype=str, keep_default_na=False)
    files = {"paper": (paper.STUDIES, ROOT / "data" / "covariates.csv"),
             "update": (UPDATE / "studies.csv", UPDATE / "covariates.csv")}
    for name, rows in {"half": source.iloc[::2], "two": source.iloc[:2]}.items():
        path = tmp_path / f"{name}.csv"
        rows.to_csv(path, index=False)
        files[name] = (path, ROOT / "data" / "covariates.csv")
    return files


@pytest.fixture(scope="module", params=["paper", "update", "half", "two"])
def table(request, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    path, covariates = table_files(tmp_path_factory.mktemp("tables"))[request.param]
    studies = analysis.load_studies(path)
    return path, analysis.with_covariates(studies, analysis.load_covariates(covariates))


def says(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def test_by_hand_check_reports_the_larger_tau2_and_the_flatter_weights(table) -> None:
    _, studies = table
    # the chapter teaches on the first outcome with two cohorts (neurotoxicity on the paper's table)
    outcome = next(o for o in ["neurotox", *paper.OUTCOMES] if len(analysis.outcome_rows(studies, o)) >= 2)
    rows = analysis.outcome_rows(studies, outcome)
    taught = dl_steps(rows["events"], rows["n"])
    answer = exercises.by_hand_check(studies, taught, outcome)
    crs = analysis.outcome_rows(studies, "crs_any")
    if len(crs) < 2:
        assert answer.claim is None and "fewer than two" in answer.text
        return
    engine = analysis.pool_outcome(studies, "crs_any")
    assert answer.claim["difference"] < 1e-12
    larger = engine.tau2 > taught.steps["tau2"]
    assert answer.claim["tau2_larger"] == larger
    assert says(answer.text, "so it is larger") == larger
    spread = engine.studies["weight"].max() / engine.studies["weight"].min()
    taught_spread = taught.table["weight_pct"].max() / taught.table["weight_pct"].min()
    assert answer.claim["weights_more_equal"] == (spread < taught_spread)
    assert says(answer.text, "weights are more equal") == (spread < taught_spread)


def test_common_outcome_coverage_says_better_only_when_it_is(table) -> None:
    _, studies = table
    rare = (60.0, 70.0)
    answer = exercises.common_outcome_coverage(studies, rare, "neurotox", 5, replicates=60, seed=4)
    if answer.claim is None:
        assert len(analysis.outcome_rows(studies, "crs_any")) < 2
        return
    coverage = 100 * answer.table.loc[answer.table["method"] == "DL, z (paper)", "coverage"].iloc[0]
    assert answer.claim["coverage"] == pytest.approx(coverage)
    assert answer.claim["better"] == (coverage > rare[1])
    assert says(answer.text, "better") == (coverage > rare[1])
    assert says(answer.text, "no better") == (coverage <= rare[1])


def test_without_example_gives_the_change_and_its_direction(table) -> None:
    _, studies = table
    rows = analysis.outcome_rows(studies, "crs_any")
    example = rows["study_id"].iloc[0]
    answer = exercises.without_example(rows, example, analysis.pool_outcome(studies, "crs_any"))
    rest = rows.iloc[1:]
    if rest.empty:
        assert answer.claim is None
        return
    change = 100 * (analysis.pool_proportions(rest["events"], rest["n"]).estimate - analysis.pool_outcome(studies, "crs_any").estimate)
    assert answer.claim["change"] == pytest.approx(change, abs=1e-12)
    assert says(answer.text, "higher" if change > 0 else "lower")
    assert f"by {abs(change):.1f} percentage points" in answer.text


def test_ordering_under_glmm_compares_the_two_orderings(table) -> None:
    _, studies = table
    levels = ("anti-CD3", "anti-CD3/CD28")
    dl = compare_subgroups(studies, "neurotox", "expansion", exclude=paper.excluded("expansion", ["ND"]))
    answer = exercises.ordering_under_glmm(studies, "neurotox", "expansion", levels, dl.result)
    rows = analysis.outcome_rows(studies, "neurotox")
    parts = [rows[rows["expansion"] == level] for level in levels]
    if answer.claim is None:
        assert dl.result is None or any(len(p) == 0 for p in parts) or "GLMM fits" in answer.text
        return
    glmm = [analysis.pool_proportions(p["events"], p["n"], method="glmm").estimate for p in parts]
    same = (glmm[0] < glmm[1]) == (dl.result.groups[levels[0]].estimate < dl.result.groups[levels[1]].estimate)
    assert answer.claim["same_order"] == same
    assert says(answer.text, "the same as") == same and says(answer.text, "the reverse of") == (not same)


def test_zero_event_cohorts_counts_printed_and_imputed_zeros(table) -> None:
    path, studies = table
    answer = exercises.zero_event_cohorts(studies, "crs_severe")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "source_type" in raw:  # the main analysis reads the rows from primary sources
        raw = raw[raw["source_type"].isin(["", *analysis.inputs.studies.PRIMARY_SOURCES])]
    raw = raw.set_index("study_id").loc[studies["study_id"]]
    zero = studies["crs_severe"].eq(0).fillna(False).to_numpy(dtype=bool)
    counted = raw["crs_g3_n"].str.strip() if "crs_g3_n" in raw else pd.Series("", index=raw.index)
    printed_blank = (raw["crs_g3_pct"].str.strip().isin(["", "ND"]) & counted.isin(["", "ND"])).to_numpy()
    assert answer.claim["zeros"] == zero.sum()
    assert answer.claim["imputed"] == (zero & printed_blank).sum()
    all_fit, _ = try_pool(studies, "crs_severe")
    some_fit, _ = try_pool(studies.dropna(subset=["crs_severe"]).query("crs_severe > 0"), "crs_severe")
    if all_fit and some_fit:
        higher = some_fit.estimate > all_fit.estimate
        assert answer.claim["higher_without_zeros"] == higher
        assert says(answer.text, "not higher") == (not higher)
    assert not says(answer.text, "information")  # an imputed zero is an assumption, not information


def test_hksj_answer_explains_a_lower_p_by_shrunken_standard_errors(table) -> None:
    _, studies = table
    exclude = paper.excluded("loading", ["ND"])
    hksj = compare_subgroups(studies, "cr", "loading", exclude=exclude, ci="hksj")
    normal = compare_subgroups(studies, "cr", "loading", exclude=exclude)
    answer = exercises.hksj_verdict(hksj, normal)
    if normal.result is None:
        assert answer.claim is None
        return
    assert answer.claim["p_lower"] == (hksj.result.p < normal.result.p)
    assert answer.claim["same_verdict"] == ((hksj.result.p < 0.05) == (normal.result.p < 0.05))
    shrunk = [g for g, fit in hksj.result.groups.items() if fit.se < normal.result.groups[g].se]
    assert answer.claim["se_shrunk"] == shrunk
    # the HKSJ standard error is the DL one times sqrt(q) on the random-effects weights
    for group, fit in normal.result.groups.items():
        y, v = fit.studies["yi"].to_numpy(), fit.studies["vi"].to_numpy()
        w = 1 / (v + fit.tau2)
        q = np.sum(w * (y - fit.mu) ** 2) / (len(y) - 1) if len(y) > 1 else 1.0
        if len(y) > 1:
            assert hksj.result.groups[group].se == pytest.approx(fit.se * np.sqrt(q), rel=1e-9)
    if answer.claim["p_lower"]:
        assert shrunk, "a lower p with HKSJ needs a shrunken standard error"
        assert "p-value can fall" in answer.text


def test_the_paper_hksj_exercise_no_longer_contradicts_itself() -> None:
    studies = analysis.with_covariates(analysis.load_studies())
    exclude = paper.excluded("loading", ["ND"])
    answer = exercises.hksj_verdict(compare_subgroups(studies, "cr", "loading", exclude=exclude, ci="hksj"),
                                    compare_subgroups(studies, "cr", "loading", exclude=exclude))
    assert answer.claim["p_lower"] and answer.claim["se_shrunk"]  # 0.014 -> 0.009, as the issue found
    assert "ad hoc correction" in answer.text


def test_without_product_drops_the_top_subgroups_main_product(table) -> None:
    _, studies = table
    exclude = paper.excluded("origin", ["ND"])
    comparison = compare_subgroups(studies, "cr", "origin", exclude=exclude)
    answer = exercises.without_product(studies, comparison, "cr", "origin", exclude=exclude)
    if comparison.result is None:
        assert answer.claim is None
        return
    top = max(comparison.result.groups, key=lambda g: comparison.result.groups[g].estimate)
    product = studies.loc[studies["origin"] == top, "car_product"].mode()[0]
    others = studies[studies["car_product"] != product]
    assert answer.claim["product"] == product
    assert answer.claim["left"] == (others["origin"] == top).sum()
    again = compare_subgroups(others, "cr", "origin", exclude=exclude)
    assert answer.claim["still_significant"] == (again.result is not None and again.result.p < 0.05)
    assert again.sentence in answer.text


def test_estimator_sides_picks_the_nearer_model(table) -> None:
    _, studies = table
    answer = exercises.estimator_sides(studies, "neurotox")
    if answer.claim is None:
        return
    rows = analysis.outcome_rows(studies, "neurotox")
    dl = 100 * analysis.pool_proportions(rows["events"], rows["n"]).estimate
    glmm = 100 * analysis.pool_proportions(rows["events"], rows["n"], method="glmm").estimate
    for estimator in ("SJ", "EB"):
        value = 100 * analysis.pool_proportions(rows["events"], rows["n"], tau2=estimator).estimate
        nearer = "DL" if abs(value - dl) <= abs(value - glmm) else "the GLMM"
        assert answer.claim["sides"][estimator] == nearer
        assert f"{estimator} is closer to {nearer}" in answer.text


def test_correction_direction_matches_the_pooled_rates(table) -> None:
    _, studies = table
    answer = exercises.correction_direction(studies, "neurotox", adds=(0.1, 0.5))
    if answer.claim is None:
        return
    rows = analysis.outcome_rows(studies, "neurotox")
    small, large = (100 * analysis.pool_proportions(rows["events"], rows["n"], add=a).estimate for a in (0.1, 0.5))
    expected = "about the same" if abs(large - small) < 0.05 else "higher" if small > large else "lower"
    assert answer.claim["smaller_correction_gives"] == expected
    if expected != "about the same":
        assert f"the smaller the correction, the {expected} the pooled rate" in answer.text


def test_paper_correction_answer_is_the_one_its_output_shows() -> None:
    answer = exercises.correction_direction(analysis.load_studies(), "neurotox")
    values = answer.table["pooled rate (%)"].to_numpy()
    assert values[0] > values[-1]  # 0.1: 13.0%, 0.5: 10.4% (the numbers)
    assert "the smaller the correction, the higher the pooled rate" in answer.text


def test_reading_loss_reports_what_the_rougher_reading_loses() -> None:
    from lifelines.datasets import load_lung

    lung = load_lung()
    fine, _ = round_trip(lung, "time", "status", "sex", risk_every=100.0)
    rough, _ = round_trip(lung, "time", "status", "sex", risk_every=100.0, every=30.0)
    answer = exercises.reading_loss(fine, rough, "coarse readings")
    events_off = int((rough["rebuilt events"] - fine["events"]).abs().sum())
    assert answer.claim["events_off"] == events_off
    assert answer.claim["rms_ratio"] == pytest.approx(rough["RMS dS"].mean() / fine["RMS dS"].mean())
    assert ("exact" in answer.text) == (events_off == 0 or answer.claim["patients_exact"])
    same = exercises.reading_loss(fine, fine, "the same readings")
    assert same.claim["events_off"] == int((fine["rebuilt events"] - fine["events"]).abs().sum())
    assert same.claim["rms_ratio"] == 1 and "Little is lost" in same.text
    with pytest.raises(ValueError):
        exercises.reading_loss(fine, fine.iloc[:1], "half")


@pytest.mark.parametrize("events, n", [(1, 3), (0, 10), (5, 20), (50, 100)])
def test_wald_vs_exact_flags_an_impossible_interval(events: int, n: int) -> None:
    answer = exercises.wald_vs_exact(events, n)
    p = events / n
    half = stats.norm.ppf(0.975) * np.sqrt(p * (1 - p) / n)
    outside = p - half < 0 or p + half > 1
    assert answer.claim["wald_outside"] == outside
    assert ("outside the possible range" in answer.text) == outside
    low = stats.beta.ppf(0.025, events, n - events + 1) if events else 0.0
    assert answer.claim["exact"][0] == pytest.approx(100 * low, abs=1e-9)


def test_trend_scores_verdict() -> None:
    from analysis.inputs import load_dose_table

    doses = load_dose_table(ROOT / "data" / "crb401_response.csv")
    by_dose = doses.groupby("dose_millions", as_index=False)[["n", "responders"]].sum()
    answer = exercises.trend_scores(by_dose, range(1, len(by_dose) + 1), by_dose["dose_millions"])
    new = trend_test(by_dose["responders"], by_dose["n"], np.arange(1, len(by_dose) + 1))
    old = trend_test(by_dose["responders"], by_dose["n"], by_dose["dose_millions"])
    assert answer.claim["p"] == pytest.approx(new.p) and answer.claim["reference_p"] == pytest.approx(old.p)
    same = (new.p < 0.05) == (old.p < 0.05)
    assert answer.claim["same_verdict"] == same and says(answer.text, "unchanged") == same
    assert exercises.trend_scores(by_dose.iloc[:1], [1], [1]).claim is None


def test_table2_check_agrees_on_legend2_and_catches_a_wrong_print() -> None:
    studies = analysis.load_studies()
    study = paper.EXAMPLES["legend2"]
    row = studies.set_index("study_id").loc[study]
    truth = {o: 100 * row[o] / row["n_safety"] for o in ("crs_any", "neurotox")}
    assert exercises.table2_check(studies, study, truth).claim["agree"]
    wrong = exercises.table2_check(studies, study, {**truth, "neurotox": truth["neurotox"] + 5})
    assert not wrong.claim["agree"] and "differ by more than" in wrong.text
    assert exercises.table2_check(studies.iloc[:0], study, truth).claim is None


def test_sourced_only_counts_and_verdict(table) -> None:
    _, studies = table
    answer = exercises.sourced_only(studies, "neurotox", "age", exclude=["ND"])
    sourced = studies[studies["age_status"] == "sourced"]
    assert answer.claim["sourced"] == len(sourced)
    result = compare_subgroups(sourced, "neurotox", "age", exclude=["ND"])
    judged = result.result is not None and min(g.k for g in result.result.groups.values()) >= 2
    assert answer.claim["judged"] == judged
    assert answer.claim["holds"] == (judged and result.result.p < 0.05)
    assert ("not beyond chance" in answer.text) == (judged and result.result.p >= 0.05)
    assert ("cannot be judged" in answer.text) == (result.result is not None and not judged)
