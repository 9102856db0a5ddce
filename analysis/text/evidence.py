"""Sentences of what a haematologist asks of the evidence since 2020: the randomized
trials' hazard ratios beside the paper's surrogate control, median PFS across cohorts,
each product, the weight of the new cohorts, ICANS apart, the phases, the late harms --
each made from the numbers it states."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..meta.effects import PooledEffect
from ..meta.results import PooledProportion
from .labels import OUTCOME_LABELS, OUTCOME_NOUNS
from .numbers import interval, join, number, p_value, percent, plural, share
from .phrasing import ALPHA, estimate_text, significant

__all__ = ["hr_text", "randomized_sentence", "two_trials_sentence", "surrogate_sentence", "os_sentence", "pooled_os_caution",
           "median_pfs_sentence", "MEDIAN_ESTIMAND", "weight_share_sentence", "WEIGHTS_EXPLAINED", "new_alone_sentence", "icans_sentence",
           "late_harm_sentence", "product_sentence"]


def hr_text(hr: float, low: float, high: float, level: float = 0.95) -> str:
    """``0.49 (95% CI 0.38–0.63)``."""
    return f"{number(hr, 2)} ({number(100 * level, 0)}% CI {interval(low, high, 2, '')})"


def randomized_sentence(endpoint: str, fit: PooledEffect | None, trials: Sequence[str], what: str) -> str:
    """The pooled hazard ratio of an ``endpoint`` over the randomized ``trials`` (``what``
    says which analyses: "journal reports", "every source")."""
    if fit is None:
        return f"No randomized trial in {what} reports a hazard ratio for {endpoint}."
    if fit.k == 1:
        return (f"Only {trials[0]} in {what} reports a hazard ratio for {endpoint}: "
                f"{hr_text(fit.estimate, fit.ci_low, fit.ci_high, fit.level)}, so there is nothing to pool.")
    direction = ("lower with CAR-T" if fit.ci_high < 1 else "higher with CAR-T" if fit.ci_low > 1 else
                 "not clearly different")
    return (f"Pooled over {join(list(trials))} ({what}), the hazard ratio for {endpoint} of CAR-T against standard "
            f"regimens is {hr_text(fit.estimate, fit.ci_low, fit.ci_high, fit.level)}: the risk of {endpoint_noun(endpoint)} is "
            f"{direction}.")


def endpoint_noun(endpoint: str) -> str:
    return {"PFS": "progression or death", "OS": "death"}.get(endpoint, endpoint)


def two_trials_sentence(fit: PooledEffect | None, alpha: float = ALPHA) -> str:
    """What the heterogeneity of two (or few) trials can and cannot say."""
    if fit is None or fit.k < 2:
        return ""
    differ = significant(fit.q_p, alpha)
    return (f"With {plural(fit.k, 'trial')} the between-trial variance rests on {plural(fit.q_df, 'degree')} of freedom: "
            f"I² = {percent(fit.i2)} (Q test {p_value(fit.q_p)}) says the trials' hazard ratios "
            f"{'differ more than chance would explain' if differ else 'do not differ beyond chance'}, but cannot say why — "
            "the products, the comparators and the patients all differ — and a random-effects interval from so few "
            "trials is itself uncertain.")


def surrogate_sentence(fit: PooledEffect | None, surrogate: float | None) -> str:
    """The randomized pooled PFS hazard ratio set beside the paper's surrogate-control
    hazard ratio (CAR-T at active against inactive doses)."""
    if fit is None or surrogate is None or not math.isfinite(surrogate):
        return "The randomized and the surrogate-control hazard ratios cannot both be set side by side here."
    where = "below" if surrogate < fit.ci_low else "above" if surrogate > fit.ci_high else "inside"
    agree = {"inside": "so the randomized evidence is compatible with the size of the paper's estimate",
             "below": "so the paper's surrogate control promised a larger benefit than the randomized trials show",
             "above": "so the randomized trials show a larger benefit than the paper's surrogate control"}[where]
    return (f"The paper's surrogate-control hazard ratio ({number(surrogate, 2)}, CAR-T at active against inactive doses, "
            f"as the paper reports it) lies {where} the interval of the randomized one ({interval(fit.ci_low, fit.ci_high, 2, '')}), "
            f"{agree}. The two answer different questions: low-dose CAR-T is not standard care, and patients in the "
            "surrogate arms were not randomized.")


def os_sentence(trial: str, hr: float, low: float, high: float, crossover: float | None) -> str:
    """A trial's overall-survival hazard ratio read with its crossover."""
    text = f"For overall survival, {trial} gives a hazard ratio of {hr_text(hr, low, high)}"
    if crossover is not None and math.isfinite(crossover):
        return text + (f", with {number(crossover, 0)}% of its control arm crossing over to CAR-T on progression: the "
                       "comparison is then of CAR-T now against CAR-T later, and an intention-to-treat hazard ratio near 1 "
                       "cannot tell the two apart.")
    return text + " (no crossover to CAR-T in its control arm is reported here)."


