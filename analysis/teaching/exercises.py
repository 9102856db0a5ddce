"""The worked answers of the book's exercises.

Each function does the computation an exercise asks for and returns an :class:`Answer`:
the sentence the book glues under "Solution" and the claim that sentence makes
(a direction, a count, a verdict) as named values, so that a test can recompute the
claim and check that the sentence says what the numbers say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..meta.escalc import clopper_pearson
from ..meta.proportions import pool_proportions
from ..meta.results import PooledProportion, SubgroupAnalysis
from ..meta.simulation import METHODS, coverage_simulation
from ..meta.single_arm import trend_test
from ..review.outcomes import MODELS, SubgroupComparison, compare_subgroups, fit_or_note, model_sensitivity, outcome_rows, pool_outcome, try_pool
from ..text.labels import FACTOR_LABELS, OUTCOME_NOUNS, group_label
from ..text.numbers import interval, join, number, p_value, percent, plural
from ..text.phrasing import ALPHA, significant
from .steps import DLSteps, dl_steps

__all__ = [
    "Answer",
    "by_hand_check",
    "common_outcome_coverage",
    "without_example",
    "ordering_under_glmm",
    "zero_event_cohorts",
    "hksj_verdict",
    "without_product",
    "estimator_sides",
    "correction_direction",
    "reading_loss",
    "wald_vs_exact",
    "trend_scores",
    "table2_check",
    "sourced_only",
]


@dataclass(frozen=True)
class Answer:
    """``text``: the answer in words; ``claim``: what it asserts, by name (``None`` when
    the table cannot answer the exercise and ``text`` says why); ``table``: the numbers
    behind it, for display."""

    text: str
    claim: Mapping[str, Any] | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def _weight_spread(table: pd.DataFrame) -> float:
    return float(table["weight_pct"].max() / table["weight_pct"].min())


def by_hand_check(studies: pd.DataFrame, taught: DLSteps, taught_outcome: str, outcome: str = "crs_any") -> Answer:
    """Pool ``outcome`` by hand (:func:`dl_steps`) and with the engine; compare its τ²
    and the spread of its random-effects weights with the taught outcome's."""
    rows = outcome_rows(studies, outcome)
    noun = OUTCOME_NOUNS[outcome]
    if len(rows) < 2:
        return Answer(f"This table has fewer than two cohorts reporting {noun}, so there is nothing to pool by hand.")
    steps = dl_steps(rows["events"], rows["n"], labels=rows["study_id"])
    engine = pool_outcome(studies, outcome)
    difference = abs(steps.steps["estimate"] - engine.estimate)
    tau2, taught_tau2 = steps.steps["tau2"], taught.steps["tau2"]
    spread, taught_spread = _weight_spread(steps.table), _weight_spread(taught.table)
    larger = tau2 > taught_tau2
    flatter = spread < taught_spread
    text = (f"By hand and by the engine the pooled rate of {noun} is {percent(100 * engine.estimate)}: the two agree "
            + ("exactly. " if difference == 0 else f"to {difference:.0e}. ")
            + f"τ² is {number(tau2, 3)} for {noun} against {number(taught_tau2, 3)} for {OUTCOME_NOUNS[taught_outcome]}, "
            f"so it is {'larger' if larger else 'not larger'}; the largest random-effects weight is {number(spread)} times "
            f"the smallest, against {number(taught_spread)} times for {OUTCOME_NOUNS[taught_outcome]}, so the weights are "
            f"{'more' if flatter else 'less'} equal. In general, the larger τ² is relative to the studies' own variances, "
            "the more equal the weights: small and large cohorts then count almost alike.")
    return Answer(text, {"difference": difference, "tau2_larger": larger, "weights_more_equal": flatter},
                  pd.DataFrame({"by hand": [steps.steps["estimate"], tau2], "engine": [engine.estimate, engine.tau2]},
                               index=["pooled rate", "τ²"]))


