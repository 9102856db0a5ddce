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
