"""Sentences that state a direction, a ranking, a size or a significance, made from numbers.

The book's prose never states such a thing in typed text: it would be true only for the
table the sentence was written against. Chapters call these helpers instead, with the
significance level a parameter, so every claim is re-derived from the table a book is
built from. Human labels for outcomes, factors and categories live here too, so that no
code name reaches a reader.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from .proportions import SCALE_LABELS

__all__ = [
    "ALPHA",
    "OUTCOME_LABELS",
    "OUTCOME_NOUNS",
    "FACTOR_LABELS",
    "GROUP_LABELS",
    "plural",
    "join",
    "share",
    "typeset",
    "number",
    "round_half_up",
    "percent",
    "interval",
    "p_value",
    "significant",
    "estimate_text",
    "heterogeneity_sentence",
    "fit_heterogeneity_sentence",
    "PREDICTION_METHODS",
    "findings_sentence",
    "trend_sentence",
    "compare_rates",
    "subgroup_sentence",
    "pooled_sentence",
    "dose_sentence",
    "composition_sentence",
    "prediction_sentence",
    "group_label",
]

#: The default significance level of the book's tests.
ALPHA = 0.05

OUTCOME_LABELS: dict[str, str] = {
    "crs_any": "CRS, any grade",
    "crs_severe": "CRS, grade ≥3",
    "neurotox": "Neurotoxicity",
    "orr": "Objective response",
    "cr": "Complete response",
    "crb401_orr": "Objective response, CRB-401",
}

#: Outcomes as the subject of a sentence.
OUTCOME_NOUNS: dict[str, str] = {
    "crs_any": "CRS of any grade",
    "crs_severe": "severe (grade ≥3) CRS",
    "neurotox": "neurotoxicity",
    "orr": "objective response",
    "cr": "complete response",
}

FACTOR_LABELS: dict[str, str] = {
    "origin": "binder origin",
    "expansion": "T-cell activation",
    "loading": "gene-transfer vector",
    "costim": "co-stimulatory domain",
    "age": "median age",
    "prior_lines": "median prior lines of therapy",
    "high_risk": "share of high-risk patients",
}

#: Categories as they read after "cohorts with …".
GROUP_LABELS: dict[str, str] = {
    "murine": "murine binders",
    "human": "human(ized) binders",
    "camelid": "camelid binders",
    "anti-CD3": "anti-CD3 activation alone",
    "anti-CD3/CD28": "anti-CD3/CD28 activation",
    "none": "no activation antibody",
    "lentiviral": "lentiviral vectors",
    "retroviral": "retroviral vectors",
    "transposon": "a transposon",
    "4-1BB": "a 4-1BB domain",
    "CD28": "a CD28 domain",
    ">=5": "a median of five or more prior lines",
    "<5": "a median of fewer than five prior lines",
    ">=60": "a median age of 60 or more",
    "<60": "a median age under 60",
    ">=50%": "half or more high-risk patients",
    "<50%": "under half high-risk patients",
    "ND": "an undisclosed value",
}


def group_label(group: str) -> str:
    """A category as prose (``"murine"`` -> ``"murine binders"``); unknown ones as given."""
    return GROUP_LABELS.get(group, group)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 cohort``, ``2 cohorts``, ``1 analysis``/``2 analyses`` (with ``plural_form``)."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def typeset(label: str) -> str:
    """A data label as printed: ``>=60`` -> ``≥60``, ``150-800`` -> ``150–800``."""
    import re

    # A range of two numbers only: "4-1BB" is a name, not a range.
    return re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\w.])", r"\1–\2",
                  str(label).replace(">=", "≥").replace("<=", "≤"))


def share(part: int, whole: int, noun: str) -> str:
    """``All 4 trials``, ``3 of the 4 trials``, ``None of the 4 trials``, ``The one trial``:
    a part of a whole as the subject of a sentence."""
    if whole == 1:
        return f"The one {noun}" if part else f"Not the one {noun}"
    if part == whole:
        return f"All {plural(whole, noun)}"
    return f"{'None' if part == 0 else part} of the {plural(whole, noun)}"


def join(items: Sequence[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def round_half_up(value: float, decimals: int = 1) -> float:
    """``value`` rounded as printed tables round: halves away from zero (81.25 -> 81.3),
    not to the even digit as Python's ``round`` does with an exact binary half."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def number(value: float, decimals: int = 1) -> str:
    """A number rounded for prose (halves up, as printed tables); ``—`` when not finite."""
    return f"{round_half_up(value, decimals):.{decimals}f}" if math.isfinite(value) else "—"


