"""The CRB-401 case study's analyses: response by dose with exact intervals and the
trial report's Table 3 reproduced, the trend test, adverse events, and the trial beside
its row of the study table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..meta.single_arm import TrendTest, adverse_event_rates, exact_rates, response_by_dose, trend_test
from ..text import phrasing
from ..text import trial as words
from ..text.numbers import number
from . import paper
from .reproduction import compare, rate_values

__all__ = ["CaseStudy", "case_study", "row_comparison"]


@dataclass(frozen=True)
class CaseStudy:
    """Response by dose (``rates``), its comparison with the trial report (``report``),
    doses merged over the BCMA strata (``by_dose``), the trend tests on dose and log
    dose, the adverse events with exact rates, and the sentences."""

    rates: pd.DataFrame
    report: pd.DataFrame
    by_dose: pd.DataFrame
    trend: TrendTest
    trend_log: TrendTest
    events: pd.DataFrame
    sentences: dict[str, str]


def case_study(doses: pd.DataFrame, adverse: pd.DataFrame, published: pd.DataFrame, alpha: float = phrasing.ALPHA) -> CaseStudy:
    """The CRB-401 chapter from the trial's dose table, adverse events and the published
    numbers."""
    n = int(doses["n"].sum())
    rates = response_by_dose(doses)
    report = compare(published[published["outcome"] == "crb401_orr"], rate_values(rates, "crb401_orr", "dose", "dose_group"))
    odd = [(key.split(":")[3], key.split(":")[2], computed, printed)
           for key, computed, printed in report.loc[report["verdict"] != "match", ["key", "computed", "published"]].itertuples(index=False)]
    by_dose = doses.groupby("dose_millions", as_index=False)[["n", "responders", "scr", "cr"]].sum()
    trend = trend_test(by_dose["responders"], by_dose["n"], by_dose["dose_millions"])
    trend_log = trend_test(by_dose["responders"], by_dose["n"], np.log(by_dose["dose_millions"]))
    smallest = by_dose[by_dose["n"] == by_dose["n"].min()]
    events = adverse_event_rates(adverse, n)
    crs = events.set_index("event").loc["Cytokine release syndrome"]
    neuro = events.set_index("event").loc["Neurologic toxic effect"]
    five = exact_rates([5], [n]).iloc[0]
    all_doses = rates.set_index("dose_group").iloc[-1]  # every dose together, the last row of response_by_dose
    trend_sentence = phrasing.trend_sentence(trend.slope, trend.p, alpha)
    matched = int((report["verdict"] == "match").sum())
    sentences = {
        "five": words.small_sample_sentence(5, n, five["ci_low"], five["ci_high"]),
        "odd": words.rounding_exceptions(odd),
        "trend_sentence": trend_sentence,
        "trend_log_sentence": words.log_trend_sentence(trend_log.p),
        "smallest": words.smallest_group_sentence(list(smallest["dose_millions"]), int(smallest["n"].iloc[0])),
        "found": words.trial_findings((all_doses["rate"], all_doses["ci_low"], all_doses["ci_high"]), n, crs["any_rate"],
                                      neuro["any_rate"], trend_sentence, matched, len(report)),
    }
    return CaseStudy(rates, report, by_dose, trend, trend_log, events, sentences)


def row_comparison(studies: pd.DataFrame, row_id: str | None, doses: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trial report's rates beside its row of the study table (``row_id``; None: the
    paper's row), formatted for readers, and the sentence that reads them."""
    row_id = row_id or paper.EXAMPLES["crb401"]
    n = int(doses["n"].sum())
    crs = events.set_index("event").loc["Cytokine release syndrome"]
    neuro = events.set_index("event").loc["Neurologic toxic effect"]
    trial = {
        "Patients (safety / response)": f"{n} / {n}",
        "CRS, any grade (%)": 100 * crs["any_grade"] / n,
        "Neurotoxicity (%)": 100 * neuro["any_grade"] / n,
        "Objective response (%)": 100 * doses["responders"].sum() / n,
        "sCR/CR (%)": 100 * (doses["scr"] + doses["cr"]).sum() / n,
    }
    if row_id not in set(studies["study_id"]):
        table = pd.DataFrame({"CRB-401, NEJM 2019": trial})
        sentence = f"This study table has no row {row_id} for CRB-401, so the trial cannot be set beside its row."
    else:
        row = studies.set_index("study_id").loc[row_id]
        table1 = {
            "Patients (safety / response)": f"{row['n_safety']} / {row['n_response']}",
            "CRS, any grade (%)": 100 * row["crs_any"] / row["n_safety"],
            "Neurotoxicity (%)": 100 * row["neurotox"] / row["n_safety"],
            "Objective response (%)": 100 * row["orr"] / row["n_response"],
            "sCR/CR (%)": 100 * row["cr"] / row["n_response"],
        }
        table = pd.DataFrame({"CRB-401, NEJM 2019": trial, "Study-table row": table1})
        sentence = words.row_sentence(int(row["n_safety"]), n)
    return table.map(lambda v: number(v) if isinstance(v, float) else v), sentence
