"""Risk of bias, certainty of evidence, small-study phrasing and the PRISMA 2020 checklist
(issue 21)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.inputs import TOOLS, UPDATE_DIR, InputError, load_randomized, load_reporting_checklist, load_risk_of_bias, load_studies
from analysis.review import paper
from analysis.review.quality import (CERTAINTY_LEVELS, overall_risk, quality_results, risk_of_bias, rob_sensitivity,
                                     summary_of_findings)
from analysis.review.reporting import ABSTRACT_ITEMS, MAIN_ITEMS, reporting_checklist
from analysis.text.methods import small_study_sentence, trim_fill_sentence
from conftest import ROOT

ROB = ROOT / "data" / "quality" / "risk_of_bias.csv"


def judgements() -> pd.DataFrame:
    return load_risk_of_bias()


def test_every_cohort_of_both_editions_and_every_randomized_trial_is_judged() -> None:
    j = judgements()
    before = load_studies(paper.STUDIES)
    every = load_studies(UPDATE_DIR / "studies.csv", sources="all")
    for table in (before, every):
        rob = risk_of_bias(table, before, j)
        assert rob.not_assessed == () and len(rob.table) == len(table)
        assert set(rob.table["overall"]) <= {"low", "unclear", "high"}
    trials = set(load_randomized()["registration"])
    assert trials <= set(j.loc[j["tool"] == "RoB 2", "study_id"])
    assert (j["basis"] != "").all() and (j["source"] != "").all()


def test_a_judgement_the_source_does_not_allow_is_unclear_and_says_why() -> None:
    j = judgements()
    unclear = j[j["judgement"] == "unclear"]
    assert len(unclear) > 0
    # an unclear 2020 item names what this project could read, never a guess
    old = unclear[unclear["edition"] == "2020"]
    assert old["basis"].str.contains("not retrieved|not reported").all()


@pytest.mark.parametrize("judged, expected", [
    (["low"] * 8, "low"), (["low"] * 7 + ["unclear"], "unclear"), (["low"] * 6 + ["unclear", "high"], "high"),
    (["unclear"] * 8, "unclear"),
])
def test_the_overall_risk_follows_the_stated_rule(judged: list[str], expected: str) -> None:
    assert overall_risk(judged) == expected


def _write(tmp_path: Path, rows: pd.DataFrame) -> Path:
    path = tmp_path / "rob.csv"
    rows.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d.assign(item=d["item"].where(d.index != 0, "luck")), "'luck' is not an item of MINORS"),
    (lambda d: d.assign(judgement=d["judgement"].where(d.index != 1, "fine")), "'fine' is not a MINORS judgement"),
    (lambda d: d.assign(basis=d["basis"].where(d.index != 2, "")), "a judgement needs its basis"),
    (lambda d: d.drop(index=3), "MINORS items missing for the 2020 edition: endpoints"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), "this item is judged twice"),
])
def test_the_risk_of_bias_file_is_refused_clearly(tmp_path: Path, change, message: str) -> None:
    rows = pd.read_csv(ROB, dtype=str, keep_default_na=False).head(8)
    with pytest.raises(InputError) as error:
        load_risk_of_bias(_write(tmp_path, change(rows)))
    text = str(error.value)
    assert message in text and "rob.csv" in text and rows["study_id"].iloc[0] in text


def test_a_cohort_without_judgements_is_a_note_and_stays_in_the_analyses() -> None:
    before = load_studies(paper.STUDIES)
    mine = before.copy()
    mine.loc[0, "study_id"] = "MY-OWN-1"
    rob = risk_of_bias(mine, before, judgements())
    assert rob.not_assessed == (mine.loc[0, "label"],)
    assert "No risk-of-bias judgement is stored for 1 cohort" in rob.sentences["rob_missing"]
    assert len(rob.table) == len(mine) - 1


def test_the_sensitivity_analysis_leaves_out_exactly_the_cohorts_at_high_risk() -> None:
    before = load_studies(paper.STUDIES)
    rob = risk_of_bias(before, before, judgements())
    high = set(rob.table.loc[rob.table["overall"] == "high", "study_id"])
    assert high  # the 2020 table has cohorts with more than 5% treated but not evaluated
    frame, sentence = rob_sensitivity(before, rob)
    ks = frame["Without cohorts at high risk"].str.extract(r"; (\d+) cohorts")[0].astype(int)
    every = frame["Every cohort"].str.extract(r"; (\d+) cohorts")[0].astype(int)
    assert (every - ks).between(1, len(high)).all()
    assert sentence.startswith(f"Leaving out the {len(high)} cohorts at high overall risk")


def test_the_summary_of_findings_covers_every_outcome_of_both_editions_and_follows_its_rules() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = quality_results()
    t = results.findings.table
    for edition in ("2020 table", "update"):
        assert set(t.loc[t["edition"] == edition, "outcome"]) >= set(paper.OUTCOMES)
    assert {"pfs", "os"} <= set(t.loc[t["edition"] == "update", "outcome"])
    down = {"not serious": 0, "undetected": 0, "not assessed": 0, "serious": 1, "suspected": 1, "very serious": 2}
    for row in t.itertuples():
        start = 0 if row.outcome in ("pfs", "os") else 2
        steps = sum(down[getattr(row, d)] for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
                                                  "publication_bias"))
        assert row.certainty == CERTAINTY_LEVELS[min(start + steps, 3)]
    # inconsistency from I² and the prediction interval, checked against the reasons
    for row in t[~t["outcome"].isin(["pfs", "os"])].itertuples():
        i2, width = (float(x) for x in re.findall(r"([\d.]+)", row.inconsistency_reason)[:2])
        expected = "very serious" if i2 >= 75 and width > 50 else "serious" if i2 >= 50 and width > 30 else "not serious"
        assert row.inconsistency == expected
    # overall survival of KarMMa-3 is read through its crossover
    os_row = t[(t["outcome"] == "os")].iloc[0]
    assert os_row["indirectness"] == "serious" and "crossover" in os_row["indirectness_reason"]
    assert results.findings.sentence.startswith("Certainty of the evidence — 2020 table:")


def test_imprecision_rises_with_the_width_of_the_interval() -> None:
    before = load_studies(paper.STUDIES)
    rob = risk_of_bias(before, before, judgements())
    few = before.head(3)
    small = summary_of_findings({"few": (few, risk_of_bias(few, before, judgements()))}).table
    large = summary_of_findings({"all": (before, rob)}).table
    order = ["not serious", "serious", "very serious"]
    assert (small["imprecision"].map(order.index).to_numpy() >= large["imprecision"].map(order.index).to_numpy()).all()


def test_size_and_trim_and_fill_sentences_follow_the_numbers() -> None:
    assert "larger cohorts report lower rates" in small_study_sentence(-0.4, 0.01, 0.3)
    assert "larger cohorts report higher rates" in small_study_sentence(0.4, 0.01, 0.3)
    assert "no trend with cohort size" in small_study_sentence(0.4, 0.2, 0.3)
    assert "does not find small-study effects" in small_study_sentence(0.4, 0.2, 0.3)
    assert "finds small-study effects" in small_study_sentence(0.1, 0.6, 0.01)
    assert trim_fill_sentence(0, "left", 0.5, 0.4, 0.6, 0.5).startswith("Trim-and-fill finds no cohorts missing")
    moved = trim_fill_sentence(2, "left", 0.4, 0.3, 0.5, 0.5)
    assert "2 cohorts below the pooled value" in moved and "lower than the 50.0%" in moved
    assert "above the pooled value" in trim_fill_sentence(1, "right", 0.6, 0.5, 0.7, 0.5)


def _anchors(page: str) -> set[str]:
    text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
    labels = set(re.findall(r"^\(([a-z0-9-]+)\)=$", text, flags=re.M))
    headings = {re.sub(r"[^a-z0-9]+", "-", h.lower()).strip("-") for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    return labels | headings


def test_every_prisma_2020_item_is_addressed_and_every_link_reaches_a_section() -> None:
    checklist = reporting_checklist()
    assert checklist.missing == ()
    t = checklist.table
    assert list(t.loc[t["checklist"] == "main", "item"]) == list(MAIN_ITEMS)
    assert list(t.loc[t["checklist"] == "abstract", "item"]) == list(ABSTRACT_ITEMS)
    pages = {line.split("book/")[1].strip() for line in (ROOT / "_toc.yml").read_text().splitlines() if "book/" in line}
    for row in t.itertuples():
        if row.status == "not applicable":
            assert row.note, row.item
            continue
        page, _, anchor = row.where.partition("#")
        page = page.removesuffix(".html")
        assert page in pages, (row.item, page)
        assert not anchor or anchor in _anchors(page), (row.item, row.where)
    html = checklist.html("main")
    assert html.count("<tr>") == len(MAIN_ITEMS) + 1 and '<a href="quality.html#quality">quality</a>' in html


def test_the_checklist_file_is_refused_clearly(tmp_path: Path) -> None:
    rows = pd.read_csv(ROOT / "data" / "reporting" / "prisma2020.csv", dtype=str, keep_default_na=False)
    rows.loc[0, "where"] = "javascript:alert(1)"
    rows.loc[1, "note"] = ""  # item 2 is only partly reported
    path = tmp_path / "prisma.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        load_reporting_checklist(path)
    text = str(error.value)
    assert "must be a page of the book and an anchor" in text and "needs its note" in text and "prisma.csv" in text


def test_every_tool_item_has_a_reader_label() -> None:
    from analysis.text.labels import ROB_ITEM_LABELS
    for items, _ in TOOLS.values():
        assert set(items) <= set(ROB_ITEM_LABELS)
    assert np.all([ROB_ITEM_LABELS[i] != i for i in ROB_ITEM_LABELS])


def test_the_rows_of_the_sensitivity_analysis_only_are_judged_and_shown() -> None:
    results = quality_results()
    every = load_studies(UPDATE_DIR / "studies.csv", sources="all")
    aside = every[~every["primary_source"]]
    assert len(results.aside.table) == len(aside) and results.aside.not_assessed == ()
    assert results.sentences["aside_rob"].startswith(f"The update's {len(aside)} rows from conference abstracts")
    shown = results.basis_table()
    assert set(aside["label"]) <= set(shown["Cohort"])
    # every randomized trial's RoB 2 domains, whichever table holds the trial's row
    assert (shown["Item"].str.endswith("(RoB 2)")).sum() == 2 * 5