def percent(value: float, decimals: int = 1) -> str:
    return f"{number(value, decimals)}%" if math.isfinite(value) else "—"


def interval(low: float, high: float, decimals: int = 1, unit: str = "%") -> str:
    """``68.6–88.2%``; a single value when both ends round alike (never ``94–94%``)."""
    a, b = number(low, decimals), number(high, decimals)
    if a == "—" or b == "—":
        return "not estimable"
    return f"{a}{unit}" if a == b else f"{a}–{b}{unit}"


def p_value(p: float) -> str:
    """``p = 0.028``, ``p = 0.28``, ``p < 0.001`` as journals print them."""
    if not math.isfinite(p):
        return "p not estimable"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def significant(p: float, alpha: float = ALPHA) -> bool:
    return math.isfinite(p) and p < alpha


def estimate_text(estimate: float, low: float, high: float, k: int | None = None, decimals: int = 1) -> str:
    """``80.2% (95% CI 68.6–88.2; 25 cohorts)``; "not estimable" without an estimate."""
    if not math.isfinite(estimate):
        return "not estimable" + (f" ({plural(k, 'cohort')})" if k is not None else "")
    text = f"{percent(estimate, decimals)} (95% CI {interval(low, high, decimals)}"
    return text + (f", {plural(k, 'cohort')})" if k is not None else ")")


def heterogeneity_sentence(i2: float, q_p: float, k: int, alpha: float = ALPHA,
                           i2_ci: tuple[float, float] | None = None) -> str:
    """Whether the cohorts disagree more than sampling error allows, from the Q-test;
    with the Q-profile 95% CI of I² when given."""
    if k < 2:
        return "With a single cohort there is no between-cohort heterogeneity to estimate."
    ci = f", 95% CI {interval(*i2_ci, 0)}" if i2_ci is not None else ""
    stats_text = f"I² = {number(i2, 0)}%{ci}; Q-test {p_value(q_p)}"
    if significant(q_p, alpha):
        return (f"The cohorts disagree more than sampling error alone would explain ({stats_text}): "
                "part of the spread reflects real differences between them.")
    return (f"The spread between cohorts is compatible with sampling error alone ({stats_text}, "
            f"not below the {alpha:g} level), though with few or small cohorts this test has little power.")


def fit_heterogeneity_sentence(fit, alpha: float = ALPHA) -> str:
    """:func:`heterogeneity_sentence` for a pooled result, with its I² and τ² intervals
    (Q-profile) and the scale τ² is on; "" without a result."""
    if fit is None:
        return ""
    ci = fit.heterogeneity_ci()
    sentence = heterogeneity_sentence(fit.i2, fit.q_p, fit.k, alpha,
                                      None if ci is None else (ci.i2_ci_low, ci.i2_ci_high))
    if ci is None:
        return sentence
    return (f"{sentence} The between-cohort variance is τ² = {number(ci.tau2, 2)} (95% CI "
            f"{interval(ci.tau2_ci_low, ci.tau2_ci_high, 2, '')}) on the {SCALE_LABELS[fit.transform]}.")


def compare_rates(first: str, a: float, second: str, b: float, decimals: int = 1) -> str:
    """``grade ≥3 CRS (6.7%) is rarer than CRS of any grade (80.2%), about one twelfth of it``.

    The direction and the size come from the two numbers; equal after rounding reads
    "about as frequent as"."""
    a_text, b_text = percent(a, decimals), percent(b, decimals)
    if a_text == "—" or b_text == "—":
        return f"{first} ({a_text}) cannot be compared with {second} ({b_text})"
    if a_text == b_text:
        return f"{first} ({a_text}) is about as frequent as {second} ({b_text})"
    lower = a < b
    word = "rarer than" if lower else "more frequent than"
    small, large = (a, b) if lower else (b, a)
    size = ""
    if small > 0 and large / small >= 2:
        ratio = large / small
        fraction = _ordinal_fraction(round(ratio))
        size = (f", about {'half' if fraction == 'half' else 'a ' + fraction if fraction[0].isalpha() else fraction} of it" if lower
                else f", about {round(ratio)} times as frequent")
    return f"{first} ({a_text}) is {word} {second} ({b_text}){size}"


