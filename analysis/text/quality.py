"""Sentences of the quality chapter: the risk of bias of the cohorts, the sensitivity
analysis without those at high risk, and the certainty of the evidence, each made from
the judgements and numbers it states."""

from __future__ import annotations

from typing import Mapping, Sequence

from .labels import OUTCOME_NOUNS
from .numbers import join, level_text, number, percent, plural

__all__ = ["rob_sentence", "rob_sensitivity_sentence", "certainty_sentence", "not_assessed_note", "domain_reason", "randomized_reason", "checklist_sentence", "registration_sentence",
           "window_sentence", "assessed_sentence", "aside_rob_sentence"]


def rob_sentence(overall: Mapping[str, int], tool: str) -> str:
    """How many cohorts the tool judges at low, unclear and high overall risk."""
    k = sum(overall.values())
    parts = [f"{plural(overall[j], 'cohort') if i == 0 else overall[j]} at {j} risk"
             for i, j in enumerate(j for j in ("low", "unclear", "high") if overall.get(j))]
    return (f"Judged with {tool}, the {plural(k, 'cohort')} of this table fall into " if k else "No cohort of this table is judged. ") + \
        (join(parts) + "." if k else "")


def not_assessed_note(labels: Sequence[str]) -> str:
    return (f"No risk-of-bias judgement is stored for {plural(len(labels), 'cohort')} of this table ({join(list(labels))}); "
            "they are left out of the risk-of-bias table and kept in every analysis.") if labels else ""


def rob_sensitivity_sentence(changes: Mapping[str, tuple[float, float, int, int]], high: int) -> str:
    """Each outcome pooled with and without the cohorts at high overall risk:
    ``changes[outcome] = (with, without, k with, k without)`` (proportions)."""
    if high == 0:
        return "No cohort is at high overall risk of bias, so there is no sensitivity analysis to run."
    moves = [f"{OUTCOME_NOUNS[o]} from {percent(100 * a)} to {percent(100 * b)}" for o, (a, b, _, _) in changes.items()]
    largest = max((abs(a - b) for a, b, _, _ in changes.values()), default=0.0)
    return (f"Leaving out the {plural(high, 'cohort')} at high overall risk moves "
            + (join(moves) if moves else "no outcome that can still be pooled")
            + f"; the largest shift is {number(100 * largest, 1)} percentage points.")


def domain_reason(domain: str, judgement: str, **facts: float) -> str:
    """Why a GRADE domain gets its judgement, from the numbers behind it."""
    if domain == "risk_of_bias":
        return (f"{percent(100 * facts['high_share'])} of the weight from cohorts at high risk and "
                f"{percent(100 * facts['not_low_share'])} from cohorts not at low risk")
    if domain == "inconsistency":
        return f"I² {percent(facts['i2'])}, prediction interval {number(facts['pi_width'], 1)} percentage points wide"
    if domain == "imprecision":
        return (f"{level_text(facts['level'])} CI {number(facts['ci_width'], 1)} percentage points wide, "
                f"{plural(int(facts['patients']), 'patient')}")
    if domain == "publication_bias":
        if judgement == "not assessed":
            return "fewer than three cohorts or no test could run"
        return (f"rank correlation with size p = {number(facts['rank_p'], 2)}, Peters' test p = {number(facts['peters_p'], 2)}, "
                f"trim-and-fill shift {number(facts['shift'], 1)} percentage points")
    raise ValueError(f"unknown GRADE domain {domain!r}")


def certainty_sentence(levels: Mapping[str, Mapping[str, str]]) -> str:
    """``levels[edition][outcome] = certainty``: how certain the evidence is, per edition."""
    parts = []
    for edition, by_outcome in levels.items():
        groups: dict[str, list[str]] = {}
        for outcome, level in by_outcome.items():
            groups.setdefault(level, []).append(OUTCOME_NOUNS.get(outcome, outcome.upper()))
        order = [lv for lv in ("high", "moderate", "low", "very low") if lv in groups]
        parts.append(f"{edition}: " + join([f"{lv} for {join(groups[lv])}" for lv in order]))
    return ("Certainty of the evidence — " + "; ".join(parts) + "." if parts else
            "No outcome can be pooled, so no certainty of evidence is rated.")


def randomized_reason(domain: str, **facts) -> str:
    """Why a GRADE domain of a randomized comparison gets its judgement."""
    if domain == "risk_of_bias":
        return (f"{percent(100 * facts['concerns'])} of the weight from trials with some concerns or high risk (RoB 2), "
                f"{percent(100 * facts['high'])} from trials at high risk")
    if domain == "inconsistency":
        return f"I² {percent(facts['i2'])} over {plural(facts['k'], 'trial')}" if facts["k"] > 1 else "one trial"
    if domain == "indirectness":
        crossed = facts["crossed"]
        return (f"crossover to CAR-T in the control arm of {join(crossed)}" if crossed else
                "the trials compare CAR-T with standard regimens in the population of the question")
    if domain == "imprecision":
        return f"{level_text(facts['level'])} CI of the hazard ratio {number(facts['low'], 2)}–{number(facts['high'], 2)}"
    if domain == "publication_bias":
        return f"{plural(facts['k'], 'trial')}: too few for a test"
    raise ValueError(f"unknown GRADE domain {domain!r}")


def checklist_sentence(items: int, statuses: Mapping[str, int], missing: Sequence[str]) -> str:
    """How the book meets PRISMA 2020: items reported, partly reported, not applicable."""
    parts = [f"{statuses[s]} {s}" for s in ("reported", "partly", "not applicable") if statuses.get(s)]
    return (f"Of the {plural(items, 'item')} of PRISMA 2020 (sub-items counted), " + join(parts)
            + (f"; the checklist file lacks {join(list(missing))}." if missing else "."))


def registration_sentence(record: str) -> str:
    return (f"The 2020 review was registered in PROSPERO as {record}, as its paper states; this project has not "
            "retrieved the registered record itself.")


def window_sentence(start: str, end: str) -> str:
    return (f"The paper searched Web of Science and PubMed/MEDLINE, and the abstracts of four congresses, for reports "
            f"published between {start} and {end}, as its methods state.")


def assessed_sentence(assessed: int, decisions: Mapping[str, int]) -> str:
    parts = [f"{decision}, {count}" for decision, count in decisions.items()]
    return f"The update assessed {plural(assessed, 'cohort')} against these criteria ({'; '.join(parts)})."


def aside_rob_sentence(k: int, doubled: int, rob: str) -> str:
    """The rows of the sensitivity analysis only (``doubled`` of them second readings of
    cohorts in the main analysis), judged like the others."""
    if k == 0:
        return "No row of the update enters the sensitivity analysis only."
    also = (f" ({doubled} of them {'is a second reading' if doubled == 1 else 'are second readings'} of a cohort in the "
            "main analysis, judged on its journal report)") if doubled else ""
    return (f"The update's {plural(k, 'row')} from conference abstracts or secondary reports{also} enter the sensitivity "
            f"analysis, never the main one, and are judged all the same. {rob}")
