"""What a haematologist asks of the evidence since 2020: the randomized trials' hazard
ratios (pooled, beside the paper's surrogate control), median PFS across cohorts, each
approved product, the weight the new cohorts carry, the new cohorts alone, how the
estimates moved as evidence came in, ICANS apart, early against later phases, and the
late harms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..inputs.studies import LATE_HARMS
from ..meta.effects import PooledEffect, cumulative_proportions, effect_from_ci, pool_effects
from ..text import evidence as words
from ..text.labels import OUTCOME_LABELS
from ..text.overview import iso_date_words
from ..text.phrasing import estimate_text
from . import paper
from .editions import pooled_side_by_side
from .outcomes import compare_subgroups, outcome_rows, try_pool

__all__ = ["RandomizedEvidence", "randomized_evidence", "randomized_table", "median_pfs", "product_results",
           "weight_shares", "new_cohorts", "cumulative_by_date", "late_harms", "phase_groups", "PHASE_GROUPS",
           "icans_apart", "PRODUCT_OUTCOMES", "KEPT_2020", "phase_comparison", "UpdateQuestions", "update_questions", "product_names",
           "products_table"]

#: The first step of the cumulative analysis: the 2020 cohorts the update keeps.
KEPT_2020 = "the 2020 cohorts the update keeps"

#: Outcomes pooled per product.
PRODUCT_OUTCOMES = ("crs_any", "crs_severe", "neurotox", "icans", "orr", "cr")
#: Trial phases grouped: first-in-human and dose-finding trials against the larger later ones.
PHASE_GROUPS = {"1": "phase 1", "1/2": "phase 1", "2": "phase 2 or 3", "3": "phase 2 or 3"}


@dataclass(frozen=True)
class RandomizedEvidence:
    """The randomized trials, pooled per endpoint: from journal reports only
    (``pooled``) and from every source (``pooled_all``), each trial by its latest
    analysis; the rows used (``used``, ``used_all``), the paper's surrogate-control
    hazard ratio and the sentences."""

    pooled: Mapping[str, PooledEffect | None]
    pooled_all: Mapping[str, PooledEffect | None]
    used: pd.DataFrame
    used_all: pd.DataFrame
    surrogate: float | None
    sentences: Mapping[str, str]


def _latest(rows: pd.DataFrame) -> pd.DataFrame:
    """Each trial's and endpoint's latest analysis (longest follow-up; the last listed on a tie)."""
    ordered = rows.assign(_follow=rows["followup_months"].fillna(-1.0), _order=np.arange(len(rows)))
    ordered = ordered.sort_values(["_follow", "_order"])
    return ordered.groupby(["trial", "endpoint"], sort=False).tail(1).drop(columns=["_follow", "_order"]).sort_index()


def _pool_hrs(rows: pd.DataFrame) -> PooledEffect | None:
    if rows.empty:
        return None
    effects = [effect_from_ci(r.hr, r.hr_ci_low, r.hr_ci_high) for r in rows.itertuples()]
    return pool_effects([e[0] for e in effects], [e[1] for e in effects], labels=list(rows["trial"]))


def randomized_evidence(randomized: pd.DataFrame, published: pd.DataFrame) -> RandomizedEvidence:
    """The randomized trials' PFS and OS hazard ratios pooled (DerSimonian–Laird on the
    log scale), beside the paper's surrogate-control hazard ratio."""
    primary = randomized[randomized["source_type"].isin(["journal", "regulatory"])]
    used, used_all = _latest(primary), _latest(randomized)
    pooled = {e: _pool_hrs(used[used["endpoint"] == e]) for e in ("PFS", "OS")}
    pooled_all = {e: _pool_hrs(used_all[used_all["endpoint"] == e]) for e in ("PFS", "OS")}
    hit = published.loc[published["key"] == "pfs:dose_activity:test:hr", "number"]
    surrogate = float(hit.iloc[0]) if len(hit) else None
    trials = lambda rows, e: list(rows.loc[rows["endpoint"] == e, "trial"])  # noqa: E731
    os_rows = used[used["endpoint"] == "OS"]
    sentences = {
        "pfs": words.randomized_sentence("PFS", pooled["PFS"], trials(used, "PFS"), "journal reports"),
        "pfs_heterogeneity": words.two_trials_sentence(pooled["PFS"]),
        "surrogate": words.surrogate_sentence(pooled["PFS"], surrogate),
        "os": " ".join(words.os_sentence(r.trial, r.hr, r.hr_ci_low, r.hr_ci_high, r.crossover_pct) for r in os_rows.itertuples())
        or words.randomized_sentence("OS", None, [], "journal reports"),
        "pfs_all": words.randomized_sentence("PFS", pooled_all["PFS"], trials(used_all, "PFS"), "every source, each trial's latest analysis"),
        "os_all": " ".join(words.os_sentence(r.trial, r.hr, r.hr_ci_low, r.hr_ci_high, r.crossover_pct)
                           for r in used_all[used_all["endpoint"] == "OS"].itertuples())
        + " " + words.randomized_sentence("OS", pooled_all["OS"], trials(used_all, "OS"), "every source, each trial's latest analysis")
        + words.pooled_os_caution(list(used_all.loc[used_all["endpoint"] == "OS", "crossover_pct"])),
    }
    return RandomizedEvidence(pooled, pooled_all, used, used_all, surrogate, sentences)


