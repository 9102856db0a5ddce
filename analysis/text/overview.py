"""Sentences of the book's overview pages: the introduction, the discussion, the update
and the appendix, each made from the numbers it states."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..meta.results import PooledProportion
from .labels import OUTCOME_NOUNS
from .numbers import join, number, percent, plural, share

__all__ = [
    "rate",
    "summary_sentence",
    "heterogeneity_range_sentence",
    "glmm_sentence",
    "iso_date_words",
    "currency_sentence",
    "aside_clause",
    "limits_note",
    "counts_clause",
    "intro_data_sentence",
    "phases_sentence",
    "new_cohorts_sentence",
    "rounding_sentence",
    "basis_sentence",
    "cannot_compute_sentence",
]


def rate(fit: PooledProportion | None, decimals: int = 1) -> str:
    """A pooled rate as prose (``82%``), or "not estimable"."""
    return percent(100 * fit.estimate, decimals) if fit else "not estimable"


def summary_sentence(fits: Mapping[str, PooledProportion | None]) -> str:
    """The five pooled outcomes of a table in one sentence (each the median cohort's
    rate of a random-effects model)."""
    return (f"Pooled over the cohorts of this table, the median cohort's objective response rate is {rate(fits.get('orr'))} "
            f"and its complete response rate {rate(fits.get('cr'))}; CRS of any grade occurred in {rate(fits.get('crs_any'))}, "
            f"severe CRS in {rate(fits.get('crs_severe'))} and neurotoxicity in {rate(fits.get('neurotox'))} "
            "(random-effects estimates: the rate of a typical cohort, not the share of all patients).")


def heterogeneity_range_sentence(fits: Mapping[str, PooledProportion]) -> str:
    """The range of I² over the outcomes pooled from at least two cohorts."""
    if not fits:
        return "With fewer than two cohorts per outcome, heterogeneity cannot be estimated."
    low = min(fits, key=lambda o: fits[o].i2)
    high = max(fits, key=lambda o: fits[o].i2)
    return (f"Between-cohort heterogeneity ranges from I² = {percent(fits[low].i2, 0)} ({OUTCOME_NOUNS.get(low, low)}) to "
            f"{percent(fits[high].i2, 0)} ({OUTCOME_NOUNS.get(high, high)}).")


def glmm_sentence(glmm: Mapping[str, PooledProportion | None], dl_neuro_mean: float | None,
                  glmm_neuro_mean: float | None) -> str:
    """What the GLMM gives for neurotoxicity and complete response, and the mean
    neurotoxicity rate over cohorts under it and the paper's model (proportions)."""
    text = ("The binomial GLMM, which needs no continuity correction, puts the median cohort's neurotoxicity at "
            f"{rate(glmm.get('neurotox'))} and complete response at {rate(glmm.get('cr'))}")
    if dl_neuro_mean is None or glmm_neuro_mean is None:
        return text + " (see the sensitivity chapter)."
    return (text + f"; the mean neurotoxicity rate over cohorts is {percent(100 * glmm_neuro_mean)} under the GLMM and "
            f"{percent(100 * dl_neuro_mean)} under the paper's model (see the methods and sensitivity chapters on what each "
            "number estimates).")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def iso_date_words(date: str) -> str:
    """An ISO date (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``) in words: 25 May 2021."""
    parts = date.split("-")
    if len(parts) == 1:
        return parts[0]
    month = _MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


def currency_sentence(latest: str | None, undated: int, cohorts: int, search_end: str | None = None,
                      latest_report: str | None = None) -> str:
    """How current a table's evidence is: the paper's search end (``search_end``, for the
    paper's own table), else the latest data cut (ISO) of its ``cohorts`` cohorts, of
    which ``undated`` give none, and the date of its latest report (``latest_report``)."""
    if search_end:
        return f"Evidence current to {iso_date_words(search_end)}: the paper searched reports published up to that date."
    on = "on" if latest_report and latest_report.count("-") == 2 else "in"
    report = f" The latest report in it was published {on} {iso_date_words(latest_report)}." if latest_report else ""
    if latest is None:
        return "No cohort of this table gives its data cut, so how current its evidence is cannot be said." + report
    missing = f"; {share(undated, cohorts, 'cohort')} give{'s' if undated == 1 else ''} none" if undated else ""
    return f"Evidence current to {iso_date_words(latest)}, the latest data cut in this table{missing}." + report


