"""User text is shown escaped and written defused: the guards of ``analysis.safety`` and
where the book uses them (result CSVs, tables, plots, error messages, the chapter check)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402

import analysis  # noqa: E402
from analysis import plots  # noqa: E402
from analysis.book import safety  # noqa: E402
from analysis.text import quoting  # noqa: E402
from analysis.book import save_results, show_note  # noqa: E402
from conftest import ROOT, script  # noqa: E402
from hostile import FORMULA, HARMLESS, SCRIPT, formula_cells, hostile_inputs  # noqa: E402

# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*FORMULA, "=1+1", "+x", "-x", "@x", "\t=1", "\r=1", "-2+3", "=-1", "--1"])
def test_formula_text_gets_a_leading_quote(text: str) -> None:
    assert safety.defuse_formula(text) == "'" + text


@pytest.mark.parametrize("value", [-1, -2.5, -0.0, -math.inf, 3, 0.0, "-2.5", "+3", "-1e-05", "1e5", "-inf", "nan",
                                   "", "ok", "'=already", "a=b", " =1", "伊基奥仑赛", None, True])
def test_numbers_and_plain_text_are_unchanged(value: object) -> None:
    assert safety.defuse_formula(value) is value


def test_nan_is_unchanged() -> None:
    assert math.isnan(safety.defuse_formula(float("nan")))
    assert safety.defuse_formula(pd.NA) is pd.NA


def test_defuse_formulas_covers_cells_index_and_headers_and_keeps_numbers() -> None:
    table = pd.DataFrame(
        {
            "=HYPERLINK(1)": ["=1+1", "-2+3", "-2.5", "ok", np.nan, 5, -3.0],  # mixed types
            "n": [-1, -2, 3, 4, 5, 6, 7],
            "rate": [-0.5, np.nan, 1.0, -np.inf, 2.0, 3.0, 4.0],
            "group": pd.Categorical(["@x", "b", "b", "b", "b", "b", "b"]),
            "text": pd.array(["+1+1", "a", "b", "c", "d", "e", None], dtype="string"),
        },
        index=pd.Index(["+i", "j", "k", "l", "m", "n", "o"], name="@name"),
    )
    original = table.copy()
    safe = safety.defuse_formulas(table)
    pd.testing.assert_frame_equal(table, original)  # the input is not changed
    assert list(safe.columns) == ["'=HYPERLINK(1)", "n", "rate", "group", "text"]
    assert list(safe.index) == ["'+i", *"jklmno"] and safe.index.name == "'@name"
    assert safe.iloc[:4, 0].tolist() == ["'=1+1", "'-2+3", "-2.5", "ok"]
    assert np.isnan(safe.iloc[4, 0]) and safe.iloc[5, 0] == 5 and safe.iloc[6, 0] == -3.0
    assert safe["n"].dtype == table["n"].dtype and safe["n"].tolist() == table["n"].tolist()
    np.testing.assert_array_equal(safe["rate"].to_numpy(), table["rate"].to_numpy())
    assert safe["rate"].dtype == table["rate"].dtype
    assert safe["group"].iloc[0] == "'@x" and safe["text"].iloc[0] == "'+1+1"


def test_defuse_formulas_on_a_multiindex_and_a_series() -> None:
    table = pd.DataFrame({"v": [1, -2]}, index=pd.MultiIndex.from_tuples([("=a", "x"), ("b", "-1")], names=["=l", None]))
    safe = safety.defuse_formulas(table)
    assert list(safe.index) == [("'=a", "x"), ("b", "-1")] and list(safe.index.names) == ["'=l", None]
    series = safety.defuse_formulas(pd.Series([1.0, -2.0], name="=s", index=["@a", "b"]))
    assert list(series.columns) == ["'=s"] and list(series.index) == ["'@a", "b"] and series.iloc[:, 0].tolist() == [1.0, -2.0]


def test_write_csv_and_save_results_write_no_formula(tmp_path: Path) -> None:
    table = pd.DataFrame({"study": FORMULA + SCRIPT[:1], "estimate": [-1.5, 2.0, -0.25, 3.0, -4.0, 0.5]})
    unguarded = tmp_path / "plain.csv"
    table.to_csv(unguarded, index=False)
    assert formula_cells(unguarded)  # what pandas alone writes
    path = safety.write_csv(table, tmp_path / "safe.csv")
    assert formula_cells(path) == []
    back = pd.read_csv(path)
    assert back["estimate"].tolist() == table["estimate"].tolist()  # numbers stay numbers
    assert back["study"].tolist() == ["'" + f for f in FORMULA] + SCRIPT[:1]
    indexed = table.set_index("study")
    for written in save_results(tmp_path, "chapter", indexed=indexed, plain=table):
        assert formula_cells(written) == []
    assert pd.read_csv(tmp_path / "results" / "chapter" / "indexed.csv")["study"].iloc[0] == "'" + FORMULA[0]


# --- HTML -----------------------------------------------------------------------------------

HOSTILE_FRAME = pd.DataFrame({SCRIPT[0]: [SCRIPT[1], "A<B & C"], "n": [1, 2]}, index=pd.Index([SCRIPT[2], "b"], name=SCRIPT[5]))


@pytest.mark.parametrize("markup", [
    "<script>x()</script>", '<img src=x onerror="x()">', '"><svg onload=x()>', "<iframe srcdoc='x'></iframe>",
    "<details open ontoggle=x()>", "<a href=' java\tscript:x()'>a</a>", "<a href='data:text/html,x'>a</a>",
    "<object data=x></object>", "<td onmouseover=x()>", "<math><mi xlink:href=x>",
])
def test_unsafe_markup_finds_what_could_run_script(markup: str) -> None:
    assert safety.unsafe_markup(markup)


def test_tables_and_notes_are_safe_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    assert safety.unsafe_markup(HOSTILE_FRAME._repr_html_()) == []  # DataFrame reprs escape
    assert safety.unsafe_markup(HOSTILE_FRAME[["n"]].style.format(escape="html").hide(axis="index").to_html()) == []
    assert safety.unsafe_markup('<a href="toxicity.html#crs">x</a><a href="https://doi.org/x">y</a>') == []
    shown = []
    monkeypatch.setattr("analysis.book.notes.display", lambda obj: shown.append(obj.data))
    show_note(f"{SCRIPT[0]} cannot be pooled")
    assert safety.unsafe_markup(shown[0]) == [] and "&lt;img" in shown[0]


def test_styler_headers_index_names_and_caption_are_escaped() -> None:
    styler = HOSTILE_FRAME.style.format(escape="html").set_caption(SCRIPT[1])
    assert safety.unsafe_markup(styler.to_html())  # pandas escapes cells only
    markup = safety.safe_styler_html(styler)
    assert safety.unsafe_markup(markup) == []
    for text in (SCRIPT[0], SCRIPT[1], SCRIPT[2], SCRIPT[5]):
        assert text.replace("<", "&lt;").replace(">", "&gt;")[:12] in markup.replace("&#34;", '"').replace("&quot;", '"')
    assert "A&lt;B &amp; C" in markup
    assert safety.unsafe_markup(styler.to_html())  # the styler itself is unchanged


def test_a_kernel_that_imports_the_book_helpers_escapes_every_styler(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shell:
        display_formatter = DisplayFormatter()

    monkeypatch.setattr(safety, "get_ipython", lambda: Shell)
    with pd.option_context("styler.format.escape", None):
        safety.escape_html_output()
        # No .format(escape=...) at all: the option escapes the cells, the formatter the headers.
        data, _ = Shell.display_formatter.format(HOSTILE_FRAME.style)
        assert safety.unsafe_markup(data["text/html"]) == []
        assert pd.get_option("styler.format.escape") == "html"


def test_the_chapter_check_refuses_html_that_runs_script() -> None:
    run_chapter = script("run_chapter")
    notebook = nbformat.v4.new_notebook()
    escaped = nbformat.v4.new_output("display_data", data={"text/html": safety.safe_styler_html(HOSTILE_FRAME.style)})
    notebook.cells = [nbformat.v4.new_code_cell(outputs=[escaped])]
    assert run_chapter.problems_in(notebook) == []
    raw = nbformat.v4.new_output("display_data", data={"text/html": f"<p>{SCRIPT[0]}</p>"})
    glued = nbformat.v4.new_output("display_data", data={"application/papermill.record/text/markdown": SCRIPT[1]})
    js = nbformat.v4.new_output("display_data", data={"application/javascript": "x()"})
    link = nbformat.v4.new_output("display_data", data={"text/markdown": "Read [the data](javascript:x()): data: 5 cohorts"})
    notebook.cells = [nbformat.v4.new_code_cell(outputs=[raw]), nbformat.v4.new_code_cell(outputs=[glued, js, link])]
    problems = run_chapter.problems_in(notebook)
    assert len(problems) == 4
    assert problems[0].startswith("cell 0 shows text/html") and "onerror= attribute on <img>" in problems[0]
    assert "<script> element" in problems[1] and "application/javascript" in problems[2]
    assert "javascript: link" in problems[3]


def test_the_chapter_check_caps_errors_and_writes_out_control_characters() -> None:
    run_chapter = script("run_chapter")
    notebook = nbformat.v4.new_notebook()
    error = nbformat.v4.new_output("error", ename="StudyDataError", evalue="\x1b[2J" + "x" * 100_000, traceback=[])
    stderr = nbformat.v4.new_output("stream", name="stderr", text="\x1b]0;title\x07" + "y" * 10_000)
    notebook.cells = [nbformat.v4.new_code_cell(outputs=[error, stderr])]
    problems = run_chapter.problems_in(notebook)
    assert all("\x1b" not in p and "\x07" not in p for p in problems)
    assert "\\x1b[2J" in problems[0] and len(problems[0]) < run_chapter.MAX_ERROR + 100
    assert "(100,004 characters)" in problems[0] and len(problems[1]) < 600


# --- error messages -------------------------------------------------------------------------


def test_a_study_table_error_quotes_hostile_names_capped_and_inert(tmp_path: Path) -> None:
    table = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False)
    table = pd.concat([table] * 4, ignore_index=True)
    long_name = SCRIPT[1] + "\x1b[2J\x1b]0;pwned\x07" + "x" * 20_000
    table["study_id"] = [f"{long_name}{i}" for i in range(len(table))]
    table["binder"] = "Martian " + "y" * 20_000  # an unknown origin, quoted in every problem
    table.loc[0, "n_safety"] = "=cmd|' /C calc'!A0"
    path = tmp_path / "hostile.csv"
    table.to_csv(path, index=False)
    with pytest.raises(analysis.StudyDataError) as caught:
        analysis.load_studies(path)
    message = str(caught.value)
    assert len(caught.value.problems) > analysis.inputs.MAX_REPORTED
    assert "\x1b" not in message and "\x07" not in message and "\\x1b[2J" in message
    lines = message.splitlines()
    assert len(lines) == 1 + analysis.inputs.MAX_REPORTED + 1 and lines[-1].startswith("  … and ")
    assert max(len(line) for line in lines) < 2 * quoting.MAX_SHOWN + analysis.inputs.errors.MAX_MESSAGE + 100
    assert len(message) < 40_000
    assert """"=cmd|' /C calc'!A0" is not a number""" in message
    assert re.search(r"… \(20,0\d\d characters\)", message)


def test_the_loader_keeps_unusual_names_as_written(tmp_path: Path) -> None:
    inputs = hostile_inputs(tmp_path)
    studies = analysis.load_studies(inputs.studies)
    raw = pd.read_csv(inputs.studies, dtype=str, keep_default_na=False)
    for column in ("study_id", "product", "car_product", "registration", "refs", "conditioning", "phase", "source", "dose"):
        assert studies[column].tolist() == raw[column].tolist()
    assert set(HARMLESS) <= set(studies["product"]) and set(SCRIPT + FORMULA) <= set(studies["study_id"])
    assert studies["origin_published"].str.contains("<script>").any()
    analysis.load_covariates(inputs.covariates, studies)


# --- plots ----------------------------------------------------------------------------------


def test_plot_labels_are_drawn_literally() -> None:
    assert plots.drawable("$\\href{javascript:x}{y}$") == "\\$\\href{javascript:x}{y}\\$"
    studies = analysis.load_studies()
    studies.loc[:, "label"] = [SCRIPT[7], "US$ 5 $", "A<B & C", "$x^2$"] + list(studies["label"].iloc[4:])
    figure = plots.forest_plot(analysis.pool_outcome(studies, "crs_any"), title="CRS")
    figure.canvas.draw()  # mathtext would fail to parse \href
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert plots.drawable(SCRIPT[7]) in texts and plots.drawable("$x^2$") in texts
    plt.close("all")


def test_chapters_glue_text_never_markdown() -> None:
    # {glue:md} would read Markdown (and raw HTML) in a glued value; glue:text is a text node.
    for chapter in sorted((ROOT / "book").glob("*.md")):
        source = chapter.read_text(encoding="utf-8")
        assert "glue:md" not in source, chapter.name
        assert "myst_nb import glue" not in source, f"{chapter.name}: glue through analysis.book.glue (text and numbers only)"
