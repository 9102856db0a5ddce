"""The evidence of the update (issue 19): the table's optional columns validated one by
one, a cohort given from a primary and from a secondary source, the update's own rules
(sources for every new number, the main analysis from primary sources only), its search
log and selection, and what the update chapter computes from them."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis.inputs import InputError, StudyDataError, UPDATE_DIR, load_search_log, load_selection, load_studies
from analysis.book import currency
from analysis.review import update
from analysis.text import editions, overview

PAPER = pd.read_csv(UPDATE_DIR.parent / "studies.csv", dtype=str, keep_default_na=False)
UPDATE = pd.read_csv(UPDATE_DIR / "studies.csv", dtype=str, keep_default_na=False)
NEW = UPDATE[UPDATE["source"] != "Roex et al. 2020, Table 1"]


def written(tmp_path: Path, table: pd.DataFrame, name: str = "studies.csv") -> Path:
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


#: Optional column -> a value the loader must refuse, and the words of its message.
BAD_VALUES = {
    "crs_any_n": ("50", "CRS of any grade"),
    "crs_any_pct": ("101", "is not a percentage between 0 and 100"),
    "icans_n": ("-1", "is negative"),
    "icans_pct": ("lots", "is not a percentage"),
    **{f"{harm}_n": ("44", "events exceed n_safety=43") for harm in ("movement", "cranial_palsy", "spm", "tcell_malignancy", "infection_g3",
                                                     "nonrelapse_death")},
    **{f"{harm}_pct": ("120", "is not a percentage between 0 and 100") for harm in ("movement", "cranial_palsy", "spm", "tcell_malignancy",
                                                           "infection_g3", "nonrelapse_death")},
    "neurotox_definition": ("any grade", "is not one of any, icans, investigator"),
    "source_type": ("blog", "is not one of journal, regulatory, conference, secondary"),
    "population": ("elderly", "is not one of"),
    "design": ("phase 2", "is not one of single-arm, randomized"),
    "response_denominator": ("enrolled", "is not one of infused, itt"),
    "cell_source": ("donor", "is not one of autologous, allogeneic"),
    "data_cut": ("19/07/2021", "is not an ISO date"),
    "publication_date": ("2021-13-01", "is not a date in the calendar"),
    "followup_months": ("-3", "is not between 0 and 600"),
    "pfs_median": ("about a year", "is not a number"),
    "pfs_ci_low": ("12", "not in order"),
    "pfs_ci_high": ("2", "not in order"),
}


@pytest.mark.parametrize("column", sorted(BAD_VALUES))
def test_a_bad_value_of_each_new_column_is_refused_naming_study_and_column(tmp_path: Path, column: str) -> None:
    value, words = BAD_VALUES[column]
    table = PAPER.copy()
    table[column] = ""
    row = table["study_id"] == "NCT02658929"  # 43 patients evaluable for safety
    if column.startswith("pfs_ci"):
        table[["pfs_median", "pfs_ci_low", "pfs_ci_high"]] = ""
        table.loc[row, ["pfs_median", "pfs_ci_low", "pfs_ci_high"]] = ["10", "5", "15"]
    table.loc[row, column] = value
    with pytest.raises(StudyDataError) as error:
        load_studies(written(tmp_path, table))
    assert ("NCT02658929", column if not column.startswith("pfs_ci") else "pfs_median") in [
        (p.study, p.column) for p in error.value.problems], str(error.value)
    assert words in str(error.value)


def test_the_new_columns_are_documented() -> None:
    readme = (UPDATE_DIR.parent / "README.md").read_text(encoding="utf-8")
    for column in [*BAD_VALUES, "late_harm_notes", "trial"]:
        stem = column.removesuffix("_n").removesuffix("_pct")
        assert f"`{column}`" in readme or f"`{stem}_*`" in readme or f"`{stem}_pct`" in readme, column


def test_a_cohort_given_twice_needs_one_primary_and_one_other_source(tmp_path: Path) -> None:
    table = PAPER.copy()
    table["source_type"] = ""
    second = table[table["study_id"] == "NCT02658929"].assign(source_type="secondary", crs_g3_pct="20")
    path = written(tmp_path, pd.concat([table, second], ignore_index=True))
    main, every = load_studies(path), load_studies(path, sources="all")
    assert len(main) == len(every) == len(PAPER)
    assert main.set_index("study_id").loc["NCT02658929", "crs_severe"] == load_studies().set_index("study_id").loc[
        "NCT02658929", "crs_severe"]  # the primary row
    assert every.set_index("study_id").loc["NCT02658929", "crs_severe"] == 9  # 20% of 43, the secondary row
    assert every["replaces_primary"].sum() == 1 and not main["replaces_primary"].any()
    twice_primary = pd.concat([table, second.assign(source_type="journal")], ignore_index=True)
    with pytest.raises(StudyDataError, match="a cohort may be given twice only as one row from a primary source"):
        load_studies(written(tmp_path, twice_primary))
    with pytest.raises(ValueError, match="sources must be one of"):
        load_studies(path, sources="some")


def test_a_table_of_secondary_sources_only_is_refused_for_the_main_analysis_and_says_why(tmp_path: Path) -> None:
    path = written(tmp_path, PAPER.head(3).assign(source_type="secondary"))
    with pytest.raises(StudyDataError, match="no cohort from a primary source .* 3 rows from conference or secondary sources"):
        load_studies(path)
    assert len(load_studies(path, sources="all")) == 3


def test_the_update_holds_at_least_15_cohorts_reported_since_2020() -> None:
    assert NEW["study_id"].nunique() >= 15
    assert len(NEW[NEW["source_type"].isin(["journal", "regulatory"])]) >= 10


def test_every_new_row_names_its_kind_of_source_its_identifier_and_its_data_cut() -> None:
    assert set(NEW["source_type"]) <= {"journal", "regulatory", "conference", "secondary"} and (NEW["source_type"] != "").all()
    for row in NEW.itertuples():
        if row.source_type in ("journal", "regulatory"):
            assert re.search(r"doi:|PMID|PMC\d|not retrieved|article s\d", row.source), row.study_id
        assert row.data_cut or re.search(r"data cut[^;)]* not (retrieved|in the retrieved)", row.source) or \
            row.source_type in ("conference", "secondary"), row.study_id


def test_every_new_row_has_its_numbers_traced_to_retrieved_text() -> None:
    with open(UPDATE_DIR / "sources.csv", encoding="utf-8") as f:
        traced = list(csv.DictReader(f))
    ids = {r["study_id"] for r in traced}
    assert set(NEW["study_id"]) <= ids and ids <= set(UPDATE["study_id"])
    assert all(r["url"] and r["excerpt"] and r["source_type"] for r in traced)


def test_the_main_analysis_holds_no_number_from_a_secondary_source() -> None:
    main = load_studies(UPDATE_DIR / "studies.csv")
    assert main["primary_source"].all()
    by_id = main.set_index("study_id")
    # KarMMa-3's CRS rests on a machine-written summary: only the sensitivity analysis has it.
    assert pd.isna(by_id.loc["NCT03651128", "crs_any"]) and pd.isna(by_id.loc["NCT03651128", "crs_severe"])
    assert "ChiCTR2000033946" not in by_id.index and "NCT04181827" not in by_id.index  # FUMANBA-1, CARTITUDE-4
    every = load_studies(UPDATE_DIR / "studies.csv", sources="all").set_index("study_id")
    assert every.loc["NCT03651128", "crs_any"] == 198  # 88% of the 225 infused
    # CARTITUDE-4's 4.5% is ICANS, not neurotoxicity of any kind; its dose is the target dose.
    assert every.loc["NCT04181827", "icans"] == 8 and pd.isna(every.loc["NCT04181827", "neurotox"])
    assert every.loc["NCT04181827", "crs_any"] == 134 and pd.isna(every.loc["NCT04181827", "crs_severe"])
    assert every.loc["NCT04181827", "dose"] == "0.75 × 10^6/kg"


def test_search_log_and_selection_are_read_with_their_checks(tmp_path: Path) -> None:
    log = load_search_log()
    assert len(log) >= 100 and (log["records_used"] <= log["records_screened"]).all()
    bad = pd.read_csv(UPDATE_DIR / "search_log.csv", dtype=str, keep_default_na=False)
    bad.loc[0, "records_used"] = "999"
    bad.loc[1, "date"] = "yesterday"
    with pytest.raises(InputError) as error:
        load_search_log(written(tmp_path, bad, "search_log.csv"))
    assert sorted((p.study, p.column) for p in error.value.problems) == [("1", "records_used"), ("2", "date")]
    selection = load_selection()
    assert set(selection["decision"]) == set(analysis.inputs.DECISIONS)
    bad = pd.read_csv(UPDATE_DIR / "selection.csv", dtype=str, keep_default_na=False)
    bad.loc[0, ["decision", "reason"]] = ["maybe", ""]
    with pytest.raises(InputError, match="is not one of") as error:
        load_selection(written(tmp_path, bad, "selection.csv"))
    assert {p.column for p in error.value.problems} == {"decision", "reason"}


def test_the_selection_accounts_for_every_new_cohort_of_the_table() -> None:
    selection = load_selection().set_index("cohort")
    for row in NEW.itertuples():
        decision = selection.loc[row.study_id, "decision"]
        primary = row.source_type in ("journal", "regulatory")
        has_primary = ((NEW["study_id"] == row.study_id) & NEW["source_type"].isin(["journal", "regulatory"])).any()
        assert (decision == "sensitivity analysis only") == (not primary and not has_primary), row.study_id


def test_the_update_flow_adds_up() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = update.update_results()
    flow = results.flow
    assert flow.previous == 27 and flow.total_main == len(results.tables["update"])
    assert flow.previous - flow.replaced + flow.primary == flow.total_main
    assert flow.total_main + flow.sensitivity == flow.total_all
    assert flow.assessed == flow.primary + flow.sensitivity + sum(flow.excluded.values())
    boxes = editions.flow_boxes(flow)
    assert f"{flow.records:,}" in boxes["identified"] and str(flow.total_all) in boxes["total_all"]
    assert results.sentences["search"].startswith(f"The update rests on {flow.searches} searches")


def test_currency_is_the_papers_search_end_or_the_latest_data_cut() -> None:
    assert overview.currency_sentence(None, 0, 27, "2020-01-01").startswith("Evidence current to 1 January 2020")
    sentence = overview.currency_sentence("2024-01-25", 20, 44)
    assert sentence.startswith("Evidence current to 25 January 2024") and "20 of the 44 cohorts give none" in sentence
    assert "cannot be said" in overview.currency_sentence(None, 5, 5)
    assert overview.currency_sentence("2021", 0, 3, latest_report="2024-12-05").endswith(
        "The latest report in it was published on 5 December 2024.")
    assert overview.iso_date_words("2023-07") == "July 2023" and overview.iso_date_words("2025") == "2025"
    update_table = load_studies(UPDATE_DIR / "studies.csv", sources="all")
    latest = max(d for d in update_table["data_cut"] if d)
    assert overview.iso_date_words(latest) in currency(UPDATE_DIR / "studies.csv", update_table)


def test_sensitivity_by_source_is_shown_only_where_the_table_has_other_sources() -> None:
    from analysis.review.sensitivity import sensitivity_results

    paper = load_studies()
    assert sensitivity_results(paper, None, ["crs_any"]).sentences["sources"] == editions.ALL_PRIMARY
    main = load_studies(UPDATE_DIR / "studies.csv")
    result = sensitivity_results(main, UPDATE_DIR / "studies.csv", ["crs_any", "orr"])
    assert set(result.sources["edition"]) == {"primary sources", "all sources"}
    assert "from primary sources" in result.sentences["sources"]
