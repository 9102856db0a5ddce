"""What is specific to the 2020 paper (Roex et al., *J Hematol Oncol* 2020), in one place.

The outcomes it pooled, the subgroup comparisons it ran and the categories it left out
of them, the studies the chapters use as worked examples, the surrogate-control studies
of its survival analysis and the files of its data and published numbers. Chapters and
the reproduction report read these; no chapter names a study itself. On a table that
lacks an example study, :func:`example_study` picks one from the data and says so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..inputs.paths import DEFAULT_COVARIATES, DEFAULT_PUBLISHED, DEFAULT_STUDIES, same_contents
from ..inputs.studies import load_studies
from ..text.labels import PFS_ANALYSIS_LABELS, PFS_GROUP_LABELS
from ..text.numbers import published_p

__all__ = [
    "STUDIES",
    "PUBLISHED",
    "COVARIATES",
    "OUTCOMES",
    "NOT_COMPARED",
    "LEFT_OUT",
    "excluded",
    "SUBGROUP_ANALYSES",
    "PAPER_ANALYSES",
    "ORR_FACTORS",
    "EXAMPLES",
    "PFS_CONTROL_STUDIES",
    "PFS_COMPARISONS",
    "PFS_COMPARISON_WORDS",
    "pfs_published_table",
    "TABLE2_COLUMNS",
    "TABLE2_TRIALS",
    "table2_sides",
    "is_paper_table",
    "example_study",
    "changed_cohorts",
]

#: The paper's Table 1 as published, its published numbers, and the study covariates
#: (median age, prior lines) the book sourced or inferred for its cohorts.
STUDIES = DEFAULT_STUDIES
#: The end of the paper's search (its methods: studies published between 1 January 2015
#: and 1 January 2020): how current the evidence of its Table 1 is.
SEARCH_END = "2020-01-01"
#: The paper's search window starts here, and its protocol is this PROSPERO record (as the paper states).
SEARCH_START = "2015-01-01"
PROSPERO = "CRD42020125332"
PUBLISHED = DEFAULT_PUBLISHED
COVARIATES = DEFAULT_COVARIATES

#: The outcomes the paper pooled.
OUTCOMES: tuple[str, ...] = ("crs_any", "crs_severe", "neurotox", "orr", "cr")

#: Categories never compared: undisclosed.
NOT_COMPARED: tuple[str, ...] = ("ND",)

#: Categories of a single cohort that the paper left out of a comparison. This is an
#: inference: leaving them out is what reproduces the paper's p-values.
LEFT_OUT: dict[str, tuple[str, ...]] = {"expansion": ("none",), "loading": ("transposon",)}


def excluded(by: str, base: tuple[str, ...] | list[str] = NOT_COMPARED) -> list[str]:
    """Categories left out of a comparison by ``by``: ``base`` plus the paper's own."""
    return list(dict.fromkeys([*base, *LEFT_OUT.get(by, ())]))


#: The paper's subgroup comparisons: (outcome, grouping column).
SUBGROUP_ANALYSES: tuple[tuple[str, str], ...] = (
    ("crs_any", "origin"),
    ("neurotox", "expansion"),
    ("neurotox", "costim"),
    ("neurotox", "age"),
    ("neurotox", "prior_lines"),
    ("cr", "origin"),
    ("cr", "loading"),
    ("cr", "prior_lines"),
)

#: The same with the categories each leaves out, as the reproduction report runs them.
PAPER_ANALYSES: list[tuple[str, str, tuple[str, ...]]] = [
    (outcome, by, tuple(excluded(by))) for outcome, by in SUBGROUP_ANALYSES
]

#: Product features by which the paper reports no ORR difference; the book tests them.
ORR_FACTORS: tuple[str, ...] = ("origin", "loading", "costim")

#: Worked examples: the CRB-401 trial's row (bb2121), used to teach the model by hand
#: and as the case study; the LEGEND-2 cohort of the paper's Table 2.
EXAMPLES: dict[str, str] = {
    "teaching": "NCT02658929",
    "crb401": "NCT02658929",
    "legend2": "NCT03090659-2",
}

#: The trials whose lowest, inactive dose levels form the paper's surrogate PFS control.
PFS_CONTROL_STUDIES: tuple[str, ...] = ("NCT02658929", "NCT02546167", "NCT02215967-1", "NCT03070327")

#: The paper's PFS comparisons (its Figure 3): grouping -> (reference group, comparison
#: group). The paper does not name its reference groups; each of its hazard ratios is
#: below 1, so we infer it is of the group with the longer median against the group with
#: the shorter one (for binder origin it prints only a p-value).
PFS_COMPARISONS: dict[str, tuple[str, str]] = {
    "dose_activity": ("inactive", "active"),
    "loading": ("retroviral", "lentiviral"),
    "costim": ("CD28", "4-1BB"),
    "origin": ("murine", "camelid"),
}

#: Each PFS comparison in words, as the paper makes it.
PFS_COMPARISON_WORDS: dict[str, str] = {
    "dose_activity": "active against inactive doses (the surrogate control)",
    "loading": "lentiviral against retroviral vectors",
    "costim": "4-1BB against CD28 co-stimulatory domains",
    "origin": "binder origins, where camelid binders had the longest PFS",
}


