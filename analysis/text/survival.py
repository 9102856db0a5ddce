"""Sentences of the progression-free survival chapter: the surrogate control, the curves
present, the comparisons they allow, and the reconstruction checked on known patients."""

from __future__ import annotations

from typing import Sequence

from .numbers import join, number, plural, share

__all__ = [
    "control_sentence",
    "pfs_patients_sentence",
    "paper_comparisons_sentence",
    "arms_sentence",
    "comparisons_run_sentence",
    "exact_counts_sentence",
    "pfs_findings",
    "CLEANING_WORDS",
    "median_check_sentence",
    "cleaning_sentence",
]


def control_sentence(present: int, wanted: int, patients: int, absent: Sequence[str]) -> str:
    """How many of the surrogate-control trials the table has, and their patients."""
    verb = "is" if present == 1 or wanted == 1 else "are"
    return (f"{share(present, wanted, 'trial')} whose lowest doses form the surrogate control {verb} in this table, with "
            f"{plural(patients, 'patient')} at all dose levels together (only their lowest-dose patients form the control group)"
            + (f"; not in this table: {', '.join(absent)}." if absent else "."))


def pfs_patients_sentence(with_pfs: int | None, total: int) -> str:
    """How many of the paper's patients had PFS data (None: the published numbers given
    do not say)."""
    if with_pfs is None:
        return "The published numbers given to this build do not say how many patients the paper had PFS data for."
    return f"The paper had PFS data for {with_pfs} of the {total} patients of its Table 1."


def paper_comparisons_sentence(words: Sequence[str]) -> str:
    """The paper's PFS comparisons (each described in words), and the inference about
    their reference groups."""
    return ("The paper makes " + plural(len(words), "PFS comparison") + ": " + "; ".join(words)
            + ". It does not name the reference group of its hazard ratios; each is below 1, so we infer that each compares "
              "the group with the longer median against the other (for binder origin it prints only a p-value).")


def arms_sentence(arms: int, digitized: int, illustrative: int) -> str:
    if not arms:
        return "The curve folder lists no digitized curves."
    return (f"The curve folder lists {plural(arms, 'arm')}: {digitized} read off a published figure and "
            f"{illustrative} illustrative.")


def comparisons_run_sentence(run: int, total: int) -> str:
    return (f"{'None' if not run else run} of the paper's {plural(total, 'comparison')} "
            f"{'can' if not run else 'could'} be run on the curves present.")


def exact_counts_sentence(exact: Sequence[str]) -> str:
    """Which counts (``patient counts``, ``event counts``) the rebuilt patients reproduce."""
    if exact:
        return f"The rebuilt patients reproduce the {join(exact)} exactly"
    return "The rebuilt patients do not reproduce the patient and event counts exactly"


def pfs_findings(compared: Sequence[str], hr_copy: float, hr_true: float, max_error: float) -> str:
    """The chapter's summary: the comparisons the curves allowed (their labels), and how
    well the reconstruction recovers a known trial."""
    head = (f"With the curves present, {join(compared)} could be compared. " if compared else
            "The paper's PFS comparisons cannot be recomputed here: the book ships no digitized BCMA curves, so its published "
            "medians and hazard ratios are shown as published. ")
    return (head + f"The reconstruction method, checked on a trial whose patients are known, recovers the hazard ratio as "
            f"{number(hr_copy, 3)} against {number(hr_true, 3)} and the curves to within {number(max_error, 3)} in survival "
            "probability.")


#: Each cleaning step of a digitized curve, in words (``{n}``: how many points).
CLEANING_WORDS: dict[str, str] = {
    "header": "a header row read as names",
    "percent": "survival read in percent and divided by 100",
    "negative_time": "{n} click{s} before time 0 set to 0",
    "sorted": "{n} row{s} out of time order sorted",
    "merged": "{n} repeated time{s} resolved to the value after the step",
    "clipped": "{n} survival value{s} outside 0–1 clipped",
    "flattened": "{n} small rise{s} flattened",
    "anchored": "the curve anchored at (0, 1)",
    "risk_times_added": "{n} risk-table time{s} without a click read off the step curve",
    "risk_after_curve": "{n} risk-table row{s} after the last click left out",
}


def cleaning_sentence(steps: Sequence) -> str:
    """What the cleaning of one curve did (its :class:`~analysis.survival.CleaningStep`
    list), each step with its count and its largest change; "" if nothing."""
    parts = []
    for step in steps:
        words = CLEANING_WORDS.get(step.step, step.step).format(n=step.count, s="" if step.count == 1 else "s")
        if step.largest == step.largest and step.largest > 0:  # not NaN
            words += f" (by up to {number(step.largest, 3)} in {step.unit})"
        parts.append(words)
    if not parts:
        return ""
    sentence = join(parts) + "."
    return sentence[0].upper() + sentence[1:]


def median_check_sentence(within: int, arms: int, tolerance: float, worst: float) -> str:
    """How many reconstructed arms reproduce their published median within ``tolerance``
    (relative), and the largest relative difference."""
    return (f"{share(within, arms, 'arm')} with a published median reproduce{'s' if arms == 1 else ''} it within "
            f"{number(100 * tolerance, 0)}% from the reconstructed patients (largest difference "
            f"{number(100 * worst)}%).")
