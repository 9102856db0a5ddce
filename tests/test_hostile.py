"""A hostile study table builds a safe book: every chapter, from the paper's tables with
script and formula payloads in every text column the loaders accept (``hostile.py``),
runs no injected script in headless Chromium and writes no formula into its CSVs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import build_book, script
from hostile import FORMULA, HARMLESS, SCRIPT, formula_cells, hostile_inputs

check_html = script("check_html")

_PWNED = "return [typeof window.__pwned === 'undefined' ? null : String(window.__pwned), window.__dialogs || []];"


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    inputs = hostile_inputs(folder / "inputs")
    return build_book(folder / "_build", data=inputs.studies, published=inputs.published, curves=inputs.curves,
                      covariates=inputs.covariates)


def test_no_injected_script_runs_in_any_page(hostile_book: Path) -> None:
    from selenium.common.exceptions import UnexpectedAlertPresentException

    # check_html's browser records alert(), confirm() and prompt() calls in window.__dialogs.
    pages = sorted(p.relative_to(hostile_book).as_posix() for p in hostile_book.rglob("*.html")
                   if not p.relative_to(hostile_book).parts[0].startswith("_"))
    # The search page lists matching pages with snippets of their text.
    pages += ["search.html?q=pwned", "search.html?q=img", "search.html?q=HYPERLINK"]
    ran = []
    texts = {}
    with check_html.serve(hostile_book) as base, check_html.browser() as driver:
        for relative in pages:
            try:
                driver.get(base + relative)
                time.sleep(1.0 if "?" in relative else 0.3)  # late events: search results, onerror, ontoggle
                pwned, dialogs = driver.execute_script(_PWNED)
                texts[relative] = driver.execute_script("return document.body.innerText;")
            except UnexpectedAlertPresentException as exc:
                ran.append(f"{relative}: an alert opened ({exc.alert_text})")
                continue
            if pwned is not None:
                ran.append(f"{relative}: window.__pwned = {pwned}")
            ran += [f"{relative}: {dialog}" for dialog in dialogs]
    assert ran == []
    # The payloads are shown as the text they are, not dropped.
    everything = "\n".join(texts.values())
    for text in [SCRIPT[1], *HARMLESS, FORMULA[1]]:
        assert text in everything, text
    # And the page check passes on what concerns safety: console errors, images, cell
    # errors, script markup in the content, dialogs (its wording and layout checks are for
    # real tables, not for names made of markup).
    layout = ("code name", "wider than the screen", "without cell padding", *check_html.LAYOUT_PROBLEMS)
    assert [p for p in check_html.check_site(hostile_book) if not any(word in p for word in layout)] == []


def test_no_csv_holds_a_formula(hostile_book: Path) -> None:
    build = hostile_book.parent
    files = sorted(build.rglob("*.csv"))
    assert any(path.parts[-3] == "results" for path in files)
    found = {str(path.relative_to(build)): formula_cells(path) for path in files}
    assert {name: cells for name, cells in found.items() if cells} == {}
    arms = (build / "results" / "pfs" / "arms.csv").read_text(encoding="utf-8")
    assert "'=arm1" in arms and "'=cmd|' /C calc'!A0" in arms  # the payloads are there, defused
