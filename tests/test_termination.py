"""Every fit terminates, fast, on extreme inputs (fuzz test).

Seeded random meta-analyses of k = 2..6 studies with n up to 1e6 and events at 0, 1,
n - 1, n or drawn with proportions down to 1e-7 from either end, pooled with every
transform and every iterative tau^2 estimator (and SJ, HS), one at a time and as a
batch, and through leave-one-out, influence and GOSH: each must answer within a second.
A fit may refuse (ValueError, e.g. a PM root beyond its search bound, as metafor) with a
message. The GLMM, whose optimizer is bounded too (200 Newton steps) but slow where its
likelihood is nearly flat (tau of 20 and more), gets ten seconds. The fits run in a
child process, so that a hang fails the test (the child is killed at the deadline and
the fit it was in is named) instead of hanging it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TRANSFORMS = ["logit", "log", "raw", "arcsine", "freeman-tukey"]
ESTIMATORS = ["REML", "ML", "EB", "PM", "SJ", "HS"]
LIMIT = 1.0  # seconds per fit (or per batch)
GLMM_LIMIT = 10.0
DEADLINE = 600  # seconds for the whole child process
COUNT = 150  # data sets
SIZES = np.array([1, 2, 3, 5, 10, 50, 100, 1000, 10_000, 100_000, 321_509, 1_000_000])
# The inputs on which REML once looped forever (the Fisher-scoring step was -inf).
KNOWN = [([6, 321509], [6, 321509]), ([0, 0, 0], [5, 10, 200000]), ([1, 99999, 1, 99999], [100000] * 4)]


def datasets(count: int = COUNT, seed: int = 11) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = [(np.array(x, dtype=float), np.array(n, dtype=float)) for x, n in KNOWN]
    while len(out) < count:
        k = int(rng.integers(2, 7))
        n = np.where(rng.random(k) < 0.7, rng.choice(SIZES, k), rng.integers(1, 1_000_001, k)).astype(float)
        p = 10 ** rng.uniform(-7, 0, k)
        p = np.where(rng.random(k) < 0.5, p, 1 - p)
        kind = rng.integers(0, 5, k)
        drawn = rng.binomial(n.astype(np.int64), p).astype(float)
        x = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [0 * n, n, np.minimum(1, n), n - np.minimum(1, n)], drawn)
        out.append((x, n))
    return out


def _timed(what: str, fit) -> object:
    """``fit()``, or None if it refuses; prints what it is before, and its time after."""
    print(json.dumps({"start": what}), flush=True)  # names the fit if it never returns
    began = time.perf_counter()
    try:
        result, outcome = fit(), "ok"
    except ValueError as error:  # a refusal, with a message, is an answer
        result, outcome = None, f"{type(error).__name__}: {error}"
    print(json.dumps({"what": what, "seconds": time.perf_counter() - began, "outcome": outcome}), flush=True)
    return result


def _child() -> None:
    sys.path.insert(0, str(ROOT))
    from analysis import gosh, influence, leave_one_out, pool_proportions
    from analysis.meta.results import FIELDS

    warnings.simplefilter("ignore")  # extreme inputs warn (variance ratio, local maxima)
    data = datasets()
    width = max(len(x) for x, _ in data)
    xs = np.full((len(data), width), np.nan)
    ns = np.full((len(data), width), np.nan)
    for i, (x, n) in enumerate(data):
        xs[i, : len(x)], ns[i, : len(x)] = x, n
    for transform in TRANSFORMS:
        for tau2 in ESTIMATORS:
            singles = [
                _timed(f"case {i}: {transform}/{tau2} events={x.tolist()} n={n.tolist()}",
                       lambda: pool_proportions(x, n, transform=transform, tau2=tau2))
                for i, (x, n) in enumerate(data)
            ]
            batch = _timed(f"batch of {len(data)}: {transform}/{tau2}",
                           lambda: pool_proportions(xs, ns, transform=transform, tau2=tau2, errors="nan"))
            # A batch row equals its single fit, bit for bit, or is NaN where that refused.
            same = all(
                (single is None and np.isnan(batch.estimate[i]) and batch.notes[i] != "")
                or (single is not None and all(np.array_equal(batch.row(i)[f], getattr(single, f), equal_nan=True) for f in FIELDS))
                for i, single in enumerate(singles)
            )
            print(json.dumps({"what": f"batch equals singles: {transform}/{tau2}", "seconds": 0.0, "outcome": "ok" if same else "differs"}), flush=True)
    for i, (x, n) in enumerate(data[:25]):
        _timed(f"case {i}: glmm events={x.tolist()} n={n.tolist()}", lambda: pool_proportions(x, n, method="glmm"))
    for i, (x, n) in enumerate([d for d in data if len(d[0]) >= 3][:30]):
        for name, diagnostic in [("leave_one_out", leave_one_out), ("influence", influence), ("gosh", gosh)]:
            _timed(f"case {i}: {name} REML/log events={x.tolist()} n={n.tolist()}",
                   lambda: diagnostic(x, n, transform="log", tau2="REML"))


def test_every_fit_terminates_within_a_second() -> None:
    try:
        run = subprocess.run(
            [sys.executable, __file__], cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE, check=False
        )
        lines, finished = run.stdout.splitlines(), True
        assert run.returncode == 0, run.stderr[-3000:]
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or b""
        lines, finished = (out.decode() if isinstance(out, bytes) else out).splitlines(), False
    records = [json.loads(line) for line in lines]
    if not finished:
        hung = [r["start"] for r in records if "start" in r][-1:]
        raise AssertionError(f"a fit did not return within {DEADLINE} s: {hung}")
    results = [r for r in records if "outcome" in r]
    slow = [
        (r["what"], round(r["seconds"], 3))
        for r in results
        if r["seconds"] > (GLMM_LIMIT if ": glmm " in r["what"] else LIMIT)
    ]
    assert not slow, f"fits slower than {LIMIT} s ({GLMM_LIMIT} s for the GLMM): {slow[:5]}"
    assert not [r["what"] for r in results if r["outcome"] == "differs"]
    fits = [r for r in results if r["what"].startswith("case")]
    assert len(fits) == len(TRANSFORMS) * len(ESTIMATORS) * COUNT + 25 + 90
    # Most extreme inputs are answered; the refusals say why.
    refused = [r for r in fits if r["outcome"] != "ok"]
    assert len(refused) < 0.2 * len(fits), refused[:5]
    assert all(":" in r["outcome"] for r in refused)


if __name__ == "__main__":
    _child()
