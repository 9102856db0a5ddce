"""The book builds on tables other than the paper's: the update, the pivotal trials only,
a single study, and CJK product names; a missing input stops `make book` by name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import analysis
from conftest import ROOT, build_book

UPDATE = ROOT / "data" / "update" / "studies.csv"
PIVOTAL = ["NCT03361748", "NCT03651128", "NCT03548207", "NCT04181827", "NCT03758417", "NCT03090659-2"]


def glued(executed: Path, chapter: str) -> dict[str, str]:
    notebook = json.loads((executed / "executed" / "book" / f"{chapter}.ipynb").read_text())
    return {o["metadata"]["scrapbook"]["name"]: o["data"]["application/papermill.record/text/plain"]
            for cell in notebook["cells"] for o in cell.get("outputs", []) if o.get("metadata", {}).get("scrapbook")}


def tables(tmp_path: Path) -> dict[str, Path]:
    update = pd.read_csv(UPDATE, dtype=str, keep_default_na=False)
    paper = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False)
    cjk = paper.copy()
    cjk.loc[0, "product"], cjk.loc[11, "product"] = "伊基奥仑赛", "赛恺泽"
    made = {"pivotal": update[update["study_id"].isin(PIVOTAL)], "one": paper.iloc[[1]], "cjk": cjk.drop(columns=["dose"])}
    paths = {}
    for name, table in made.items():
        paths[name] = tmp_path / f"{name}.csv"
        table.to_csv(paths[name], index=False)
    return paths


@pytest.mark.parametrize("name", ["pivotal", "one", "cjk"])
def test_every_chapter_builds_and_states_the_right_pooled_rate(tmp_path: Path, name: str) -> None:
    data = tables(tmp_path)[name]
    build = build_book(tmp_path / "_build", data=data, render=False)
    crs = analysis.pool_outcome(analysis.load_studies(data), "crs_any").summary()
    sentence = glued(build, "toxicity")["tox_crs_sentence"]
    assert f"{crs['estimate']:.1f}%" in sentence and f"{crs['ci_low']:.1f}–{crs['ci_high']:.1f}%" in sentence
    assert "not the paper" in glued(build, "reproduction")["rep_sentence"]
    assert data.name in glued(build, "intro")["provenance"]


def test_make_book_names_a_missing_input() -> None:
    result = subprocess.run(["make", "book", "DATA=/no/such/file.csv"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0 and "/no/such/file.csv" in result.stderr


def test_the_update_builds_with_its_main_and_sensitivity_analyses(tmp_path: Path) -> None:
    build = build_book(tmp_path / "_build", data=UPDATE, covariates=UPDATE.parent / "covariates.csv", render=False)
    main = analysis.load_studies(UPDATE)
    crs = analysis.pool_outcome(main, "crs_any").summary()
    assert f"{crs['estimate']:.1f}%" in glued(build, "toxicity")["tox_crs_sentence"]  # the main analysis: primary sources
    assert "from primary sources" in glued(build, "sensitivity")["sens_sources"]  # beside it, all sources
    assert "read only in the sensitivity analysis" in glued(build, "intro")["provenance"]
    assert glued(build, "intro")["currency"].strip("'").startswith("Evidence current to")
