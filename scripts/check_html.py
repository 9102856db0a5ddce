"""Open every page of the rendered book in headless Chromium and check it.

    python scripts/check_html.py [_build/html] [--screenshots _build/screenshots]

The site is served on 127.0.0.1 (a free port) and each page is loaded in Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by selenium). A page fails if
the browser console logs an error, an image does not load, a cell error or traceback
shows, a glued value is missing, an internal link points nowhere, a table's cells have no
padding, a table header or a sentence shows a code name (``ci_low``) instead of words,
a table is wider than the box that shows it at desktop width (its right-hand columns
cut off), a column stands one word per line, -- at a phone's width of 420 px -- the page
is wider than the screen or a column stands one word per line, or the chapter's
content holds markup that runs script (a script, frame or object element, an ``on…=``
handler, a ``javascript:`` link: text from the study table shown unescaped) or a
script on it opens a dialog (``alert``). A screenshot of every page is saved, at
desktop and at phone width. Exit status 1 lists every problem.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Flags for a closed network (see the machine notes): no background connections.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1300,2000",
]
_IMAGES = "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));"
_LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));"
# Script-running markup in the chapter's own content (the theme's scripts sit outside it).
_INJECTED = """
const found = new Set();
for (const el of document.querySelectorAll('article section *')) {
  const tag = el.tagName.toLowerCase();
  if (['script', 'iframe', 'frame', 'object', 'embed', 'base', 'meta', 'form'].includes(tag)) found.add('<' + tag + '> element');
  for (const a of el.attributes) {
    const url = a.value.replace(/[\\s\\u0000-\\u001f]/g, '');
    if (a.name.startsWith('on')) found.add(a.name + '= attribute on <' + tag + '>');
    else if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(a.name) && /^(javascript|vbscript):/i.test(url)) found.add(a.name + '=' + url.slice(0, 30) + ' on <' + tag + '>');
    else if (['href', 'action', 'formaction', 'xlink:href'].includes(a.name) && /^data:/i.test(url)) found.add(a.name + '=data: on <' + tag + '>');
  }
}
return Array.from(found);
"""
# Run before any page script: a dialog a page opens is recorded (and reported), not shown.
_RECORD_DIALOGS = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt']) {
  window[name] = (message) => { window.__dialogs.push(name + '(' + String(message).slice(0, 60) + ')'); };
}
"""
_ERRORS = (
    "return Array.from(document.querySelectorAll('.output.error, .output.traceback, .output.stderr, "
    "div.cell_output .stderr')).map(e => e.innerText.slice(0, 200));"
)

# Tables whose cells have (almost) no horizontal padding: their columns run together.
_UNPADDED = (
    "return Array.from(document.querySelectorAll('table')).filter(t => {"
    " const cell = t.querySelector('td, th'); if (!cell) return false;"
    " const s = getComputedStyle(cell); return parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) < 4;"
    "}).map(t => (t.innerText || '').slice(0, 60));"
)
# Code names where a reader should see words: a table header that is a bare lower-case
# identifier ("estimate", "ci_low"), or a snake_case word in the prose (code spans aside).
_CODE_HEADERS = (
    "return Array.from(document.querySelectorAll('table th')).map(th => th.innerText.trim())"
    ".filter(text => /^[a-z][a-z0-9_*^|]*$/.test(text) && text.length > 1);"
)
_CODE_PROSE = (
    "return Array.from(document.querySelectorAll('article p, article li, article td, article figcaption')).map(e => {"
    " const c = e.cloneNode(true); c.querySelectorAll('code, pre, .math, mjx-container, a.reference.external')"
    ".forEach(x => x.remove());"
    " return (c.innerText.match(/(^|[\\s(])[a-z][a-z0-9]*_[a-z0-9_]+(?=[\\s,.;:)]|$)/g) || []).map(s => s.trim());"
    "}).flat();"
)
_OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
# Tables wider than the box that shows them: their right-hand columns are cut off until the
# reader scrolls sideways (checked at desktop width, where nothing should need it).
_CLIPPED = (
    "return Array.from(document.querySelectorAll('article table')).filter(t => {"
    " let box = t.parentElement;"
    " while (box && box.tagName !== 'ARTICLE' && !['auto', 'scroll', 'hidden'].includes(getComputedStyle(box).overflowX))"
    " box = box.parentElement;"
    " return box && t.getBoundingClientRect().right > box.getBoundingClientRect().right + 1;"
    "}).map(t => (t.innerText || '').replace(/\\s+/g, ' ').slice(0, 60));"
)
# A column so narrow that its text stands one word per line (four words or more).
_WORD_COLUMNS = (
    "return Array.from(document.querySelectorAll('article td, article th')).filter(c => {"
    " const words = (c.innerText || '').trim().split(/\\s+/).filter(w => w.length > 1);"
    " if (words.length < 4) return false;"
    # the lines of the cell's own text (a cell is as tall as its row, so its box would not do)
    # and only in a narrow column (under 8 em): long names in a wide column may each fill a line
    " if (c.clientWidth >= 8 * parseFloat(getComputedStyle(c).fontSize)) return false;"
    " const range = document.createRange(); range.selectNodeContents(c);"
    " const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));"
    " return lines.size >= words.length;"
    "}).map(c => (c.innerText || '').replace(/\\s+/g, ' ').slice(0, 60));"
)
PHONE_WIDTH = 420
#: The checks of a table's layout (names made of markup, as in the hostile tests, may fail them).
LAYOUT_PROBLEMS = ("table clipped at desktop width", "a column one word per line")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no request log on stderr
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free localhost port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for tool in (CHROMIUM, CHROMEDRIVER):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} is missing: apt-get install chromium chromium-driver (make browser does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_DIALOGS})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _internal_target(current_url: str, base: str, href: str, site: Path) -> Path | None:
    """The file an internal link points to (resolved against the page's final URL, after
    any redirect), or None for external links and same-page anchors."""
    if href.startswith(("#", "mailto:", "javascript:")):
        return None
    url = urllib.parse.urljoin(current_url, href)
    if not url.startswith(base):
        return None
    path = urllib.parse.unquote(urllib.parse.urlparse(url).path)[len(urllib.parse.urlparse(base).path):]
    return (site / path).resolve() if path else site / "index.html"


