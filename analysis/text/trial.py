"""Sentences of the CRB-401 case study: exact intervals, the trend test, the trial
beside its row of the study table, and the reproduction of its Table 3."""

from __future__ import annotations

from typing import Sequence

from .numbers import join, level_text, number, p_value, percent, plural
from .phrasing import estimate_text

__all__ = ["small_sample_sentence", "rounding_exceptions", "log_trend_sentence", "smallest_group_sentence",
           "row_sentence", "trial_findings"]


def small_sample_sentence(events: int, n: int, low: float, high: float, level: float = 0.95) -> str:
    """How wide an exact interval (at ``level``) is with ``n`` patients (limits in percent)."""
    return f"an event seen in {events} of them has a {level_text(level)} interval from {number(low)}% to {number(high)}%"


_LIMITS = {"estimate": "rate", "ci_low": "lower 95% limit", "ci_high": "upper 95% limit"}


def rounding_exceptions(odd: Sequence[tuple[str, str, float, str]]) -> str:
    """The printed rates and limits not matched exactly (statistic, dose range, computed
    percent, printed), read as rounding differences of the publication; "" if none."""
    if not odd:
        return ""
    parts = [f"the {_LIMITS.get(stat, stat)} for {doses.replace('-', '–')} × 10⁶ cells (computed {number(computed, 2)}%, "
             f"which rounds to {number(computed, 0)}; printed {printed})" for stat, doses, computed, printed in odd]
    return (("The exception: " if len(odd) == 1 else "The exceptions: ") + join(parts) + ". We read "
            + ("this as a rounding difference" if len(odd) == 1 else "these as rounding differences")
            + " in the publication; the report does not say how its limits were rounded.")


def log_trend_sentence(p: float) -> str:
    return f"With log dose as the score the same test gives {p_value(p)}."


def smallest_group_sentence(doses: Sequence[float], n: int) -> str:
    """The dose group(s) with the fewest patients."""
    one = len(doses) == 1
    return (f"the {join([f'{d:g}' for d in doses])} × 10⁶ {'group has' if one else 'groups have'} only "
            f"{plural(n, 'patient')}" + ("" if one else " each"))


def row_sentence(row_patients: int, trial_patients: int) -> str:
    """The study table's row beside the trial report: the same patients, or (an
    inference) a later data cut."""
    text = f"The study table's row describes {row_patients} patients, the trial report {trial_patients}"
    if row_patients == trial_patients:
        return text + "."
    return (text + ": we infer that the review used a later data cut of CRB-401 (it says it kept the most recent and/or "
            "largest report of each trial). Rates move between data cuts, which is one more reason the pooled estimates in "
            "this book carry wide prediction intervals.")


def trial_findings(orr: tuple[float, float, float], patients: int, crs: float, neuro: float, trend: str, matched: int,
                   printed: int) -> str:
    """The chapter's summary: objective response (percent, with its CI), CRS and
    neurotoxicity rates, the trend test's sentence and the reproduction of Table 3."""
    return (f"Objective response in {estimate_text(*orr)} of the {plural(patients, 'patient')} treated, CRS in "
            f"{percent(crs)} and neurologic toxic effects in {percent(neuro)}. {trend} {matched} of the {printed} printed "
            "response rates and limits are reproduced exactly.")


