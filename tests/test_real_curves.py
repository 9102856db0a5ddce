"""Real digitized curves, as their digitizer saved them (issue 20): the locoregional-control
curves of Bonner et al. (N Engl J Med 2006;354:567-78), a ScanIt export with its header
V1,V2, survival in percent, a click before time 0 and repeated times, digitized by the
authors of the R package IPDfromKM. Fetched data may not enter the project, so the folder
lives in the steering repository's shared/curves/bonner2006 (its README says where it
came from); the reconstruction must give the published medians within 2%."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis.inputs import load_curves
from analysis.review.pfs import MEDIAN_TOLERANCE, median_check
from analysis.survival import reconstruct_arms
from conftest import ROOT, build_book

PLACES = [Path(os.environ["BCMA_SHARED"]) if "BCMA_SHARED" in os.environ else None, ROOT.parent / "shared",
          Path("/work/shared")]


def bonner() -> Path:
    for place in filter(None, PLACES):
        if (place / "curves" / "bonner2006" / "arms.csv").is_file():
            return place / "curves" / "bonner2006"
    pytest.fail("the real digitized curves are not on this machine: put the folder shared/curves/bonner2006 of the "
                "steering repository next to the project, or set BCMA_SHARED to the folder that holds curves/")


def test_a_digitizer_export_as_saved_reproduces_the_published_medians() -> None:
    folder = bonner()
    raw = pd.read_csv(folder / "curves" / "radio.csv")
    assert list(raw.columns) == ["V1", "V2"] and raw["V2"].max() > 1.5 and raw["V1"].min() < 0  # as saved
    curve_set = load_curves(folder, analysis.load_studies())
    steps = {arm: {s.step for s in done} for arm, done in curve_set.cleaning.items()}
    assert {"header", "percent", "negative_time", "merged"} <= steps["radio"]
    ipd, _ = reconstruct_arms(curve_set)
    checked, sentence = median_check(ipd, curve_set.arms)
    assert len(checked) == 2 and (checked["difference"].abs() <= MEDIAN_TOLERANCE).all(), checked
    assert sentence.startswith("All 2 arms with a published median reproduce it within 2%")


def test_make_book_pfs_on_the_real_folder_reports_the_medians(tmp_path: Path) -> None:
    build = build_book(tmp_path / "_build", curves=bonner(), only=["pfs"], render=False)
    notebook = json.loads((build / "executed" / "book" / "pfs.ipynb").read_text())
    glued = {o["metadata"]["scrapbook"]["name"]: o["data"]["application/papermill.record/text/plain"]
             for cell in notebook["cells"] for o in cell.get("outputs", []) if o.get("metadata", {}).get("scrapbook")}
    assert "reproduce it within 2%" in glued["pfs_median_check"]