def aside_clause(aside: int) -> str:
    """The provenance clause for cohorts of a table that only the sensitivity analysis
    reads (from conference or secondary sources); "" without any."""
    if not aside:
        return ""
    return f"; {plural(aside, 'cohort')} from conference or secondary sources read only in the sensitivity analysis"


def limits_note(is_paper: bool) -> str:
    if is_paper:
        return ""
    return ("These limitations concern the reproduction of the 2020 paper. The table this book was built from has its own: "
            "where its numbers come from, which denominators were used and which values could not be sourced, which the "
            "documentation that comes with it should state.")


def counts_clause(k: int, products: int, patients: int, safety: int, response: int) -> str:
    return (f"{plural(k, 'cohort')} treated with {plural(products, 'CAR-T product')} in {plural(patients, 'patient')}, of whom "
            f"{safety:,} could be assessed for toxicity and {response:,} for response")


def intro_data_sentence(is_paper: bool, counts: str, phases: str) -> str:
    """What the book was built from (``counts``: :func:`counts_clause`)."""
    if is_paper:
        return f"The data are the paper's Table 1, which lists early-phase trials: {counts}."
    return f"This book was built from a table other than the paper's Table 1: {counts}. {phases}"


def phases_sentence(phases: Mapping[str, int]) -> str:
    """The cohorts by trial phase (phase -> cohorts; "" for not given)."""
    if not any(phase for phase in phases):
        return "The table does not say which phase each trial was in."
    parts = [f"{'not given' if phase == '' else 'phase ' + phase} ({n})" for phase, n in phases.items()]
    return f"By phase: {join(parts)}."


def new_cohorts_sentence(k: int, patients: int, k_before: int, patients_before: int, new: int, replaced: Sequence[str]) -> str:
    """An update against the 2020 table: cohorts and patients, new and replaced cohorts."""
    return (f"The update has {plural(k, 'cohort')} and {plural(patients, 'patient')}, against {plural(k_before, 'cohort')} "
            f"and {patients_before:,} in 2020: {plural(new, 'cohort')} {'is' if new == 1 else 'are'} new and "
            f"{plural(len(replaced), 'cohort')} of 2020 {'was' if len(replaced) == 1 else 'were'} replaced by a later report"
            + (f" ({', '.join(replaced)})." if replaced else "."))


def rounding_sentence(exact: int, noted: int) -> str:
    """Why numbers are close rather than matching: percentages rebuilt as counts (an
    inference about the authors' counts)."""
    return (f"The paper's Table 1 prints percentages, not counts. Rebuilding the counts by rounding is exact for "
            f"{plural(exact, 'cohort')}; for {plural(noted, 'cohort')} a printed percentage corresponds to no whole number of "
            "patients (listed in the methods chapter). We infer that the authors worked from the original counts, which would "
            "explain small shifts in a few cohorts' counts moving pooled estimates, limits and I² by tenths of a point — "
            "enough to change the last printed digit.")


def basis_sentence(counts: Mapping[tuple[str, str], int], worst: Mapping[str, float]) -> str:
    """Close and differing numbers by basis (("sourced" | "inferred", verdict) -> count),
    and the largest gap (points) of each inferred analysis (its label -> gap)."""
    c = lambda basis, verdict: counts.get((basis, verdict), 0)  # noqa: E731
    text = (f"Among the numbers from the published table alone, {c('sourced', 'close')} are close and "
            f"{c('sourced', 'differs')} differ; among those that depend on inferred groupings, {c('inferred', 'close')} are "
            f"close and {c('inferred', 'differs')} differ")
    if worst:
        text += " (the largest gap: " + join([f"{number(v, 1)} points for {a}" for a, v in worst.items()]) + ")"
    return text + "."


def cannot_compute_sentence(reasons: Mapping[str, int]) -> str:
    """The numbers that cannot be computed, by reason (reason -> count)."""
    if not reasons:
        return ""
    total = sum(reasons.values())
    return (f"Of the {plural(total, 'number')} that cannot be computed, "
            + join([f"{n} {reason.replace('needs', 'need' if n > 1 else 'needs', 1)}" for reason, n in reasons.items()]) + ".")
