"""Kaplan-Meier medians, marginal Cox, Guyot reconstruction, curve files, CRB-401 stats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_lung

import analysis
from analysis.inputs import load_curves
from analysis.survival import reconstruct_arms
from analysis.inputs import InputError, StudyDataError
from analysis.survival import clean_curve, digitize_km, reconstruct_ipd, round_trip
from analysis.meta.single_arm import exact_rates, trend_test
from analysis.survival import km_median, marginal_cox

REF = pd.read_csv(Path(__file__).parent / "fixtures" / "survival_reference.csv")
LUNG = load_lung()  # R's survival::lung with status recoded 0/1
SAMPLES = {
    "lung_all": LUNG,
    "lung_male": LUNG[LUNG["sex"] == 1],
    "lung_female": LUNG[LUNG["sex"] == 2],
    "flat_half": pd.DataFrame({"time": [1, 2, 3, 4], "status": [1, 1, 0, 1]}),
    "flat_half_tied": pd.DataFrame({"time": [2, 2, 5, 7, 7, 9], "status": [1, 1, 1, 0, 0, 1]}),
}


def ref(case: str, statistic: str) -> float:
    return float(REF[(REF["case"] == case) & (REF["statistic"] == statistic)]["value"].iloc[0])


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("case", list(SAMPLES))
def test_km_median_equals_r_survfit(case: str, conf_type: str) -> None:
    d = SAMPLES[case]
    got = km_median(d["time"], d["status"], conf_type)
    expected = [ref(case, f"{conf_type}_{s}") for s in ("median", "lower", "upper")]
    np.testing.assert_array_equal(np.array(got), np.array(expected))  # exactly, NaN = R's NA


def test_km_differs_from_lifelines_where_documented() -> None:
    from lifelines import KaplanMeierFitter

    d = SAMPLES["flat_half"]
    assert KaplanMeierFitter().fit(d["time"], d["status"]).median_survival_time_ == 2.0
    assert km_median(d["time"], d["status"]).median == 3.0  # R's midpoint of the flat stretch


def test_marginal_cox_equals_r_coxph_cluster() -> None:
    data = LUNG.dropna(subset=["inst"])
    fit = marginal_cox(data, "time", "status", ["sex", "age"], cluster_col="inst")
    assert (fit.n, fit.events) == (ref("cox_lung", "n"), ref("cox_lung", "events"))
    for term in ["sex", "age"]:
        row = fit.table.loc[term]
        for ours, theirs in [("hr", "hr"), ("se", "robust_se"), ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
            assert row[ours] == pytest.approx(ref("cox_lung", f"{term}_{theirs}"), rel=1e-3), (term, ours)
        assert row["p"] == pytest.approx(ref("cox_lung", f"{term}_p"), rel=1e-2)
    naive = marginal_cox(data, "time", "status", ["sex", "age"])
    assert naive.table.loc["sex", "se"] == pytest.approx(ref("cox_lung", "sex_naive_se"), rel=1e-3)
    assert not naive.clustered and fit.clustered


def test_survival_input_errors() -> None:
    with pytest.raises(ValueError, match="observation 1: event must be 0"):
        km_median([1, 2], [1, 2])
    with pytest.raises(ValueError, match="observation 0: time must be"):
        km_median([-1, 2], [1, 1])
    with pytest.raises(ValueError, match="conf_type"):
        km_median([1, 2], [1, 1], conf_type="logit")
    with pytest.raises(ValueError, match="columns not in the data"):
        marginal_cox(LUNG, "time", "status", ["weight"])
    with pytest.raises(ValueError, match="missing values"):
        marginal_cox(LUNG, "time", "status", ["sex"], cluster_col="inst")


# --- reconstruction ----------------------------------------------------------------------


def test_round_trip_recovers_n_events_median_and_hr() -> None:
    table, rebuilt = round_trip(LUNG, "time", "status", "sex", risk_every=100.0)
    assert (table["rebuilt patients"] == table["patients"]).all()
    assert (table["rebuilt events"] == table["events"]).all()
    assert np.allclose(table["rebuilt median"], table["median"], rtol=0.03)
    assert (table["max |dS|"] < 0.02).all()
    hr = marginal_cox(LUNG, "time", "status", ["sex"]).table.loc["sex", "hr"]
    assert marginal_cox(rebuilt, "time", "event", ["sex"]).table.loc["sex", "hr"] == pytest.approx(hr, abs=0.03)


def test_round_trip_from_a_coarse_digitization() -> None:
    # Guyot's algorithm tunes censoring only after the last risk-table time, so a coarse
    # reading can miss a few events; n is still exact and median and HR stay close.
    table, rebuilt = round_trip(LUNG, "time", "status", "sex", risk_every=100.0, every=10.0)
    assert (table["rebuilt patients"] == table["patients"]).all()
    assert ((table["rebuilt events"] - table["events"]).abs() <= 2).all()
    assert np.allclose(table["rebuilt median"], table["median"], rtol=0.03)
    hr = marginal_cox(LUNG, "time", "status", ["sex"]).table.loc["sex", "hr"]
    assert marginal_cox(rebuilt, "time", "event", ["sex"]).table.loc["sex", "hr"] == pytest.approx(hr, abs=0.03)


def test_cleaning_is_reported_step_by_step_with_its_sizes() -> None:
    t, s, report = clean_curve([5, 1, 1, 3, 8], [0.8, 0.95, 0.9, 0.91, 0.5])
    assert list(t) == [0, 1, 3, 5, 8]
    assert list(s) == [1.0, 0.9, 0.9, 0.8, 0.5]
    steps = {step.step: step for step in report}
    assert set(steps) == {"sorted", "merged", "flattened", "anchored"}
    assert steps["merged"].count == 1 and steps["merged"].largest == pytest.approx(0.05)  # 0.95 and 0.9 at time 1
    assert steps["flattened"].count == 1 and steps["flattened"].largest == pytest.approx(0.01)


def test_repeated_times_do_not_depend_on_row_order() -> None:
    rows = [(0, 1.0), (2, 0.9), (2, 0.7), (4, 0.7), (4, 0.5), (6, 0.5)]
    forward = clean_curve(*zip(*rows))
    backward = clean_curve(*zip(*rows[::-1]))
    assert np.array_equal(forward[0], backward[0]) and np.array_equal(forward[1], backward[1])
    assert list(forward[1]) == [1.0, 0.7, 0.5, 0.5]  # the value after each step


def test_a_rise_beyond_the_tolerance_is_refused_with_its_time_and_size() -> None:
    from analysis.survival import CurveError

    with pytest.raises(CurveError, match=r"rises by 0\.070 at time 3 .*click off the curve") as caught:
        clean_curve([0, 1, 3, 5], [1.0, 0.8, 0.87, 0.6])
    assert caught.value.time == 3 and caught.value.size == pytest.approx(0.07)
    assert clean_curve([0, 1, 3, 5], [1.0, 0.8, 0.87, 0.6], tolerance=0.1)[1][2] == 0.8


def test_survival_outside_0_1_is_clipped_only_within_the_tolerance() -> None:
    from analysis.survival import CurveError

    t, s, steps = clean_curve([0, 1, 3], [1.01, 0.5, -0.01])
    assert list(s) == [1.0, 0.5, 0.0] and ("clipped", 2) in [(step.step, step.count) for step in steps]
    with pytest.raises(CurveError, match=r"survival 1\.3 at time 0 is outside 0–1"):
        clean_curve([0, 1, 3], [1.3, 0.5, 0.2])


def test_censorings_never_exceed_the_patients_left() -> None:
    """Heavy early censoring carried into the last interval, where only 9 patients are
    left and the curve still falls: the censorings there are capped at the patients
    left after the events (this failed before: "more events and censorings than
    patients at risk")."""
    time = list(np.arange(0, 31, 1.0))
    survival = list(np.r_[np.linspace(1, 0.8, 11), np.linspace(0.78, 0.6, 10), np.linspace(0.57, 0.3, 10)])
    result = reconstruct_ipd(time, survival, [0, 10, 20], [100, 40, 9])
    late = result.ipd[result.ipd["time"] > 20]
    assert result.n == 100 and len(late) <= 9 and late["event"].sum() >= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"risk_times": [1, 5]}, "start at 0"),
        ({"n_risk": [10, 12]}, "never increase"),
        ({"risk_times": [0, 50]}, "past the digitized curve"),
        ({"total_events": 11}, "total_events"),
        ({"survival": [1, 90, 80, 70]}, "divide percentages"),
    ],
)
def test_reconstruction_input_errors(kwargs: dict, message: str) -> None:
    args = {"time": [0, 2, 4, 6], "survival": [1, 0.9, 0.8, 0.7], "risk_times": [0, 4], "n_risk": [10, 7], "total_events": None}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        reconstruct_ipd(**args)


