"""Render the executed chapters into HTML with Jupyter Book, treating warnings as errors.

The book's sources are MyST notebooks in ``book/``; ``scripts/run_chapter.py`` has
executed them into ``_build/executed/``. This stages the top-level ``_config.yml`` and
``_toc.yml`` next to the executed notebooks and builds ``_build/html`` from them with
execution off, so the HTML shows exactly the outputs papermill produced.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render(build: Path = ROOT / "_build") -> Path:
    """Build ``<build>/html`` from ``<build>/executed``; returns the HTML folder."""
    if build.name != "_build":
        # jupyter-book writes to <path-output>/_build/html.
        raise SystemExit(f"the build directory must be named _build, got {build}")
    stage = build / "executed"
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, stage / name)
    # Local Sphinx extensions, the stylesheet Jupyter Book picks up from _static/, and the
    # files copied as they are to the site's root (_extra/: favicon.ico).
    for folder in ("_ext", "_static", "_extra"):
        shutil.copytree(ROOT / "book" / folder, stage / folder, dirs_exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(stage),
        "--path-output", str(build.parent),
        "--warningiserror", "--nitpick", "--keep-going", "--quiet",
    ]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    # Each chapter's result tables, as CSV, published next to its page.
    if (build / "results").is_dir():
        shutil.copytree(build / "results", build / "html" / "results", dirs_exist_ok=True)
    return build / "html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build")
    html = render(parser.parse_args().build_dir.resolve())
    print(f"  rendered HTML in {html}", file=sys.stderr)


if __name__ == "__main__":
    main()
