"""pool_proportions and subgroup_analysis against metafor (fixtures from make_fixtures.R)."""

from __future__ import annotations

import dataclasses

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import padded

from scipy import stats

import analysis
from analysis import clopper_pearson, pool_proportions, subgroup_analysis
from analysis.meta.results import FIELDS

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIXTURES / "proportion_inputs.csv", keep_default_na=False)
REFERENCE = pd.read_csv(FIXTURES / "metafor_proportions.csv")
RTOL = 1e-6  # closed-form estimator: agreement to (well below) this relative tolerance
POOLED_CASES = sorted(c for c in INPUTS["case"].unique() if not c.startswith("sub_"))
SUBGROUP_CASES = sorted(c for c in INPUTS["case"].unique() if c.startswith("sub_"))
SCALARS = ["estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mu", "se", "tau2", "i2", "h2", "q", "q_p", "k"]


def reference(case: str, option: str) -> pd.DataFrame:
    ref = REFERENCE[(REFERENCE["case"] == case) & (REFERENCE["option"] == option)]
    assert not ref.empty, f"no reference for {case}/{option}"
    return ref


def assert_matches(result, ref: pd.DataFrame, where: str) -> None:
    scalars = ref[ref["index"].isna()].set_index("statistic")["value"].astype(float)
    assert set(SCALARS) <= set(scalars.index)
    got = {name: float(getattr(result, "q_df" if name == "df" else name)) for name in SCALARS}
    # Where the sampling variances span 1e7 or more metafor warns that its results may be
    # unstable: its P-matrix algebra then loses ~ratio * eps (pm_wide/log: Q off by 1.5e-6
    # from the exact value, which we give).
    vi = result.studies["vi"]
    rtol = RTOL if vi.max() / vi.min() < 1e7 else 1e-4
    for name in SCALARS:
        # p-values can underflow towards 0, and mu of symmetric data is 0 up to rounding:
        # compare them on an absolute scale as well.
        atol = 1e-10 if name == "mu" else 1e-12
        np.testing.assert_allclose(got[name], scalars[name], rtol=rtol, atol=atol, err_msg=f"{where}: {name}")
    weights = ref[ref["statistic"] == "weight"]["value"].astype(float).to_numpy()
    np.testing.assert_allclose(result.studies["weight"], weights, rtol=rtol, err_msg=f"{where}: weights")


def pool_like_metafor(ref: pd.DataFrame, events, n, **kwargs):
    """pool_proportions, required to warn exactly where metafor warned."""
    if (ref["statistic"] == "warning").any():
        with pytest.warns(UserWarning):
            return pool_proportions(events, n, **kwargs)
    return pool_proportions(events, n, **kwargs)


@pytest.mark.parametrize("to", ["only0", "all", "if0all"])
@pytest.mark.parametrize("case", POOLED_CASES)
def test_continuity_corrections_match_metafor(case: str, to: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, to)
    result = pool_like_metafor(ref, data["events"], data["n"], to=to)
    assert_matches(result, ref, f"{case}/{to}")


OPTIONS = [
    (transform, tau2, ci)
    for transform in ["logit", "log", "raw", "arcsine", "freeman-tukey"]
    for tau2 in ["DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS"]
    for ci in ["z", "hksj", "hksj-adhoc"]
]


@pytest.mark.parametrize(("transform", "tau2", "ci"), OPTIONS)
@pytest.mark.parametrize("case", POOLED_CASES)
def test_every_option_matches_metafor(case: str, transform: str, tau2: str, ci: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, f"{transform}|{tau2}|{ci}")
    result = pool_like_metafor(ref, data["events"], data["n"], transform=transform, tau2=tau2, ci=ci)
    assert_matches(result, ref, f"{case}/{transform}/{tau2}/{ci}")