# --- curve folders -----------------------------------------------------------------------


def write_folder(folder: Path, arms: pd.DataFrame, risk: pd.DataFrame, curves: dict[str, pd.DataFrame]) -> Path:
    (folder / "curves").mkdir(parents=True, exist_ok=True)
    arms.to_csv(folder / "arms.csv", index=False)
    risk.to_csv(folder / "risk.csv", index=False)
    for arm, curve in curves.items():
        curve.to_csv(folder / "curves" / f"{arm}.csv", index=False)
    return folder


def lung_folder(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame, dict]:
    rows, risk, curves = [], [], {}
    for sex, arm in ((1, "male"), (2, "female")):
        d = LUNG[LUNG["sex"] == sex]
        t, s = digitize_km(d["time"] / 30.4, d["status"])
        curves[arm] = pd.DataFrame({"time": t, "survival": s})
        for rt in np.arange(0, d["time"].max() / 30.4, 3.0):
            risk.append({"arm_id": arm, "time": rt, "n_risk": int((d["time"] / 30.4 >= rt).sum())})
        rows.append({
            "arm_id": arm, "study_id": "lung", "arm_label": arm, "kind": "illustrative", "source": "survival::lung",
            "dose_activity": "ND", "origin": "ND", "loading": "ND", "costim": "ND", "total_events": int(d["status"].sum()),
        })
    arms, risk = pd.DataFrame(rows), pd.DataFrame(risk)
    return write_folder(tmp_path / "pfs", arms, risk, curves), arms, risk, curves


