"""The study-table loader: the shipped table, the derivation rules, and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import ExtractionRules, InputError, StudyDataError, load_published, load_studies
from analysis.inputs import DEFAULT_STUDIES

RAW = pd.read_csv(DEFAULT_STUDIES, dtype=str, keep_default_na=False)


def write(tmp_path: Path, table: pd.DataFrame, name: str = "studies.csv") -> Path:
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def edited(tmp_path: Path, study: str, column: str, value: str) -> Path:
    table = RAW.copy()
    table.loc[table["study_id"] == study, column] = value
    return write(tmp_path, table)


def error_for(path: Path) -> StudyDataError:
    with pytest.raises(StudyDataError) as info:
        load_studies(path)
    return info.value


# --- the shipped table ---------------------------------------------------------------


def test_table1_totals_match_the_paper() -> None:
    studies = load_studies()
    assert len(studies) == 27
    assert studies["n_safety"].sum() == 639
    assert studies["n_response"].sum() == 630
    assert studies["n_total"].sum() == 640
    assert studies["car_product"].nunique() == 23
    by_loading = studies.groupby("loading", observed=True)["n_total"].sum()
    assert by_loading["lentiviral"] == 489 and by_loading["retroviral"] == 101 and by_loading["transposon"] == 23
    assert studies.loc[studies["costim"] == "4-1BB", "n_total"].sum() == 520


def test_categories_follow_the_papers_grouping() -> None:
    s = load_studies().set_index("study_id")
    assert s.loc["NCT03288493", "origin"] == "human"  # centyrin counts as human
    assert s.loc["NCT03602612", "origin"] == "human"  # human VH
    assert s.loc["NCT03196414", "origin"] == "human"  # humanized
    assert s.loc["NCT03661554", "origin"] == "camelid"  # alpaca
    assert s.loc["NCT03274219", "expansion"] == "anti-CD3/CD28"  # PI3k inhibitor ignored
    assert s.loc["NCT02215967-1", "expansion"] == "anti-CD3"  # IL-2 ignored
    assert s.loc["NCT03288493", "expansion"] == "none"
    assert s.loc["ChiCTR-OPC16009113", "costim"] == "CD28"  # CD28/4-1BB counts as CD28
    assert s.loc["NCT03196414", "costim"] == "CD28"  # CD28/OX40
    assert s.loc["NCT03338972", "costim"] == "4-1BB"  # + EGFRt
    assert s.loc["ChiCTR-1900027678", "costim"] == "ND"
    assert s.loc["NCT03090659-1", "expansion_published"] == "aCD3/CD28 + IL-2"


def test_counts_follow_the_documented_rule() -> None:
    s = load_studies().set_index("study_id")
    # 58% + 5% of 43: 25 + 2
    assert (s.loc["NCT02658929", "crs_any"], s.loc["NCT02658929", "crs_severe"]) == (27, 2)
    # only grade >=3 listed (14% of 28 = 4): grade 1-2 counted as none
    assert s.loc["ChiCTR-OPC16009113", "crs_any"] == 4
    # no neurotoxicity listed: zero events by default
    assert s.loc["ChiCTR-1800018143", "neurotox"] == 0
    # CR not listed but VGPR and PR are: zero CR
    assert s.loc["NCT02215967-1", "cr"] == 0 and s.loc["NCT02215967-1", "orr"] == 2
    # only CR+VGPR combined: ORR known (5 + 8 of 19), CR missing
    assert s.loc["NCT03288493", "orr"] == 13 and pd.isna(s.loc["NCT03288493", "cr"])
    # VGPR and PR "ND": ORR missing, CR known
    assert pd.isna(s.loc["NCT03455972", "orr"]) and s.loc["NCT03455972", "cr"] == 23
    assert str(s["crs_any"].dtype) == "Int64"


def test_rules_can_be_flipped() -> None:
    s = load_studies(
        rules=ExtractionRules(
            unreported_neurotox="missing",
            unreported_crs_grade="missing",
            combined_cr_vgpr="cr",
            not_disclosed="zero",
        )
    ).set_index("study_id")
    assert pd.isna(s.loc["ChiCTR-1800018143", "neurotox"])
    assert pd.isna(s.loc["ChiCTR-OPC16009113", "crs_any"])
    assert pd.isna(s.loc["NCT03302403", "crs_severe"])
    assert s.loc["NCT03288493", "cr"] == 5
    assert s.loc["NCT03455972", "orr"] == 23
    assert s["neurotox"].notna().sum() == 16


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unreported_neurotox='sometimes'"):
        ExtractionRules(unreported_neurotox="sometimes")  # type: ignore[arg-type]


def test_percentages_no_count_can_give_are_noted() -> None:
    s = load_studies().set_index("study_id")
    assert "CR printed as 73% is not k/57 for any whole k" in s.loc["NCT03090659-2", "extraction_notes"]
    assert "PR printed as 24% is not k/22 for any whole k; 5/22 used" in s.loc["ChiCTR-1800018143", "extraction_notes"]
    assert (s["extraction_notes"] != "").sum() == 2


def test_loading_does_not_modify_the_data_file() -> None:
    before = DEFAULT_STUDIES.read_bytes()
    load_studies()
    assert DEFAULT_STUDIES.read_bytes() == before


# --- bad input: one error naming study and column ---------------------------------------


@pytest.mark.parametrize(
    ("study", "column", "value", "message"),
    [
        ("NCT02658929", "n_safety", "-4", "is negative"),
        ("NCT02658929", "n_response", "forty", "is not a number"),
        ("NCT02658929", "n_safety", "12.5", "not a whole number"),
        ("NCT02658929", "n_safety", "", "sample size is blank"),
        ("NCT02658929", "n_safety", "0", "at least 1"),
        ("NCT02658929", "binder", "Martian scFv", "unknown origin"),
        ("NCT02658929", "expansion", "aCD4", "unknown expansion"),
        ("NCT02658929", "loading", "Adenoviral", "unknown loading"),
        ("NCT02658929", "costim", "ICOS", "unknown costim"),
        ("NCT02658929", "neurotox_pct", "130", "between 0 and 100"),
        ("NCT02658929", "cr_pct", "about half", "not a percentage"),
        ("NCT02658929", "product", "", "product is empty"),
    ],
)
def test_bad_value_names_study_and_column(tmp_path: Path, study: str, column: str, value: str, message: str) -> None:
    error = error_for(edited(tmp_path, study, column, value))
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert (problem.study, problem.column) == (study, column)
    assert message in problem.message
    assert f"study '{study}', column '{column}'" in str(error)


def test_events_exceeding_n_are_an_error(tmp_path: Path) -> None:
    table = RAW.copy()
    row = table["study_id"] == "NCT03093168"
    table.loc[row, "crs_g12_pct"] = "80"
    table.loc[row, "crs_g3_pct"] = "30"
    error = error_for(write(tmp_path, table))
    assert [(p.study, p.column) for p in error.problems] == [("NCT03093168", "crs_any")]
    assert "exceed n_safety=49" in error.problems[0].message


def test_duplicate_study_id_is_an_error(tmp_path: Path) -> None:
    table = pd.concat([RAW, RAW.iloc[[3]]], ignore_index=True)
    error = error_for(write(tmp_path, table))
    assert [(p.study, p.column) for p in error.problems] == [("ChiCTR-OPC16009113", "study_id")]
    assert "lines 5, 29" in error.problems[0].message


def test_missing_column_is_an_error(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, RAW.drop(columns=["neurotox_pct"])))
    assert [(p.study, p.column) for p in error.problems] == [("(all)", "neurotox_pct")]
    assert "required column is missing" in str(error)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    table = RAW.copy()
    table.loc[0, "n_safety"] = "-1"
    table.loc[5, "loading"] = "Plasmid"
    error = error_for(write(tmp_path, table))
    assert {(p.study, p.column) for p in error.problems} == {
        (RAW.loc[0, "study_id"], "n_safety"),
        (RAW.loc[5, "study_id"], "loading"),
    }


def test_wrong_delimiter_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "semicolons.csv"
    RAW.to_csv(path, index=False, sep=";")
    error = error_for(path)
    assert "does not look comma-separated" in str(error)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in str(error_for(empty))
    header_only = write(tmp_path, RAW.iloc[:0], "header.csv")
    assert "no studies" in str(error_for(header_only))
    with pytest.raises(FileNotFoundError, match="study table not found"):
        load_studies(tmp_path / "nowhere.csv")


def test_non_utf8_file_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(DEFAULT_STUDIES.read_text(encoding="utf-8").encode("cp1252", errors="replace"))
    assert "not UTF-8" in str(error_for(path))


def test_not_disclosed_marker_is_accepted_case_insensitively(tmp_path: Path) -> None:
    s = load_studies(edited(tmp_path, "NCT03093168", "neurotox_pct", "nd")).set_index("study_id")
    assert pd.isna(s.loc["NCT03093168", "neurotox"])


# --- published numbers ---------------------------------------------------------------


def test_published_table_parses() -> None:
    published = load_published()
    assert published["key"].is_unique
    row = published.set_index("key").loc["crs_any:overall:all:estimate"]
    assert (row["number"], row["decimals"], row["relation"]) == (80.3, 1, "=")
    p = published.set_index("key").loc["neurotox:prior_lines:test:p"]
    assert (p["number"], p["relation"]) == (0.0001, "<")


def test_rule_sensitivity_flips_each_rule() -> None:
    from analysis import rule_sensitivity

    table = rule_sensitivity(None, ExtractionRules(), {"unreported_neurotox": ["neurotox"], "combined_cr_vgpr": ["cr"]})
    neuro = table[table["outcome"] == "neurotox"].set_index("setting")
    assert neuro.loc["zero", "in_use"] and not neuro.loc["missing", "in_use"]
    assert (neuro.loc["zero", "k"], neuro.loc["missing", "k"]) == (27, 16)
    assert neuro.loc["zero", "events"] == neuro.loc["missing", "events"]
    assert neuro.loc["missing", "estimate"] > neuro.loc["zero", "estimate"]
    cr = table[table["outcome"] == "cr"].set_index("setting")
    assert cr.loc["cr", "k"] == cr.loc["missing", "k"] + 1
    with pytest.raises(ValueError, match="unknown extraction rule"):
        rule_sensitivity(None, ExtractionRules(), {"unreported_age": ["cr"]})


def test_dose_text_is_parsed_and_checked(tmp_path: Path) -> None:
    from analysis.inputs import dose_ranges, parse_dose

    assert parse_dose("50–800 × 10^6") == [(50.0, 800.0, False)]
    assert parse_dose("0.21–1.52 × 10^6/kg") == [(0.21, 1.52, True)]
    assert parse_dose("1 × 10^6/kg or 150–450 × 10^6") == [(1.0, 1.0, True), (150.0, 450.0, False)]
    assert parse_dose("ND") == []
    ranges = dose_ranges(load_studies())
    assert (ranges["per_kg_min"], ranges["flat_max"], ranges["not_reported"]) == (0.07, 1143.0, 1)
    error = error_for(edited(tmp_path, "NCT02658929", "dose", "a lot"))
    assert [(p.study, p.column) for p in error.problems] == [("NCT02658929", "dose")]


def test_covariates_are_sourced_or_inferred_and_checked(tmp_path: Path) -> None:
    from analysis import load_covariates, with_covariates

    table = load_covariates(studies=load_studies())
    for covariate in ("age", "prior_lines"):
        given = table[table[f"{covariate}_group"] != ""]
        assert set(given[f"{covariate}_status"]) <= {"sourced", "inferred"}
        sourced = given[given[f"{covariate}_status"] == "sourced"]
        assert (sourced[f"{covariate}_source"] != "").all() and len(sourced) >= 2
        assert (given.loc[given[f"{covariate}_status"] == "inferred", "inference_note"].str.contains(covariate)).all()
    studies = with_covariates(load_studies(), table)
    assert studies.set_index("study_id").loc["NCT03090659-2", "prior_lines"] == "<5"
    assert list(studies["age"].cat.categories) == [">=60", "<60", "ND"]
    bad = table.copy()
    bad.loc[0, "age_group"] = "old"
    bad.loc[1, "prior_lines_source"] = ""
    bad.to_csv(tmp_path / "covariates.csv", index=False)
    with pytest.raises(InputError, match="in the covariates file") as info:
        load_covariates(tmp_path / "covariates.csv")
    assert {(p.study, p.column) for p in info.value.problems} == {
        (table.loc[0, "study_id"], "age_group"), (table.loc[1, "study_id"], "prior_lines_source")
    }


def test_table2_shows_the_parts_of_orr_as_parts_and_the_total_cr_computed() -> None:
    from analysis.inputs import load_table2
    from analysis.review.discussion import TOTAL_CR, table2_display

    shown = table2_display(load_table2()).set_index("Characteristic")
    assert list(shown.loc[TOTAL_CR]) == ["39", "73"]  # 28 + 11 and 68 + 5
    assert "CR (%)" not in shown.index and "of which CR, not MRD-negative (%)" in shown.index
