"""What is specific to the 2020 paper (Roex et al., *J Hematol Oncol* 2020), in one place.

The outcomes it pooled, the subgroup comparisons it ran and the categories it left out
of them, the studies the chapters use as worked examples, the surrogate-control studies
of its survival analysis and the files of its data and published numbers. Chapters and
the reproduction report read these; no chapter names a study itself. On a table that
lacks an example study, :func:`example_study` picks one from the data and says so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .data import DEFAULT_COVARIATES, DEFAULT_PUBLISHED, DEFAULT_STUDIES

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
    "pfs_published_table",
    "table2_sentences",
    "TABLE2_COLUMNS",
    "is_paper_table",
    "checksum",
    "example_study",
    "changed_cohorts",
]

#: The paper's Table 1 as published, its published numbers, and the study covariates
#: (median age, prior lines) the book sourced or inferred for its cohorts.
STUDIES = DEFAULT_STUDIES
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

#: How the PFS groups read in a table.
PFS_GROUP_LABELS: dict[str, str] = {
    "active": "active doses", "inactive": "inactive doses",
    "lentiviral": "lentiviral vector", "retroviral": "retroviral vector",
    "CD28": "CD28 domain", "4-1BB": "4-1BB domain", "murine": "murine binders", "camelid": "camelid (llama/alpaca) binders",
}
#: Each PFS comparison in words, as the paper makes it.
PFS_COMPARISON_WORDS: dict[str, str] = {
    "dose_activity": "active against inactive doses (the surrogate control)",
    "loading": "lentiviral against retroviral vectors",
    "costim": "4-1BB against CD28 co-stimulatory domains",
    "origin": "binder origins, where camelid binders had the longest PFS",
}
PFS_ANALYSIS_LABELS: dict[str, str] = {
    "dose_activity": "Dose activity", "loading": "Gene-transfer vector", "costim": "Co-stimulatory domain",
    "origin": "Binder origin",
}


def _p_text(value: str) -> str:
    value = str(value).strip()
    return "" if value == "" else f"p {value[0]} {value[1:]}" if value[0] in "<>" else f"p = {value}"


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
                "p-value": _p_text(p) if group == compared else "",
            })
    for product in sorted(published.loc[(published["outcome"] == "pfs") & (published["analysis"] == "study"), "group"].unique()):
        rows.append({"Source": "Roex et al. 2020 (Table 2)", "Comparison": "Lead product", "Group": product,
                     "Median PFS, months (95% CI)": median("pfs", "study", product), "Hazard ratio": "", "p-value": ""})
    crb = median("crb401_pfs", "overall", "all")
    if crb:
        rows.append({"Source": "Raje et al. 2019", "Comparison": "Trial report", "Group": "bb2121 (CRB-401)",
                     "Median PFS, months (95% CI)": crb, "Hazard ratio": "", "p-value": ""})
    return pd.DataFrame(rows)

#: The two columns of the paper's Table 2.
TABLE2_COLUMNS: dict[str, str] = {"karmma": "KarMMa (bb2121)", "legend": "LEGEND-2 (LCAR-B38M)"}


def is_paper_table(path: str | Path | None) -> bool:
    """Whether ``path`` is the paper's Table 1 as shipped (byte for byte)."""
    return path is None or Path(path).resolve() == STUDIES or Path(path).read_bytes() == STUDIES.read_bytes()


def checksum(path: str | Path | None) -> str:
    """A short SHA-256 of a file: enough to tell two tables apart at a glance."""
    return hashlib.sha256(Path(path or STUDIES).read_bytes()).hexdigest()[:10]


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


def _paper_frame() -> pd.DataFrame:
    from .data import load_studies

    return load_studies(STUDIES)


def changed_cohorts(studies: pd.DataFrame) -> list[str]:
    """Ids that the paper's table also has, but with another product or sample size."""
    reference = _paper_frame()[_IDENTITY]
    merged = studies[_IDENTITY].merge(reference, on="study_id", suffixes=("", "_paper"))
    differs = (merged["product"] != merged["product_paper"]) | (merged["n_safety"] != merged["n_safety_paper"]) | (
        merged["n_response"] != merged["n_response_paper"])
    return merged.loc[differs, "study_id"].tolist()


def _leading_number(text: str) -> float:
    return float(str(text).split()[0])


def _more_or_less(a: float, b: float, more: str, less: str, same: str) -> str:
    return more if a > b else less if a < b else same


def table2_sentences(table2: pd.DataFrame) -> dict[str, str]:
    """The contrasts of the paper's Table 2 in words, from its numbers (LEGEND-2 against
    KarMMa), without restating them: the table is shown beside the prose."""
    row = table2.set_index("characteristic")
    karmma, legend = TABLE2_COLUMNS["karmma"], TABLE2_COLUMNS["legend"]
    value = lambda name, column: _leading_number(row.loc[name, column])  # noqa: E731
    age = _more_or_less(value("Median age (range) — years", legend), value("Median age (range) — years", karmma),
                        "older", "younger", "of the same median age")
    lines = _more_or_less(value("Median prior lines (range)", legend), value("Median prior lines (range)", karmma),
                          "more", "fewer", "as many")
    neuro = _more_or_less(value("Neurotoxicity (%)", legend), value("Neurotoxicity (%)", karmma), "more", "less", "as much")
    binder = lambda column: row.loc["Binder", column][0].lower() + row.loc["Binder", column][1:]  # noqa: E731
    return {
        "patients": (f"In the paper's Table 2, LEGEND-2's patients were {age} than KarMMa's, had had {lines} prior lines of "
                     f"therapy, and had {neuro} neurotoxicity."),
        "binder": f"KarMMa's CAR uses a {binder(karmma)} binder, LEGEND-2's a {binder(legend)} binder.",
    }