@pytest.mark.parametrize("case", POOLED_CASES)
def test_clopper_pearson_matches_binom_test(case: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, "exact")
    low, high = clopper_pearson(data["events"].to_numpy(), data["n"].to_numpy())
    np.testing.assert_allclose(low, ref[ref["statistic"] == "cp_low"]["value"].astype(float), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(high, ref[ref["statistic"] == "cp_high"]["value"].astype(float), rtol=RTOL, atol=1e-14)
    result = pool_proportions(data["events"], data["n"])
    np.testing.assert_allclose(result.studies["ci_low"], low)


@pytest.mark.parametrize("case", SUBGROUP_CASES)
def test_subgroup_matches_metafor(case: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    result = subgroup_analysis(data["events"], data["n"], data["group"])
    assert list(result.groups) == list(data["group"].unique())
    for name, pooled in result.groups.items():
        assert_matches(pooled, reference(case, name), f"{case}/{name}")
    between = reference(case, "between").set_index("statistic")["value"].astype(float)
    np.testing.assert_allclose(result.q_between, between["q_between"], rtol=RTOL)
    assert result.df == int(between["df"])
    np.testing.assert_allclose(result.p, between["p"], rtol=RTOL)


def test_subgroup_exclude_and_missing_groups_leave_studies_out() -> None:
    data = INPUTS[INPUTS["case"] == "sub_expansion_neurotox"]
    full = subgroup_analysis(data["events"], data["n"], data["group"])
    dropped = subgroup_analysis(data["events"], data["n"], data["group"], exclude=["none"])
    as_missing = subgroup_analysis(data["events"], data["n"], data["group"].replace("none", None))
    assert "none" in full.groups and "none" not in dropped.groups
    assert dropped.df == full.df - 1
    assert dropped.q_between == pytest.approx(as_missing.q_between, rel=1e-12)
    assert dropped.groups["anti-CD3"].estimate == full.groups["anti-CD3"].estimate


def test_categorical_groups_follow_category_order() -> None:
    groups = pd.Categorical(["b", "a", "b", "a"], categories=["b", "a", "unused"])
    result = subgroup_analysis([1, 2, 3, 4], [10, 10, 10, 10], groups)
    assert list(result.groups) == ["b", "a"]


def test_pairs_both_nan_are_dropped_and_counted() -> None:
    result = pool_proportions([3, np.nan, 5], [10, np.nan, 12], labels=["a", "b", "c"])
    assert result.k == 2
    assert list(result.studies["study"]) == ["a", "c"]
    assert result.estimate == pytest.approx(pool_proportions([3, 5], [10, 12]).estimate, rel=1e-12)


def test_summary_is_plain_floats_on_percent_scale() -> None:
    result = pool_proportions([3, 5, 9], [10, 12, 20])
    summary = result.summary()
    assert all(type(v) in (float, int) for v in summary.values())
    assert summary["estimate"] == pytest.approx(100 * result.estimate)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transform": "probit"}, "transform='probit'"),
        ({"tau2": "XYZ"}, "tau2='XYZ'"),
        ({"ci": "t"}, "ci='t'"),
        ({"to": "sometimes"}, "to='sometimes'"),
        ({"level": 95}, "level"),
        ({"add": -1}, "add"),
    ],
)
def test_bad_options_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pool_proportions([1, 2], [10, 10], **kwargs)