def common_outcome_coverage(
    studies: pd.DataFrame, rare: tuple[float, float], rare_outcome: str, k: int, *, outcome: str = "crs_any",
    replicates: int = 500, seed: int = 2020, method: str = "DL, z (paper)",
) -> Answer:
    """The coverage simulation rerun at a common outcome's pooled rate and τ², for ``k``
    studies; compared with the lowest coverage ``rare`` (percent range) found for the
    rare outcome."""
    rows = outcome_rows(studies, outcome)
    if len(rows) < 2:
        return Answer(f"This table has fewer than two cohorts reporting {OUTCOME_NOUNS[outcome]}, so the simulation is not rerun.")
    fit = pool_outcome(studies, outcome)
    truth = fit.estimate
    result = coverage_simulation(studies["n_safety"], mu=float(np.log(truth / (1 - truth))), ks=[k],
                                 tau2s=[round(fit.tau2, 2)], replicates=replicates, seed=seed,
                                 methods={method: METHODS[method]})
    row = result.loc[result["method"] == method].iloc[0]
    common = 100 * float(row["coverage"])
    mc_se = 100 * float(row["mc_se"])
    better = common > rare[1]
    text = (f"For a true rate of {percent(100 * truth)} ({OUTCOME_NOUNS[outcome]}) the paper's interval covers the truth "
            f"in {number(common)}% of {replicates} simulated meta-analyses (Monte Carlo error ± {number(mc_se)} points), "
            f"against {interval(*rare)} for {OUTCOME_NOUNS[rare_outcome]}: "
            f"{'better' if better else 'no better'}. Far from 0 and 1 the logit of a small study is less biased and fewer "
            "studies need the 0.5 correction, so the centre of the interval drifts less.")
    return Answer(text, {"coverage": common, "better": better}, result)


def without_example(rows: pd.DataFrame, example: str, with_it: PooledProportion) -> Answer:
    """Pool the outcome rows again without the ``example`` cohort."""
    rest = rows[rows["study_id"] != example]
    if rest.empty:
        return Answer("The example is the table's only cohort: without it there is nothing to pool.")
    fit = pool_proportions(rest["events"], rest["n"])
    change = 100 * (fit.estimate - with_it.estimate)
    text = (f"Without {example} the pooled rate is {percent(100 * fit.estimate)} against "
            f"{percent(100 * with_it.estimate)} with it: {'higher' if change > 0 else 'lower' if change < 0 else 'the same'}, "
            f"by {number(abs(change))} percentage points.")
    return Answer(text, {"change": change})


def ordering_under_glmm(studies: pd.DataFrame, outcome: str, by: str, levels: tuple[str, str],
                        dl: SubgroupAnalysis | None) -> Answer:
    """Refit two subgroups of ``by`` with the GLMM: is their ordering the one DL gives?"""
    rows = outcome_rows(studies, outcome)
    fits: dict[str, PooledProportion | None] = {}
    for level in levels:
        part = rows[rows[by] == level] if by in rows else rows.iloc[:0]
        fits[level] = fit_or_note(lambda: pool_proportions(part["events"], part["n"], method="glmm"))[0] if len(part) else None
    first, second = levels
    a, b = fits[first], fits[second]
    if a is None or b is None or dl is None or not {first, second} <= set(dl.groups):
        return Answer("This table does not have GLMM fits in both groups, so the question cannot be answered on it.")
    same = (a.estimate < b.estimate) == (dl.groups[first].estimate < dl.groups[second].estimate)
    text = (f"With the GLMM, {group_label(first)} gives {percent(100 * a.estimate)} "
            f"({interval(100 * a.ci_low, 100 * a.ci_high)}) and {group_label(second)} {percent(100 * b.estimate)} "
            f"({interval(100 * b.ci_low, 100 * b.ci_high)}): the ordering is {'the same as' if same else 'the reverse of'} "
            "with DerSimonian–Laird. An ordering is not a test: whether the groups differ beyond chance is for the "
            "test for subgroup differences to say (overlapping intervals neither show nor rule out a difference).")
    return Answer(text, {"same_order": same})


def zero_event_cohorts(studies: pd.DataFrame, outcome: str = "crs_severe") -> Answer:
    """Zero-event cohorts of ``outcome``: how many printed 0 and how many printed nothing
    (a zero only by the extraction rule), and what dropping all of them does to the
    pooled rate."""
    zero = studies[outcome].eq(0).fillna(False).to_numpy(dtype=bool)
    imputed = int((zero & studies[f"{outcome}_imputed"].to_numpy(dtype=bool)).sum())  # the loader's flags
    zeros = int(zero.sum())
    all_fit, _ = try_pool(studies, outcome)
    some_fit, some_note = try_pool(studies[studies[outcome].gt(0).fillna(False).to_numpy(dtype=bool)], outcome)
    noun = OUTCOME_NOUNS[outcome]
    counts = (f"{plural(zeros, 'cohort')} of this table {'has' if zeros == 1 else 'have'} no {noun}: "
              f"{zeros - imputed} printing 0% and {imputed} printing nothing, whose zero is the extraction rule's assumption. ")
    if all_fit is None or some_fit is None:
        return Answer(counts + (some_note or "There is nothing to pool."), {"zeros": zeros, "imputed": imputed})
    higher = some_fit.estimate > all_fit.estimate
    text = (counts + f"Pooling only the cohorts with events gives {percent(100 * some_fit.estimate)} against "
            f"{percent(100 * all_fit.estimate)} for all cohorts: {'higher' if higher else 'not higher'}. Dropping cohorts "
            "because they had no events selects on the outcome, which biases the pooled rate upwards. A printed zero is "
            "an observation; an imputed zero is an assumption, to be stated and varied, not counted as evidence.")
    return Answer(text, {"zeros": zeros, "imputed": imputed, "higher_without_zeros": higher})


