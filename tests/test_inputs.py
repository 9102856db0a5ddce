"""Every input read exactly or refused clearly: the one checked reader, on each kind of
file, for the cases a new user runs into -- a ragged row, a count beyond exact integers,
a misspelt or doubled column, a header with a stray space, a file in the wrong encoding
or delimiter, a value that is not a number -- and the warnings a valid table must not
raise."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import analysis  # noqa: E402
from analysis.inputs import InputError, StudyDataError, load_published, load_studies  # noqa: E402
from analysis.inputs import reader  # noqa: E402
from analysis.teaching import exercises, hksj_panel  # noqa: E402
from analysis.teaching.lessons import diagnostics_lesson, model_lesson  # noqa: E402
from analysis.inputs.paths import DATA_DIR  # noqa: E402
from conftest import ROOT  # noqa: E402

TABLE = (DATA_DIR / "studies.csv").read_text(encoding="utf-8")
ROWS = TABLE.splitlines()


def write(tmp_path: Path, text: str, name: str = "studies.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def problems(error: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(p.study, p.column) for p in error.value.problems]


def test_a_ragged_row_is_refused_naming_its_study_and_line(tmp_path: Path) -> None:
    short = ROWS[3].rsplit(",", 3)[0]  # the row of NCT03274219 without its last three fields
    with pytest.raises(StudyDataError, match=r"line 4 has \d+ fields, the header \d+: a ragged row") as error:
        load_studies(write(tmp_path, "\n".join([*ROWS[:3], short, *ROWS[4:]])))
    assert problems(error) == [("NCT03274219", "(row)")]
    with pytest.raises(StudyDataError, match="a ragged row"):  # one field too many
        load_studies(write(tmp_path, "\n".join([*ROWS[:3], ROWS[3] + ",extra", *ROWS[4:]])))


@pytest.mark.parametrize("value", ["1e19", "9007199254740993", "1e300"])
def test_a_count_beyond_exact_integers_is_refused_with_its_value(tmp_path: Path, value: str) -> None:
    text = TABLE.replace("NCT02658929,NCT02658929,bb2121,bb2121,24; 28,43,", f"NCT02658929,NCT02658929,bb2121,bb2121,24; 28,{value},")
    with pytest.raises(StudyDataError, match=rf"'{value}' is beyond the largest count read exactly") as error:
        load_studies(write(tmp_path, text))
    assert problems(error) == [("NCT02658929", "n_safety")]


def test_the_largest_exact_count_is_read_exactly() -> None:
    table = reader.Table(pd.DataFrame({"n": [str(2**53), "12.0", "7"]}), np.array([2, 3, 4]), Path("x.csv"), "test", "row")
    parsed = reader.counts(table, "n")
    assert list(parsed.values) == [2.0**53, 12.0, 7.0] and (parsed.errors == "").all()


def test_a_misspelt_or_doubled_column_and_a_stray_space(tmp_path: Path) -> None:
    header, *body = ROWS
    with pytest.raises(StudyDataError, match=r"unknown column \(did you mean 'neurotox_n'\?\)") as error:
        load_studies(write(tmp_path, "\n".join([header + ",neurotox_N", *(row + "," for row in body)])))
    assert problems(error) == [("(all)", "neurotox_N")]
    with pytest.raises(StudyDataError, match="the column appears twice"):
        load_studies(write(tmp_path, "\n".join([header + ",n_safety", *(row + ",43" for row in body)])))
    spaced = load_studies(write(tmp_path, "\n".join([header.replace("n_safety", "n_safety "), *body])))
    assert spaced.equals(load_studies())
    with pytest.raises(StudyDataError, match=r"unknown column \(the columns this file may have"):
        load_studies(write(tmp_path, "\n".join([header + ",my_notes", *(row + "," for row in body)])))


@pytest.mark.parametrize("loader, name", [(analysis.load_covariates, "covariates.csv"), (load_published, "published.csv")])
def test_other_files_are_read_with_the_same_care(tmp_path: Path, loader, name: str) -> None:
    original = (DATA_DIR / name).read_text(encoding="utf-8")
    for text, encoding, message in [
        ("", "utf-8", "the file is empty"),
        ("  \n", "utf-8", "the file is empty"),
        (original.replace(",", ";"), "utf-8", "does not look comma-separated"),
        (original + "Müller,é\n", "latin-1", "not UTF-8 text"),
    ]:
        with pytest.raises(InputError, match=message) as error:
            loader(write(tmp_path, text, name, encoding))
        assert str(tmp_path / name) in str(error.value) and not isinstance(error.value, StudyDataError)


def test_a_curve_folder_names_the_arm_and_column_of_a_bad_value(tmp_path: Path) -> None:
    from test_survival import lung_folder

    folder, arms, *_ = lung_folder(tmp_path)
    arms.assign(total_events=["about 20", 53]).to_csv(folder / "arms.csv", index=False)
    with pytest.raises(InputError, match=r"arm 'male', column 'total_events': arms.csv: 'about 20' is not a number"):
        analysis.inputs.load_curves(folder)


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    with path.open("w", encoding="utf-8") as out:  # a correct header over 50 MB of junk rows
        out.write(ROWS[0] + "\n")
        out.write(("x," * 40 + "\n") * (50 * 2**20 // 81))
    with pytest.raises(StudyDataError, match=r"the file is 50 MB; a study table is read up to 20 MB") as error:
        load_studies(path)
    assert problems(error) == [("(file)", "(all)")] and str(error.value).startswith(f"{path}: 1 problem")


def test_covariates_without_high_risk_groups_merge_without_a_warning(tmp_path: Path) -> None:
    covariates = pd.read_csv(DATA_DIR / "covariates.csv", dtype=str, keep_default_na=False)
    covariates[["high_risk_group", "high_risk_status", "high_risk_source", "high_risk_pct"]] = ""
    path = tmp_path / "covariates.csv"
    covariates.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        merged = analysis.with_covariates(load_studies().head(1), analysis.load_covariates(path))
    assert list(merged["high_risk"]) == ["ND"]


def test_extreme_sampling_variances_are_a_note_naming_the_studies_not_a_warning() -> None:
    studies = load_studies()
    studies.loc[0, ["n_safety", "crs_any"]] = [300_000_000, 150_000_000]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit, _ = analysis.review.try_pool(studies, "crs_any")
        sentence = analysis.text.fit_heterogeneity_sentence(fit)
        comparison = analysis.review.compare_subgroups(studies, "crs_any", "origin", exclude=["ND"])
        lesson = model_lesson(studies, "crs_any")
        diagnostics_lesson(lesson.rows, lesson.engine, subsets=200, seed=1)
        hksj_panel(studies, [("crs_any", None)])
    assert lesson.sentences["engine_notes"].startswith("The sampling variances span a factor of")
    assert sentence and any("sampling variances span a factor of" in note and studies.loc[0, "label"] in note
                            for note in fit.notes)
    assert any("sampling variances span" in note for note in comparison.result.notes)
    rows = analysis.outcome_rows(studies, "crs_any")
    with pytest.warns(analysis.meta.VarianceRatioWarning):  # the engine itself still warns, as metafor does
        analysis.pool_proportions(rows["events"], rows["n"])


def test_long_product_names_are_shortened_in_plots_without_a_warning() -> None:
    import matplotlib.pyplot as plt

    from analysis import plots

    studies = load_studies()
    studies["label"] = "A very long product name that no plot column can hold " * 2 + studies["study_id"]
    fit = analysis.pool_outcome(studies, "crs_any")
    rows = analysis.outcome_rows(studies, "crs_any")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for figure in (plots.forest_plot(fit), plots.baujat_plot(analysis.influence(rows["events"], rows["n"], labels=rows["label"]))):
            figure.savefig(io.BytesIO(), format="svg")
            drawn = [t.get_text() for ax in figure.axes for t in ax.texts]
            assert max(map(len, drawn)) <= plots.theme.MAX_LABEL + 2 or any("…" in t for t in drawn)
            plt.close(figure)


@pytest.mark.parametrize("row", range(1, len(ROWS)), ids=[r.split(",")[0] for r in ROWS[1:]])
def test_every_one_study_table_of_the_paper_runs_every_chapter_path(tmp_path: Path, row: int) -> None:
    """Each row of the paper's table alone is a valid table: every chapter's analyses run
    on it with warnings as errors (``make book`` on it is tested in test_build_inputs)."""
    from test_living import run_every_chapter_path

    path = write(tmp_path, "\n".join([ROWS[0], ROWS[row]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_every_chapter_path(load_studies(path), path, 0.05)


def test_the_shipped_tables_have_no_ragged_or_unknown_column() -> None:
    for path in [DATA_DIR / "studies.csv", DATA_DIR / "update" / "studies.csv"]:
        every = load_studies(path, sources="all")  # a cohort given twice is one row in each analysis
        rows = len(load_studies(path)) + int((~every["primary_source"]).sum())
        assert rows == len(path.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert (ROOT / "data" / "README.md").read_text(encoding="utf-8").count("`") > 0


def test_one_patient_cohorts_leave_the_glmm_out_of_the_coverage_lesson_with_a_sentence() -> None:
    from analysis.teaching.lessons import coverage_lesson, model_lesson

    studies = load_studies().head(4).assign(n_safety=1, n_response=1, crs_any=0, neurotox=[0, 1, 0, 1])
    lesson = model_lesson(studies, "neurotox")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coverage = coverage_lesson(studies, lesson.engine, 20, 1)
    assert "GLMM" not in set(coverage.table["method"])
    assert coverage.sentences["fairness"] == analysis.text.methods.unfitted_glmm_sentence()
    assert "the GLMM" not in coverage.sentences["findings"]


def test_hksj_on_a_one_cohort_subgroup_is_a_note_naming_it_not_a_warning() -> None:
    studies = analysis.with_covariates(load_studies())
    group = "retroviral"
    lone = studies.index[(studies["loading"] == group) & studies["cr"].notna()]
    studies = studies.drop(index=lone[1:])  # one cohort of the retroviral group left
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hksj = analysis.review.paper_comparison(studies, "cr", "loading", ci="hksj")
        normal = analysis.review.paper_comparison(studies, "cr", "loading")
        answer = exercises.hksj_verdict(hksj, normal)
    note = analysis.text.phrasing.hksj_fallback_note([group])
    assert note in hksj.result.notes and analysis.text.group_label(group) in note and note in answer.text
    with pytest.warns(analysis.meta.HKSJFallbackWarning):  # the engine itself warns, as metafor does
        analysis.subgroup_analysis([1, 2, 3], [5, 5, 5], ["a", "a", "b"], ci="hksj")


def test_the_engine_refuses_a_sample_size_beyond_exact_integers_instead_of_overflowing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way
        with pytest.raises(ValueError, match=r"study 2: n must be at most 2\*\*53.*n=1e\+300"):
            analysis.pool_proportions([3, 1e299], [10, 1e300])
    with pytest.warns(analysis.meta.VarianceRatioWarning):  # the largest n pooled: metafor's warning, no overflow
        assert analysis.pool_proportions([3, 2**52], [10, 2**53]).k == 2
