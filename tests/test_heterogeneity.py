"""heterogeneity_ci against metafor's confint(rma(...)) (tests/fixtures/metafor_heterogeneity.csv
from make_fixtures.R): the pooled cases of proportion_inputs.csv and random datasets that
R drew with a fixed seed (heterogeneity_inputs.csv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import padded

from analysis import ConvergenceError, heterogeneity_ci, pool_proportions

FIXTURES = Path(__file__).parent / "fixtures"
NAMED = pd.read_csv(FIXTURES / "proportion_inputs.csv", keep_default_na=False)
RANDOM = pd.read_csv(FIXTURES / "heterogeneity_inputs.csv")
INPUTS = pd.concat([NAMED[~NAMED["case"].str.startswith("sub_")], RANDOM], ignore_index=True)
REF = pd.read_csv(FIXTURES / "metafor_heterogeneity.csv")
CASES = sorted(REF["case"].unique())
OPTIONS = sorted(REF["option"].unique())
FIELDS = [
    "tau2", "tau2_ci_low", "tau2_ci_high", "tau", "tau_ci_low", "tau_ci_high",
    "i2", "i2_ci_low", "i2_ci_high", "h2", "h2_ci_low", "h2_ci_high",
]
RTOL = 1e-5  # the bar; agreement is far closer where the variances are not extreme


def test_fixtures_cover_what_they_should() -> None:
    k = INPUTS.groupby("case").size()
    assert k[CASES].min() == 2 and k[CASES].max() >= 30
    assert RANDOM["case"].nunique() >= 40
    assert {"logit|DL", "logit|REML", "logit|PM", "freeman-tukey|REML", "raw|PM"} <= set(OPTIONS)
    lower_zero = REF[(REF["statistic"] == "tau2_ci_low") & (REF["value"] == 0)]["case"].nunique()
    null = REF[(REF["statistic"] == "ci_null") & (REF["value"] == 1)]["case"].nunique()
    at_end = REF[(REF["statistic"] == "ub_at_end") & (REF["value"] == 1)]["case"].nunique()
    zero_events = INPUTS[INPUTS["events"] == 0]["case"].nunique()
    assert lower_zero >= 5 and null >= 1 and at_end >= 1 and zero_events >= 10


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("case", CASES)
def test_matches_metafor_confint(case: str, option: str) -> None:
    transform, tau2 = option.split("|")
    data = INPUTS[INPUTS["case"] == case]
    ref = REF[(REF["case"] == case) & (REF["option"] == option)].set_index("statistic")["value"]
    if "error" in ref.index:  # metafor's fit fails (REML does not converge): so does ours
        with pytest.raises(ConvergenceError):
            heterogeneity_ci(data["events"], data["n"], transform=transform, tau2=tau2)
        return
    if "warning" in ref.index:  # metafor warned (variance ratio): so must we
        with pytest.warns(UserWarning):
            result = heterogeneity_ci(data["events"], data["n"], transform=transform, tau2=tau2)
    else:
        result = heterogeneity_ci(data["events"], data["n"], transform=transform, tau2=tau2)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(result, name), ref[name], rtol=RTOL, atol=1e-12, err_msg=f"{case}/{option}/{name}")
    assert ("is {0}" in result.notes[0]) == bool(ref["ci_null"])
    assert ("end of the search" in result.notes[0]) == bool(ref["ub_at_end"])
    assert result.k == len(data) and (result.transform, result.tau2_method) == (transform, tau2)


def test_point_estimates_are_the_pooled_ones() -> None:
    data = INPUTS[INPUTS["case"] == "crs_any"]
    pooled = pool_proportions(data["events"], data["n"], tau2="PM", transform="freeman-tukey")
    ci = heterogeneity_ci(data["events"], data["n"], tau2="PM", transform="freeman-tukey")
    assert (ci.tau2, ci.i2, ci.h2) == (pooled.tau2, pooled.i2, pooled.h2)
    assert ci.tau2_ci_low <= ci.tau2 <= ci.tau2_ci_high  # the Q-profile interval holds the PM estimate
    assert ci.tau_ci_high == pytest.approx(np.sqrt(ci.tau2_ci_high), rel=1e-15)


def test_level_widens_the_interval() -> None:
    data = INPUTS[INPUTS["case"] == "neurotox"]
    narrow = heterogeneity_ci(data["events"], data["n"], level=0.8)
    wide = heterogeneity_ci(data["events"], data["n"], level=0.99)
    assert wide.tau2_ci_low < narrow.tau2_ci_low < narrow.tau2_ci_high < wide.tau2_ci_high
    assert wide.level == 0.99


def test_batch_equals_single_fits() -> None:
    cases = ["crs_any", "neurotox", "k3_zero", "random_01", "random_02"]
    rows = [INPUTS[INPUTS["case"] == c] for c in cases]
    x, n = padded(rows)
    batch = heterogeneity_ci(x, n)
    for i, r in enumerate(rows):
        single = heterogeneity_ci(r["events"], r["n"])
        for name in FIELDS:
            assert getattr(batch, name)[i] == pytest.approx(getattr(single, name), rel=1e-12, abs=1e-14), (i, name)
        assert batch.notes[i] == single.notes[0]


def test_summary_is_plain_floats() -> None:
    summary = heterogeneity_ci([3, 5, 9, 2], [10, 12, 20, 30]).summary()
    assert set(summary) == set(FIELDS) and all(type(v) is float for v in summary.values())


@pytest.mark.parametrize(
    ("events", "n", "kwargs", "message"),
    [
        ([3], [10], {}, "at least 2 studies"),
        ([3, 11], [10, 10], {}, "^study 2: events must not exceed n"),
        ([3, 5], [10, 10], {"tau2": "XYZ"}, "tau2='XYZ'"),
        ([3, 5], [10, 10], {"level": 95}, "level"),
    ],
)
def test_bad_input_raises(events: list, n: list, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        heterogeneity_ci(events, n, **kwargs)