def test_curve_folder_loads_and_reconstructs(tmp_path: Path) -> None:
    folder, *_ = lung_folder(tmp_path)
    ipd, reports = reconstruct_arms(load_curves(folder))
    assert set(ipd["arm_id"]) == {"male", "female"} and set(ipd["kind"]) == {"illustrative"}
    assert reports["male"].n == 138 and reports["female"].events == 53


def test_shipped_curve_folder_is_empty_and_valid() -> None:
    curve_set = load_curves()
    assert curve_set.arms.empty
    ipd, reports = reconstruct_arms(curve_set)
    assert ipd.empty and reports == {}


@pytest.mark.parametrize(
    ("edit", "arm", "column", "message"),
    [
        (lambda a, r, c: (a.assign(kind=["digitised", "illustrative"]), r, c), "male", "kind", "not one of"),
        (lambda a, r, c: (a.assign(loading=["adenoviral", "ND"]), r, c), "male", "loading", "not one of"),
        (lambda a, r, c: (a, r.assign(n_risk=np.where((r.arm_id == "female") & (r.time == 3.0), 999, r.n_risk)), c), "female", "n_risk", "increases"),
        (lambda a, r, c: (a, r[~((r.arm_id == "male") & (r.time == 0))], c), "male", "time", "start at time 0"),
        (lambda a, r, c: (a, r, {**c, "male": c["male"].assign(survival=c["male"].survival.where(c["male"].index != 5, 0.3))}),
         "male", "survival", "rises by"),
        (lambda a, r, c: (a, r, {**c, "male": c["male"].assign(time=c["male"].time.where(c["male"].index != 3, -500.0))}),
         "male", "time", "before 0"),
        (lambda a, r, c: (a, r, {k: v for k, v in c.items() if k != "female"}), "female", "(file)", "missing"),
        (lambda a, r, c: (pd.concat([a, a.iloc[[0]]]), r, c), "male", "arm_id", "duplicate"),
    ],
)
def test_curve_folder_errors_name_arm_and_column(tmp_path: Path, edit, arm: str, column: str, message: str) -> None:
    _, arms, risk, curves = lung_folder(tmp_path)
    bad = write_folder(tmp_path / "bad", *edit(arms, risk, curves))
    with pytest.raises(InputError, match=f"in the curve folder(.|\n)*arm '{arm}'") as info:
        load_curves(bad)
    assert not isinstance(info.value, StudyDataError)  # a curve folder is not the study table
    assert any(p.study == arm and p.column == column and message in p.message for p in info.value.problems), info.value


