"""Figures carry what they claim: one marker per study, the pooled diamond, labels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import analysis  # noqa: E402
from analysis import plots  # noqa: E402

STUDIES = analysis.load_studies()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_forest_plot_has_every_study_and_the_pooled_result() -> None:
    result = analysis.pool_outcome(STUDIES, "crs_any")
    fig = plots.forest_plot(result, title="CRS")
    labels = texts(fig)
    for study in result.studies.itertuples():
        assert study.study in labels
        assert f"{study.events}/{study.n}" in labels
    assert any(label.startswith("Random-effects model (k = 27)") for label in labels)
    assert any(f"{100 * result.estimate:5.1f}" in label for label in labels)
    middle = fig.axes[1]
    assert len(middle.patches) == 1  # the diamond
    squares = [line for line in middle.lines if line.get_marker() == "s"]
    assert len(squares) == result.k


def test_subgroup_forest_plot_shows_each_subgroup_and_the_test() -> None:
    result = analysis.subgroup_outcome(STUDIES, "neurotox", "costim", exclude=["ND"])
    fig = plots.subgroup_forest_plot(result, title="by co-stimulation")
    labels = texts(fig)
    assert {"4-1BB", "CD28"} <= set(labels)
    assert any(label.startswith("Test for subgroup differences: Q = ") for label in labels)
    assert len(fig.axes[1].patches) == 2


def test_glmm_forest_plot_has_no_weights() -> None:
    result = analysis.pool_outcome(STUDIES, "cr", method="glmm")
    fig = plots.forest_plot(result)
    assert not any(label.endswith("%") and label[0].isdigit() for label in texts(fig) if "[" not in label)


def test_funnel_baujat_and_gosh_plots() -> None:
    rows = analysis.outcome_rows(STUDIES, "cr")
    result = analysis.pool_outcome(STUDIES, "cr")
    funnel = plots.funnel_plot(result)
    offsets = funnel.axes[0].collections[-1].get_offsets()
    assert len(offsets) == result.k
    assert funnel.axes[0].get_ylim()[0] > funnel.axes[0].get_ylim()[1]  # se axis inverted
    table = analysis.influence(rows["events"], rows["n"], labels=rows["label"])
    baujat = plots.baujat_plot(table, label_top=3)
    assert len(baujat.axes[0].texts) == 3
    result_gosh = analysis.gosh(rows["events"], rows["n"], subsets=5_000, seed=1)
    figure = plots.gosh_plot(result_gosh, max_points=1_000)
    assert len(figure.axes[0].collections[0].get_offsets()) == 1_000
    assert np.isfinite(figure.axes[0].collections[0].get_offsets()).all()


def test_subgroup_editions_plot_has_a_panel_per_comparison_and_says_what_is_missing() -> None:
    from analysis import text
    from analysis.review import editions

    one_origin = STUDIES[STUDIES["origin"] == "human"]
    table = editions.subgroup_side_by_side({"2020 table": STUDIES, "human only": one_origin},
                                           analyses=[("crs_any", "origin"), ("neurotox", "costim")])
    titles = {key: f"{text.OUTCOME_LABELS[key[0]]} by {text.FACTOR_LABELS[key[1]]}" for key in
              [("crs_any", "origin"), ("neurotox", "costim")]}
    fig = plots.subgroup_editions_plot(table, titles=titles, labels=text.GROUP_LABELS)
    assert len(fig.axes) == 2
    first = fig.axes[0].get_title(loc="left")
    p = table[(table["outcome"] == "crs_any") & (table["edition"] == "2020 table")]["p"].iloc[0]
    assert f"2020 table: {text.p_value(p)}" in first and "human only: no comparison" in first
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(ticks) == ["camelid binders", "human(ized) binders", "murine binders"]
    # A point per origin from the full table; none from the table that cannot compare.
    points = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert sum(np.isfinite(np.asarray(line.get_xdata(), dtype=float)).sum() for line in points) == 3


def test_imputed_zeros_and_inferred_groups_are_marked_and_explained() -> None:
    from analysis.review.outcomes import compare_subgroups, forest_marks
    from analysis.text.labels import MARK_NOTES

    raw = pd.read_csv(analysis.inputs.DATA_DIR / "studies.csv", dtype=str, keep_default_na=False)
    blank = set(raw.loc[raw["neurotox_pct"].str.strip() == "", "study_id"])
    assert len(blank) == 11  # the paper's table leaves neurotoxicity blank for 11 cohorts
    marks = forest_marks(STUDIES, "neurotox")
    labelled = STUDIES.set_index("label")["study_id"]
    assert {labelled[label] for label, mark in marks.items() if "†" in mark} == blank
    fig = plots.forest_plot(analysis.pool_outcome(STUDIES, "neurotox"), marks=marks)
    labels = texts(fig)
    assert sum(label.endswith(" †") for label in labels) == 11
    assert f"† {MARK_NOTES['†']}" in labels and f"‡ {MARK_NOTES['‡']}" not in labels
    # a cohort that printed only grade >= 3 CRS has an any-grade count that rests on an assumed zero
    only_severe = raw[(raw["crs_g12_pct"].str.strip() == "") & (raw["crs_g3_pct"].str.strip() != "")]["study_id"]
    crs = forest_marks(STUDIES, "crs_any")
    assert set(only_severe) <= {labelled[label] for label in crs}
    # subgroups by an inferred covariate mark the inferred cohorts
    with_age = analysis.with_covariates(STUDIES)
    comparison = compare_subgroups(with_age, "neurotox", "age", exclude=["ND"])
    inferred = set(with_age.loc[(with_age["age_status"] == "inferred") & with_age["neurotox"].notna(), "label"])
    assert {label for label, mark in comparison.marks.items() if "‡" in mark} == inferred
    fig = plots.subgroup_forest_plot(comparison.result, marks=comparison.marks)
    assert f"‡ {MARK_NOTES['‡']}" in texts(fig)
    assert forest_marks(STUDIES, "orr", by="no such column") == forest_marks(STUDIES, "orr")


def test_forest_plots_of_a_large_table_draw_the_largest_studies_and_say_so(tmp_path) -> None:
    from conftest import large_table

    path = tmp_path / "large.csv"
    large_table(200, seed=3).to_csv(path, index=False)
    studies = analysis.load_studies(path)
    result = analysis.pool_outcome(studies, "neurotox")
    fig = plots.forest_plot(result)
    squares = [line for line in fig.axes[1].lines if line.get_marker() == "s"]
    assert result.k > plots.MAX_STUDY_ROWS and len(squares) == plots.MAX_STUDY_ROWS
    heaviest = result.studies.nlargest(plots.MAX_STUDY_ROWS, "weight")["study"]
    assert set(heaviest) <= set(texts(fig))
    hidden = result.k - plots.MAX_STUDY_ROWS
    assert any(f"and {hidden} more cohorts with smaller weights, not drawn (the pooled result uses all {result.k})" in label
               for label in texts(fig))
    assert any(label.startswith(f"Random-effects model (k = {result.k})") for label in texts(fig))

    groups = analysis.subgroup_outcome(studies, "neurotox", "costim", exclude=["ND"])
    fig = plots.subgroup_forest_plot(groups)
    squares = [line for line in fig.axes[1].lines if line.get_marker() == "s"]
    assert len(squares) <= plots.MAX_STUDY_ROWS + 3 * len(groups.groups)
    assert sum("not drawn" in label for label in texts(fig)) == len(groups.groups)

    rows = analysis.outcome_rows(studies, "neurotox")
    l1o = analysis.leave_one_out(rows["events"], rows["n"], labels=rows["label"])
    fig = plots.leave_one_out_plot(l1o, result)
    assert sum(label in set(l1o["study"]) for label in texts(fig)) == plots.MAX_STUDY_ROWS
    assert any("more cohorts whose omission moves the pooled rate less" in label for label in texts(fig))