def pooled_os_caution(crossovers: Sequence[float]) -> str:
    """Why a pooled OS hazard ratio over trials with and without crossover mixes questions."""
    with_crossover = [c for c in crossovers if c is not None and math.isfinite(c)]
    if not with_crossover or len(with_crossover) == len(crossovers):
        return ""
    return (" Pooling a trial whose control arm crossed over to CAR-T with one whose did not mixes two questions, "
            "so the pooled OS hazard ratio is the least interpretable number here.")


#: What a pooled median PFS across cohorts estimates.
MEDIAN_ESTIMAND = ("The pooled value is a typical cohort's median PFS (the medians pooled on the log scale, each with the "
                   "standard error its published 95% CI implies), not the median of all patients; medians read at different "
                   "follow-up, in different populations, are fragile, and a cohort whose median was not reached cannot "
                   "enter.")


def median_pfs_sentence(edition: str, fit: PooledEffect | None, usable: int, reported: int,
                        without_ci: Sequence[str] = ()) -> str:
    """The pooled median PFS of one edition, from the ``usable`` cohorts (median with
    both CI limits) of the ``reported`` that give a median; ``without_ci`` names those
    given without a CI, which cannot be weighted."""
    rest = (f" Given without a CI, and so not weighted: {join(list(without_ci))}." if without_ci else "")
    if fit is None:
        return (f"In {edition}, {plural(reported, 'cohort')} give{'s' if reported == 1 else ''} a median PFS, none with both "
                "limits of its CI, so none can be pooled." + rest)
    if fit.k == 1:
        one = fit.studies.iloc[0]
        return (f"In {edition}, one cohort of the {reported} with a median PFS gives its CI ({one['study']}: "
                f"{number(one['estimate'], 1)} months): one cohort is not a pool." + rest)
    return (f"In {edition}, {plural(fit.k, 'cohort')} of the {reported} with a median PFS give its CI; pooled, a typical "
            f"cohort's median is {number(fit.estimate, 1)} months (95% CI {interval(fit.ci_low, fit.ci_high, 1, ' months')}; "
            f"I² = {percent(fit.i2)})." + rest)


def weight_share_sentence(outcome: str, new_k: int, k: int, patients: float, weight: float) -> str:
    """The share of patients and of random-effects weight that the new cohorts hold."""
    if new_k == 0:
        return f"{OUTCOME_LABELS.get(outcome, outcome)}: no new cohort reports it."
    link = "but only" if weight < patients else "and"
    return (f"{OUTCOME_LABELS.get(outcome, outcome)}: the {plural(new_k, 'new cohort')} (of {k}) hold {percent(patients)} of "
            f"the patients {link} {percent(weight)} of the random-effects weight.")