def hksj_verdict(hksj: SubgroupComparison, normal: SubgroupComparison, alpha: float = ALPHA) -> Answer:
    """The same subgroup test with HKSJ and with normal-quantile intervals: does the
    verdict change, whose standard errors shrink, whose intervals narrow?"""
    if hksj.result is None or normal.result is None:
        return Answer(hksj.note or normal.note)
    same = significant(hksj.result.p, alpha) == significant(normal.result.p, alpha)
    lower = hksj.result.p < normal.result.p
    groups = [g for g in hksj.result.groups if g in normal.result.groups]
    shrunk = [g for g in groups if hksj.result.groups[g].se < normal.result.groups[g].se]
    narrowed = [g for g in groups if (hksj.result.groups[g].ci_high - hksj.result.groups[g].ci_low)
                < (normal.result.groups[g].ci_high - normal.result.groups[g].ci_low)]
    labels = lambda names: join([group_label(g) for g in names])  # noqa: E731
    text = (f"With HKSJ the test gives {p_value(hksj.result.p)} against {p_value(normal.result.p)} with the "
            f"normal-quantile interval ({'lower' if lower else 'not lower'}), so the verdict at the {alpha:g} level is "
            f"{'unchanged' if same else 'different'}. HKSJ multiplies each subgroup's standard error by the square root of "
            "q, how much its studies scatter relative to what the model expects, and replaces the normal quantile by a "
            "t quantile. "
            + (f"Here q is below 1 for {labels(shrunk)}, so {'its' if len(shrunk) == 1 else 'their'} standard error "
               f"shrinks; the test of subgroup differences uses the standard errors, which is why its p-value can fall. "
               if shrunk else "Here q is at least 1 in every subgroup, so no standard error shrinks. ")
            + (f"The interval narrows for {labels(narrowed)}. " if narrowed else
               "Every interval is still wider, because the t quantile outweighs the smaller error. " if shrunk else
               "Every interval is wider. ")
            + "The ad hoc correction (q floored at 1) stops HKSJ from ever being narrower than the standard interval. "
              "Note also that this test refers HKSJ standard errors to a χ² distribution, as R's meta does for subgroups; "
              "mixing a t-based error with a χ² reference is itself a convention, not a derived result."
            + "".join(f" Note: {note}." for note in hksj.result.notes))
    return Answer(text, {"same_verdict": same, "p_lower": lower, "se_shrunk": shrunk, "narrowed": narrowed})


def without_product(studies: pd.DataFrame, comparison: SubgroupComparison, outcome: str, by: str, *,
                    exclude: Sequence[str] = (), alpha: float = ALPHA) -> Answer:
    """Drop the most common product of the subgroup with the highest rate and compare again."""
    if comparison.result is None:
        return Answer(comparison.note)
    groups = comparison.result.groups
    top = max(groups, key=lambda g: groups[g].estimate)
    product = studies.loc[studies[by] == top, "car_product"].mode()[0]
    others = studies[studies["car_product"] != product]
    remaining = compare_subgroups(others, outcome, by, exclude=exclude, alpha=alpha)
    left = int((others[by] == top).sum())
    still = remaining.result is not None and significant(remaining.result.p, alpha)
    text = (f"Without {product}, {plural(left, 'cohort')} with {group_label(top)} {'remains' if left == 1 else 'remain'}. "
            + remaining.sentence)
    return Answer(text, {"product": product, "left": left, "still_significant": still})


