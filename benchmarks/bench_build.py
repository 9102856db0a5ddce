"""Benchmark the book build: a clean build against a floor measured in the same run,
make's incremental rebuilds, and a build on a 500-study table.

    python benchmarks/bench_build.py                 (or: make bench)
    python benchmarks/bench_build.py --large-k 0     (without the large table)

1. **Clean build vs floor.** The floor is the same number of notebooks, executed by plain
   papermill (two at a time, its own kernel manager, no jupytext, no checks), that only
   import the stack the chapters use (numpy, pandas, scipy, matplotlib, lifelines, the
   analysis package): what any build of this many notebooks costs before it computes
   anything. The clean build is the book's own (``scripts/run_chapter.py``, whose
   conversion, kernel set-up and strict checks are part of the build, then the HTML). The
   ratio clean build / floor says how much the book's own work adds; the target is 1.5 at
   most.
2. **make, in a temporary copy of the repository** (the venv is the repository's, linked):
   a clean `make book`, then `make book` with nothing changed (make's job: nothing runs),
   then after touching `analysis/survival/kaplan_meier.py` (only the chapters that import it, directly
   or through other modules, may re-execute; the ones that did are listed).
3. **A 500-study table** (``tests/conftest.py: large_table``): `make book DATA=...` in the
   copy, its wall time (target: under 60 s) and its peak memory, sampled every 0.1 s over
   make and every process under it: the sum of their resident memory (target: under
   1.5 GB; shared pages are counted in each process, so this is an upper bound) and the
   largest single process.

Timings are noisy on a shared machine; ratios measured in the same run are what counts.
Nothing is written outside the temporary folder (the repository's ``_build`` and
``data/`` are left alone).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
import papermill  # noqa: E402
from conftest import build_book, chapters, large_table, script  # noqa: E402

#: The floor notebook: a parameters cell, and a cell that imports the chapters' stack.
FLOOR_CELLS = [
    ("studies_path = None", ["parameters"]),
    ("import matplotlib.pyplot as plt\nimport numpy as np\nimport pandas as pd\nimport scipy.stats\nimport lifelines\n\n"
     "import analysis", []),
]


def floor_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in FLOOR_CELLS]
    nbformat.write(notebook, path)
    return path

#: What `make book` needs, copied; the venv is linked.
SOURCES = ["Makefile", "requirements.txt", "pyproject.toml", "_config.yml", "_toc.yml", "references.bib", "book", "analysis", "scripts", "data"]
EXECUTED = re.compile(r"executed (\S+)\s+([\d.]+) s")


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its reaped children (the kernels,
    jupyter-book) so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(action) -> tuple[float, float]:
    """Wall and CPU seconds of ``action``."""
    cpu = cpu_seconds()
    wall = timed(action)
    return wall, cpu_seconds() - cpu


class MemorySampler:
    """Peak resident memory of a process and all its descendants, sampled every
    ``interval`` seconds: the largest sum over the tree, and the largest single process."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            sizes = []
            for process in processes:
                try:
                    sizes.append(process.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def copy_repository(target: Path) -> Path:
    target.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def make_book(repository: Path, *arguments: str, memory: bool = False) -> tuple[float, dict[str, float], MemorySampler | None]:
    """`make book` in ``repository``: wall time, the chapters it executed (name ->
    seconds, from run_chapter's report) and, with ``memory``, the sampler."""
    start = time.perf_counter()
    process = subprocess.Popen(["make", "-C", str(repository), "book", *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    sampler = MemorySampler(process.pid) if memory else None
    if sampler:
        sampler.__enter__()
    try:
        output, _ = process.communicate()
    finally:
        if sampler:
            sampler.__exit__(None, None, None)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"make book {' '.join(arguments)} failed:\n{output[-3000:]}")
    return seconds, {name: float(s) for name, s in EXECUTED.findall(output)}, sampler


def venv_is_current(repository: Path) -> bool:
    """make would not reinstall the (linked, shared) venv."""
    return subprocess.run(["make", "-C", str(repository), "-q", ".venv/.installed"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-k", type=int, default=500, help="studies in the large table (0: skip it)")
    parser.add_argument("--no-make", action="store_true", help="only the clean build against the floor")
    parser.add_argument("--repeats", type=int, default=1, help="floor and clean build runs (the fastest counts)")
    args = parser.parse_args()
    names = chapters()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        book = tmp_path / "floor_book"
        book.mkdir()
        sources = [floor_notebook(book / f"{name}.ipynb") for name in names]

        def floor() -> None:
            with ThreadPoolExecutor(max_workers=2) as pool:
                jobs = [
                    pool.submit(papermill.execute_notebook, str(source), str(book / f"{source.stem}.out.ipynb"),
                                parameters={"studies_path": str(ROOT / "data" / "studies.csv")}, cwd=str(book),
                                kernel_name="python3", progress_bar=False)
                    for source in sources
                ]
                for job in jobs:
                    job.result()

        # Floor and clean build alternate; each is the fastest of --repeats runs.
        runs = []
        for repeat in range(args.repeats):
            clean_build = tmp_path / f"clean{repeat}" / "_build"
            runs.append((measured(floor), measured(lambda: build_book(clean_build, render=False)),
                         measured(lambda: script("render").render(clean_build))))
        (floor_seconds, floor_cpu), (execute_seconds, execute_cpu), (render_seconds, render_cpu) = (
            (min(run[i][0] for run in runs), min(run[i][1] for run in runs)) for i in range(3))
        clean, clean_cpu = execute_seconds + render_seconds, execute_cpu + render_cpu
        print(f"notebooks: {len(names)}" + (f"; fastest of {args.repeats} runs" if args.repeats > 1 else ""))
        print("                                     wall       CPU")
        print(f"floor (import-only notebooks):   {floor_seconds:7.1f} s {floor_cpu:7.1f} s")
        print(f"clean build: execute chapters    {execute_seconds:7.1f} s {execute_cpu:7.1f} s")
        print(f"             render HTML         {render_seconds:7.1f} s {render_cpu:7.1f} s")
        print(f"             total               {clean:7.1f} s {clean_cpu:7.1f} s")
        print(f"ratio clean build / floor:       {clean / floor_seconds:7.2f}x {clean_cpu / floor_cpu:7.2f}x   "
              "(target: at most 1.50x)")
        print(f"ratio chapter execution / floor: {execute_seconds / floor_seconds:7.2f}x {execute_cpu / floor_cpu:7.2f}x")
        if args.repeats > 1:
            print("each run (wall): " + "; ".join(f"floor {f[0]:.1f} s, clean {e[0] + r[0]:.1f} s ({(e[0] + r[0]) / f[0]:.2f}x)"
                                                  for f, e, r in runs))

        if args.no_make:
            return
        if not shutil.which("make"):
            print("make not found: the make rebuilds and the large table are not measured")
            return
        repository = copy_repository(tmp_path / "repo")
        if not venv_is_current(repository):
            print("the venv is out of date (make would reinstall it): run `make venv` first; make rebuilds not measured")
            return
        seconds, ran, _ = make_book(repository)
        print(f"make book, clean (in a copy):    {seconds:7.1f} s   ({len(ran)} chapters executed)")
        seconds, ran, _ = make_book(repository)
        print(f"make book, nothing changed:      {seconds:7.2f} s   (chapters executed: {', '.join(ran) or 'none'})")
        (repository / "analysis" / "survival" / "kaplan_meier.py").touch()
        seconds, ran, _ = make_book(repository)
        print(f"make book, kaplan_meier.py touched: {seconds:4.1f} s   (chapters executed: {', '.join(ran) or 'none'}; "
              f"{len(names) - len(ran)} of {len(names)} not re-executed)")

        if args.large_k:
            table = repository.parent / f"studies_{args.large_k}.csv"
            large_table(args.large_k).to_csv(table, index=False)
            seconds, ran, memory = make_book(repository, f"DATA={table}", memory=True)
            slowest = max(ran, key=ran.get)
            print(f"{args.large_k}-study table, make book:   {seconds:7.1f} s   (target: under 60 s; {len(ran)} chapters, "
                  f"slowest {slowest} {ran[slowest]:.1f} s)")
            print(f"  peak memory, whole build:      {memory.peak_total / 2**30:7.2f} GB  (target: under 1.5 GB; "
                  f"largest process {memory.peak_single / 2**30:.2f} GB)")


if __name__ == "__main__":
    main()