#: Why a cohort's weight is not its size.
WEIGHTS_EXPLAINED = ("Random-effects weights add the between-cohort variance to each cohort's own, so when cohorts "
                     "disagree the weights even out and a large trial counts for less than its size.")


def new_alone_sentence(outcome: str, before: PooledProportion | None, new: PooledProportion | None) -> str:
    """The new cohorts alone against the 2020 table, and whether their intervals overlap."""
    label = OUTCOME_LABELS.get(outcome, outcome)
    if before is None or new is None:
        return f"{label}: the new cohorts alone cannot be pooled against the 2020 table."
    overlap = new.ci_low <= before.ci_high and before.ci_low <= new.ci_high
    side = "higher" if new.estimate > before.estimate else "lower"
    return (f"{label}: the new cohorts alone pool to {estimate_text(100 * new.estimate, 100 * new.ci_low, 100 * new.ci_high, new.k)}, "
            f"{side} than the 2020 table's {estimate_text(100 * before.estimate, 100 * before.ci_low, 100 * before.ci_high, before.k)}; "
            f"the intervals {'overlap' if overlap else 'do not overlap'}.")


def icans_sentence(icans: PooledProportion | None, neurotox: PooledProportion | None, imputed: int, k_neuro: int) -> str:
    """ICANS and neurotoxicity of any kind, pooled apart (from different cohorts: not a
    comparison), with the imputed zeros counted."""
    parts = []
    if icans is not None:
        parts.append(f"ICANS, from the {plural(icans.k, 'cohort')} that report it apart, pools to "
                     f"{estimate_text(100 * icans.estimate, 100 * icans.ci_low, 100 * icans.ci_high)}")
    else:
        parts.append("no cohort reports ICANS apart")
    if neurotox is not None:
        parts.append(f"neurotoxicity of any kind, as each trial defined it (ICANS and the later movement disorders, "
                     f"cranial-nerve palsies and neuropathies alike), from {plural(neurotox.k, 'cohort')}, to "
                     f"{estimate_text(100 * neurotox.estimate, 100 * neurotox.ci_low, 100 * neurotox.ci_high)}")
    text = "; ".join(parts)
    text = text[0].upper() + text[1:] + "."
    if icans is not None and neurotox is not None:
        text += " The two come from different cohorts, so the gap between them is not the share of neurotoxicity that is ICANS."
    if imputed:
        text += (f" {share(imputed, k_neuro, 'cohort')} pooled for neurotoxicity of any kind count zero events only because "
                 "no neurotoxicity was listed (the paper's rule); the toxicity chapter shows the rate without them.")
    return text


def late_harm_sentence(harm: str, fit: PooledProportion | None, listed: Sequence[str], products: int = 1) -> str:
    """A late harm: pooled where at least two cohorts report it (a caution where so few,
    of ``products`` different products, carry it), otherwise the cohorts that do."""
    noun = OUTCOME_NOUNS.get(harm, harm)
    title = noun[0].upper() + noun[1:]
    if fit is not None and fit.k >= 2:
        caution = (f" From only {plural(fit.k, 'cohort')} of {plural(products, 'product')}, this is a range of what was "
                   "seen rather than a rate to quote." if fit.k < 5 else "")
        return (f"{title}: {estimate_text(100 * fit.estimate, 100 * fit.ci_low, 100 * fit.ci_high, fit.k)} pooled, each "
                f"cohort counting them as its report defines them.{caution}")
    if listed:
        return f"{title}: reported by one cohort only ({join(list(listed))}), so not pooled."
    return f"{title}: no cohort of this table reports a count, which says nothing about how often they occur."


def product_sentence(products: Mapping[str, Sequence[str]]) -> str:
    """Which products have at least two cohorts to pool, and their trials."""
    if not products:
        return "No product has two cohorts in this table, so nothing is pooled per product."
    return ("Each product with at least two cohorts is pooled on its own; its cohorts: "
            + "; ".join(f"{product}: {join(list(trials))}" for product, trials in products.items()) + ".")
