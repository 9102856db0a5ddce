"""Sentences that state a direction, a ranking, a size or a significance, made from numbers.

The book's prose never states such a thing in typed text: it would be true only for the
table the sentence was written against. Chapters call these helpers instead, with the
significance level a parameter, so every claim is re-derived from the table a book is
built from. Sentences about a fit take the fit itself and state its own interval level
and method; labels come from :mod:`analysis.text.labels`, numbers from
:mod:`analysis.text.numbers`.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd


from ..meta.regression import MetaRegression
from ..meta.results import PooledProportion, SubgroupAnalysis
from .labels import DOSE_SCALES, FACTOR_LABELS, OUTCOME_LABELS, OUTCOME_NOUNS, PREDICTION_METHODS, SCALE_LABELS, group_label
from .numbers import interval, join, level_text, number, p_value, percent, plural, share

__all__ = [
    "ALPHA",
    "significant",
    "estimate_text",
    "fit_estimate",
    "heterogeneity_sentence",
    "fit_heterogeneity_sentence",
    "subgroup_sentence",
    "pooled_sentence",
    "prediction_sentence",
    "findings_sentence",
    "trend_sentence",
    "dose_sentence",
    "composition_sentence",
    "not_reported_note",
    "comparison_unavailable",
    "left_out_sentence",
    "dose_regression_sentence",
    "dose_regression_unavailable",
    "hksj_sentence",
    "precision_sentence",
    "covariate_note",
    "inferred_sentence",
    "rule_flip_sentence",
    "overlap_sentence",
    "covariate_basis_sentence",
    "robustness_sentence",
    "product_dominance_sentence",
    "variance_note",
    "hksj_fallback_note",
    "multiplicity_sentence",
    "not_pooled_note",
    "fit_notes_sentence",
    "NAMED_IN_NOTE",
    "model_robustness_sentence",
    "refused_models_sentence",
    "correction_sentence",
    "estimand_sentence",
]

#: The default significance level of the book's tests.
ALPHA = 0.05


def significant(p: float, alpha: float = ALPHA) -> bool:
    return math.isfinite(p) and p < alpha


def estimate_text(estimate: float, low: float, high: float, k: int | None = None, decimals: int = 1,
                  level: float = 0.95) -> str:
    """``80.2% (95% CI 68.6–88.2; 25 cohorts)``; "not estimable" without an estimate."""
    if not math.isfinite(estimate):
        return "not estimable" + (f" ({plural(k, 'cohort')})" if k is not None else "")
    text = f"{percent(estimate, decimals)} ({level_text(level)} CI {interval(low, high, decimals)}"
    return text + (f"; {plural(k, 'cohort')})" if k is not None else ")")


def fit_estimate(fit: PooledProportion, decimals: int = 1, cohorts: bool = True) -> str:
    """:func:`estimate_text` of a pooled result, at its own level."""
    return estimate_text(100 * fit.estimate, 100 * fit.ci_low, 100 * fit.ci_high, fit.k if cohorts else None, decimals,
                         fit.level)


def heterogeneity_sentence(i2: float, q_p: float, k: int, alpha: float = ALPHA,
                           i2_ci: tuple[float, float] | None = None, level: float = 0.95) -> str:
    """Whether the cohorts disagree more than sampling error allows, from the Q-test;
    with the Q-profile CI of I² (at ``level``) when given."""
    if k < 2:
        return "With a single cohort there is no between-cohort heterogeneity to estimate."
    ci = f", {level_text(level)} CI {interval(*i2_ci, 0)}" if i2_ci is not None else ""
    stats_text = f"I² = {number(i2, 0)}%{ci}; Q-test {p_value(q_p)}"
    if significant(q_p, alpha):
        return (f"The cohorts disagree more than sampling error alone would explain ({stats_text}): "
                "part of the spread reflects real differences between them.")
    return (f"The spread between cohorts is compatible with sampling error alone ({stats_text}, "
            f"not below the {alpha:g} level), though with few or small cohorts this test has little power.")


def fit_heterogeneity_sentence(fit: PooledProportion | None, alpha: float = ALPHA) -> str:
    """:func:`heterogeneity_sentence` for a pooled result, with its I² and τ² intervals
    (Q-profile, at the fit's level) and the scale τ² is on; "" without a result."""
    if fit is None:
        return ""
    ci = fit.heterogeneity_ci()
    sentence = heterogeneity_sentence(fit.i2, fit.q_p, fit.k, alpha,
                                      None if ci is None else (ci.i2_ci_low, ci.i2_ci_high), fit.level)
    if ci is None:
        return sentence
    return (f"{sentence} The between-cohort variance is τ² = {number(ci.tau2, 2)} ({level_text(fit.level)} CI "
            f"{interval(ci.tau2_ci_low, ci.tau2_ci_high, 2, '')}) on the {SCALE_LABELS[fit.transform]}.")


def subgroup_sentence(outcome: str, factor: str, result: SubgroupAnalysis, alpha: float = ALPHA) -> str:
    """A ranking of subgroup estimates and the verdict of the test for differences.

    The ranking describes the point estimates; whether they differ beyond chance is the
    test's verdict at ``alpha``, stated separately so the two are never confused.
    """
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    ordered = sorted(result.groups.items(), key=lambda item: item[1].estimate)
    described = [f"{group_label(g)} {fit_estimate(fit)}" for g, fit in ordered]
    (low_name, low), (high_name, high) = ordered[0], ordered[-1]
    by = FACTOR_LABELS.get(factor, factor)
    if percent(100 * low.estimate) == percent(100 * high.estimate):
        ranking = f"By {by}, {noun} was about equally frequent in every subgroup"
    elif len(ordered) == 2:
        ranking = f"By {by}, {noun} was less frequent with {group_label(low_name)} than with {group_label(high_name)}"
    else:
        ranking = f"By {by}, {noun} was least frequent with {group_label(low_name)} and most frequent with {group_label(high_name)}"
    if significant(result.p, alpha):
        verdict = (f"The test for subgroup differences gives {p_value(result.p)}, below the {alpha:g} level: "
                   "the subgroups differ more than chance alone would explain.")
    else:
        verdict = (f"The test for subgroup differences gives {p_value(result.p)}, not below the {alpha:g} level: "
                   "these data do not show a difference beyond chance.")
    return f"{ranking}: {'; '.join(described)}. {verdict}"


def pooled_sentence(outcome: str, fit: PooledProportion | None, note: str = "") -> str:
    """``The pooled rate of neurotoxicity is 10.4% (95% CI 6.7–16.0; 27 cohorts, 639
    patients).``, or ``note`` when the table cannot give the outcome."""
    if fit is None:
        return note
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    return (f"The pooled rate of {noun} is {percent(100 * fit.estimate)} ({level_text(fit.level)} CI "
            f"{interval(100 * fit.ci_low, 100 * fit.ci_high)}; {plural(fit.k, 'cohort')}, "
            f"{plural(fit.n_total, 'patient')}).")


def prediction_sentence(outcome: str, fit: PooledProportion | None) -> str:
    """Where a new cohort's rate would be expected to fall, how wide that range is, and
    how it was computed (the fit's ``pi_method``)."""
    if fit is None:
        return ""
    if fit.k < 2:
        return "With a single cohort there is no prediction interval beyond its own confidence interval."
    width = 100 * (fit.pi_high - fit.pi_low)
    return (f"The {level_text(fit.level)} prediction interval, {interval(100 * fit.pi_low, 100 * fit.pi_high)}, is where the "
            f"rate of {OUTCOME_NOUNS.get(outcome, outcome)} in a new cohort like these would be expected to fall; "
            f"it spans {number(width, 0)} percentage points, against {number(100 * (fit.ci_high - fit.ci_low), 0)} "
            f"for the confidence interval of the pooled mean (computed with {PREDICTION_METHODS[fit.pi_method]}).")


def findings_sentence(
    pooled: Mapping[str, PooledProportion | None],
    comparisons: Sequence[tuple[str, str, float | None]],
    alpha: float = ALPHA,
) -> str:
    """A results chapter's summary: each pooled outcome (a fit or ``None``) with its CI,
    then which subgroup comparisons (outcome, factor, p or ``None`` when the table cannot
    support it) differ beyond chance at ``alpha``."""
    rates = [f"{OUTCOME_NOUNS.get(o, o)} {fit_estimate(fit)}" for o, fit in pooled.items() if fit is not None]
    missing = [OUTCOME_NOUNS.get(o, o) for o, fit in pooled.items() if fit is None]
    text = f"Pooled over this table: {join(rates)}." if rates else "No outcome of this chapter can be pooled on this table."
    if missing:
        text += f" Not estimable here: {join(missing)}."
    if not comparisons:
        return text
    named = lambda o, by, p: f"{OUTCOME_NOUNS.get(o, o)} by {FACTOR_LABELS.get(by, by)}, {p_value(p)}"  # noqa: E731
    made = [(o, by, p) for o, by, p in comparisons if p is not None]
    differ = [named(*c) for c in made if significant(c[2], alpha)]
    same = [named(*c) for c in made if not significant(c[2], alpha)]
    skipped = len(comparisons) - len(made)
    parts = []
    if differ:
        count = f"all {len(differ)}" if len(differ) == len(comparisons) > 1 else str(len(differ))
        parts.append(f"{count} {'shows' if len(differ) == 1 else 'show'} a difference beyond chance at the "
                     f"{alpha:g} level ({'; '.join(differ)})")
    if same:
        count = f"all {len(same)}" if len(same) == len(comparisons) > 1 else str(len(same))
        parts.append(f"{count} {'does' if len(same) == 1 else 'do'} not show a difference beyond chance ({'; '.join(same)})")
    if skipped:
        parts.append(f"{skipped} cannot be made on this table")
    return f"{text} Of the {plural(len(comparisons), 'subgroup comparison')}, {join(parts)}."


def trend_sentence(slope: float, p: float, alpha: float = ALPHA, what: str = "Response", score: str = "the dose") -> str:
    """A chi-square test for trend in proportions in words: its direction (the sign of
    the slope) and whether it is beyond chance at ``alpha``."""
    direction = "rises" if slope > 0 else "falls" if slope < 0 else "does not change"
    if significant(p, alpha):
        return f"{what} {direction} with dose: the test for a linear trend with {score} as score gives {p_value(p)}."
    lean = f"{what} {'tends to ' + direction.removesuffix('s') if slope else 'does not change'} with dose"
    return (f"{lean}, but the test for a linear trend with {score} as score gives {p_value(p)}, not below the "
            f"{alpha:g} level: no trend beyond chance.")


def dose_sentence(ranges: Mapping[str, float | None], k: int) -> str:
    """The dose ranges of :func:`analysis.data.dose_ranges` in words."""
    parts = []
    if ranges["per_kg_min"] is not None:
        parts.append(f"per kilogram, from {ranges['per_kg_min']:g} to {ranges['per_kg_max']:g} × 10⁶ cells/kg")
    if ranges["flat_min"] is not None:
        parts.append(f"as a flat dose, from {ranges['flat_min']:g} to {ranges['flat_max']:g} × 10⁶ cells")
    missing = int(ranges["not_reported"])
    if not parts:
        return "No cohort of this table reports its dose."
    text = f"Doses were given {join(parts, 'or')}"
    if missing:
        text += f"; {plural(missing, 'cohort')} of {k} did not report the dose"
    return text + "."


def composition_sentence(patients: Mapping[str, float], total: float, what: str) -> str:
    """``Gene transfer was lentiviral for 489 patients (76.4%), retroviral for …``: the
    categories present, largest first."""
    present = sorted(((g, n) for g, n in patients.items() if n > 0), key=lambda item: -item[1])
    if not present:
        return ""
    parts = [f"{'not disclosed' if g == 'ND' else g} for {plural(int(n), 'patient')} ({percent(100 * n / total)})" for g, n in present]
    return f"{what} {join(parts)}."


def not_reported_note(outcome: str) -> str:
    """The note in place of an outcome no cohort of a table reports."""
    return f"No cohort of this table reports {OUTCOME_NOUNS.get(outcome, outcome)}, so it cannot be pooled."


def _aside_label(group: str, factor: str) -> str:
    return f"an undisclosed {factor}" if group == "ND" else group_label(group)


def comparison_unavailable(outcome: str, by: str, present: Sequence[str] | None, aside: Sequence[str]) -> str:
    """Why a table supports no subgroup comparison of ``outcome`` by ``by``: it has no such
    column (``present`` None), or the cohorts reporting the outcome fall in fewer than two
    of the compared groups (``present``), the groups ``aside`` left out."""
    factor, noun = FACTOR_LABELS.get(by, by), OUTCOME_NOUNS.get(outcome, outcome)
    if present is None:
        return f"This table has no {factor} for its cohorts, so {noun} cannot be compared by it."
    left = f" (cohorts with {join([_aside_label(g, factor) for g in aside], 'or')} aside)" if aside else ""
    if not present:
        has = f"no cohort reporting {noun} has a known {factor}{left}"
    else:
        has = f"every cohort reporting {noun} has {group_label(present[0])}{left}"
    return f"In this table {has}, so there is no subgroup comparison by {factor}."


def left_out_sentence(by: str, aside: Mapping[str, int]) -> str:
    """`` Left out of the comparison: 2 cohorts with an undisclosed binder origin.`` (with
    a leading space), or "" when no cohort was left out; ``aside`` maps group -> cohorts."""
    if not aside:
        return ""
    factor = FACTOR_LABELS.get(by, by)
    counts = [plural(n, "cohort") + f" with {_aside_label(g, factor)}" for g, n in aside.items()]
    return f" Left out of the comparison: {join(counts)}."


def dose_regression_unavailable(outcome: str, scale: str, k: int, min_cohorts: int) -> str:
    """Why a table supports no dose regression of ``outcome``."""
    return (f"Only {plural(k, 'cohort')} with {OUTCOME_NOUNS.get(outcome, outcome)} report{'s' if k == 1 else ''} a single "
            f"dose range {DOSE_SCALES[scale]} (with fewer than three distinct doses or {min_cohorts} cohorts), so there is "
            "no dose regression.")


def dose_regression_sentence(outcome: str, scale: str, k: int, result: MetaRegression, term: str,
                             alpha: float = ALPHA) -> str:
    """A meta-regression of a logit rate on log10 dose in words: the odds ratio per
    tenfold dose with its CI (at the fit's level), the test of the moderator, and what
    the pseudo-R² can mean."""
    slope = result.coefficients.loc[term]
    odds = float(math.exp(slope["estimate"]))
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    beyond = significant(result.qm_p, alpha)
    # A direction is stated only where the test finds one.
    trend = (f"the odds of {noun} {'rise' if slope['estimate'] > 0 else 'fall'} by a factor of {number(odds, 2)}" if beyond
             else f"the odds ratio of {noun} is {number(odds, 2)}")
    return (f"Across the {plural(k, 'cohort')} dosed {DOSE_SCALES[scale]}, {trend} "
            f"per tenfold higher dose ({level_text(result.level)} CI {number(math.exp(slope['ci_low']), 2)}–"
            f"{number(math.exp(slope['ci_high']), 2)}; test of the moderator {p_value(result.qm_p)}): "
            + ("more than chance alone would explain" if beyond else
               f"no evidence of a trend with dose at the {alpha:g} level")
            + (f". Dose accounts for {number(max(result.r2, 0), 0)}% of the between-cohort variance (pseudo-R², the drop "
               "in τ² when dose enters)." if beyond else
               f". The pseudo-R² (the drop in τ² when dose enters, {number(max(result.r2, 0), 0)}% here) means little when "
               "the slope is this uncertain: with few cohorts τ² itself is estimated loosely."))


def hksj_sentence(panel: pd.DataFrame) -> str:
    """What :func:`analysis.teaching.hksj_panel` shows, in words: how many fits have q < 1, how many of
    those the HKSJ interval narrows (the most narrowed named), and that the ad hoc
    correction never does."""
    if panel.empty:
        return "This table has no outcome or subgroup with two cohorts, so there is nothing to compare."
    below = panel[panel["q"] < 1]
    narrower = panel[panel["hksj_width"] < panel["z_width"]]
    text = (f"Of the {plural(len(panel), 'fit')} in the table, {len(below)} {'has' if len(below) == 1 else 'have'} q below 1, and "
            f"in {len(narrower)} of them the HKSJ interval is narrower than the standard one")
    if len(narrower):
        most = narrower.loc[(narrower["z_width"] - narrower["hksj_width"]).idxmax()]
        where = "all cohorts" if most["by"] is None or pd.isna(most["by"]) else f"the {most['group']} subgroup"
        text += (f" (most: {OUTCOME_NOUNS.get(most['outcome'], most['outcome'])} in {where}, from "
                 f"{number(most['z_width'])} to {number(most['hksj_width'])} percentage points, with q = {number(most['q'], 2)})")
    adhoc_narrower = int((panel["hksj-adhoc_width"] < panel["z_width"] - 1e-9).sum())
    return text + f". The ad hoc correction narrows {'none' if adhoc_narrower == 0 else plural(adhoc_narrower, 'interval')}."


def precision_sentence(table: pd.DataFrame, level: float = 0.95) -> str:
    """The Monte Carlo precision of a :func:`analysis.meta.simulation.coverage_simulation`
    table, as a sentence:
    the largest standard error of its coverages, and the standard error at the promised
    coverage with the fewest replicates fitted."""
    fewest, most = int(table["fitted"].min()), int(table["fitted"].max())
    nominal = 100 * float(np.sqrt(level * (1 - level) / fewest))
    share = f"{fewest:,}" if fewest == most else f"{fewest:,} to {most:,}"
    return (f"Each coverage is a share of {share} simulated meta-analyses, so its Monte Carlo standard error is "
            f"{number(nominal)} percentage points for a coverage at the promised {level_text(level)}, and at most "
            f"{number(100 * table['mc_se'].max())} for any coverage in the table.")


def covariate_note(without: Sequence[str], unmatched: Sequence[str], changed: Sequence[str]) -> str:
    """What a reader must know about the covariates used with a table
    (:func:`analysis.review.covariate_gaps`): cohorts ``without`` any, covariate rows
    ``unmatched`` by a cohort, cohorts ``changed`` since the 2020 report; "" if none."""
    parts = []
    if without:
        parts.append(f"{plural(len(without), 'cohort')} of this table {'has' if len(without) == 1 else 'have'} no median age or "
                     f"prior-lines group and {'is' if len(without) == 1 else 'are'} left out of those subgroups: {', '.join(without)}.")
    if unmatched:
        parts.append(f"{plural(len(unmatched), 'covariate row')} {'matches' if len(unmatched) == 1 else 'match'} no cohort of this "
                     f"table and {'is' if len(unmatched) == 1 else 'are'} ignored: {', '.join(unmatched)}.")
    if changed:
        parts.append(f"{plural(len(changed), 'cohort')} share{'s' if len(changed) == 1 else ''} an id with a cohort of the paper's "
                     f"table but not its numbers; the covariates given for {'it' if len(changed) == 1 else 'them'} may describe "
                     f"the earlier report: {', '.join(changed)}.")
    return " ".join(parts)


def inferred_sentence(inferred: Mapping[str, int], k: int, covariates_file: str) -> str:
    """How many of a table's ``k`` cohorts have inferred rather than sourced groups, per
    covariate (:func:`analysis.review.inferred_counts`), and the file that says which."""
    names = {"age": "age", "prior_lines": "prior-lines"}
    parts = [f"{n} of {k} cohorts' {names.get(by, by)} groups" for by, n in inferred.items()]
    if not parts:
        return "This table has no covariates, so no group is sourced or inferred."
    return f"In this table {join(parts)} are inferred rather than sourced ({covariates_file} says which, from where, and how)."


def rule_flip_sentence(outcome: str, setting: str, used: Mapping[str, float], other: Mapping[str, float], k: int) -> str:
    """What flipping the rule for an unlisted ``outcome`` does: the pooled rate with the
    rule as set (``setting``: "zero" or "missing"; ``used``: a row of
    :func:`analysis.review.rule_sensitivity`) and flipped (``other``), of ``k`` cohorts."""
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    reported = int(min(used["k"], other["k"]))
    shift = abs(used["estimate"] - other["estimate"])
    rule = "counted as having none" if setting == "zero" else "left out"
    text = (f"Cohorts that print a {noun} rate: {reported} of {k}. With cohorts that list no {noun} {rule}, the pooled rate "
            f"is {estimate_text(used['estimate'], used['ci_low'], used['ci_high'], int(used['k']))}; under the other rule it is "
            f"{estimate_text(other['estimate'], other['ci_low'], other['ci_high'], int(other['k']))}.")
    if math.isfinite(shift):
        text += f" The choice moves the pooled rate by {number(shift)} percentage points."
    return text


def overlap_sentence(cd28: int, both: int) -> str:
    """Whether the cohorts with a CD28 domain (``cd28`` of them) were also activated with
    anti-CD3 alone (``both`` of them), and what that means for telling the two apart."""
    if not cd28:
        return "No cohort of this table has a CD28 domain."
    verb = "was" if both == 1 or cd28 == 1 else "were"
    return (f"{share(both, cd28, 'cohort')} with a CD28 domain {verb} also activated with anti-CD3 alone, so the two features "
            f"{'travel together and' if both else 'do not overlap here, but'} with study-level data their effects cannot be "
            "told apart.")


def covariate_basis_sentence(statuses: Mapping[str, pd.Series]) -> str:
    """What the covariate groupings rest on: per covariate (label -> each cohort's
    status, ``sourced``, ``inferred`` or blank), how many values are of each kind."""
    parts = [f"{plural(int((s == 'sourced').sum()), 'sourced value')}, {int((s == 'inferred').sum())} inferred and "
             f"{int((s == '').sum())} unknown for {label}" for label, s in statuses.items()]
    return f"These groupings rest on {join(parts)}."


def robustness_sentence(largest: float, threshold: float, what: str = "ORR or CR") -> str:
    """Whether a single flip of an extraction rule moves a pooled rate (``largest``: the
    largest move in points, NaN when no rate could be pooled) by less than ``threshold``."""
    if not math.isfinite(largest):
        return "No rule could be applied: the table gives no pooled response rate under any setting."
    if largest < threshold:
        return (f"No single flip moves {what} by more than {number(largest)} percentage points (below the {threshold:g} "
                "points this book calls robust), so the results do not hinge on these choices.")
    return (f"A single flip moves a pooled rate by up to {number(largest)} percentage points (at least the {threshold:g} "
            "points this book calls robust), so the choice matters and should be stated with any rate quoted.")


def product_dominance_sentence(group: str, cohorts: int, product: str, count: int, aliases: Sequence[str]) -> str:
    """How much of a subgroup (``cohorts`` cohorts with ``group``) one product makes up:
    its most common ``product``, in ``count`` of them (also listed as ``aliases``)."""
    also = f" (listed in the forest plot also as {join(list(aliases), 'or')})" if aliases else ""
    tail = ", so this is as much a product comparison as a binder one." if count > cohorts / 2 else "."
    return f"{count} of the {plural(cohorts, 'cohort')} with {group_label(group)} used one product, {product}{also}{tail}"


def model_robustness_sentence(robust: Sequence[str], fragile: Mapping[str, tuple[float, str, float, str]],
                              threshold: float) -> str:
    """Which outcomes keep their pooled estimate within ``threshold`` points across the
    models (``robust``), and the range and its models of the others (``fragile``:
    outcome -> lowest %, its model, highest %, its model)."""
    ranges = [f"{OUTCOME_LABELS.get(o, o)} from {percent(lo)} ({lo_model}) to {percent(hi)} ({hi_model})"
              for o, (lo, lo_model, hi, hi_model) in fragile.items()]
    return (f"Robust to the model (pooled estimates within {threshold:g} points of each other): "
            f"{join([OUTCOME_LABELS.get(o, o) for o in robust]) if robust else 'none of the outcomes'}. Model-dependent: "
            + ("; ".join(ranges) if ranges else "no outcome") + ".")


def refused_models_sentence(refused: Sequence[tuple[str, str, str]]) -> str:
    """The models that could not be fitted (model, outcome, why); "" when all could."""
    if not refused:
        return ""
    return ("Not every model could be fitted to this table: "
            + "; ".join(f"{model} for {OUTCOME_LABELS.get(o, o).lower()} ({note})" for model, o, note in refused) + ".")


def correction_sentence(zeros: int, unreported: int, dl: float, glmm: float) -> str:
    """Why the model matters for neurotoxicity: ``zeros`` cohorts with no events
    (``unreported`` of them by the extraction rule), and the pooled rate under the
    paper's model (``dl``) and the GLMM (``glmm``, percent; NaN if not fitted)."""
    text = (f"For neurotoxicity, {plural(zeros, 'cohort')} of this table count zero events ({unreported} of them because no "
            "rate was reported), and on the logit scale each gets 0.5 added to its events — a sizeable rate for a cohort of "
            "10 or 20 patients. The binomial GLMM needs no such correction: ")
    if math.isfinite(glmm) and math.isfinite(dl):
        return text + f"it puts neurotoxicity at {percent(glmm)} against {percent(dl)} for the paper's model."
    return text + "on this table it could not be compared with the paper's model."


def estimand_sentence(means: Mapping[str, float], medians: Mapping[str, float]) -> str:
    """The mean rate over cohorts and the median cohort's rate (percent) under two models,
    and whether the models disagree less about the mean than about the median."""
    (a, b) = list(means)
    closer = abs(means[a] - means[b]) < abs(medians[a] - medians[b])
    return ("For neurotoxicity the mean rate over cohorts is " + join([f"{percent(means[m])} under {m}" for m in means])
            + f", against medians of {percent(medians[a])} and {percent(medians[b])}: "
            + ("the two models disagree less about the mean than about the median." if closer else
               "the two models disagree at least as much about the mean as about the median."))


def fit_notes_sentence(notes: Sequence[str]) -> str:
    """A fit's notes (lower-case clauses) as sentences for a note box; "" without any."""
    return " ".join(f"{note[0].upper()}{note[1:]}." for note in notes if note)


#: How many cohorts a note names before it counts the rest.
NAMED_IN_NOTE = 6


def not_pooled_note(outcome: str, labels: Sequence[str]) -> str:
    """The note of a fit that leaves out the cohorts (``labels``) whose ``outcome`` is
    not reported, not disclosed or unknown under the extraction rules."""
    named = join(list(labels[:NAMED_IN_NOTE]) + ([f"{len(labels) - NAMED_IN_NOTE} more"] if len(labels) > NAMED_IN_NOTE else []))
    return (f"not pooled: {named} ({'its' if len(labels) == 1 else 'their'} {OUTCOME_NOUNS.get(outcome, outcome)} is not "
            "reported, not disclosed or unknown under the extraction rules)")


def multiplicity_sentence(tests: int, raw: int, holm: int, alpha: float = ALPHA, not_run: Sequence[str] = ()) -> str:
    """How many of ``tests`` subgroup tests fall below ``alpha`` before and after Holm's
    adjustment, and which could not be run."""
    if not tests:
        return "This table supports none of the subgroup tests, so there is nothing to adjust."
    text = (f"Of the {plural(tests, 'subgroup test')} run on this table, {raw} {'falls' if raw == 1 else 'fall'} below "
            f"the {alpha:g} level one by one; holding the chance of any false difference at {alpha:g} over all of them "
            f"(Holm's adjustment), {holm} {'does' if holm == 1 else 'do'}.")
    if raw > holm:
        text += " The differences that do not survive are those a reader should weigh most cautiously."
    if not_run:
        text += f" Not run on this table: {join(list(not_run))}."
    return text


def hksj_fallback_note(groups: Sequence[str]) -> str:
    """The note of a fit asked for HKSJ intervals where a meta-analysis (the subgroups
    ``groups``, or the whole fit when empty) has a single cohort: its interval is the z
    interval, as in metafor."""
    if groups:
        where = f"the subgroup{'s' if len(groups) > 1 else ''} {join([group_label(g) for g in groups])}, of one cohort"
    else:
        where = "this meta-analysis of one cohort"
    return f"HKSJ needs at least two cohorts, so for {where}, the interval is the normal (z) interval, as in metafor"


def variance_note(studies: pd.DataFrame) -> str:
    """The note of a fit whose studies' sampling variances (``vi`` of its per-study
    table) span seven orders of magnitude or more, naming the studies at the two ends."""
    low, high = studies.loc[studies["vi"].idxmin()], studies.loc[studies["vi"].idxmax()]
    ratio = high["vi"] / low["vi"]
    return (f"the sampling variances span a factor of {ratio:,.0f} (smallest: {low['study']}, largest: {high['study']}), so metafor "
            "warns that its estimates may not be stable; read this result with that in mind")
