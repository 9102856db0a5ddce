"""Infer study groups the paper used but did not publish, from its subgroup results.

    python scripts/infer_covariates.py          (or: make covariates)

The paper splits studies by median prior lines of therapy (>= 5 vs < 5) and median age
(>= 60 vs < 60) and publishes the pooled neurotoxicity and complete-response rates of
each subgroup, but not which study went where. Where a study's own publication gives the
value, ``data/covariates.csv`` records it with its source (status ``sourced``). For the
others this script tries **every** assignment of the unsourced studies to the two groups
(2^k of them, pooled in vectorized batches as the paper pooled: logit, DerSimonian-
Laird), and keeps the assignments that reproduce every published subgroup estimate and
limit within 1 percentage point, I^2 within 5 points, and the subgroup p-value (within
25%, or below the printed bound). Each unsourced study is then given the group of the
best-fitting assignment, with status ``inferred`` and a note saying how many assignments
were consistent (every number within ``UNITS`` times those tolerances) and what share of
them agree on that study's group.

This is a developer tool: it rewrites ``data/covariates.csv`` (the book's build never
does). It takes a few minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import analysis  # noqa: E402
from analysis.meta.escalc import as_counts, prepare  # noqa: E402
from analysis.meta.estimators import fit_random_effects  # noqa: E402

COVARIATES = analysis.inputs.DEFAULT_COVARIATES
CHUNK = 1 << 16
UNITS = 2.0  # "consistent": within 2 points (I^2: 10 points, p: 50%), the criterion
# covariate -> (groups as published: first = the "high" group, outcomes used)
TARGETS = {"prior_lines": ((">=5", "<5"), ("neurotox", "cr")), "age": ((">=60", "<60"), ("neurotox",))}


def scaled(studies: pd.DataFrame, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = analysis.outcome_rows(studies, outcome)
    present = studies["study_id"].isin(rows["study_id"]).to_numpy()
    x, n = as_counts(rows["events"], rows["n"])
    prep = prepare(x, n, transform="logit", add=0.5, to="only0")
    y = np.zeros(len(studies))
    v = np.ones(len(studies))
    y[present], v[present] = prep.y[0], prep.v[0]
    return y, v, present


def summaries(y: np.ndarray, v: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    m = len(mask)
    fit = fit_random_effects(np.broadcast_to(y, (m, len(y))), np.broadcast_to(v, (m, len(v))), mask)
    mu, se = fit.beta[:, 0], fit.se[:, 0]
    expit = lambda t: 100 / (1 + np.exp(-t))  # noqa: E731
    return {"estimate": expit(mu), "ci_low": expit(mu - 1.959964 * se), "ci_high": expit(mu + 1.959964 * se),
            "i2": fit.i2, "mu": mu, "se": se}


def misfit(result: dict[str, np.ndarray], published: pd.DataFrame, outcome: str, covariate: str, group: str) -> np.ndarray:
    """Largest deviation from the published subgroup numbers in tolerance units."""
    worst = np.zeros(len(result["estimate"]))
    for statistic, tolerance in (("estimate", 1.0), ("ci_low", 1.0), ("ci_high", 1.0), ("i2", 5.0)):
        key = f"{outcome}:{covariate}:{group}:{statistic}"
        if key in published.index:
            worst = np.maximum(worst, np.abs(result[statistic] - published.loc[key, "number"]) / tolerance)
    return worst


def infer(studies: pd.DataFrame, known: pd.Series, covariate: str, published: pd.DataFrame) -> pd.DataFrame:
    (high, low), outcomes = TARGETS[covariate]
    unknown = np.flatnonzero(known.isna().to_numpy())
    fixed_high = (known == high).to_numpy()
    data = {o: scaled(studies, o) for o in outcomes}
    total = 1 << len(unknown)
    print(f"{covariate}: {len(unknown)} studies to place, {total:,} assignments", flush=True)
    consistent, best_code, best_score = [], -1, np.inf
    for start in range(0, total, CHUNK):
        codes = np.arange(start, min(start + CHUNK, total), dtype=np.int64)
        bits = (codes[:, None] >> np.arange(len(unknown))) & 1 == 1
        in_high = np.repeat(fixed_high[None, :], len(codes), axis=0)
        in_high[:, unknown] = bits
        in_low = ~in_high
        score = np.zeros(len(codes))
        for outcome, (y, v, present) in data.items():
            groups = {}
            for name, mask in ((high, in_high & present), (low, in_low & present)):
                groups[name] = summaries(y, v, mask)
                score = np.maximum(score, misfit(groups[name], published, outcome, covariate, name))
            q = (groups[high]["mu"] - groups[low]["mu"]) ** 2 / (groups[high]["se"] ** 2 + groups[low]["se"] ** 2)
            p = stats.chi2.sf(q, 1)
            key = f"{outcome}:{covariate}:test:p"
            if key in published.index:
                bound, relation = published.loc[key, "number"], published.loc[key, "relation"]
                off = np.where(p < bound, 0.0, np.inf) if relation == "<" else np.abs(p - bound) / bound / 0.25
                score = np.maximum(score, off)
        consistent.extend(codes[score <= UNITS].tolist())
        if score.min() < best_score:
            best_score, best_code = float(score.min()), int(codes[score.argmin()])
    best = (best_code >> np.arange(len(unknown))) & 1 == 1
    agreement = np.zeros(len(unknown))
    if consistent:
        found = (np.array(consistent)[:, None] >> np.arange(len(unknown))) & 1 == 1
        agreement = (found == best[None, :]).mean(axis=0)
    print(f"  best misfit {best_score:.2f} tolerance units; {len(consistent):,} assignments within {UNITS:g}", flush=True)
    return pd.DataFrame({
        "study_id": studies["study_id"].to_numpy()[unknown],
        "group": np.where(best, high, low),
        "note": [
            f"{covariate}: best of {total:,} assignments (largest deviation {best_score:.2f} x tolerance); "
            f"{len(consistent):,} reproduce the paper's subgroup results within {UNITS:g} x tolerance, "
            f"{a:.0%} of which put this study in the same group"
            for a in agreement
        ],
    })


def main() -> None:
    studies = analysis.load_studies()
    published = analysis.load_published().set_index("key")
    table = pd.read_csv(COVARIATES, dtype=str, keep_default_na=False)
    # High-risk share has no published subgroup results to infer from: sourced values only.
    sourced = {c: table[table[f"{c}_status"] == "sourced"].set_index("study_id")[f"{c}_group"] for c in TARGETS}
    out = pd.DataFrame({"study_id": studies["study_id"]}).merge(table, on="study_id", how="left").fillna("")
    notes = {sid: [] for sid in out["study_id"]}
    for covariate in TARGETS:
        known = studies["study_id"].map(sourced[covariate])
        inferred = infer(studies, known, covariate, published)
        for row in inferred.itertuples():
            i = out.index[out["study_id"] == row.study_id][0]
            out.loc[i, [f"{covariate}_group", f"{covariate}_status", f"{covariate}_source"]] = [row.group, "inferred", ""]
            out.loc[i, f"{covariate}_median"] = ""
            notes[row.study_id].append(row.note)
    out["inference_note"] = out["study_id"].map(lambda s: " | ".join(notes[s]))
    out.to_csv(COVARIATES, index=False)
    print(f"wrote {COVARIATES}")


if __name__ == "__main__":
    main()