@pytest.mark.parametrize(
    ("events", "n", "message"),
    [
        ([1, 11], [10, 10], "^study 2: events must not exceed n"),
        ([-1, 2], [10, 10], "^study 1: events must not be negative"),
        ([1, 2], [10, -10], "^study 2: n must be positive"),
        ([1, 2], [10, 0], "n must be positive"),
        ([1, 2, 3], [10, 10], "same shape"),
        ([1, np.nan], [10, 10], "both be given"),
        ([np.nan], [np.nan], "k = 0"),
        ([1, np.inf], [10, 10], "finite"),
    ],
)
def test_bad_counts_raise(events: list, n: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pool_proportions(events, n)


def test_zero_events_without_correction_fail_loudly() -> None:
    with pytest.raises(ValueError, match="continuity correction"):
        pool_proportions([0, 2], [10, 10], to="none")


def test_subgroup_needs_two_groups_and_matching_lengths() -> None:
    with pytest.raises(ValueError, match="at least two subgroups"):
        subgroup_analysis([1, 2], [10, 10], ["a", "a"])
    with pytest.raises(ValueError, match="group labels"):
        subgroup_analysis([1, 2], [10, 10], ["a"])


@pytest.mark.parametrize("to", ["only0", "all"])
@pytest.mark.parametrize("transform", ["arcsine", "freeman-tukey"])
@pytest.mark.parametrize("case", POOLED_CASES)
def test_explicit_correction_for_arcsine_scales_matches_metafor(case: str, transform: str, to: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, f"{transform}|{to}")
    result = pool_like_metafor(ref, data["events"], data["n"], transform=transform, add=0.5, to=to)
    assert_matches(result, ref, f"{case}/{transform}/{to}")


GLMM_RTOL = 2e-3  # lme4 stops its optimizer earlier than we do; both are ML under 7-point AGQ


@pytest.mark.parametrize("case", POOLED_CASES)
def test_glmm_matches_metafor(case: str) -> None:
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, "glmm")
    if (ref["statistic"] == "error").any():  # metafor refuses: so must we
        with pytest.raises(ValueError, match="GLMM"):
            pool_proportions(data["events"], data["n"], method="glmm")
        return
    result = pool_proportions(data["events"], data["n"], method="glmm")
    expected = ref[ref["index"].isna()].set_index("statistic")["value"].astype(float)
    # lme4's vcov() differences its deviance (of size n log 2) with a 1e-4 step, and with
    # n of 1e5 or 1e6 rounding reaches the SE (glmm_extreme: 2.198; exact 2.294). The SE
    # and intervals are checked against the Hessian of lme4's own deviance by a 1e-3
    # step, and against metafor where its vcov() agrees with that.
    hessian = reference(case, "glmm_hessian").set_index("statistic")["value"].astype(float)
    for name in ["estimate", "i2", "h2"]:
        np.testing.assert_allclose(getattr(result, name), expected[name], rtol=GLMM_RTOL, atol=1e-8, err_msg=name)
    references = [hessian] + ([expected] if abs(expected["se"] / hessian["se"] - 1) < 1e-4 else [])
    # Logit-scale values to within GLMM_RTOL of the SE as well: mu of symmetric data
    # (pm_wide) is 0 up to the optimizer's precision.
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for theirs in references:
        np.testing.assert_allclose(result.se, theirs["se"], rtol=GLMM_RTOL, err_msg="se")
        for name in ["ci_low", "ci_high", "pi_low", "pi_high"]:
            np.testing.assert_allclose(
                logit(getattr(result, name)), logit(theirs[name]), rtol=GLMM_RTOL, atol=GLMM_RTOL * result.se, err_msg=name
            )
    np.testing.assert_allclose(result.mu, expected["mu"], rtol=GLMM_RTOL, atol=GLMM_RTOL * result.se)
    # tau^2 at the boundary is 0 for us and ~1e-8 for lme4's optimizer
    np.testing.assert_allclose(result.tau2, expected["tau2"], rtol=GLMM_RTOL, atol=1e-6)
    np.testing.assert_allclose(result.q, expected["q"], rtol=1e-9)
    np.testing.assert_allclose(result.q_p, expected["q_p"], rtol=1e-6, atol=1e-300)
    assert result.k == expected["k"] and result.method == "glmm"


def test_glmm_standard_error_under_extreme_heterogeneity() -> None:
    """Events 500000, 1000, 12, 250000 of 1e6: with n this large the studies' logits are
    known, and the SE of mu is that of a mean of 4 normals, tau / 2 = 2.293 (metafor's
    vcov() says 2.198, lme4 at 25 nodes 2.276, a 40-node fit about 2.29)."""
    result = pool_proportions([500000, 1000, 12, 250000], [1e6] * 4, method="glmm")
    assert result.se == pytest.approx(2.29, rel=0.05)
    assert result.se == pytest.approx(np.sqrt(result.tau2) / 2, rel=1e-3)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"ci": "hksj"}, "ci='hksj'"),
        ({"tau2": "REML"}, "tau2='REML'"),
        ({"tau2": "DL"}, "tau2='DL'"),
        ({"transform": "freeman-tukey"}, "transform='freeman-tukey'"),
        ({"add": 0.5}, "add=0.5"),
        ({"to": "all"}, "to='all'"),
    ],
)
def test_glmm_refuses_options_it_does_not_use(option: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"method='glmm' does not use {message}"):
        pool_proportions([3, 5, 9], [10, 12, 20], method="glmm", **option)


def test_glmm_accepts_the_options_it_uses() -> None:
    plain = pool_proportions([3, 5, 9], [10, 12, 20], method="glmm")
    explicit = pool_proportions([3, 5, 9], [10, 12, 20], method="glmm", transform="logit", tau2="ML", ci="z")
    assert plain.summary() == explicit.summary()
    assert (plain.tau2_method, plain.ci_method, plain.transform) == ("ML", "z", "logit")


def test_glmm_batch_matches_single_fits() -> None:
    cases = ["crs_any", "neurotox", "cr", "k3_zero"]
    rows = [INPUTS[INPUTS["case"] == c] for c in cases]
    x, n = padded(rows)
    batch = pool_proportions(x, n, method="glmm")
    for i, r in enumerate(rows):
        single = pool_proportions(r["events"], r["n"], method="glmm")
        for name in FIELDS:
            assert getattr(batch, name)[i] == getattr(single, name), (i, name)


