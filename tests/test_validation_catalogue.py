"""The input-validation catalogue: every mistake a user can make in a study table or a
curve folder, and what the book does about it -- one clear error naming file, study (or
arm) and column, or, where the statistics allow, a documented result with a note that
the book's figures print.

| case                                   | behaviour                                       |
|----------------------------------------|-------------------------------------------------|
| missing column                         | StudyDataError: column                          |
| unknown category                       | StudyDataError: study, column, accepted values  |
| events > n                             | StudyDataError: study, outcome                  |
| negative / non-numeric / NaN counts    | StudyDataError: study, column                   |
| duplicate id                           | StudyDataError: study, file rows                |
| empty file / header only               | StudyDataError: file                            |
| wrong delimiter                        | StudyDataError: says it is not comma-separated  |
| wrong encoding                         | StudyDataError: not UTF-8                       |
| a subgroup with one study              | result, note printed under the forest plot      |
| all-zero or all-event outcome          | result (continuity correction), note; GLMM: error |
| k = 1                                  | result with metafor's conventions, note         |
| survival not monotone                  | cleaned, and counted in the cleaning report     |
| at-risk table inconsistent             | InputError: arm, column                         |
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.inputs import load_curves
from analysis.inputs import DEFAULT_STUDIES, InputError, StudyDataError
from analysis.survival import reconstruct_ipd

RAW = pd.read_csv(DEFAULT_STUDIES, dtype=str, keep_default_na=False)
STUDY = "NCT03430011"


def table_with(tmp_path: Path, column: str, value: str) -> Path:
    table = RAW.copy()
    table.loc[table["study_id"] == STUDY, column] = value
    path = tmp_path / "studies.csv"
    table.to_csv(path, index=False)
    return path


def problem(path: Path) -> tuple[str, str, str]:
    with pytest.raises(StudyDataError) as info:
        analysis.load_studies(path)
    message = str(info.value)
    assert str(path) in message  # the file is named
    first = info.value.problems[0]
    return first.study, first.column, first.message


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    RAW.drop(columns=["costim"]).to_csv(path, index=False)
    assert problem(path)[:2] == ("(all)", "costim")


def test_unknown_category(tmp_path: Path) -> None:
    study, column, message = problem(table_with(tmp_path, "loading", "Electroporation"))
    assert (study, column) == (STUDY, "loading") and "lentiviral" in message


def test_events_exceed_n(tmp_path: Path) -> None:
    table = RAW.copy()
    table.loc[table["study_id"] == STUDY, ["crs_g12_pct", "crs_g3_pct"]] = ["90", "40"]
    path = tmp_path / "studies.csv"
    table.to_csv(path, index=False)
    assert problem(path)[:2] == (STUDY, "crs_any")


@pytest.mark.parametrize(("value", "words"), [("-3", "negative"), ("forty", "not a number"), ("nan", "not a number"), ("", "blank")])
def test_bad_counts(tmp_path: Path, value: str, words: str) -> None:
    study, column, message = problem(table_with(tmp_path, "n_safety", value))
    assert (study, column) == (STUDY, "n_safety") and words in message


def test_duplicate_id(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    pd.concat([RAW, RAW[RAW["study_id"] == STUDY]]).to_csv(path, index=False)
    study, column, message = problem(path)
    assert (study, column) == (STUDY, "study_id") and "duplicate" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in problem(empty)[2]
    header = tmp_path / "header.csv"
    RAW.iloc[:0].to_csv(header, index=False)
    assert "no studies" in problem(header)[2]


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    RAW.to_csv(path, index=False, sep="\t")
    assert "not look comma-separated" in problem(path)[2]


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    path.write_bytes(DEFAULT_STUDIES.read_text(encoding="utf-8").encode("utf-16"))
    assert "not UTF-8" in problem(path)[2]


def test_subgroup_with_one_study_is_a_documented_result() -> None:
    studies = analysis.load_studies()
    result = analysis.subgroup_outcome(studies, "neurotox", "expansion", exclude=["ND"])  # 'none': one study
    assert result.groups["none"].k == 1
    assert any("'none' is a single study" in note for note in result.notes)
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots

    figure = plots.subgroup_forest_plot(result)
    assert any("single study" in t.get_text() for t in figure.axes[0].texts)


@pytest.mark.parametrize("events", [[0, 0, 0], [10, 12, 8]])
def test_all_zero_or_all_event_outcomes(events: list[int]) -> None:
    result = analysis.pool_proportions(events, [10, 12, 8])
    assert np.isfinite(result.estimate) and any("continuity correction" in note for note in result.notes)
    with pytest.raises(ValueError, match="no finite estimate"):
        analysis.pool_proportions(events, [10, 12, 8], method="glmm")


def test_k_equals_one() -> None:
    result = analysis.pool_proportions([7], [20])
    assert (result.k, result.tau2, result.i2, result.q_p) == (1, 0.0, 0.0, 1.0)  # metafor's conventions
    assert any("single study" in note for note in result.notes)


def test_survival_not_monotone_is_cleaned_and_reported() -> None:
    result = reconstruct_ipd([0, 1, 2, 3, 4], [1, 0.8, 0.81, 0.6, 0.5], [0, 2], [20, 14])
    assert result.cleaned("flattened") == 1 and result.n == 20


def test_inconsistent_risk_table(tmp_path: Path) -> None:
    folder = tmp_path / "pfs"
    (folder / "curves").mkdir(parents=True)
    pd.DataFrame([{"arm_id": "a", "study_id": "s", "arm_label": "a", "kind": "illustrative", "source": "test",
                   "dose_activity": "ND", "origin": "ND", "loading": "ND", "costim": "ND", "total_events": ""}]).to_csv(folder / "arms.csv", index=False)
    pd.DataFrame({"time": [0, 1, 2, 3], "survival": [1, 0.9, 0.7, 0.6]}).to_csv(folder / "curves" / "a.csv", index=False)
    pd.DataFrame({"arm_id": ["a", "a"], "time": [0, 2], "n_risk": [10, 12]}).to_csv(folder / "risk.csv", index=False)
    with pytest.raises(InputError) as info:
        load_curves(folder)
    assert str(folder) in str(info.value)
    assert [(p.study, p.column) for p in info.value.problems] == [("a", "n_risk")]