_FRACTIONS = ("half third quarter fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
              "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()


def _ordinal_fraction(n: int) -> str:
    """2 -> "half", 12 -> "twelfth"; beyond twenty, "1/n"."""
    return _FRACTIONS[n - 2] if 2 <= n <= 20 else f"1/{n}"


def subgroup_sentence(
    outcome: str,
    factor: str,
    groups: Mapping[str, Mapping[str, float]],
    p: float,
    alpha: float = ALPHA,
) -> str:
    """A ranking of subgroup estimates and the verdict of the test for differences.

    ``groups`` maps each category to ``estimate``, ``ci_low``, ``ci_high`` (percent) and
    ``k``. The ranking describes the point estimates; whether they differ beyond chance
    is the test's verdict at ``alpha``, stated separately so the two are never confused.
    """
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    ordered = sorted(groups.items(), key=lambda item: item[1]["estimate"])
    described = [f"{group_label(g)} {estimate_text(r['estimate'], r['ci_low'], r['ci_high'], int(r['k']))}" for g, r in ordered]
    (low_name, low), (high_name, high) = ordered[0], ordered[-1]
    if percent(low["estimate"]) == percent(high["estimate"]):
        ranking = f"By {FACTOR_LABELS.get(factor, factor)}, {noun} was about equally frequent in every subgroup"
    elif len(ordered) == 2:
        ranking = (f"By {FACTOR_LABELS.get(factor, factor)}, {noun} was less frequent with {group_label(low_name)} "
                   f"than with {group_label(high_name)}")
    else:
        ranking = (f"By {FACTOR_LABELS.get(factor, factor)}, {noun} was least frequent with {group_label(low_name)} "
                   f"and most frequent with {group_label(high_name)}")
    if significant(p, alpha):
        verdict = (f"The test for subgroup differences gives {p_value(p)}, below the {alpha:g} level: "
                   "the subgroups differ more than chance alone would explain.")
    else:
        verdict = (f"The test for subgroup differences gives {p_value(p)}, not below the {alpha:g} level: "
                   "these data do not show a difference beyond chance.")
    return f"{ranking}: {'; '.join(described)}. {verdict}"


def pooled_sentence(outcome: str, summary: Mapping[str, float] | None, note: str = "") -> str:
    """``The pooled rate of neurotoxicity is 10.4% (95% CI 6.7–16.0; 27 cohorts, 639
    patients).``, or ``note`` when the table cannot give the outcome."""
    if summary is None:
        return note
    noun = OUTCOME_NOUNS.get(outcome, outcome)
    return (f"The pooled rate of {noun} is {percent(summary['estimate'])} (95% CI "
            f"{interval(summary['ci_low'], summary['ci_high'])}; {plural(int(summary['k']), 'cohort')}, "
            f"{plural(int(summary['n']), 'patient')}).")


#: How a prediction interval was computed (``pi_method`` of a pooled result), in words.
PREDICTION_METHODS: dict[str, str] = {
    "z": "normal quantiles, as metafor does by default",
    "t": "a t distribution with k − 2 degrees of freedom, as Higgins, Thompson and Spiegelhalter (2009) propose",
}


def prediction_sentence(outcome: str, summary: Mapping[str, float] | None, method: str = "z") -> str:
    """Where a new cohort's rate would be expected to fall, how wide that range is, and
    how it was computed (``method``: the result's ``pi_method``)."""
    if summary is None:
        return ""
    if int(summary["k"]) < 2:
        return "With a single cohort there is no prediction interval beyond its own confidence interval."
    width = summary["pi_high"] - summary["pi_low"]
    return (f"The 95% prediction interval, {interval(summary['pi_low'], summary['pi_high'])}, is where the rate of "
            f"{OUTCOME_NOUNS.get(outcome, outcome)} in a new cohort like these would be expected to fall; "
            f"it spans {number(width, 0)} percentage points, against {number(summary['ci_high'] - summary['ci_low'], 0)} "
            f"for the confidence interval of the pooled mean (computed with {PREDICTION_METHODS[method]}).")


def findings_sentence(
    pooled: Mapping[str, Mapping[str, float] | None],
    comparisons: Sequence[tuple[str, str, float | None]],
    alpha: float = ALPHA,
) -> str:
    """A results chapter's summary: each pooled outcome (``summary()`` or ``None``) with
    its CI, then which subgroup comparisons (outcome, factor, p or ``None`` when the table
    cannot support it) differ beyond chance at ``alpha``."""
    rates = [f"{OUTCOME_NOUNS.get(o, o)} {estimate_text(s['estimate'], s['ci_low'], s['ci_high'], int(s['k']))}"
             for o, s in pooled.items() if s is not None]
    missing = [OUTCOME_NOUNS.get(o, o) for o, s in pooled.items() if s is None]
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
