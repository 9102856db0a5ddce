"""Every label a reader sees, in one place: outcomes, factors, categories, scales,
extraction rules, table columns, forest-plot marks. No code name reaches a reader;
chapters, tables and plots look their words up here."""

from __future__ import annotations

from ..meta.escalc import TRANSFORMS
from ..meta.estimators import CI_NAMES, TAU2_NAMES

__all__ = [
    "OUTCOME_LABELS",
    "ROB_ITEM_LABELS",
    "GRADE_DOMAIN_LABELS",
    "OUTCOME_NOUNS",
    "FACTOR_LABELS",
    "GROUP_LABELS",
    "group_label",
    "SCALE_LABELS",
    "TAU2_NAMES",
    "CI_NAMES",
    "PREDICTION_METHODS",
    "PERCENT_LABELS",
    "RULE_LABELS",
    "SETTING_LABELS",
    "MARK_NOTES",
    "DOSE_SCALES",
    "PFS_GROUP_LABELS",
    "PFS_ANALYSIS_LABELS",
    "COLUMN_LABELS",
    "REPORT_OUTCOMES",
    "REPORT_ANALYSES",
    "REPORT_STATISTICS",
]

#: Risk-of-bias items (MINORS for single-arm cohorts, RoB 2 for randomized comparisons), for readers.
ROB_ITEM_LABELS: dict[str, str] = {
    "aim": "Aim stated", "consecutive": "Consecutive patients", "prospective": "Prospective data",
    "endpoints": "Endpoints fit the aim", "unbiased": "Unbiased assessment", "followup": "Follow-up stated",
    "loss": "Under 5% lost", "size": "Size planned", "randomization": "Randomization", "deviations": "Deviations",
    "missing": "Missing data", "measurement": "Outcome measurement", "reporting": "Reported result",
    "overall": "Overall",
}
#: The GRADE domains of a summary-of-findings table.
GRADE_DOMAIN_LABELS: dict[str, str] = {
    "risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
    "imprecision": "Imprecision", "publication_bias": "Publication bias",
}

#: Outcomes as table rows and plot titles.
OUTCOME_LABELS: dict[str, str] = {
    "crs_any": "CRS, any grade",
    "crs_severe": "CRS, grade ≥3",
    "neurotox": "Neurotoxicity",
    "orr": "Objective response",
    "cr": "Complete response",
    "crb401_orr": "Objective response, CRB-401",
    "icans": "ICANS",
    "movement": "Movement and neurocognitive events",
    "cranial_palsy": "Cranial-nerve palsy",
    "spm": "Second primary malignancy",
    "tcell_malignancy": "T-cell malignancy",
    "infection_g3": "Infection, grade ≥3",
    "nonrelapse_death": "Death not due to progression",
}

#: Outcomes as the subject of a sentence.
OUTCOME_NOUNS: dict[str, str] = {
    "crs_any": "CRS of any grade",
    "crs_severe": "severe (grade ≥3) CRS",
    "neurotox": "neurotoxicity",
    "orr": "objective response",
    "cr": "complete response",
    "icans": "ICANS",
    "movement": "movement and neurocognitive events",
    "cranial_palsy": "cranial-nerve palsy",
    "spm": "second primary malignancies",
    "tcell_malignancy": "T-cell malignancies",
    "infection_g3": "grade ≥3 infections",
    "nonrelapse_death": "deaths not due to progression",
}

#: Study-level groupings.
FACTOR_LABELS: dict[str, str] = {
    "origin": "binder origin",
    "expansion": "T-cell activation",
    "loading": "gene-transfer vector",
    "costim": "co-stimulatory domain",
    "age": "median age",
    "prior_lines": "median prior lines of therapy",
    "high_risk": "share of high-risk patients",
    "phase_group": "trial phase",
}

