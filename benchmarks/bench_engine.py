"""Benchmark the pooling engine against metafor, measured in the same run.

    python benchmarks/bench_engine.py            (or: make bench)
    python benchmarks/bench_engine.py --full     (metafor on all of the work; hours)

Work: (1) batch DL and REML pooling of 100,000 simulated meta-analyses of 27 studies;
(2) GOSH with 1,000,000 random subsets of the 26 cohorts reporting complete response.
Python runs the whole work (best of --repeats runs). metafor fits one model at a time at
about a millisecond each, so by default it is timed on a sample of the same work
(--r-fits meta-analyses, --r-subsets GOSH subsets) and the ratio is per fit; the sample
size is printed beside every ratio. Without Rscript and metafor, only Python is timed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import analysis  # noqa: E402

R_POOL = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- as.matrix(read.csv(args[1], header = FALSE))
k <- ncol(d) / 2
for (method in c("DL", "REML")) {
  t <- system.time(for (i in seq_len(nrow(d))) {
    es <- escalc(measure = "PLO", xi = d[i, 1:k], ni = d[i, (k + 1):(2 * k)])
    rma(yi, vi, data = es, method = method)
  })[["elapsed"]]
  cat(method, t, "\n")
}
"""

R_GOSH = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
fit <- rma(yi, vi, data = escalc(measure = "PLO", xi = d$events, ni = d$n), method = "DL")
t <- system.time(gosh(fit, subsets = as.integer(args[2]), progbar = FALSE))[["elapsed"]]
cat("GOSH", t, "\n")
"""


def simulate(rows: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, size=(rows, k)).astype(float)
    logit = rng.normal(0.5, 0.3, size=(rows, 1)) + rng.normal(0, 1.2, size=(rows, k))
    return rng.binomial(n.astype(int), 1 / (1 + np.exp(-logit))).astype(float), n


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ML/REML "local maximum" notes on random data
            run()
        times.append(time.perf_counter() - start)
    return min(times)


def have_metafor() -> bool:
    if not shutil.which("Rscript"):
        return False
    probe = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True)
    return probe.returncode == 0


def rscript(code: str, *args: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(code)
    result = subprocess.run(["Rscript", handle.name, *args], capture_output=True, text=True, check=True)
    return {line.split()[0]: float(line.split()[1]) for line in result.stdout.splitlines() if line.strip()}


def report(label: str, python_s: float, work: int, r_s: float | None, r_work: int) -> None:
    per_fit = python_s / work
    line = f"{label:<6} python {python_s:8.3f} s for {work:>9,} fits ({per_fit * 1e6:8.2f} us/fit)"
    if r_s is not None:
        r_per_fit = r_s / r_work
        line += f" | metafor {r_per_fit * 1e3:7.3f} ms/fit (timed on {r_work:,} fits) | ratio {r_per_fit / per_fit:8.0f}x"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--studies", type=int, default=27)
    parser.add_argument("--subsets", type=int, default=1_000_000)
    parser.add_argument("--r-fits", type=int, default=1_000)
    parser.add_argument("--r-subsets", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="time metafor on all of the work")
    args = parser.parse_args()
    r_fits = args.rows if args.full else min(args.r_fits, args.rows)
    r_subsets = args.subsets if args.full else min(args.r_subsets, args.subsets)
    metafor = have_metafor()
    print(f"machine: {sys.platform}, numpy {np.__version__}; metafor via Rscript: {'yes' if metafor else 'not available'}")

    x, n = simulate(args.rows, args.studies, seed=20201)
    r_times: dict[str, float] = {}
    if metafor:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "batch.csv"
            np.savetxt(path, np.hstack([x[:r_fits], n[:r_fits]]), delimiter=",", fmt="%d")
            r_times = rscript(R_POOL, str(path))
    for method in ("DL", "REML"):
        seconds = best_of(args.repeats, lambda: analysis.pool_proportions(x, n, tau2=method))
        report(method, seconds, args.rows, r_times.get(method), r_fits)

    rows = analysis.outcome_rows(analysis.load_studies(), "cr")
    events, sizes = rows["events"].to_numpy(float), rows["n"].to_numpy(float)
    same = best_of(args.repeats, lambda: analysis.gosh(events, sizes, subsets=r_subsets, seed=1))
    full = best_of(1, lambda: analysis.gosh(events, sizes, subsets=args.subsets, seed=1))
    r_gosh = None
    if metafor:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cr.csv"
            rows[["events", "n"]].to_csv(path, index=False)
            r_gosh = rscript(R_GOSH, str(path), str(r_subsets))["GOSH"]
    report("GOSH", same, r_subsets, r_gosh, r_subsets)
    report("GOSH", full, args.subsets, r_gosh, r_subsets)


if __name__ == "__main__":
    main()