def pfs_published_table(published: pd.DataFrame) -> pd.DataFrame:
    """The PFS numbers of the paper (its four comparisons and the two lead products) and
    of the CRB-401 trial report, as published, one row per group: median with 95% CI
    (months), hazard ratio with its (inferred) reference group, p-value."""
    rows = []

    def value(outcome: str, analysis: str, group: str, statistic: str) -> str:
        hit = published[(published["outcome"] == outcome) & (published["analysis"] == analysis)
                        & (published["group"] == group) & (published["statistic"] == statistic)]
        return "" if hit.empty else str(hit["value"].iloc[0])

    def median(outcome: str, analysis: str, group: str) -> str:
        m = value(outcome, analysis, group, "median")
        low, high = value(outcome, analysis, group, "ci_low"), value(outcome, analysis, group, "ci_high")
        return "" if m == "" else f"{m} ({low}–{high})" if low and high else m

    for analysis, (reference, compared) in PFS_COMPARISONS.items():
        hr, p = value("pfs", analysis, "test", "hr"), value("pfs", analysis, "test", "p")
        # Without a hazard ratio (binder origin) the paper names only the group with the longest PFS.
        for group in (compared, reference) if hr else (compared,):
            rows.append({
                "Source": "Roex et al. 2020", "Comparison": PFS_ANALYSIS_LABELS[analysis],
                "Group": PFS_GROUP_LABELS.get(group, group) + ("" if hr else ", the longest PFS among the origins"),
                "Median PFS, months (95% CI)": median("pfs", analysis, group),
                "Hazard ratio": (f"{hr} against {PFS_GROUP_LABELS.get(reference, reference)} (reference group inferred)"
                                 if hr and group == compared else ""),
                "p-value": published_p(p) if group == compared else "",
            })
    for product in sorted(published.loc[(published["outcome"] == "pfs") & (published["analysis"] == "study"), "group"].unique()):
        cohort = TABLE2_PFS_COHORTS.get(product)
        rows.append({"Source": "Roex et al. 2020 (Table 2)", "Comparison": "Lead product",
                     "Group": f"{product} ({cohort})" if cohort else product,
                     "Median PFS, months (95% CI)": median("pfs", "study", product), "Hazard ratio": "", "p-value": ""})
    crb = median("crb401_pfs", "overall", "all")
    if crb:
        rows.append({"Source": "Raje et al. 2019", "Comparison": "Trial report", "Group": "bb2121 (CRB-401)",
                     "Median PFS, months (95% CI)": crb, "Hazard ratio": "", "p-value": ""})
    return pd.DataFrame(rows)

#: The cohort a median PFS of the paper's Table 2 belongs to, where it is not the whole trial
#: (the table's footnote b: bb2121's PFS is that of the 450 × 10⁶ cohort).
TABLE2_PFS_COHORTS: dict[str, str] = {"bb2121": "the 450 × 10⁶ cohort"}

#: The two columns of the paper's Table 2, and the trials' names.
TABLE2_COLUMNS: dict[str, str] = {"karmma": "KarMMa (bb2121)", "legend": "LEGEND-2 (LCAR-B38M)"}
TABLE2_TRIALS: dict[str, str] = {"karmma": "KarMMa", "legend": "LEGEND-2"}


def table2_sides() -> tuple[tuple[str, str], tuple[str, str]]:
    """The (name, column) of each trial of Table 2, KarMMa first: the arguments of
    :func:`analysis.text.paper.table2_sentences`."""
    return tuple((TABLE2_TRIALS[key], TABLE2_COLUMNS[key]) for key in ("karmma", "legend"))


def is_paper_table(path: str | Path | None) -> bool:
    """Whether ``path`` is the paper's Table 1 as shipped (byte for byte)."""
    return same_contents(path, STUDIES)


def example_study(studies: pd.DataFrame, role: str, requested: str | None = None) -> tuple[str, str]:
    """The study id to use as the ``role`` example, and a note when it is not the paper's.

    ``requested`` (a chapter parameter) overrides the paper's choice. When the study is
    not in ``studies``, the largest cohort stands in and the note says so.
    """
    wanted = requested or EXAMPLES[role]
    if wanted in set(studies["study_id"]):
        return wanted, ""
    if studies.empty:
        raise ValueError("no study to use as an example")
    largest = studies.loc[studies["n_total"].idxmax()]
    return largest["study_id"], (
        f"The example cohort {wanted} is not in this table; the largest cohort, {largest['label']}, "
        "is used instead."
    )


_IDENTITY = ["study_id", "product", "n_safety", "n_response"]


def changed_cohorts(studies: pd.DataFrame) -> list[str]:
    """Ids that the paper's table also has, but with another product or sample size."""
    reference = load_studies(STUDIES)[_IDENTITY]
    merged = studies[_IDENTITY].merge(reference, on="study_id", suffixes=("", "_paper"))
    differs = (merged["product"] != merged["product_paper"]) | (merged["n_safety"] != merged["n_safety_paper"]) | (
        merged["n_response"] != merged["n_response_paper"])
    return merged.loc[differs, "study_id"].tolist()