def randomized_table(randomized: pd.DataFrame, part: str = "results") -> pd.DataFrame:
    """Every randomized analysis, for readers, in two parts that each fit a page:
    ``"results"`` (hazard ratio, medians, follow-up, crossover, data cut) and ``"sources"``
    (the arms compared and where each analysis was read)."""
    def months(value: float) -> str:
        return "—" if not np.isfinite(value) else f"{value:g}"

    key = {"Trial": randomized["trial"], "Endpoint": randomized["endpoint"], "Analysis": randomized["analysis"]}
    if part == "sources":
        return pd.DataFrame({**key, "CAR-T arm": randomized["cart"], "Comparator": randomized["comparator"],
                             "Source type": randomized["source_type"], "Source": randomized["source"]})
    if part != "results":
        raise ValueError(f"part={part!r} is not a part of the table; choose 'results' or 'sources'")
    return pd.DataFrame({
        **key,
        "Hazard ratio (95% CI)": [words.hr_text(r.hr, r.hr_ci_low, r.hr_ci_high) for r in randomized.itertuples()],
        "Median, CAR-T (months)": randomized["median_cart"].map(months),
        "Median, control (months)": randomized["median_control"].map(months),
        "Follow-up (months)": randomized["followup_months"].map(months),
        "Crossover (%)": randomized["crossover_pct"].map(months),
        "Data cut": randomized["data_cut"].map(lambda d: iso_date_words(d) if d and d != "ND" else "not retrieved"),
    })


def _median_fit(medians: pd.DataFrame) -> tuple[PooledEffect | None, int, int]:
    usable = medians.dropna(subset=["median", "ci_low", "ci_high"])
    usable = usable[(usable["ci_low"] < usable["median"]) & (usable["median"] < usable["ci_high"])]
    if usable.empty:
        return None, 0, len(medians.dropna(subset=["median"]))
    effects = [effect_from_ci(r.median, r.ci_low, r.ci_high) for r in usable.itertuples()]
    fit = pool_effects([e[0] for e in effects], [e[1] for e in effects], labels=list(usable["label"]))
    return fit, len(usable), len(medians.dropna(subset=["median"]))


def median_pfs(tables: Mapping[str, pd.DataFrame], published: pd.DataFrame) -> tuple[pd.DataFrame, Mapping[str, str]]:
    """Median PFS pooled across cohorts on the log scale (each with the SE its 95% CI
    implies): for the 2020 table from the medians the paper prints for its lead products
    (its Table 2), for every other table from its cohorts' ``pfs_median`` columns. One
    row per edition (estimate, CI, k, cohorts with a median) and a sentence per edition."""
    rows, sentences = [], {}
    for edition, studies in tables.items():
        if edition == "2020 table":
            pfs = published[(published["outcome"] == "pfs") & (published["analysis"] == "study")]
            wide = pfs.pivot_table(index="group", columns="statistic", values="number", aggfunc="first")
            medians = pd.DataFrame({"label": wide.index, "median": wide.get("median"), "ci_low": wide.get("ci_low"),
                                    "ci_high": wide.get("ci_high")})
        else:
            medians = pd.DataFrame({"label": studies["label"], "median": studies.get("pfs_median", np.nan),
                                    "ci_low": studies.get("pfs_ci_low", np.nan), "ci_high": studies.get("pfs_ci_high", np.nan)})
        medians = medians.astype({"median": float, "ci_low": float, "ci_high": float})
        fit, usable, reported = _median_fit(medians)
        without = [f"{r.label} {r.median:g}" for r in medians.itertuples() if np.isfinite(r.median)
                   and not (np.isfinite(r.ci_low) and np.isfinite(r.ci_high))]
        s = fit.summary() if fit is not None else {}
        rows.append({"edition": edition, "k": usable, "reported": reported, "estimate": s.get("estimate", np.nan),
                     "ci_low": s.get("ci_low", np.nan), "ci_high": s.get("ci_high", np.nan), "i2": s.get("i2", np.nan)})
        where = "the 2020 table (the medians of the paper's Table 2)" if edition == "2020 table" else f"the {edition}"
        sentences[edition] = words.median_pfs_sentence(where, fit, usable, reported, without)
    return pd.DataFrame(rows), sentences