def estimator_sides(studies: pd.DataFrame, outcome: str = "neurotox", models: Mapping[str, Mapping[str, str]] | None = None,
                    extra: Sequence[str] = ("SJ", "EB")) -> Answer:
    """Add τ² estimators to the model panel: is each closer to DL or to the GLMM?"""
    panel = model_sensitivity(studies, [outcome], {**(models or MODELS), **{e: {"tau2": e} for e in extra}}).set_index("model")
    estimates = panel["estimate"]
    wanted = ["DL (paper)", "GLMM", *extra]
    if not np.isfinite(estimates.reindex(wanted).to_numpy(dtype=float)).all():
        return Answer(f"On this table not every model could be fitted to {OUTCOME_NOUNS[outcome]}, so the comparison is incomplete.",
                      table=panel)
    dl, glmm = estimates["DL (paper)"], estimates["GLMM"]
    sides = {e: "DL" if abs(estimates[e] - dl) <= abs(estimates[e] - glmm) else "the GLMM" for e in extra}
    text = (" and ".join(f"{e} gives {percent(estimates[e])}" for e in extra)
            + f", against {percent(dl)} for DL and {percent(glmm)} for the GLMM: "
            + ", ".join(f"{e} is closer to {sides[e]}" for e in extra)
            + ". These estimators stay on the logit scale with the 0.5 correction, so the estimator of τ² is only part of "
              "the story; the treatment of zero-event cohorts is the other.")
    return Answer(text, {"sides": sides}, panel)


def correction_direction(studies: pd.DataFrame, outcome: str = "neurotox", adds: Sequence[float] = (0.1, 0.25, 0.5)) -> Answer:
    """Pool ``outcome`` with each continuity correction in ``adds`` (ascending)."""
    rates = {}
    for add in adds:
        fit, _ = try_pool(studies, outcome, add=add)
        rates[add] = 100 * fit.estimate if fit else np.nan
    values = np.array(list(rates.values()))
    table = pd.DataFrame({"correction": list(rates), "pooled rate (%)": values})
    if not np.isfinite(values).all():
        return Answer(f"No cohort of this table reports {OUTCOME_NOUNS[outcome]}, so the correction cannot be studied on it.",
                      table=table)
    step = values[-1] - values[0]
    direction = ("higher" if step < 0 else "lower") if abs(step) >= 0.05 else "about the same"
    text = (f"From {adds[0]:g} to {adds[-1]:g} the pooled rate goes from {percent(values[0])} to {percent(values[-1])}: "
            + (f"the smaller the correction, the {direction} the pooled rate. " if direction != "about the same"
               else "the correction hardly matters here. ")
            + "A smaller correction makes a zero-event cohort's logit more extreme, but its variance, which contains "
              "1/correction, grows, so the cohort gets less weight and the pooled rate leans on the cohorts with events; "
              "which effect wins depends on the data. A result that moves with an arbitrary constant is partly an artefact "
              "of it.")
    return Answer(text, {"smaller_correction_gives": direction}, table)


def reading_loss(exact: pd.DataFrame, rough: pd.DataFrame, what: str) -> Answer:
    """Compare two reconstruction checks of the same groups, in the same order (from
    :func:`analysis.survival.round_trip`): the fine reading ``exact`` and a rougher
    one; say what the rougher reading loses."""
    if len(exact) != len(rough):
        raise ValueError("the two checks must cover the same groups")
    merged = exact.reset_index(drop=True).join(rough.reset_index(drop=True), rsuffix=" (rough)")
    events_off = int((merged["rebuilt events (rough)"] - merged["events"]).abs().sum())
    median_off = (merged["rebuilt median (rough)"] - merged["median"]).abs()
    rms_ratio = float(merged["RMS dS (rough)"].mean() / merged["RMS dS"].mean())
    patients_exact = bool((merged["rebuilt patients (rough)"] == merged["patients"]).all())
    text = (f"With {what}, the rebuilt patient counts are {'still exact' if patients_exact else 'no longer exact'}, "
            + ("the rebuilt events are exact, " if events_off == 0 else f"the rebuilt events are off by {plural(events_off, 'event')} in all, ")
            + (f"the medians move by up to {plural(round(float(median_off.max())), 'day')}" if median_off.max() >= 0.5 else "the medians are unchanged")
            + f", and the curve's RMS error is {number(rms_ratio)} times the finer reading's. "
            + ("What is lost is the shape of the curve between anchors: the patient total is pinned by the numbers at risk, "
               "the timing of events (and with it their count between anchors) is guessed."
               if rms_ratio > 1 else "Little is lost here."))
    return Answer(text, {"events_off": events_off, "max_median_off": float(median_off.max()), "rms_ratio": rms_ratio,
                         "patients_exact": patients_exact}, merged)


