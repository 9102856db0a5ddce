"""Leave-one-out, influence, Baujat, regression tests, GOSH and meta-regression
against metafor (tests/fixtures/metafor_diagnostics.csv from make_fixtures.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import (egger_test, gosh, influence, leave_one_out, meta_regression, peters_test, pool_proportions,
                      rank_correlation_test, trim_and_fill)

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIXTURES / "proportion_inputs.csv", keep_default_na=False)
REF = pd.read_csv(FIXTURES / "metafor_diagnostics.csv")
RTOL = 1e-6
CASES = ["crs_any", "neurotox", "cr", "extreme_heterogeneity", "k3_zero"]
OPTIONS = ["logit|DL|z", "logit|REML|hksj", "freeman-tukey|PM|z"]


def data(case: str) -> pd.DataFrame:
    return INPUTS[INPUTS["case"] == case]


def kwargs(option: str) -> dict:
    transform, tau2, ci = option.split("|")
    return {"transform": transform, "tau2": tau2, "ci": ci}


def ref(case: str, option: str, statistic: str) -> np.ndarray:
    rows = REF[(REF["case"] == case) & (REF["option"] == option) & (REF["statistic"] == statistic)]
    assert not rows.empty, (case, option, statistic)
    return rows.sort_values("index", na_position="first")["value"].astype(float).to_numpy()


def close(actual, expected, what: str, rtol: float = RTOL, atol: float = 1e-10) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_leave_one_out_matches_metafor(case: str, option: str) -> None:
    d = data(case)
    table = leave_one_out(d["events"], d["n"], **kwargs(option))
    assert len(table) == len(d)
    for ours, theirs in [("mu", "estimate"), ("se", "se"), ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2"), ("q", "Q"), ("q_p", "Qp")]:
        close(table[ours], ref(case, option, f"l1o_{theirs}"), f"{case}/{option}/{ours}")
    transform = kwargs(option)["transform"]
    if transform == "logit":  # metafor's leave1out reports the logit scale
        close(np.log(table["ci_low"] / (1 - table["ci_low"])), ref(case, option, "l1o_ci.lb"), "ci_low")


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_influence_matches_metafor(case: str, option: str) -> None:
    d = data(case)
    table = influence(d["events"], d["n"], **kwargs(option))
    pairs = [
        ("rstudent", "inf_rstudent"), ("dffits", "inf_dffits"), ("cook_d", "inf_cook.d"), ("cov_r", "inf_cov.r"),
        ("tau2_del", "inf_tau2.del"), ("q_del", "inf_QE.del"), ("hat", "inf_hat"), ("weight", "inf_weight"),
        ("dfbeta", "inf_dfbs"), ("baujat_x", "baujat_x"), ("baujat_y", "baujat_y"),
    ]
    for ours, theirs in pairs:
        close(table[ours], ref(case, option, theirs), f"{case}/{option}/{ours}")
    assert (table["influential"].to_numpy() == ref(case, option, "inf_is_infl").astype(bool)).all()


@pytest.mark.parametrize("predictor", ["sei", "ninv"])
@pytest.mark.parametrize("model", ["rma", "lm"])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_egger_matches_regtest(case: str, option: str, model: str, predictor: str) -> None:
    d = data(case)
    tag = f"regtest_{model}_{predictor}"
    result = egger_test(d["events"], d["n"], model=model, predictor=predictor, **kwargs(option))
    close(result.statistic, ref(case, option, f"{tag}_stat"), "statistic")
    close(result.p, ref(case, option, f"{tag}_p"), "p")
    assert result.df == ref(case, option, f"{tag}_df")[0]
    close(result.limit_mu, ref(case, option, f"{tag}_est"), "limit")
    close(result.limit_ci_low, ref(case, option, f"{tag}_ci_low"), "limit ci_low")
    close(result.limit_ci_high, ref(case, option, f"{tag}_ci_high"), "limit ci_high")


@pytest.mark.parametrize("option", OPTIONS[:2])
@pytest.mark.parametrize("case", ["extreme_heterogeneity", "crs_any_first8"])
def test_gosh_all_subsets_match_metafor(case: str, option: str) -> None:
    d = data("crs_any").head(8) if case == "crs_any_first8" else data(case)
    result = gosh(d["events"], d["n"], **kwargs(option))
    k = len(d)
    assert result.exact and len(result.table) == 2**k - 1
    codes = result.included.astype(np.int64) @ (2 ** np.arange(k))
    ours = result.table.assign(code=codes).set_index("code").sort_index()
    theirs = pd.DataFrame(
        {name: ref(case, option, f"gosh_{name}") for name in ["code", "estimate", "I2", "tau2", "QE"]}
    ).set_index("code").sort_index()
    assert (ours.index == theirs.index.astype(np.int64)).all()
    close(ours["mu"], theirs["estimate"], "mu")
    close(ours["i2"], theirs["I2"], "i2")
    close(ours["tau2"], theirs["tau2"], "tau2")
    close(ours["q"], theirs["QE"], "q")
    assert (ours["k"].to_numpy() == np.array([bin(c).count("1") for c in ours.index])).all()


def test_random_gosh_is_seeded_and_samples_like_metafor() -> None:
    d = data("crs_any")
    first = gosh(d["events"], d["n"], subsets=20_000, seed=7)
    again = gosh(d["events"], d["n"], subsets=20_000, seed=7)
    other = gosh(d["events"], d["n"], subsets=20_000, seed=8)
    assert not first.exact and first.included.any(axis=1).all()
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table.equals(other.table)
    # subset size ~ Binomial(27, 1/2): mean 13.5, sd ~ 2.6
    assert first.table["k"].mean() == pytest.approx(13.5, abs=0.1)
    # every subset's result equals pooling that subset directly
    row = 123
    members = first.included[row]
    direct = pool_proportions(d["events"][members], d["n"][members])
    assert first.table.loc[row, "estimate"] == pytest.approx(direct.estimate, rel=1e-12)


@pytest.mark.parametrize("option", ["logit|DL|z", "logit|REML|hksj", "logit|PM|z"])
@pytest.mark.parametrize("case", ["cr_origin", "cr_origin_murine", "crs_logn"])
def test_meta_regression_matches_metafor(case: str, option: str) -> None:
    reference = None
    if case.startswith("cr_origin"):
        d = data("sub_origin_cr")
        moderators = {"origin": d["group"].to_numpy()}
        reference = {"origin": "murine"} if case == "cr_origin_murine" else None
    else:
        d = data("crs_any")
        moderators = {"log_n": np.log(d["n"].to_numpy())}
    fit = meta_regression(d["events"], d["n"], moderators, reference=reference, **kwargs(option))
    c = fit.coefficients
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("statistic", "stat"), ("p", "p"), ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
        close(c[ours], ref(case, option, f"coef_{theirs}"), f"{case}/{option}/{ours}")
    for ours, theirs in [("tau2", "tau2"), ("i2", "I2"), ("h2", "H2"), ("r2", "R2"), ("qe", "QE"), ("qe_p", "QEp"), ("qm", "QM"), ("qm_p", "QMp")]:
        close(getattr(fit, ours), ref(case, option, theirs), f"{case}/{option}/{ours}")
    if case == "cr_origin":
        assert list(c.index) == ["intercept", "origin[human]", "origin[murine]"]  # R's reference level
    if case == "cr_origin_murine":
        assert list(c.index) == ["intercept", "origin[camelid]", "origin[human]"]  # relevel(ref = "murine")


def test_meta_regression_rejects_bad_moderators() -> None:
    d = data("crs_any")
    with pytest.raises(ValueError, match="missing"):
        meta_regression(d["events"], d["n"], {"x": np.where(np.arange(len(d)) == 2, np.nan, 1.0)})
    with pytest.raises(ValueError, match="single level"):
        meta_regression(d["events"], d["n"], {"x": ["a"] * len(d)})
    with pytest.raises(ValueError, match="collinear"):
        meta_regression(d["events"], d["n"], {"a": np.arange(len(d)), "b": 2.0 * np.arange(len(d))})
    with pytest.raises(ValueError, match="moderator rows"):
        meta_regression(d["events"], d["n"], {"x": [1.0, 2.0]})
    groups = {"g": np.where(np.arange(len(d)) % 2 == 0, "a", "b")}
    with pytest.raises(ValueError, match="reference level 'c' of 'g' is not one of its levels"):
        meta_regression(d["events"], d["n"], groups, reference={"g": "c"})
    with pytest.raises(ValueError, match="not moderators"):
        meta_regression(d["events"], d["n"], groups, reference={"h": "a"})
    with pytest.raises(ValueError, match="numeric"):
        meta_regression(d["events"], d["n"], {"x": np.arange(len(d), dtype=float)}, reference={"x": 1.0})


def test_diagnostics_need_enough_studies() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        leave_one_out([1, 2], [10, 10])
    with pytest.raises(ValueError, match="at least 3"):
        egger_test([1, 2], [10, 10])
    with pytest.raises(ValueError, match="model="):
        egger_test([1, 2, 3], [10, 10, 10], model="glm")
    with pytest.raises(ValueError, match="subsets"):
        gosh([1, 2, 3], [10, 10, 10], subsets=0)


def test_diagnostics_terminate_and_give_nan_where_a_subset_fit_fails() -> None:
    """Leave-one-out, influence and GOSH fit the subsets with the same engine, which stops;
    a subset whose estimator fails gets NaN (metafor's NA), not an error for all."""
    events, n = [6, 321509, 3, 0], [6, 321509, 10, 200000]
    with pytest.warns(UserWarning, match="Ratio of largest"):  # the full-data fit warns, as metafor's rma
        table = leave_one_out(events, n, transform="log", tau2="REML")
    assert len(table) == 4 and np.isfinite(table["tau2"]).all()
    assert np.isfinite(gosh(events, n, transform="log", tau2="REML").table["estimate"]).all()
    # REML converges on all 25 studies but not without study 1, 9, 10, 15 or 25: metafor's
    # leave1out() gives NA for exactly those.
    events = [0, 4, 2, 95, 4, 2, 0, 1, 0, 0, 4, 3, 1, 7, 4, 1, 1, 0, 0, 4, 4, 4, 5, 6, 0]
    n = [43, 58, 20, 2000, 29, 45, 14, 13, 46, 45, 22, 40, 16, 59, 19, 6, 20, 6, 22, 40, 39, 28, 38, 48, 60]
    failed = [1, 9, 10, 15, 25]
    table = leave_one_out(events, n, tau2="REML")
    assert list(table.index[table["tau2"].isna()] + 1) == failed
    assert table.drop(index=[i - 1 for i in failed]).notna().all().all()
    diagnostics = influence(events, n, tau2="REML")
    assert list(diagnostics.index[diagnostics["tau2_del"].isna()] + 1) == failed


@pytest.mark.parametrize("side", ["auto", "left", "right"])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_trim_and_fill_matches_trimfill(case: str, option: str, side: str) -> None:
    d = data(case)
    result = trim_and_fill(d["events"], d["n"], **kwargs(option), side=None if side == "auto" else side)
    tag = f"trimfill_{side}"
    assert result.k0 == ref(case, option, f"{tag}_k0")[0]
    assert result.side == ("right" if ref(case, option, f"{tag}_right")[0] else "left")
    close(result.se_k0, ref(case, option, f"{tag}_se_k0"), "se_k0")
    for ours, theirs in [("mu", "b"), ("se", "se"), ("ci_low", "ci.lb"), ("ci_high", "ci.ub"), ("tau2", "tau2")]:
        close(getattr(result, ours), ref(case, option, f"{tag}_{theirs}"), f"{case}/{option}/{side}/{ours}")
    if result.k0:
        close(sorted(result.filled_y), sorted(ref(case, option, f"{tag}_filled_yi")), "filled yi")
        close(sorted(result.filled_v), sorted(ref(case, option, f"{tag}_filled_vi")), "filled vi")
        close(sorted(result.filled_n), sorted(ref(case, option, f"{tag}_filled_ni")), "filled ni")


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_trim_and_fill_r0_matches_trimfill(case: str, option: str) -> None:
    d = data(case)
    result = trim_and_fill(d["events"], d["n"], **kwargs(option), estimator="R0")
    assert result.k0 == ref(case, option, "trimfill_R0_k0")[0]
    close(result.mu, ref(case, option, "trimfill_R0_b"), "mu")


@pytest.mark.parametrize("case", CASES)
def test_rank_correlation_with_n_matches_r(case: str) -> None:
    d = data(case)
    result = rank_correlation_test(d["events"], d["n"])
    close(result.tau, ref(case, "rank", "kendall_tau"), "tau")
    close(result.z, ref(case, "rank", "kendall_z"), "z")
    close(result.p, ref(case, "rank", "kendall_p"), "p")


def test_peters_test_is_the_regression_on_one_over_n_weighted_by_the_rate_variance() -> None:
    d = data("crs_any")
    close(peters_test(d["events"], d["n"]).p, ref("crs_any", "logit|DL|z", "regtest_lm_ninv_p"), "p")
    # Peters et al.'s own recipe on the cohorts without a zero cell: weighted least squares of
    # the logit on 1/n, weights e(n - e)/n (statsmodels)
    d = d[(d["events"] > 0) & (d["events"] < d["n"])]
    e, n = d["events"].to_numpy(float), d["n"].to_numpy(float)
    wls = sm.WLS(np.log(e / (n - e)), sm.add_constant(1 / n), weights=e * (n - e) / n).fit()
    result = peters_test(e, n)
    close(result.p, wls.pvalues[1], "p")
    close(result.limit_mu, wls.params[0], "intercept")


def test_trim_and_fill_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="at least 3 studies"):
        trim_and_fill([1, 2], [10, 10])
    with pytest.raises(ValueError, match="estimator"):
        trim_and_fill([1, 2, 3], [10, 10, 10], estimator="Q1")
    with pytest.raises(ValueError, match="differ in rate and in size"):
        rank_correlation_test([1, 2, 3], [10, 10, 10])
