"""Benchmark a clean book build against a floor measured in the same run.

    python benchmarks/bench_build.py

The floor is the same number of notebooks, executed the same way (papermill, two at a
time), that only import the stack the chapters use (numpy, pandas, scipy, matplotlib,
lifelines, the analysis package): what any build of this many notebooks costs before it
computes anything. The ratio clean build / floor says how much the book's own work
adds. Also timed: a rebuild with nothing changed (make's job: it should do nothing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import MYST_HEADER, build_book, chapters, script  # noqa: E402

FLOOR_CHAPTER = MYST_HEADER + """
# Floor

```{code-cell} ipython3
:tags: [parameters]

studies_path = None
```

```{code-cell} ipython3
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats
import lifelines

import analysis
```
"""


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    run_chapter = script("run_chapter")
    names = chapters()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        book = tmp_path / "floor_book"
        book.mkdir()
        for name in names:
            (book / f"{name}.md").write_text(FLOOR_CHAPTER)

        def floor() -> None:
            with ThreadPoolExecutor(max_workers=2) as pool:
                jobs = [
                    pool.submit(run_chapter.run, name, ROOT / "data" / "studies.csv", ROOT / "data" / "published.csv",
                                tmp_path / "floor" / "_build", book)
                    for name in names
                ]
                for job in jobs:
                    job.result()

        floor_seconds = timed(floor)
        execute_seconds = timed(lambda: build_book(tmp_path / "clean" / "_build", render=False))
        render_seconds = timed(lambda: script("render").render(tmp_path / "clean" / "_build"))
    clean = execute_seconds + render_seconds
    print(f"notebooks: {len(names)}")
    print(f"floor (import-only notebooks):   {floor_seconds:7.1f} s")
    print(f"clean build: execute chapters    {execute_seconds:7.1f} s")
    print(f"             render HTML         {render_seconds:7.1f} s")
    print(f"             total               {clean:7.1f} s")
    print(f"ratio clean build / floor:       {clean / floor_seconds:7.2f}x")
    print(f"ratio chapter execution / floor: {execute_seconds / floor_seconds:7.2f}x")
    if shutil.which("make") and (ROOT / "_build" / "html" / ".built").exists():
        nothing = timed(lambda: subprocess.run(["make", "-C", str(ROOT), "book"], check=True, capture_output=True))
        print(f"rebuild with nothing changed:    {nothing:7.2f} s (make book on the existing _build)")


if __name__ == "__main__":
    main()