def product_results(studies: pd.DataFrame, outcomes: Sequence[str] = PRODUCT_OUTCOMES) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every outcome pooled per CAR-T product (``car_product``) with at least two
    cohorts: one row per product and outcome (k, estimate, CI in percent); and each
    such product's trials by name."""
    counts = studies["car_product"].value_counts()
    products = [p for p in counts.index if counts[p] >= 2]
    rows, trials = [], {}
    for product in products:
        part = studies[studies["car_product"] == product]
        part = part.assign(trial=_trial_names(part))
        trials[product] = list(dict.fromkeys(part["trial"]))
        for outcome in outcomes:
            fit, _ = try_pool(part, outcome)
            s = fit.summary() if fit is not None else {}
            rows.append({"product": product, "outcome": outcome, "k": int(s.get("k", 0)), "estimate": s.get("estimate", np.nan),
                         "ci_low": s.get("ci_low", np.nan), "ci_high": s.get("ci_high", np.nan),
                         "trials": ", ".join(outcome_rows(part, outcome)["trial"].drop_duplicates())})
    return pd.DataFrame(rows, columns=["product", "outcome", "k", "estimate", "ci_low", "ci_high", "trials"]), trials


def _trial_names(studies: pd.DataFrame) -> pd.Series:
    """A cohort's trial by name, or, where the table names none (the 2020 rows), its
    product and registration."""
    return studies["trial"].where(studies["trial"] != studies["product"], studies["label"])


def new_cohorts(studies: pd.DataFrame, before: pd.DataFrame) -> pd.Series:
    """Which cohorts of ``studies`` the 2020 table lacks, or holds with other patients."""
    return ~studies["study_id"].isin(set(before["study_id"]) - set(paper.changed_cohorts(studies)))


def weight_shares(studies: pd.DataFrame, before: pd.DataFrame, outcomes: Sequence[str] = paper.OUTCOMES) -> pd.DataFrame:
    """Per outcome: the new cohorts' number, their share of the patients pooled and of
    the random-effects weight (percent)."""
    new_labels = set(studies.loc[new_cohorts(studies, before), "label"])
    rows = []
    for outcome in outcomes:
        fit, _ = try_pool(studies, outcome)
        if fit is None:
            continue
        table = fit.studies
        is_new = table["study"].isin(new_labels)
        rows.append({"outcome": outcome, "k": fit.k, "new_k": int(is_new.sum()),
                     "patients": float(100 * table.loc[is_new, "n"].sum() / table["n"].sum()),
                     "weight": float(table.loc[is_new, "weight"].sum())})
    return pd.DataFrame(rows, columns=["outcome", "k", "new_k", "patients", "weight"])


def cumulative_by_date(studies: pd.DataFrame, before: pd.DataFrame, outcomes: Sequence[str] = paper.OUTCOMES) -> pd.DataFrame:
    """metafor's cumulative meta-analysis of each outcome as evidence came in: the 2020
    table's cohorts first (as one step, "2020 table"), then each new cohort by its
    publication date (undated ones last, in table order). One row per outcome and step."""
    is_new = new_cohorts(studies, before)
    dated = studies.assign(_new=is_new.to_numpy(), _date=studies.get("publication_date", "").replace("", "9999"),
                           _order=np.arange(len(studies)))
    ordered = dated.sort_values(["_new", "_date", "_order"])
    frames = []
    for outcome in outcomes:
        rows = outcome_rows(ordered, outcome)
        if rows.empty:
            continue
        table = cumulative_proportions(rows["events"], rows["n"], labels=list(rows["trial"]))
        old = (~rows["_new"]).to_numpy()
        keep = np.ones(len(table), bool)
        if old.any():  # the 2020 cohorts enter as one step
            keep[: int(old.sum()) - 1] = False
        step = table[keep].assign(outcome=outcome, date=list(rows["publication_date"].where(rows["_new"], "2020")[keep]))
        step.loc[step.index[0], "added"] = KEPT_2020 if old.any() else step.loc[step.index[0], "added"]
        frames.append(step)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def icans_apart(studies: pd.DataFrame) -> str:
    """ICANS and neurotoxicity of any kind pooled apart, with the imputed zeros counted."""
    icans, _ = try_pool(studies, "icans")
    neuro, _ = try_pool(studies, "neurotox")
    imputed = int(studies.loc[studies["neurotox"].notna(), "neurotox_imputed"].sum())
    return words.icans_sentence(icans, neuro, imputed, int(studies["neurotox"].notna().sum()))


