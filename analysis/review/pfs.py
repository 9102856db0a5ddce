"""The progression-free survival chapter's analyses: the paper's surrogate control in a
study table, the paper's comparisons run on whatever digitized curves are present (real
ones only), and the reconstruction method checked on a trial whose patients are known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ..survival import CoxResult, compare_groups, group_medians, marginal_cox, round_trip
from ..text import survival as words
from ..text.labels import PFS_ANALYSIS_LABELS
from . import paper

__all__ = ["SurrogateControl", "surrogate_control", "paper_pfs_comparisons", "ReconstructionCheck", "reconstruction_check",
           "pfs_findings", "published_pfs_patients", "MEDIAN_TOLERANCE", "median_check"]

#: How far (relative) a reconstructed median may be from the published one and still count as reproduced.
MEDIAN_TOLERANCE = 0.02


@dataclass(frozen=True)
class SurrogateControl:
    """The surrogate-control trials present in a table (``cohorts``) and its sentence."""

    cohorts: pd.DataFrame
    sentence: str


def published_pfs_patients(published: pd.DataFrame) -> int | None:
    """How many patients the paper had PFS data for, from the published numbers; None
    when the table given holds no such row."""
    hit = published.loc[published["key"] == "pfs:overall:all:patients", "number"]
    return int(hit.iloc[0]) if len(hit) else None


def surrogate_control(studies: pd.DataFrame, control_studies: Sequence[str] | None = None) -> SurrogateControl:
    """The trials whose inactive doses form the control (the paper's four by default)."""
    wanted = list(control_studies or paper.PFS_CONTROL_STUDIES)
    cohorts = studies[studies["study_id"].isin(wanted)]
    absent = [sid for sid in wanted if sid not in set(cohorts["study_id"])]
    return SurrogateControl(cohorts, words.control_sentence(len(cohorts), len(wanted), int(cohorts["n_total"].sum()), absent))


def paper_pfs_comparisons(ipd: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, CoxResult]]:
    """The paper's PFS comparisons that the reconstructed patients of real (digitized)
    curves allow: grouping -> (medians per group, marginal Cox model)."""
    real = ipd[ipd["kind"] == "digitized"]
    results = {}
    for by, levels in paper.PFS_COMPARISONS.items():
        if by in real and real[by].isin(levels).groupby(real[by]).any().sum() >= 2:
            results[by] = compare_groups(real, by, list(levels))
    return results


@dataclass(frozen=True)
class ReconstructionCheck:
    """Reconstruction of a trial whose patients are known: per group the true and rebuilt
    patients, events and medians and the curve errors (``table``), the rebuilt patients,
    the hazard ratio from the real and the rebuilt patients, and which counts are exact."""

    table: pd.DataFrame
    rebuilt: pd.DataFrame
    hr_true: float
    hr_copy: float
    exact: tuple[str, ...]


def reconstruction_check(data: pd.DataFrame, time: str, event: str, group: str, risk_every: float) -> ReconstructionCheck:
    """Digitize each group's curve, rebuild its patients and compare (:func:`round_trip`)."""
    check, rebuilt = round_trip(data, time, event, group, risk_every=risk_every)
    hr_true = float(marginal_cox(data, time, event, [group]).table.loc[group, "hr"])
    hr_copy = float(marginal_cox(rebuilt, time, "event", [group]).table.loc[group, "hr"])
    exact = tuple(what for what, a, b in (("patient counts", "patients", "rebuilt patients"), ("event counts", "events", "rebuilt events"))
                  if (check[a] == check[b]).all())
    return ReconstructionCheck(check, rebuilt, hr_true, hr_copy, exact)


def pfs_findings(results: dict[str, tuple[pd.DataFrame, CoxResult]], check: ReconstructionCheck) -> str:
    """The chapter's summary sentence."""
    compared = [PFS_ANALYSIS_LABELS[by].lower() for by in results]
    return words.pfs_findings(compared, check.hr_copy, check.hr_true, float(check.table["max |dS|"].max()))


def median_check(ipd: pd.DataFrame, arms: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each arm's median from its reconstructed patients beside the median its
    publication prints (``published_median`` of the curve folder), with the relative
    difference; and the sentence saying how many are within :data:`MEDIAN_TOLERANCE`.
    An empty table (and "") where no arm gives a published median."""
    given = arms[arms["published_median"].notna()]
    if given.empty or ipd.empty:
        return pd.DataFrame(), ""
    medians = group_medians(ipd[ipd["arm_id"].isin(given["arm_id"])], "arm_id").set_index("arm_id")
    table = given.set_index("arm_id")[["arm_label", "published_median"]].join(medians[["patients", "events", "median", "ci_low", "ci_high"]])
    table["difference"] = (table["median"] - table["published_median"]) / table["published_median"]
    within = int((table["difference"].abs() <= MEDIAN_TOLERANCE).sum())
    return table.reset_index(), words.median_check_sentence(within, len(table), MEDIAN_TOLERANCE,
                                                             float(table["difference"].abs().max()))