#: Categories as they read after "cohorts with …".
GROUP_LABELS: dict[str, str] = {
    "phase 1": "phase 1 trials",
    "phase 2 or 3": "phase 2 or 3 trials",
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


#: The scale each transform pools on, for labelling tau^2 ("tau^2 = 0.53 on the logit scale").
SCALE_LABELS: dict[str, str] = {name: transform.scale for name, transform in TRANSFORMS.items()}

#: How a prediction interval was computed (``pi_method`` of a pooled result), in words.
PREDICTION_METHODS: dict[str, str] = {
    "z": "normal quantiles, as metafor does by default",
    "t": "a t distribution with k − 2 degrees of freedom, as Higgins, Thompson and Spiegelhalter (2009) propose",
}

#: The study table's percentage columns in words (for notes a reader sees).
PERCENT_LABELS: dict[str, str] = {
    "crs_g12_pct": "CRS grade 1–2", "crs_g3_pct": "CRS grade ≥3", "neurotox_pct": "Neurotoxicity", "cr_pct": "CR",
    "vgpr_pct": "VGPR", "pr_pct": "PR", "cr_vgpr_pct": "CR + VGPR", "orr_pct": "ORR",
}

#: Each extraction rule (:class:`analysis.inputs.ExtractionRules`) and setting in words.
RULE_LABELS: dict[str, str] = {
    "unreported_neurotox": "Neurotoxicity not listed",
    "unreported_crs_grade": "A CRS grade band not listed",
    "unreported_response": "A response category not listed",
    "combined_cr_vgpr": "Only CR + VGPR printed together",
    "not_disclosed": "A value marked ND (not disclosed)",
}
SETTING_LABELS: dict[str, dict[str, str]] = {
    rule: {"zero": "count as 0 events", "missing": "leave the cohort out", "cr": "count the combined figure as CR"}
    for rule in RULE_LABELS
}
SETTING_LABELS["combined_cr_vgpr"]["missing"] = "leave the cohort out of CR"

#: What each forest-plot mark (:data:`analysis.review.outcomes.MARKS`) means.
MARK_NOTES: dict[str, str] = {
    "†": "count rests on a category not printed, assumed zero by the extraction rules",
    "‡": "subgroup inferred, not sourced (see the appendix)",
}

#: Dose scales a cohort may report, in words.
DOSE_SCALES: dict[str, str] = {"per_kg": "per kilogram of body weight", "flat": "as a flat dose"}

#: The groups and comparisons of the paper's PFS analysis.
PFS_GROUP_LABELS: dict[str, str] = {
    "active": "active doses", "inactive": "inactive doses",
    "lentiviral": "lentiviral vector", "retroviral": "retroviral vector",
    "CD28": "CD28 domain", "4-1BB": "4-1BB domain", "murine": "murine binders", "camelid": "camelid (llama/alpaca) binders",
}
PFS_ANALYSIS_LABELS: dict[str, str] = {
    "dose_activity": "Dose activity", "loading": "Gene-transfer vector", "costim": "Co-stimulatory domain",
    "origin": "Binder origin",
}

#: Column names the analysis functions return -> how a reader sees them.
COLUMN_LABELS: dict[str, str] = {
    "study": "Cohort", "study_id": "Study", "label": "Cohort", "product": "Product", "group": "Group",
    "outcome": "Outcome", "model": "Model", "method": "Method", "k": "Cohorts (k)", "n": "Patients",
    "events": "Events", "estimate": "Estimate (%)", "ci_low": "95% CI, low (%)", "ci_high": "95% CI, high (%)",
    "pi_low": "95% PI, low (%)", "pi_high": "95% PI, high (%)", "i2": "I² (%)", "tau2": "τ²", "h2": "H²", "q": "Q",
    "q_p": "p (Q-test)", "p": "p-value", "weight": "Weight (%)", "weight_pct": "Weight (%)", "rate": "Rate (%)",
    "y": "Logit y", "v": "Variance v", "w": "Weight w = 1/v", "w*y": "w·y", "w*y^2": "w·y²", "w^2": "w²",
    "w_star": "Random-effects weight w*", "dose": "Dose", "dose_group": "Dose group", "verdict": "Verdict",
    "basis": "Basis", "computed": "Computed", "published": "Published", "difference": "Difference", "note": "Note",
    "key": "Number", "source": "Source", "setting": "Setting", "rule": "Rule", "in_use": "In use",
    "patients": "Patients", "coverage": "Coverage", "mean_width": "Mean width (points)", "analysis": "Analysis",
    "event": "Adverse event", "any_grade": "Any grade (n)", "any_rate": "Any grade (%)",
    "any_low": "Any grade, 95% CI low", "any_high": "Any grade, 95% CI high", "severe": "Grade ≥3 (n)",
    "severe_rate": "Grade ≥3 (%)", "severe_low": "Grade ≥3, 95% CI low", "severe_high": "Grade ≥3, 95% CI high",
    "responders": "Responders", "dose_millions": "Dose (10⁶ cells)", "edition": "Table",
}


#: The reproduction report's outcomes, analyses and statistics in words.
REPORT_OUTCOMES: dict[str, str] = {
    **OUTCOME_LABELS, "crb401_orr": "CRB-401 objective response", "crb401_pfs": "CRB-401 progression-free survival",
    "pfs": "Progression-free survival", "descriptive": "Patients and products",
}
REPORT_ANALYSES: dict[str, str] = {
    **FACTOR_LABELS, "overall": "all cohorts", "dose": "dose level", "study": "lead product",
    "dose_activity": "dose activity",
}
REPORT_STATISTICS: dict[str, str] = {
    "estimate": "rate (%)", "ci_low": "95% CI, low", "ci_high": "95% CI, high", "i2": "I² (%)", "p": "p-value",
    "median": "median (months)", "hr": "hazard ratio", "patients": "patients", "percent": "percent", "studies": "studies",
    "products": "products", "n_safety": "patients evaluable for safety", "n_response": "patients evaluable for response",
}