def phase_groups(studies: pd.DataFrame) -> pd.DataFrame:
    """The table with ``phase_group``: phase 1 against phase 2 or 3 (ND where the table
    gives no phase)."""
    return studies.assign(phase_group=studies.get("phase", pd.Series("", index=studies.index)).map(PHASE_GROUPS).fillna("ND"))


def late_harms(studies: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Each late harm: pooled where at least two cohorts report it, else the cohorts
    that do; one row per harm and the sentences."""
    rows, sentences = [], []
    for harm in LATE_HARMS:
        reported = outcome_rows(studies, harm)
        fit = try_pool(studies, harm)[0] if len(reported) >= 2 else None
        listed = [f"{r.events} of {r.n} in {t}" for r, t in zip(reported.itertuples(), _trial_names(reported))]
        sentences.append(words.late_harm_sentence(harm, fit, listed, reported["car_product"].nunique()))
        rows.append({
            "Harm": OUTCOME_LABELS[harm], "Cohorts": len(reported),
            "Pooled rate (95% CI)": estimate_text(100 * fit.estimate, 100 * fit.ci_low, 100 * fit.ci_high) if fit else "—",
            "Per cohort": "; ".join(listed) or "—",
            "Notes of the reports": "; ".join(n for n in reported.get("late_harm_notes", pd.Series(dtype=str)) if n) or "—",
        })
    return pd.DataFrame(rows), sentences


def phase_comparison(studies: pd.DataFrame, outcome: str):
    """The subgroup comparison of ``outcome`` by phase group (ND left out)."""
    return compare_subgroups(phase_groups(studies), outcome, "phase_group", exclude=["ND"])


@dataclass(frozen=True)
class UpdateQuestions:
    """The update chapter's answers to a haematologist: products (pooled per product,
    and each product's trials), the new cohorts' weight, the new cohorts alone beside
    the 2020 table and the update, the cumulative analysis, the late harms (table), the
    phase comparisons and the sentences."""

    products: pd.DataFrame
    product_trials: Mapping[str, list[str]]
    weights: pd.DataFrame
    new_alone: pd.DataFrame
    cumulative: pd.DataFrame
    harms: pd.DataFrame
    sentences: Mapping[str, str]


def product_names(studies: pd.DataFrame) -> dict[str, str]:
    """Each CAR-T product (``car_product``) with the other names its rows give it
    ("bb2121 (ide-cel)")."""
    names = {}
    for product, part in studies.groupby("car_product", sort=False):
        others = [p for p in dict.fromkeys(part["product"]) if p != product]
        names[product] = f"{product} ({', '.join(others)})" if others else product
    return names


def update_questions(before: pd.DataFrame, main: pd.DataFrame, every: pd.DataFrame) -> UpdateQuestions:
    """What the update chapter answers beyond the paper's questions, on the update's
    main analysis (``main``; ``every`` with all sources for the harms and ICANS, which
    few primary sources report)."""
    products, trials = product_results(main)
    names = product_names(main)
    products = products.assign(product=products["product"].map(names))
    trials = {names[p]: t for p, t in trials.items()}
    weights = weight_shares(main, before)
    new_only = main[new_cohorts(main, before).to_numpy()]
    alone = pooled_side_by_side({"2020 table": before, "new cohorts only": new_only, "update": main})
    harms, harm_sentences = late_harms(every)
    alone_sentences = []
    for outcome in paper.OUTCOMES:
        old, new = try_pool(before, outcome)[0], try_pool(new_only, outcome)[0] if len(new_only) else None
        alone_sentences.append(words.new_alone_sentence(outcome, old, new))
    phases = [phase_comparison(main, o).sentence for o in ("crs_any", "cr")]
    sentences = {
        "products": words.product_sentence(trials),
        "weights": " ".join([*(words.weight_share_sentence(r.outcome, r.new_k, r.k, r.patients, r.weight)
                               for r in weights.itertuples()), words.WEIGHTS_EXPLAINED]),
        "new_alone": " ".join(alone_sentences),
        "icans": icans_apart(every),
        "phases": " ".join(phases),
        "harms": " ".join(harm_sentences),
    }
    return UpdateQuestions(products, trials, weights, alone, cumulative_by_date(main, before), harms, sentences)


def products_table(products: pd.DataFrame) -> pd.DataFrame:
    """Per-product results for readers: one row per product and outcome with its trials."""
    shown = products[products["k"] > 0]
    return pd.DataFrame({
        "Product": shown["product"], "Outcome": shown["outcome"].map(OUTCOME_LABELS), "Cohorts": shown["k"],
        "Rate (95% CI), pooled from 2 or more": [estimate_text(e, lo, hi) for e, lo, hi in
                                                 zip(shown["estimate"], shown["ci_low"], shown["ci_high"])],
        "Trials": shown["trials"],
    })
