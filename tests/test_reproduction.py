"""Published-vs-computed verdicts, glue helpers, and the paper's safety results."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.review import reproduction
from analysis.book import key_safe, plain, pooled_fields

PUBLISHED = analysis.load_published()


def one(key: str, value: float) -> pd.Series:
    return reproduction.compare(PUBLISHED[PUBLISHED["key"] == key], {key: value}).iloc[0]


@pytest.mark.parametrize(
    ("key", "value", "verdict"),
    [
        ("crs_any:overall:all:estimate", 80.349, "match"),
        ("crs_any:overall:all:estimate", 80.36, "close"),
        ("crs_any:overall:all:estimate", 81.3, "close"),
        ("crs_any:overall:all:estimate", 81.31, "differs"),
        ("crs_any:overall:all:i2", 83.4, "match"),
        ("crs_any:overall:all:i2", 87.9, "close"),
        ("crs_any:overall:all:i2", 88.6, "differs"),
        ("neurotox:prior_lines:test:p", 0.00009, "match"),
        ("neurotox:prior_lines:test:p", 0.0002, "differs"),
        ("neurotox:expansion:test:p", 0.0277, "match"),
        ("neurotox:expansion:test:p", 0.034, "close"),
        ("neurotox:expansion:test:p", 0.04, "differs"),
    ],
)
def test_verdicts(key: str, value: float, verdict: str) -> None:
    row = one(key, value)
    assert row["verdict"] == verdict
    assert row["difference"] == pytest.approx(value - float(row["published"].lstrip("<")))


def test_missing_value_cannot_be_computed_with_reason() -> None:
    rows = PUBLISHED[PUBLISHED["outcome"] == "crs_severe"]
    report = reproduction.compare(rows, {}, {"crs_severe:overall:all:estimate": "no data"})
    assert set(report["verdict"]) == {"cannot compute"}
    assert report.set_index("key").loc["crs_severe:overall:all:estimate", "reason"] == "no data"
    assert report["computed"].isna().all()


def test_unknown_computed_key_is_an_error() -> None:
    with pytest.raises(KeyError, match="not in the published table"):
        reproduction.compare(PUBLISHED, {"crs_any:overall:all:median": 1.0})


def test_plain_converts_numpy_scalars_and_rejects_others() -> None:
    assert type(plain(np.float64(1.5))) is float
    assert type(plain(np.int64(3))) is int
    assert plain("zero") == "zero"
    with pytest.raises(TypeError):
        plain(np.array([1.0, 2.0]))
    with pytest.raises(TypeError):
        plain(True)


def test_pooled_fields_are_plain() -> None:
    fields = pooled_fields(analysis.pool_proportions([3, 5, 9], [10, 12, 20]))
    assert all(type(v) in (int, float) for v in fields.values())


def test_key_safe() -> None:
    assert key_safe("anti-CD3/CD28") == "anti_cd3_cd28"
    assert key_safe("4-1BB") == "4_1bb"
    assert {key_safe(g) for g in (">=5", "<5", ">=60", "<60")} == {"ge5", "lt5", "ge60", "lt60"}


# --- the paper's safety results (issue "Done when") --------------------------------------

STUDIES = analysis.load_studies()


def pooled(outcome: str) -> dict[str, float]:
    return analysis.pool_outcome(STUDIES, outcome).summary()


def published(key: str) -> float:
    return float(PUBLISHED.set_index("key").loc[key, "number"])


@pytest.mark.parametrize("outcome", ["crs_any", "neurotox", "crs_severe", "orr", "cr"])
def test_pooled_rates_reproduce_the_paper(outcome: str) -> None:
    got = pooled(outcome)
    assert got["estimate"] == pytest.approx(published(f"{outcome}:overall:all:estimate"), abs=0.5)
    assert got["ci_low"] == pytest.approx(published(f"{outcome}:overall:all:ci_low"), abs=1.0)
    assert got["ci_high"] == pytest.approx(published(f"{outcome}:overall:all:ci_high"), abs=1.0)


def test_crs_heterogeneity_reproduces_the_paper() -> None:
    assert pooled("crs_any")["i2"] == pytest.approx(published("crs_any:overall:all:i2"), abs=1.0)


@pytest.mark.parametrize(
    ("outcome", "by"), [("crs_any", "origin"), ("neurotox", "expansion"), ("neurotox", "costim"), ("cr", "loading")]
)
def test_safety_and_response_subgroups_within_one_point(outcome: str, by: str) -> None:
    exclude = ["ND", "none", "transposon"]
    result = analysis.subgroup_outcome(STUDIES, outcome, by, exclude=exclude)
    values = reproduction.subgroup_values(result, outcome, by)
    rows = PUBLISHED[(PUBLISHED["outcome"] == outcome) & (PUBLISHED["analysis"] == by)]
    report = reproduction.compare(rows, {k: v for k, v in values.items() if k in set(rows["key"])})
    assert len(report) >= 4
    assert set(report["verdict"]) <= {"match", "close"}, report


def test_summary_table_shows_results_in_the_papers_format() -> None:
    rows = PUBLISHED[PUBLISHED["outcome"].eq("neurotox") & PUBLISHED["analysis"].isin(["costim", "age"])]
    computed = {
        "neurotox:costim:CD28:estimate": 3.41, "neurotox:costim:CD28:ci_low": 1.2, "neurotox:costim:CD28:ci_high": 9.31,
        "neurotox:costim:CD28:i2": 0.0, "neurotox:costim:4-1BB:estimate": 15.0, "neurotox:costim:test:p": 0.0186,
    }
    table = reproduction.summary_table(reproduction.compare(rows, computed)).set_index(["analysis", "group"])
    cd28 = table.loc[("co-stimulatory domain", "CD28")]
    assert (cd28["published"], cd28["computed"], cd28["verdict"]) == ("3.4 (1.2–9.3); I² 0%", "3.4 (1.2–9.3); I² 0%", "match")
    # one limit differs by more than a point: the whole result is "differs"
    assert table.loc[("co-stimulatory domain", "4-1BB"), "verdict"] == "differs"
    assert table.loc[("co-stimulatory domain", "4-1BB"), "computed"].startswith("15.0 (—–—)")
    assert table.loc[("co-stimulatory domain", "the test"), "computed"] == "p = 0.019"
    assert table.loc[("median age", "the test"), "published"] == "p = 0.0043"
    assert table.loc[("median age", "≥60"), "verdict"] == "cannot compute"


def shipped_report() -> pd.DataFrame:
    from analysis.inputs import load_dose_table

    studies = analysis.with_covariates(STUDIES, analysis.load_covariates())
    return reproduction.build_report(studies, PUBLISHED, load_dose_table())


def test_reproduction_report_lists_every_published_number_with_a_verdict() -> None:
    report = shipped_report()
    assert list(report["key"]) == list(PUBLISHED["key"])
    computed = report[report["verdict"] != "cannot compute"]
    assert len(computed) >= 40
    assert set(report["verdict"]) <= {"match", "close", "differs", "cannot compute"}
    assert (report.loc[report["verdict"] == "cannot compute", "reason"] != "").all()
    # Only subgroups built on inferred covariates may miss the 1-point tolerance.
    differs = report[report["verdict"] == "differs"]
    assert differs["key"].str.contains(":prior_lines:|:age:").all()


def test_age_and_prior_lines_subgroups_within_two_points() -> None:
    report = shipped_report().set_index("key")
    rows = report[report.index.str.contains(":age:|:prior_lines:") & ~report.index.str.contains(":test:")]
    assert len(rows) == 24 and (rows["verdict"] != "cannot compute").all()
    rates = rows[~rows.index.str.endswith(":i2")]
    assert (rates["difference"].abs() <= 2.0).all(), rates
    assert (rows.loc[rows.index.str.endswith(":i2"), "difference"].abs() <= 10.0).all()


def test_shipped_report_has_no_regressions_against_the_baseline() -> None:
    baseline = pd.read_csv(reproduction.BASELINE)
    report = shipped_report()
    assert reproduction.regressions(report, baseline) == []
    assert (baseline["verdict"] == "match").sum() >= 40


def test_regression_guard_catches_a_number_that_stops_matching() -> None:
    baseline = pd.DataFrame({"key": ["a", "b", "c"], "verdict": ["match", "close", "match"]})
    report = pd.DataFrame({"key": ["a", "b", "c"], "verdict": ["match", "differs", "close"]})
    assert reproduction.regressions(report, baseline) == ["c"]


def test_model_sensitivity_panel() -> None:
    panel = analysis.model_sensitivity(STUDIES, ["neurotox", "cr"])
    assert list(panel["model"].unique()) == list(analysis.MODELS)
    dl = panel[(panel["outcome"] == "neurotox") & (panel["model"] == "DL (paper)")].iloc[0]
    assert dl["estimate"] == pytest.approx(analysis.pool_outcome(STUDIES, "neurotox").summary()["estimate"])
    glmm = panel[(panel["outcome"] == "neurotox") & (panel["model"] == "GLMM")].iloc[0]
    assert glmm["estimate"] < dl["estimate"]  # no 0.5 added to the zero-event cohorts
    hksj = panel[(panel["outcome"] == "cr") & (panel["model"] == "DL + HKSJ")].iloc[0]
    z = panel[(panel["outcome"] == "cr") & (panel["model"] == "DL (paper)")].iloc[0]
    assert hksj["estimate"] == pytest.approx(z["estimate"]) and hksj["ci_high"] - hksj["ci_low"] > z["ci_high"] - z["ci_low"]


def test_pfs_published_table_has_the_four_comparisons_their_references_and_crb401() -> None:
    from analysis.review import paper

    table = paper.pfs_published_table(analysis.load_published())
    comparisons = table.loc[table["Source"] == "Roex et al. 2020", "Comparison"].unique()
    assert list(comparisons) == ["Dose activity", "Gene-transfer vector", "Co-stimulatory domain", "Binder origin"]
    hr = table.set_index("Group")["Hazard ratio"]
    # every printed hazard ratio is below 1: the longer-median group against the other
    assert hr["active doses"].startswith("0.14 against inactive doses")
    assert hr["lentiviral vector"].startswith("0.48 against retroviral vector")
    assert hr["4-1BB domain"].startswith("0.63 against CD28 domain")
    assert table.set_index("Group").loc["4-1BB domain", "p-value"] == "p = 0.061"
    assert table.set_index("Group").loc["active doses", "p-value"] == "p < 0.0001"
    origin = table[table["Comparison"] == "Binder origin"]
    assert len(origin) == 1 and origin["p-value"].iloc[0] == "p = 0.0005"
    crb = table[table["Source"] == "Raje et al. 2019"]
    assert crb["Median PFS, months (95% CI)"].tolist() == ["11.8 (6.2–17.8)"]  # seed 003: 11.8 months (6.2 to 17.8)


def test_table2_sentences_follow_the_numbers() -> None:
    from analysis.inputs import load_table2
    from analysis.review import paper
    from analysis.text import table2_sentences

    table2 = load_table2()
    words = table2_sentences(table2, *paper.table2_sides())
    assert words["patients"] == ("In the paper's Table 2, LEGEND-2's patients were younger than KarMMa's, had had fewer "
                                 "prior lines of therapy, and had less neurotoxicity.")
    assert words["binder"] == "KarMMa's CAR uses a murine scFv binder, LEGEND-2's a llama 2 × VHH binder."
    swapped = table2.rename(columns={paper.TABLE2_COLUMNS["karmma"]: "x", paper.TABLE2_COLUMNS["legend"]: paper.TABLE2_COLUMNS["karmma"]})
    swapped = swapped.rename(columns={"x": paper.TABLE2_COLUMNS["legend"]})
    assert "were older than KarMMa's, had had more prior lines of therapy, and had more neurotoxicity" in table2_sentences(swapped, *paper.table2_sides())["patients"]
    assert not any(ch.isdigit() for ch in words["patients"].replace("Table 2", "").replace("LEGEND-2", ""))


def test_every_number_table_prints_p_values_as_journals_do_and_no_distance_between_them() -> None:
    from analysis.review import reproduction

    report = reproduction.build_report(analysis.load_studies(), analysis.load_published())
    shown = reproduction.readable(report)
    p_rows = shown[report["key"].str.endswith(":p").to_numpy()]
    assert len(p_rows) and (p_rows["Difference"] == "—").all()
    assert all(v == "—" or v.startswith("< ") or re.fullmatch(r"0\.\d+", v) for v in p_rows["Computed"])
    assert "0.000" not in set(p_rows["Computed"]) and "−0.000" not in set(shown["Difference"])