T_OPTIONS = [
    (transform, tau2, ci)
    for transform in ["logit", "log", "raw", "arcsine", "freeman-tukey"]
    for tau2 in ["DL", "REML"]
    for ci in ["z", "hksj"]
]


@pytest.mark.parametrize(("transform", "tau2", "ci"), T_OPTIONS)
@pytest.mark.parametrize("case", POOLED_CASES)
def test_t_prediction_interval_matches_metafor_riley(case: str, transform: str, tau2: str, ci: str) -> None:
    """pi="t" against metafor's predict(pi.type = "riley"): t on k - 2 df."""
    data = INPUTS[INPUTS["case"] == case]
    ref = reference(case, f"{transform}|{tau2}|{ci}")
    if (ref["statistic"] == "error").any():
        return
    result = pool_like_metafor(ref, data["events"], data["n"], transform=transform, tau2=tau2, ci=ci, pi="t")
    assert result.pi_method == "t"
    expected = ref.set_index("statistic")["value"].astype(float)
    if result.k < 3:  # metafor falls back to 1 df; the t interval is undefined
        assert np.isnan(result.pi_low) and np.isnan(result.pi_high)
        assert any("k >= 3" in note for note in result.notes)
        return
    vi = result.studies["vi"]
    rtol = RTOL if vi.max() / vi.min() < 1e7 else 1e-4
    np.testing.assert_allclose([result.pi_low, result.pi_high], [expected["pi_t_low"], expected["pi_t_high"]], rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(result.ci_low, expected["ci_low"], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("ci", ["z", "hksj"])
@pytest.mark.parametrize("case", ["crs_any", "neurotox", "k3_zero", "extreme_heterogeneity"])
def test_t_prediction_interval_is_the_formula(case: str, ci: str) -> None:
    """Higgins, Thompson & Spiegelhalter (2009): mu +/- t_{k-2} sqrt(tau^2 + se^2)."""
    data = INPUTS[INPUTS["case"] == case]
    for transform, back in [("logit", lambda y: 1 / (1 + np.exp(-y))), ("raw", lambda y: y)]:
        z = pool_proportions(data["events"], data["n"], transform=transform, tau2="REML", ci=ci)
        t = pool_proportions(data["events"], data["n"], transform=transform, tau2="REML", ci=ci, pi="t")
        half = stats.t.ppf(0.975, t.k - 2) * np.sqrt(t.tau2 + t.se**2)
        assert t.pi_low == pytest.approx(back(t.mu - half), rel=1e-9)
        assert t.pi_high == pytest.approx(back(t.mu + half), rel=1e-9)
        assert (t.pi_method, z.pi_method) == ("t", "z")
        assert t.pi_low < z.pi_low  # t on k - 2 df is wider than z or t on k - 1 df
        assert {k: v for k, v in t.summary().items() if not k.startswith("pi")} == {
            k: v for k, v in z.summary().items() if not k.startswith("pi")
        }


def test_t_prediction_interval_for_the_glmm() -> None:
    data = INPUTS[INPUTS["case"] == "neurotox"]
    z = pool_proportions(data["events"], data["n"], method="glmm")
    t = pool_proportions(data["events"], data["n"], method="glmm", pi="t")
    half = stats.t.ppf(0.975, t.k - 2) * np.sqrt(t.tau2 + t.se**2)
    assert t.pi_high == pytest.approx(1 / (1 + np.exp(-(t.mu + half))), rel=1e-9)
    assert (t.pi_method, t.estimate) == ("t", z.estimate)


@pytest.mark.parametrize("method", ["inverse-variance", "glmm"])
def test_t_prediction_interval_with_two_studies_is_nan_with_a_note(method: str) -> None:
    result = pool_proportions([3, 15], [10, 16], pi="t", method=method)
    assert np.isnan(result.pi_low) and np.isnan(result.pi_high) and np.isfinite(result.ci_low)
    assert any("k >= 3" in note for note in result.notes)
    assert np.isfinite(pool_proportions([3, 15], [10, 16], method=method).pi_low)


def test_summary_keys_are_stable() -> None:
    keys = {"estimate", "ci_low", "ci_high", "pi_low", "pi_high", "i2", "tau2", "q", "q_p", "k", "n", "events"}
    assert keys <= set(pool_proportions([3, 5, 9], [10, 12, 20], pi="t").summary())


def test_bad_pi_option_raises() -> None:
    with pytest.raises(ValueError, match="pi='riley'"):
        pool_proportions([3, 5, 9], [10, 12, 20], pi="riley")


@pytest.mark.parametrize("mu, tau2", [(-2.2, 0.79), (1.4, 2.0), (0.0, 5.0), (-6.0, 10.0), (3.0, 0.0)])
def test_mean_rate_is_the_integral_over_the_random_effects_distribution(mu: float, tau2: float) -> None:
    from scipy import integrate, special

    reference = integrate.quad(lambda z: special.expit(mu + np.sqrt(tau2) * z) * stats.norm.pdf(z),
                               -np.inf, np.inf, epsabs=1e-13)[0]
    assert analysis.mean_rate(mu, tau2) == pytest.approx(reference, abs=1e-9)
    median = special.expit(mu)
    # The mean lies between the median and 50%: never on the far side of either.
    assert min(median, 0.5) - 1e-12 <= analysis.mean_rate(mu, tau2) <= max(median, 0.5) + 1e-12
    batch = analysis.mean_rate(np.array([mu, mu]), np.array([tau2, 0.0]))
    assert batch[1] == pytest.approx(median, abs=1e-12)


# --- the printed report -------------------------------------------------------------------


def test_print_gives_a_short_report_a_reader_can_trust() -> None:
    from analysis.text import number

    studies = analysis.load_studies()
    rows = analysis.outcome_rows(studies, "crs_any")
    for options in ({}, {"tau2": "REML", "ci": "hksj", "pi": "t", "level": 0.9}, {"method": "glmm"},
                    {"transform": "freeman-tukey", "tau2": "PM"}):
        fit = pool_proportions(rows["events"], rows["n"], **options)
        report = str(fit)
        lines = report.splitlines()
        assert len(lines) <= 25
        level = f"{100 * fit.level:g}%"
        assert f"k = {fit.k};" in lines[0] and f"{fit.n_total:,} patients" in lines[0]
        assert f"{number(100 * fit.estimate)}%  ({level} CI {number(100 * fit.ci_low)}% to {number(100 * fit.ci_high)}%)" in report
        assert f"{level} prediction interval: {number(100 * fit.pi_low)}% to {number(100 * fit.pi_high)}%" in report
        assert f"τ² = {number(fit.tau2, 4)}" in report and f"I² = {number(fit.i2, 1)}%" in report
        assert f"Q({fit.q_df} df) = {number(fit.q, 2)}" in report
        if fit.method == "glmm":
            assert "GLMM" in report and "likelihood-ratio test" in report
        else:
            assert f"({fit.tau2_method})" in report
        assert "95%" not in report or fit.level == 0.95
    assert "studies" not in repr(fit) and len(repr(fit)) < 300  # the per-study table is not dumped


def test_print_caps_its_notes_and_reports_a_single_study() -> None:
    one = pool_proportions([0], [10])
    report = str(one)
    assert "A single study" in report and "Notes:" in report and len(report.splitlines()) <= 25
    many = dataclasses.replace(one, notes=tuple(f"note {i}" for i in range(30)))
    lines = str(many).splitlines()
    assert len(lines) <= 25 and lines[-1] == "  … and 26 more"


def test_print_of_a_batch_and_a_subgroup_analysis() -> None:
    x = np.array([[10, 20, 5], [3, 4, np.nan], [1, np.nan, np.nan]])
    n = np.array([[40, 50, 30], [30, 25, np.nan], [20, np.nan, np.nan]])
    batch = pool_proportions(x, n)
    assert str(batch).startswith("3 random-effects meta-analyses of proportions (3 fitted; k from 1 to 3)")
    assert "3 meta-analyses" in repr(batch)
    sub = subgroup_analysis([10, 20, 5, 9], [40, 50, 30, 20], ["a", "a", "b", "b"])
    report = str(sub)
    assert "2 subgroups" in report and f"Q = {sub.q_between:.2f} on 1 df" in report
    assert len(report.splitlines()) <= 25


def test_clopper_pearson_from_statsmodels_equals_the_beta_quantiles_it_replaced() -> None:
    from scipy import stats

    rng = np.random.default_rng(7)
    n = rng.integers(1, 2000, size=500).astype(float)
    x = np.floor(rng.random(500) * (n + 1))
    x[:20], x[20:40] = 0, n[20:40]
    for level in (0.9, 0.95, 0.99):
        alpha = 1 - level
        low, high = clopper_pearson(x, n, level)
        with np.errstate(invalid="ignore"):
            old_low = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
            old_high = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
        np.testing.assert_allclose(low, old_low, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(high, old_high, rtol=1e-12, atol=1e-15)
