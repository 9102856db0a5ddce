"""The quality of the evidence: each cohort's risk of bias (MINORS for single-arm
cohorts, RoB 2 for the randomized comparisons; judgements from
``data/quality/risk_of_bias.csv``), a sensitivity analysis without the cohorts at high
risk, and a GRADE summary of findings per outcome and edition. What GRADE leaves to
judgement is a stated rule here, computed from the pooled results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..inputs.paths import UPDATE_DIR
from ..inputs.published import load_published
from ..inputs.quality import TOOLS, load_risk_of_bias
from ..inputs.studies import load_studies
from ..inputs.tables import load_randomized
from ..meta.effects import PooledEffect
from ..text import quality as words
from ..text.labels import GRADE_DOMAIN_LABELS, OUTCOME_LABELS, ROB_ITEM_LABELS
from ..text.evidence import hr_text
from ..text.phrasing import ALPHA, estimate_text
from . import paper
from .evidence import RandomizedEvidence, new_cohorts, randomized_evidence
from .outcomes import outcome_rows, try_pool
from .small_studies import small_study_effects

__all__ = ["RiskOfBias", "risk_of_bias", "overall_risk", "rob_sensitivity", "GRADE_RULES", "CERTAINTY_LEVELS",
           "SummaryOfFindings", "summary_of_findings", "QualityResults", "quality_results", "EDITIONS", "SOF_OUTCOMES", "rules_table"]


def overall_risk(judgements: Sequence[str]) -> str:
    """A cohort's overall risk: high if any item is high (or, for RoB 2, if any domain is),
    low if every item is low, unclear otherwise (RoB 2's "some concerns")."""
    if any(j == "high" for j in judgements):
        return "high"
    return "low" if all(j == "low" for j in judgements) else "unclear"


@dataclass(frozen=True)
class RiskOfBias:
    """One row per judged cohort of a study table (``study_id``, ``label``, ``edition`` of
    the report judged, one column per MINORS item, ``overall``), the randomized
    comparisons judged with RoB 2 (``randomized``), the judgements with their basis
    (``basis``), the cohorts without a judgement, and the sentences."""

    table: pd.DataFrame
    randomized: pd.DataFrame
    basis: pd.DataFrame
    not_assessed: tuple[str, ...]
    sentences: Mapping[str, str]

    def overall(self) -> pd.Series:
        """Overall risk by ``study_id``."""
        return self.table.set_index("study_id")["overall"]


def _judged(judgements: pd.DataFrame, tool: str) -> pd.DataFrame:
    items = list(TOOLS[tool][0])
    wide = judgements[judgements["tool"] == tool].pivot_table(index=["edition", "study_id"], columns="item",
                                                               values="judgement", aggfunc="first")
    wide = wide.reindex(columns=items).reset_index()
    overall = [overall_risk(row) for row in wide[items].to_numpy()]
    if tool == "RoB 2":  # RoB 2 calls the middle judgement "some concerns"
        overall = [("some concerns" if o == "unclear" else o) for o in overall]
    return wide.assign(overall=overall)


def risk_of_bias(studies: pd.DataFrame, before: pd.DataFrame, judgements: pd.DataFrame) -> RiskOfBias:
    """The judgements of ``studies``' cohorts: a cohort the 2020 table holds as it is
    (``before``) is judged on its 2020 report, any other on the update's."""
    edition = np.where(new_cohorts(studies, before).to_numpy(), "update", "2020")
    rows = pd.DataFrame({"study_id": studies["study_id"].to_numpy(), "label": studies["label"].to_numpy(), "edition": edition})
    minors = rows.merge(_judged(judgements, "MINORS"), on=["edition", "study_id"], how="left")
    judged = minors["overall"].notna()
    rob2 = _judged(judgements, "RoB 2")  # the randomized comparisons, whichever rows the table holds
    basis = judgements.merge(rows[["study_id", "edition", "label"]], on=["study_id", "edition"])
    table = minors[judged].reset_index(drop=True)
    counts = table["overall"].value_counts().to_dict()
    sentences = {"rob": words.rob_sentence(counts, "MINORS"), "rob_missing": words.not_assessed_note(list(minors.loc[~judged, "label"]))}
    return RiskOfBias(table, rob2.reset_index(drop=True), basis, tuple(minors.loc[~judged, "label"]), sentences)


def rob_sensitivity(studies: pd.DataFrame, rob: RiskOfBias, outcomes: Sequence[str] = paper.OUTCOMES) -> tuple[pd.DataFrame, str]:
    """Each outcome pooled with every cohort and without those at high overall risk."""
    high = set(rob.table.loc[rob.table["overall"] == "high", "study_id"])
    kept = studies[~studies["study_id"].isin(high)]
    rows, changes = [], {}
    for outcome in outcomes:
        every, _ = try_pool(studies, outcome)
        without, note = try_pool(kept, outcome) if len(kept) else (None, "no cohort left")
        if every is None:
            continue
        rows.append({"Outcome": OUTCOME_LABELS[outcome],
                     "Every cohort": estimate_text(100 * every.estimate, 100 * every.ci_low, 100 * every.ci_high, every.k,
                                                   level=every.level),
                     "Without cohorts at high risk": (estimate_text(100 * without.estimate, 100 * without.ci_low,
                                                                    100 * without.ci_high, without.k, level=without.level)
                                                      if without is not None else note)})
        if without is not None and high & set(outcome_rows(studies, outcome)["study_id"]):
            changes[outcome] = (every.estimate, without.estimate, every.k, without.k)
    return pd.DataFrame(rows), words.rob_sensitivity_sentence(changes, len(high & set(studies["study_id"])))


#: The stated rules by which the summary of findings rates each domain (GRADE leaves the
#: thresholds to the reviewers; these are ours, applied the same way to every outcome).
GRADE_RULES: dict[str, str] = {
    "start": "The pooled rates are effects of a treatment measured without a control, so single-arm cohorts start at "
             "low, as observational evidence on an intervention does. (Read as a question of how often an event occurs, "
             "as GRADE's guidance for prognosis reads it, they would start at high: each rating would then be two levels "
             "higher.)",
    "risk_of_bias": "Serious if cohorts at high risk carry at least 25% of the weight; very serious if at least 50%. "
                    "A cohort whose items are unclear because its report was not retrieved is not counted against the "
                    "evidence; the share of such weight is stated beside the judgement.",
    "inconsistency": "Serious if I² is at least 50% and the 95% prediction interval is wider than 30 percentage points; very "
                     "serious if I² is at least 75% and the interval is wider than 50 points.",
    "imprecision": "Serious if the 95% CI is wider than 20 percentage points or the cohorts hold fewer than 100 patients; "
                   "very serious if the CI is wider than 40 points.",
    "publication_bias": "Suspected (one level down) if the rank correlation with cohort size or Peters' test has p below "
                        "0.05. Trim-and-fill, which works on the logit funnel, is shown as a sensitivity analysis and "
                        "does not decide the rating.",
    "indirectness": "Not serious: the cohorts are patients with multiple myeloma treated with a BCMA CAR-T product and the "
                    "outcome is measured as the question asks.",
    "randomized": "Randomized comparisons start at high. Risk of bias from RoB 2: serious if trials with some concerns carry "
                  "more than 50% of the weight or a trial at high risk at least 25%. Inconsistency: serious if I² is at "
                  "least 50% and the trials do not all point the same way. Imprecision: serious if the 95% CI of the "
                  "hazard ratio includes 1, very serious if it spans both 0.75 and 1.25. Publication bias: not assessed with fewer than ten trials. Indirectness: "
                  "serious for overall survival when a trial let more than a quarter of its control arm cross over to "
                  "CAR-T, which blurs the comparison.",
}
CERTAINTY_LEVELS = ("high", "moderate", "low", "very low")
#: The outcomes of the summary of findings: the pooled rates and the randomized hazard ratios.
SOF_OUTCOMES = {**OUTCOME_LABELS, "pfs": "Progression-free survival (randomized, HR)",
                "os": "Overall survival (randomized, HR)"}
_DOWN = {"not serious": 0, "undetected": 0, "not assessed": 0, "serious": 1, "suspected": 1, "very serious": 2}


def _domains(rows: pd.DataFrame, fit, overall: pd.Series, alpha: float) -> dict[str, tuple[str, str]]:
    weights = fit.studies["weight"].to_numpy() / 100
    risk = rows["study_id"].map(overall).fillna("unclear").to_numpy()
    high_share, not_low_share = float(weights[risk == "high"].sum()), float(weights[risk != "low"].sum())
    rob = "very serious" if high_share >= 0.5 else "serious" if high_share >= 0.25 else "not serious"
    pi_width = 100 * (fit.pi_high - fit.pi_low) if np.isfinite(fit.pi_high) else np.nan
    i2 = fit.i2
    incon = ("very serious" if i2 >= 75 and pi_width > 50 else
             "serious" if i2 >= 50 and pi_width > 30 else "not serious")
    ci_width = 100 * (fit.ci_high - fit.ci_low)
    patients = int(rows["n"].sum())
    imprec = "very serious" if ci_width > 40 else "serious" if ci_width > 20 or patients < 100 else "not serious"
    small = small_study_effects(rows, fit, alpha)
    if small.detected() is None or small.trim is None:
        pub, facts = "not assessed", {}
    else:
        shift = 100 * abs(small.trim.estimate - fit.estimate)
        pub = "suspected" if small.detected() else "undetected"  # trim-and-fill is a sensitivity analysis only
        facts = {"rank_p": small.rank.p, "peters_p": small.peters.p, "shift": shift}
    return {
        "risk_of_bias": (rob, words.domain_reason("risk_of_bias", rob, high_share=high_share, not_low_share=not_low_share)),
        "inconsistency": (incon, words.domain_reason("inconsistency", incon, i2=i2, pi_width=pi_width)),
        "indirectness": ("not serious", "stated (see the rules)"),
        "imprecision": (imprec, words.domain_reason("imprecision", imprec, ci_width=ci_width, patients=patients,
                                                    level=fit.level)),
        "publication_bias": (pub, words.domain_reason("publication_bias", pub, **facts)),
    }


@dataclass(frozen=True)
class SummaryOfFindings:
    """One row per outcome and edition: cohorts, patients, the pooled rate, each GRADE
    domain's judgement and reason, and the certainty; and the sentence."""

    table: pd.DataFrame
    sentence: str

    def display(self, edition: str) -> pd.DataFrame:
        """One edition's summary of findings, for readers."""
        t = self.table[self.table["edition"] == edition]
        shown = {"Outcome": t["outcome"].map(SOF_OUTCOMES), "Cohorts (patients)":
                 [f"{k} ({n:,})" for k, n in zip(t["k"], t["patients"])], "Pooled result": t["estimate"]}
        for domain, label in GRADE_DOMAIN_LABELS.items():
            shown[label] = t[domain]
        shown["Certainty"] = t["certainty"]
        return pd.DataFrame(shown)

    def reasons(self, edition: str) -> pd.DataFrame:
        """Each domain's judgement of one edition with the numbers behind it, one row per
        outcome and domain."""
        t = self.table[self.table["edition"] == edition]
        rows = [{"Outcome": SOF_OUTCOMES[r["outcome"]], "Domain": label, "Judgement": r[domain],
                 "Why": r[f"{domain}_reason"]}
                for _, r in t.iterrows() for domain, label in GRADE_DOMAIN_LABELS.items()]
        return pd.DataFrame(rows, columns=["Outcome", "Domain", "Judgement", "Why"])


def _randomized_domains(fit: PooledEffect, used: pd.DataFrame, rob2: pd.DataFrame, endpoint: str) -> dict[str, tuple[str, str]]:
    weights = fit.studies["weight"].to_numpy() / 100
    risk = used["registration"].map(rob2.set_index("study_id")["overall"]).fillna("some concerns").to_numpy()
    concerns, high = float(weights[risk != "low"].sum()), float(weights[risk == "high"].sum())
    rob = "serious" if concerns > 0.5 or high >= 0.25 else "not serious"
    sides = {np.sign(np.log(h)) if l > 1 or h < 1 else 0 for l, h in zip(fit.studies["ci_low"], fit.studies["ci_high"])}
    incon = "serious" if fit.k > 1 and fit.i2 >= 50 and sides != {-1.0} and sides != {1.0} else "not serious"
    imprec = ("very serious" if fit.ci_low < 0.75 and fit.ci_high > 1.25 else
              "serious" if fit.ci_low <= 1 <= fit.ci_high else "not serious")
    crossed = used.loc[used["crossover_pct"] > 25, "trial"].tolist() if endpoint == "OS" else []
    return {
        "risk_of_bias": (rob, words.randomized_reason("risk_of_bias", concerns=concerns, high=high)),
        "inconsistency": (incon, words.randomized_reason("inconsistency", i2=fit.i2, k=fit.k)),
        "indirectness": ("serious" if crossed else "not serious", words.randomized_reason("indirectness", crossed=crossed)),
        "imprecision": (imprec, words.randomized_reason("imprecision", low=fit.ci_low, high=fit.ci_high, level=fit.level)),
        "publication_bias": ("not assessed", words.randomized_reason("publication_bias", k=fit.k)),
    }


def summary_of_findings(editions: Mapping[str, tuple[pd.DataFrame, RiskOfBias]], outcomes: Sequence[str] = paper.OUTCOMES,
                        alpha: float = ALPHA, randomized: tuple[str, RandomizedEvidence, RiskOfBias] | None = None
                        ) -> SummaryOfFindings:
    """GRADE per outcome and edition: ``editions[name] = (study table, its risk of bias)``;
    with ``randomized = (edition, its randomized evidence, the risk of bias holding their
    RoB 2)``, the pooled hazard ratios of PFS and OS as well."""
    rows, levels = [], {}
    for edition, (studies, rob) in editions.items():
        for outcome in outcomes:
            fit, _ = try_pool(studies, outcome)
            if fit is None:
                continue
            cohorts = outcome_rows(studies, outcome)
            domains = _domains(cohorts, fit, rob.overall(), alpha)
            level = min(CERTAINTY_LEVELS.index("low") + sum(_DOWN[j] for j, _ in domains.values()), len(CERTAINTY_LEVELS) - 1)
            rows.append({"outcome": outcome, "edition": edition, "k": fit.k, "patients": int(cohorts["n"].sum()),
                         "estimate": estimate_text(100 * fit.estimate, 100 * fit.ci_low, 100 * fit.ci_high, level=fit.level),
                         **{d: j for d, (j, _) in domains.items()}, **{f"{d}_reason": r for d, (_, r) in domains.items()},
                         "certainty": CERTAINTY_LEVELS[level]})
            levels.setdefault(edition, {})[outcome] = CERTAINTY_LEVELS[level]
    if randomized is not None:
        edition, evidence, rob = randomized
        for endpoint, fit in evidence.pooled.items():
            if fit is None:
                continue
            used = evidence.used[evidence.used["endpoint"] == endpoint]
            domains = _randomized_domains(fit, used, rob.randomized, endpoint)
            level = min(sum(_DOWN[j] for j, _ in domains.values()), len(CERTAINTY_LEVELS) - 1)
            outcome = endpoint.lower()
            rows.append({"outcome": outcome, "edition": edition, "k": fit.k, "patients": int((used["n_cart"] + used["n_control"]).sum()),
                         "estimate": hr_text(fit.estimate, fit.ci_low, fit.ci_high, fit.level),
                         **{d: j for d, (j, _) in domains.items()}, **{f"{d}_reason": r for d, (_, r) in domains.items()},
                         "certainty": CERTAINTY_LEVELS[level]})
            levels.setdefault(edition, {})[outcome] = CERTAINTY_LEVELS[level]
    return SummaryOfFindings(pd.DataFrame(rows), words.certainty_sentence(levels))


@dataclass(frozen=True)
class QualityResults:
    """The quality chapter's results: per edition (the study table, then the update) its
    table, risk of bias and sensitivity analysis; the summary of findings; the sentences
    (``first_*`` of the study table, ``update_*`` of the update, ``certainty``); ``aside``
    is the risk of bias of the update's cohorts that enter the sensitivity analysis only."""

    tables: Mapping[str, pd.DataFrame]
    rob: Mapping[str, RiskOfBias]
    sensitivity: Mapping[str, pd.DataFrame]
    findings: SummaryOfFindings
    evidence: RandomizedEvidence
    judgements: pd.DataFrame
    aside: RiskOfBias
    sentences: Mapping[str, str]

    def basis_table(self) -> pd.DataFrame:
        """Every judgement of the cohorts shown, with the words it rests on, for readers."""
        trials = self.evidence.used_all.drop_duplicates("registration").set_index("registration")["trial"]
        randomized = self.judgements[self.judgements["tool"] == "RoB 2"]
        randomized = randomized.assign(label=randomized["study_id"].map(trials).fillna(randomized["study_id"]))
        frames = [r.basis for r in self.rob.values()] + [self.aside.basis, randomized]
        every = pd.concat(frames).drop_duplicates(subset=["edition", "study_id", "tool", "item"])
        item = [f"{ROB_ITEM_LABELS[i]} ({tool})" for i, tool in zip(every["item"], every["tool"])]
        return pd.DataFrame({"Cohort": every["label"], "Report": every["edition"].map(REPORT_LABELS), "Item": item,
                             "Judgement": every["judgement"], "Basis": every["basis"], "Source": every["source"]})

    def randomized_table(self) -> pd.DataFrame:
        """The randomized trials' RoB 2 judgements, for readers."""
        rob2 = next(iter(self.rob.values())).randomized
        trials = self.evidence.used_all.drop_duplicates("registration").set_index("registration")["trial"]
        items = list(TOOLS["RoB 2"][0]) + ["overall"]
        shown = rob2.assign(label=rob2["study_id"].map(trials).fillna(rob2["study_id"]))
        return shown[["label", *items]].rename(columns={"label": "Trial", **ROB_ITEM_LABELS})


#: The reports a judgement rests on, for readers.
REPORT_LABELS = {"2020": "2020 table", "update": "update"}
#: The editions of the chapter: the paper's table and the update's main analysis.
EDITIONS = ("2020 table", "update")


def quality_results(studies_path=None, update_path=None, rob_path=None, randomized_path=None, published_path=None,
                    alpha: float = ALPHA) -> QualityResults:
    """Risk of bias, its sensitivity analysis and the summary of findings of the study
    table (``studies_path``; None: the paper's) and the update's main analysis."""
    before = load_studies(paper.STUDIES)
    first = EDITIONS[0] if paper.is_paper_table(studies_path) else "study table"
    tables = {first: load_studies(studies_path), "update": load_studies(update_path or UPDATE_DIR / "studies.csv")}
    judgements = load_risk_of_bias(rob_path)
    rob = {name: risk_of_bias(t, before, judgements) for name, t in tables.items()}
    sensitivity, sentences = {}, {}
    for prefix, (name, t) in zip(("first", "update"), tables.items()):
        sensitivity[name], sentences[f"{prefix}_sensitivity"] = rob_sensitivity(t, rob[name])
        sentences[f"{prefix}_rob"] = rob[name].sentences["rob"]
        sentences[f"{prefix}_rob_missing"] = rob[name].sentences["rob_missing"]
    every = load_studies(update_path or UPDATE_DIR / "studies.csv", sources="all")
    aside = risk_of_bias(every[~every["primary_source"]], before, judgements)
    doubled = int(every.loc[~every["primary_source"], "replaces_primary"].astype(bool).sum())
    sentences["aside_rob"] = words.aside_rob_sentence(len(aside.table), doubled, aside.sentences["rob"])
    evidence = randomized_evidence(load_randomized(randomized_path), load_published(published_path))
    findings = summary_of_findings({n: (tables[n], rob[n]) for n in tables}, alpha=alpha,
                                   randomized=("update", evidence, rob["update"]))
    sentences["certainty"] = findings.sentence
    return QualityResults(tables, rob, sensitivity, findings, evidence, judgements, aside, sentences)


def rules_table() -> pd.DataFrame:
    """The summary of findings' rules, for readers."""
    names = {"start": "Starting level", **GRADE_DOMAIN_LABELS, "randomized": "Randomized comparisons"}
    return pd.DataFrame({"Domain": [names[k] for k in GRADE_RULES], "Rule": list(GRADE_RULES.values())})
