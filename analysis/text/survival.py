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
]


def control_sentence(present: int, wanted: int, patients: int, absent: Sequence[str]) -> str:
    """How many of the surrogate-control trials the table has, and their patients."""
    verb = "is" if present == 1 or wanted == 1 else "are"
    return (f"{share(present, wanted, 'trial')} whose lowest doses form the surrogate control {verb} in this table, with "
            f"{plural(patients, 'patient')} at all dose levels together (only their lowest-dose patients form the control group)"
            + (f"; not in this table: {', '.join(absent)}." if absent else "."))


def pfs_patients_sentence(with_pfs: int, total: int) -> str:
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
    return (f"The curve folder lists {plural(arms, 'arm')}: {digitized} read off a BCMA trial's published figure and "
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
