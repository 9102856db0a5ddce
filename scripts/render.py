"""Render the executed chapters into HTML with Jupyter Book, treating warnings as errors.

The book's sources are MyST notebooks in ``book/``; ``scripts/run_chapter.py`` has
executed them into ``_build/executed/``. This stages the top-level ``_config.yml`` and
``_toc.yml`` next to the executed notebooks and builds ``_build/html`` from them with
execution off, so the HTML shows exactly the outputs papermill produced.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "_build" / "executed"


def main() -> None:
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, STAGE / name)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(STAGE),
        "--path-output", str(ROOT), "--warningiserror", "--nitpick", "--keep-going", "--quiet",
    ]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    print(f"  rendered HTML in {ROOT / '_build' / 'html'}", file=sys.stderr)


if __name__ == "__main__":
    main()