def wald_vs_exact(events: int, n: int, level: float = 0.95) -> Answer:
    """The Wald and the exact (Clopper–Pearson) interval for ``events`` of ``n``."""
    p = events / n
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(p * (1 - p) / n)
    low, high = 100 * (p - half), 100 * (p + half)
    exact_low, exact_high = (100 * float(v) for v in clopper_pearson(events, n, level))
    outside = low < 0 or high > 100
    text = (f"The Wald interval for {events} of {n} runs from {percent(low)} to {percent(high)}"
            + (", outside the possible range 0–100%: with so few patients the normal approximation does not hold. "
               if outside else ", inside 0–100% here, but it rests on a normal approximation that few patients do not justify. ")
            + f"The exact interval, {interval(exact_low, exact_high)}, is built from the binomial distribution itself and "
              "stays within 0–100% by construction.")
    return Answer(text, {"wald_outside": outside, "wald": (low, high), "exact": (exact_low, exact_high)})


def trend_scores(by_dose: pd.DataFrame, scores: Sequence[float], reference: Sequence[float], alpha: float = ALPHA) -> Answer:
    """The trend test with two scorings of the dose groups: does the verdict change?"""
    if len(by_dose) < 2:
        return Answer("The dose table has fewer than two dose groups, so there is no trend to test.")
    new = trend_test(by_dose["responders"], by_dose["n"], scores)
    old = trend_test(by_dose["responders"], by_dose["n"], reference)
    same = significant(new.p, alpha) == significant(old.p, alpha)
    text = (f"With equally spaced scores the trend test gives {p_value(new.p)} (χ² = {number(new.statistic, 2)}), against "
            f"{p_value(old.p)} with the dose itself: the verdict at the {alpha:g} level is {'unchanged' if same else 'different'}. "
            "The scores decide which steps between doses count most; a test whose answer moves with them should be read "
            "with the pattern of rates beside it.")
    return Answer(text, {"same_verdict": same, "p": new.p, "reference_p": old.p})


def table2_check(studies: pd.DataFrame, study_id: str, printed: Mapping[str, float], tolerance: float = 1.0) -> Answer:
    """Rebuild one cohort's CRS and neurotoxicity rates and compare them with the
    percentages printed for it elsewhere (``printed``: outcome -> percent)."""
    if study_id not in set(studies["study_id"]):
        return Answer(f"This table has no row {study_id}, so the check cannot be made on it.")
    row = studies.set_index("study_id").loc[study_id]
    rebuilt = {o: 100 * float(row[o]) / float(row["n_safety"]) for o in printed}
    agree = all(abs(rebuilt[o] - printed[o]) < tolerance for o in printed)
    text = ("Rebuilt from the table: " + ", ".join(f"{OUTCOME_NOUNS[o]} {percent(rebuilt[o])}" for o in printed)
            + "; Table 2 prints " + ", ".join(f"{printed[o]:g}%" for o in printed)
            + (", so they agree at the printed precision." if all(abs(rebuilt[o] - printed[o]) < 0.05 for o in printed) else
               f", so they {'agree within' if agree else 'differ by more than'} {plural(int(tolerance), 'percentage point')}."))
    return Answer(text, {"agree": agree, "rebuilt": rebuilt})


def sourced_only(studies: pd.DataFrame, outcome: str, by: str, *, exclude: Sequence[str] = (), alpha: float = ALPHA) -> Answer:
    """The subgroup comparison by ``by`` on the cohorts whose ``by`` value is sourced."""
    status = f"{by}_status"
    sourced = studies[studies[status] == "sourced"] if status in studies else studies.iloc[:0]
    result = compare_subgroups(sourced, outcome, by, exclude=exclude, alpha=alpha)
    used = 0 if result.result is None else sum(g.k for g in result.result.groups.values())
    judged = result.result is not None and min(g.k for g in result.result.groups.values()) >= 2
    holds = judged and significant(result.result.p, alpha)
    verdict = ("" if result.result is None else
               " With a single cohort in a group, τ² cannot be estimated within it and the test treats that cohort's "
               "rate as the group's: two trials cannot separate the factor from everything else that differs between "
               "them, so among the sourced cohorts alone the contrast cannot be judged." if not judged else
               " The contrast is there among the sourced cohorts too." if holds else
               " Among the sourced cohorts alone the contrast is not beyond chance, so the finding rests on the inferred groups.")
    shown = result.sentence if judged or result.result is None else ""
    text = (f"{plural(len(sourced), 'cohort')} of this table {'has' if len(sourced) == 1 else 'have'} a sourced "
            f"{FACTOR_LABELS.get(by, by)}, "
            f"{used} of them with a rate of {OUTCOME_NOUNS[outcome]}. {shown}{verdict} With so few cohorts, "
            "a result either way is fragile.").replace(".  ", ". ")
    return Answer(text, {"sourced": len(sourced), "used": used, "judged": judged, "holds": holds})