def check_site(site: Path, screenshots: Path | None = None, pages: list[Path] | None = None) -> list[str]:
    """Problems found on the pages of ``site`` (default: every HTML file but search and
    the generated index pages)."""
    site = site.resolve()
    pages = pages or sorted(
        p for p in site.rglob("*.html")
        if p.name not in ("search.html", "genindex.html") and not p.relative_to(site).parts[0].startswith("_")
    )
    problems: list[str] = []
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, browser() as driver:
        for page in pages:
            relative = page.relative_to(site).as_posix()
            driver.get(base + relative)
            for entry in driver.get_log("browser"):
                if entry["level"] == "SEVERE":
                    problems.append(f"{relative}: console error: {entry['message'][:200]}")
            problems += [f"{relative}: image does not load: {src}" for src in driver.execute_script(_IMAGES)]
            problems += [f"{relative}: cell error or stderr shown: {text}" for text in driver.execute_script(_ERRORS)]
            problems += [f"{relative}: markup that runs script in the content: {what}" for what in driver.execute_script(_INJECTED)]
            problems += [f"{relative}: a script opened a dialog: {call}" for call in driver.execute_script("return window.__dialogs || [];")]
            text = driver.execute_script("return document.body.innerText;")
            if "Traceback (most recent call last)" in text:
                problems.append(f"{relative}: a traceback is shown")
            source = driver.page_source
            if "{glue" in source or "glue:text" in source:
                problems.append(f"{relative}: a glued value is missing (raw glue role in the page)")
            for href in driver.execute_script(_LINKS):
                target = _internal_target(driver.current_url, base, href, site)
                if target is not None and not target.exists():
                    problems.append(f"{relative}: broken internal link {href}")
            problems += [f"{relative}: table without cell padding: {text!r}" for text in driver.execute_script(_UNPADDED)]
            problems += [f"{relative}: code name as a table header: {text!r}" for text in driver.execute_script(_CODE_HEADERS)]
            problems += [f"{relative}: code name in the prose: {text!r}" for text in sorted(set(driver.execute_script(_CODE_PROSE)))]
            problems += [f"{relative}: table clipped at desktop width: {text!r}" for text in driver.execute_script(_CLIPPED)]
            problems += [f"{relative}: a column one word per line: {text!r}" for text in sorted(set(driver.execute_script(_WORD_COLUMNS)))]
            name = relative.replace("/", "_").removesuffix(".html")
            if screenshots:
                driver.save_screenshot(str(screenshots / f"{name}.png"))
            desktop = driver.get_window_size()
            driver.set_window_size(PHONE_WIDTH, 900)
            try:
                overflow = driver.execute_script(_OVERFLOW)
                if overflow > 1:
                    problems.append(f"{relative}: page is {overflow} px wider than the screen at {PHONE_WIDTH} px")
                problems += [f"{relative}: a column one word per line at {PHONE_WIDTH} px: {text!r}"
                             for text in sorted(set(driver.execute_script(_WORD_COLUMNS)))]
                if screenshots:
                    driver.save_screenshot(str(screenshots / f"{name}_{PHONE_WIDTH}px.png"))
            finally:
                driver.set_window_size(desktop["width"], desktop["height"])
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screenshots")
    args = parser.parse_args()
    problems = check_site(args.site, args.screenshots)
    if problems:
        raise SystemExit("HTML check failed:\n  " + "\n  ".join(problems))
    print(f"  checked every page of {args.site} in Chromium; screenshots in {args.screenshots}", file=sys.stderr)


if __name__ == "__main__":
    main()