# --- CRB-401 -----------------------------------------------------------------------------


def test_trend_test_equals_r_prop_trend_test() -> None:
    responders, treated = [1, 6, 18, 3], [3, 8, 19, 3]
    for name, scores in [("dose", [50, 150, 450, 800]), ("rank", [1, 2, 3, 4]), ("log_dose", np.log([50, 150, 450, 800]))]:
        result = trend_test(responders, treated, scores)
        assert result.statistic == pytest.approx(ref("trend_crb401", f"{name}_statistic"), rel=1e-10)
        assert result.p == pytest.approx(ref("trend_crb401", f"{name}_p"), rel=1e-8)
    with pytest.raises(ValueError, match="scores must differ"):
        trend_test([1, 2], [3, 3], [1, 1])


def test_crb401_table3_rates_to_published_precision() -> None:
    from analysis.inputs import load_dose_table
    from analysis.meta.single_arm import response_by_dose

    published = analysis.load_published()
    rows = published[published["outcome"] == "crb401_orr"].set_index("key")
    rates = response_by_dose(load_dose_table()).set_index("dose_group")
    assert list(rates.index) == ["50", "150", "450 <50% BCMA", "450 >=50% BCMA", "800", "150-800", "50-800"]
    assert rates.loc["150-800", ["events", "n"]].tolist() == [27, 30]
    differing = []
    for group, row in rates.iterrows():
        for statistic, column in [("estimate", "rate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
            printed = rows.loc[f"crb401_orr:dose:{group}:{statistic}", "number"]
            if round(row[column]) != printed:
                differing.append((group, statistic, round(row[column], 2), printed))
    # The one the paper rounds differently: the exact lower limit for 27/30 is 73.47.
    assert differing == [("150-800", "ci_low", 73.47, 74.0)]
    assert exact_rates([28], [33]).round(1).iloc[0][["rate", "ci_low", "ci_high"]].tolist() == [84.8, 68.1, 94.9]


def test_crb401_tables_load_and_are_checked(tmp_path: Path) -> None:
    from analysis.inputs import load_adverse_events, load_dose_table
    from analysis.meta.single_arm import adverse_event_rates

    doses = load_dose_table()
    assert doses["n"].sum() == 33 and doses["responders"].sum() == 28
    events = adverse_event_rates(load_adverse_events(), 33).set_index("event")
    assert events.loc["Cytokine release syndrome", "any_rate"] == pytest.approx(100 * 25 / 33)
    bad = doses.copy()
    bad.loc[1, "sd"] = 3
    bad.to_csv(tmp_path / "doses.csv", index=False)
    with pytest.raises(InputError, match="dose table(.|\n)*dose group '150', column 'n'"):
        load_dose_table(tmp_path / "doses.csv")
    bad = bad.astype({"sd": object})
    bad.loc[1, "sd"] = "one"
    bad.to_csv(tmp_path / "doses.csv", index=False)
    with pytest.raises(InputError, match="column 'sd'"):
        load_dose_table(tmp_path / "doses.csv")


def test_compare_groups_clusters_by_study(tmp_path: Path) -> None:
    from analysis.survival import compare_groups

    folder, *_ = lung_folder(tmp_path)
    ipd, _ = reconstruct_arms(load_curves(folder))
    ipd["study_id"] = np.where(np.arange(len(ipd)) % 2 == 0, "a", "b")
    medians, cox = compare_groups(ipd, "arm_id", ["male", "female"])
    assert list(medians["arm_id"]) == ["male", "female"] and cox.clustered
    assert cox.table.index.tolist() == ["arm_id[female]"]
    assert 0.4 < cox.table["hr"].iloc[0] < 0.8
    with pytest.raises(ValueError, match="at least two"):
        compare_groups(ipd, "arm_id", ["male", "nobody"])


def test_pfs_chapter_runs_a_comparison_on_digitized_curves_with_readable_tables(tmp_path: Path) -> None:
    """The PFS chapter's comparison path, which the shipped (empty) folder never takes:
    two arms marked digitized and assigned to the two vectors."""
    import json

    from conftest import ROOT, script

    run_chapter = script("run_chapter")
    folder, arms, risk, curves = lung_folder(tmp_path)
    arms = arms.assign(kind="digitized", study_id=["NCT02658929", "NCT02215967-1"], loading=["lentiviral", "retroviral"])
    write_folder(folder, arms, risk, curves)
    executed = run_chapter.run("pfs", ROOT / "data" / "studies.csv", ROOT / "data" / "published.csv",
                               tmp_path / "_build", curves=folder)
    notebook = json.loads(executed.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in notebook["cells"] for o in c.get("outputs", []))
    assert "Hazard ratio" in html and "Median (months)" in html and "against retroviral vector" in html
    for code_name in (">coef<", ">hr<", ">se<", ">median<", ">loading<"):
        assert code_name not in html
    glued = {o["metadata"]["scrapbook"]["name"]: o["data"]["application/papermill.record/text/plain"]
             for c in notebook["cells"] for o in c.get("outputs", []) if o.get("metadata", {}).get("scrapbook")}
    assert "1 of the paper's 4 comparisons could be run" in glued["pfs_comparisons_run"]


def test_a_digitizer_export_as_saved_is_read_and_every_fix_reported(tmp_path: Path) -> None:
    """The curve as a digitizer saves it: no header, survival in percent, the first
    click a little before 0, the rows out of order and each step clicked twice, and a
    risk table that runs past the last click. Read as saved, it gives what the clean
    curve gives, and every fix is reported with its size."""
    folder, arms, risk, curves = lung_folder(tmp_path)
    clean_ipd, clean_reports = reconstruct_arms(load_curves(folder))
    raw = curves["male"].copy()
    raw.loc[0, "time"] = -0.05
    raw = pd.concat([raw, raw.iloc[[10, 20]]]).sample(frac=1, random_state=3)  # shuffled, two clicks repeated
    raw["survival"] = 100 * raw["survival"]
    messy = tmp_path / "messy"
    write_folder(messy, arms, pd.concat([risk, pd.DataFrame([{"arm_id": "male", "time": 60.0, "n_risk": 0}])]), curves)
    raw.to_csv(messy / "curves" / "male.csv", index=False, header=False)
    curve_set = load_curves(messy)
    steps = {step.step: step for step in curve_set.cleaning["male"]}
    assert {"percent", "negative_time", "sorted", "merged", "risk_after_curve"} <= set(steps)
    assert "header" not in steps and steps["negative_time"].largest == pytest.approx(0.05)
    ipd, reports = reconstruct_arms(curve_set)
    male, clean_male = ipd[ipd["arm_id"] == "male"], clean_ipd[clean_ipd["arm_id"] == "male"]
    assert reports["male"].n == clean_reports["male"].n and reports["male"].events == clean_reports["male"].events
    assert km_median(male["time"], male["event"]).median == pytest.approx(km_median(clean_male["time"], clean_male["event"]).median)
    # With a header row (as WebPlotDigitizer's "x,y" export) the same curve reads the same.
    raw.to_csv(messy / "curves" / "male.csv", index=False, header=["x", "y"])
    again = load_curves(messy)
    assert "header" in {step.step for step in again.cleaning["male"]}
    assert again.curves["male"].equals(curve_set.curves["male"])


def test_arm_ids_stay_text_and_an_arm_of_an_unknown_study_gets_a_note(tmp_path: Path) -> None:
    _, arms, risk, curves = lung_folder(tmp_path)
    arms = arms.assign(arm_id=["01", "02"], study_id=["lung", "elsewhere"])
    risk = risk.assign(arm_id=risk["arm_id"].map({"male": "01", "female": "02"}))
    folder = write_folder(tmp_path / "ids", arms, risk, {"01": curves["male"], "02": curves["female"]})
    studies = pd.DataFrame({"study_id": ["lung"]})
    curve_set = load_curves(folder, studies)
    assert sorted(curve_set.curves) == ["01", "02"]
    assert len(curve_set.notes) == 1 and "02" in curve_set.notes[0] and "01" not in curve_set.notes[0]
