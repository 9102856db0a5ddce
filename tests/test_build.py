"""Build smoke tests: every chapter executes cleanly and renders; failures stop the build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import MYST_HEADER, ROOT, chapters, script

run_chapter = script("run_chapter")


def test_every_chapter_renders_without_errors(built_book: Path) -> None:
    for chapter in chapters():
        page = (built_book / "book" / f"{chapter}.html").read_text()
        text = re.sub(r"<[^>]+>", " ", page)
        assert "Traceback" not in text, chapter
        assert "{glue" not in page, f"{chapter}: unresolved glue role"
        assert "np.float64" not in page and "np.int64" not in page, f"{chapter}: numpy scalar glued"


def test_toxicity_prose_shows_the_computed_numbers(built_book: Path) -> None:
    import analysis

    crs = analysis.pool_outcome(analysis.load_studies(), "crs_any").summary()
    page = (built_book / "book" / "toxicity.html").read_text()
    assert f"{crs['estimate']:.1f}" in page
    assert f"{crs['ci_low']:.1f}" in page
    assert page.count("<img") >= 6  # the forest plots


def test_exercise_solutions_and_simulation_run_in_the_build(built_book: Path) -> None:
    executed = built_book.parent / "executed" / "book"
    methods = json.loads((executed / "methods.ipynb").read_text())
    glued = {
        output["metadata"]["scrapbook"]["name"]: output["data"]["application/papermill.record/text/plain"]
        for cell in methods["cells"]
        for output in cell.get("outputs", [])
        if output.get("metadata", {}).get("scrapbook")
    }
    assert float(glued["sim_seconds"].strip("'")) < 30
    page = (built_book / "book" / "methods.html").read_text()
    assert "Exercise 1" in page and "toggle" in page.lower()


def test_cell_errors_and_stderr_are_problems() -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output("stream", name="stdout", text="fine")])
    warned = nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("stream", name="stderr", text="UserWarning: x")])
    failed = nbformat.v4.new_code_cell("f", outputs=[nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])])
    nb.cells = [ok, warned, failed]
    problems = run_chapter.problems_in(nb)
    assert problems == ["cell 1 wrote to stderr: UserWarning: x", "cell 2: ValueError: bad"]


CHAPTER = MYST_HEADER + """
# Probe

```{{code-cell}} ipython3
:tags: [parameters]

studies_path = None
published_path = None
```

```{{code-cell}} ipython3
{body}
```
"""


def probe(tmp_path: Path, body: str, data: Path | None = None) -> Path:
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "probe.md").write_text(CHAPTER.format(body=body))
    return run_chapter.run(
        "probe", data or ROOT / "data" / "studies.csv", ROOT / "data" / "published.csv", tmp_path / "_build", book
    )


def test_a_warning_fails_the_chapter(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="wrote to stderr: .*UserWarning: careful"):
        probe(tmp_path, "import warnings\nwarnings.warn('careful')")
    assert not (tmp_path / "_build" / "executed" / "book" / "probe.ipynb").exists()


def test_bad_data_fails_the_chapter_naming_study_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "studies.csv"
    text = (ROOT / "data" / "studies.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("NCT03093168,NCT03093168,HRAIN BCMA-CART,HRAIN BCMA-CART,53,49", "NCT03093168,NCT03093168,HRAIN BCMA-CART,HRAIN BCMA-CART,53,-49"), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"(?s)StudyDataError.*study 'NCT03093168', column 'n_safety'"):
        probe(tmp_path, "import analysis\nanalysis.load_studies(studies_path)", data=bad)


def test_parameters_reach_the_chapter(tmp_path: Path) -> None:
    import nbformat

    executed = probe(tmp_path, "print(studies_path)")
    nb = nbformat.read(executed, as_version=4)
    assert str(ROOT / "data" / "studies.csv") in nb.cells[-1]["outputs"][0]["text"]


def test_figures_are_displayed_once_each_and_drawn_only_for_display(tmp_path: Path) -> None:
    """The build's kernels drop pyplot's after-cell redraw (run_chapter.KERNEL_STARTUP):
    every figure a cell makes is still displayed, once, and only displaying draws it."""
    import nbformat

    body = (
        "import matplotlib.pyplot as plt\n"
        "draws = []\n"
        "for i in range(2):\n"
        "    fig, ax = plt.subplots()\n"
        "    ax.plot([0, i])\n"
        "    fig.canvas.mpl_connect('draw_event', lambda event: draws.append(1))"
    )
    executed = probe(tmp_path, body + "\n```\n\n```{code-cell} ipython3\nprint(len(draws))")
    cells = nbformat.read(executed, as_version=4).cells
    images = [o for o in cells[-2]["outputs"] if "image/svg+xml" in o.get("data", {})]
    assert len(images) == 2
    # Displaying a figure draws it once (no "tight" bounding box, which would measure it with
    # a second drawing); pyplot's after-cell redraw would add another drawing of each.
    assert int(cells[-1]["outputs"][0]["text"]) == 2
