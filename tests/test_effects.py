"""pool_effects and the cumulative analyses against metafor (tests/make_effect_fixtures.R
wrote tests/fixtures/metafor_effects.csv from tests/fixtures/effect_inputs.csv and the
proportion cases)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.meta import cumulative, cumulative_proportions, effect_from_ci, pool_effects
from conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
INPUTS = pd.read_csv(FIXTURES / "effect_inputs.csv")
PROPORTIONS = pd.read_csv(FIXTURES / "proportion_inputs.csv", keep_default_na=False)
REFERENCE = pd.read_csv(FIXTURES / "metafor_effects.csv")
TOLERANCE = 1e-6  # relative and absolute: closed forms agree far closer; iterative estimators stop at 1e-5 in tau^2
FITS = sorted({o for o in REFERENCE["option"] if not o.startswith("cumul")})
CASES = list(dict.fromkeys(INPUTS["case"]))


def reference(case: str, option: str) -> pd.DataFrame:
    rows = REFERENCE[(REFERENCE["case"] == case) & (REFERENCE["option"] == option)]
    assert len(rows), (case, option)
    return rows


def close(ours: float, theirs: float, what: str) -> None:
    if math.isnan(theirs):
        assert math.isnan(ours) or what.startswith("pi_t"), what
        return
    assert ours == pytest.approx(theirs, rel=TOLERANCE, abs=TOLERANCE), what


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("option", FITS)
def test_pool_effects_equals_metafor_rma(case: str, option: str) -> None:
    tau2, ci = option.split("|")
    data = INPUTS[INPUTS["case"] == case]
    fit = pool_effects(data["yi"], data["sei"], scale="identity", tau2=tau2, ci=ci)
    riley = pool_effects(data["yi"], data["sei"], scale="identity", tau2=tau2, ci=ci, pi="t") if len(data) >= 3 else None
    ours = {"mu": fit.mu, "se": fit.se, "ci_low": fit.ci_low, "ci_high": fit.ci_high, "z": fit.z, "p": fit.p,
            "tau2": fit.tau2, "i2": fit.i2, "h2": fit.h2, "q": fit.q, "q_p": fit.q_p, "pi_low": fit.pi_low,
            "pi_high": fit.pi_high}
    if riley is not None:
        ours |= {"pi_t_low": riley.pi_low, "pi_t_high": riley.pi_high}
    for row in reference(case, option).itertuples():
        close(ours[row.statistic], row.value, f"{case} {option} {row.statistic}")


def test_the_log_scale_returns_ratios_and_their_limits() -> None:
    data = INPUTS[INPUTS["case"] == "randomized_pfs"]
    on_log = pool_effects(data["yi"], data["sei"], tau2="DL", labels=data["study"])
    plain = pool_effects(data["yi"], data["sei"], scale="identity", tau2="DL")
    assert on_log.estimate == pytest.approx(math.exp(plain.mu), rel=1e-12)
    assert (on_log.ci_low, on_log.ci_high) == pytest.approx((math.exp(plain.ci_low), math.exp(plain.ci_high)), rel=1e-12)
    assert list(on_log.studies["estimate"]) == pytest.approx([0.49, 0.26], rel=1e-12)
    assert any("one degree of freedom" in note for note in on_log.notes)
    assert "Pooled exp(μ)" in str(on_log) and len(str(on_log).splitlines()) <= 25


@pytest.mark.parametrize("case", [c for c in CASES if c != "single"])
@pytest.mark.parametrize("option", sorted({o.split("|", 1)[1] for o in REFERENCE["option"] if o.startswith("cumul|")}))
def test_cumulative_equals_metafor_cumul(case: str, option: str) -> None:
    tau2, ci = option.split("|")
    data = INPUTS[INPUTS["case"] == case]
    table = cumulative(data["yi"], data["sei"], scale="identity", tau2=tau2, ci=ci).set_index("k")
    names = {"mu": "mu", "se": "se", "ci_low": "mu_low", "ci_high": "mu_high", "tau2": "tau2", "i2": "i2", "h2": "h2",
             "q": "q", "q_p": "q_p"}
    for row in reference(case, f"cumul|{option}").itertuples():
        close(float(table.loc[row.index, names[row.statistic]]), row.value, f"{case} {option} {row.statistic} k={row.index}")


@pytest.mark.parametrize("case", ["crs_any", "neurotox", "cr", "crs_severe"])
@pytest.mark.parametrize("option", ["DL|z", "DL|hksj", "REML|z", "REML|hksj"])
def test_cumulative_proportions_equal_metafor_cumul(case: str, option: str) -> None:
    tau2, ci = option.split("|")
    data = PROPORTIONS[PROPORTIONS["case"] == case]
    table = cumulative_proportions(data["events"], data["n"], tau2=tau2, ci=ci).set_index("k")
    names = {"mu": "mu", "se": "se", "ci_low": "mu_low", "ci_high": "mu_high", "tau2": "tau2", "i2": "i2", "h2": "h2",
             "q": "q", "q_p": "q_p"}
    for row in reference(case, f"cumul_plo|{option}").itertuples():
        close(float(table.loc[row.index, names[row.statistic]]), row.value, f"{case} {option} {row.statistic} k={row.index}")
    final = analysis.pool_proportions(data["events"], data["n"], tau2=tau2, ci=ci)
    assert table["estimate"].iloc[-1] == pytest.approx(final.estimate, rel=1e-12)  # the last step is the full fit


def test_effect_from_ci_reads_a_published_ratio_and_refuses_what_it_cannot() -> None:
    y, se = effect_from_ci(0.49, 0.38, 0.63)
    assert y == pytest.approx(math.log(0.49)) and se == pytest.approx((math.log(0.63) - math.log(0.38)) / (2 * 1.959963984540054))
    assert effect_from_ci(2.0, 1.0, 3.0, scale="identity") == pytest.approx((2.0, 1.0 / 1.959963984540054))
    with pytest.raises(ValueError, match="does not surround"):
        effect_from_ci(0.49, 0.5, 0.63)
    with pytest.raises(ValueError, match="must be positive"):
        effect_from_ci(0.5, 0.0, 1.0)


def test_pool_effects_refuses_bad_input_by_name() -> None:
    with pytest.raises(ValueError, match="give either sei"):
        pool_effects([0.1, 0.2])
    with pytest.raises(ValueError, match="study 2: a standard error"):
        pool_effects([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(ValueError, match="tau2='XX' is not supported"):
        pool_effects([0.1, 0.2], [0.1, 0.1], tau2="XX")
    with pytest.raises(ValueError, match="must be finite"):
        pool_effects([0.1, np.nan], [0.1, 0.1])


def test_the_common_effect_model_of_proportions_is_the_common_effect_model_of_their_logits() -> None:
    data = PROPORTIONS[PROPORTIONS["case"] == "neurotox"]
    fit = analysis.pool_proportions(data["events"], data["n"], tau2="FE")
    logits = pool_effects(fit.studies["yi"], vi=fit.studies["vi"], scale="identity", tau2="FE")
    assert (fit.mu, fit.se, fit.i2, fit.q, fit.tau2) == pytest.approx((logits.mu, logits.se, logits.i2, logits.q, 0.0), rel=1e-12)
