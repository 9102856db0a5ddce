"""The rendered book in a real browser (headless Chromium): every page clean."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, script

check_html = script("check_html")


def test_every_page_is_clean_in_chromium(built_book: Path) -> None:
    screenshots = ROOT / "_build" / "screenshots"
    problems = check_html.check_site(built_book, screenshots)
    assert problems == []
    pages = {p.stem for p in screenshots.glob("book_*.png")}
    assert {f"book_{c}" for c in ("intro", "methods", "toxicity", "response", "pfs", "discussion")} <= pages


def test_a_broken_image_and_link_fail_the_check(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "page.html").write_text(
        "<html><body><p>fine text</p><img src='missing.png'><a href='nowhere.html'>x</a>"
        "<div class='output stderr'>UserWarning: careful</div></body></html>"
    )
    problems = check_html.check_site(site)
    assert any("image does not load: missing.png" in p for p in problems)
    assert any("broken internal link nowhere.html" in p for p in problems)
    assert any("stderr shown" in p for p in problems)


def test_a_console_error_and_raw_glue_fail_the_check(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "page.html").write_text("<html><body><p>{glue:text}`x`</p><script>undefinedFunction();</script></body></html>")
    problems = check_html.check_site(site)
    assert any("console error" in p for p in problems)
    assert any("glued value is missing" in p for p in problems)


def test_an_unpadded_table_and_a_page_wider_than_a_phone_fail_the_check(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "table.html").write_text(
        "<html><body><table style='border-collapse:collapse'><tr><td style='padding:0'>21</td>"
        "<td style='padding:0'>-2.25</td></tr></table></body></html>")
    (site / "wide.html").write_text("<html><body><div style='width:900px'>a wide block</div></body></html>")
    (site / "names.html").write_text(
        "<html><body><article><table><tr><th style='padding:4px'>ci_low</th><th style='padding:4px'>Estimate (%)</th></tr>"
        "</table><p>the 150-800 ci_low limit, and <code>analysis.pool_outcome</code> is fine</p></article></body></html>")
    (site / "fine.html").write_text(
        "<html><body><div style='overflow-x:auto'><table><tr><td style='padding:4px 8px'>21</td></tr></table>"
        "<div style='width:900px'>scrolls in its own box</div></div></body></html>")
    # (the bare test pages have no favicon: the browser's 404 for it is not what is tested here)
    problems = [p for p in check_html.check_site(site) if "favicon.ico" not in p]
    assert any(p.startswith("table.html: table without cell padding") for p in problems)
    assert any(p.startswith("wide.html: page is") and "wider than the screen at 420 px" in p for p in problems)
    assert not any(p.startswith("fine.html") for p in problems), problems
    names = [p for p in problems if p.startswith("names.html")]
    assert names == ["names.html: code name as a table header: 'ci_low'", "names.html: code name in the prose: 'ci_low'"]


def test_a_clipped_table_and_a_one_word_per_line_column_fail_the_check(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "clipped.html").write_text(
        "<html><body><article style='width:600px'><div style='overflow-x:auto'>"
        "<table style='width:1500px'><tr><td style='padding:4px'>weights of the methods step table</td></tr></table>"
        "</div></article></body></html>")
    (site / "narrow.html").write_text(
        "<html><body><article><table><tr><td style='padding:4px;width:20px;max-width:20px'>"
        "a note column that wraps word by word</td><td style='padding:4px'>x</td></tr></table></article></body></html>")
    (site / "fits.html").write_text(
        "<html><body><article><div style='overflow-x:auto'><table><tr>"
        "<td style='padding:4px'>a note that fits on one line</td></tr></table></div></article></body></html>")
    problems = [p for p in check_html.check_site(site) if "favicon.ico" not in p]
    assert any(p.startswith("clipped.html: table clipped at desktop width") for p in problems)
    assert any(p.startswith("narrow.html: a column one word per line") for p in problems)
    assert not any(p.startswith("fits.html") for p in problems), problems
