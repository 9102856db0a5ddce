"""2-D input: one meta-analysis per row, equal to fitting each row on its own."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis import ConvergenceError, pool_proportions
from analysis.meta.results import FIELDS, PooledProportionBatch

TAU2 = ["DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS"]


def random_batch(seed: int, rows: int = 40, width: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Meta-analyses of 2..width studies with zeros, all-event studies and NaN padding."""
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, size=(rows, width)).astype(float)
    p = rng.beta(1.2, 1.2, size=(rows, 1)) * np.ones((1, width))
    logit = np.log(p / (1 - p)) + rng.normal(0, 1.2, size=(rows, width))
    x = rng.binomial(n.astype(int), 1 / (1 + np.exp(-logit))).astype(float)
    k = rng.integers(2, width + 1, size=rows)
    pad = np.arange(width)[None, :] >= k[:, None]
    x[pad] = n[pad] = np.nan
    return x, n


@pytest.mark.parametrize("ci", ["z", "hksj"])
@pytest.mark.parametrize("transform", ["logit", "freeman-tukey", "raw"])
@pytest.mark.parametrize("tau2", TAU2)
def test_batch_equals_row_by_row_exactly(tau2: str, transform: str, ci: str) -> None:
    x, n = random_batch(seed=len(tau2) + len(transform))
    with warnings.catch_warnings():
        # ML/REML may meet metafor's "stuck at a local maximum" case; batch and single
        # fits must then agree on the result, which is what is checked here.
        warnings.simplefilter("ignore", UserWarning)
        batch = pool_proportions(x, n, tau2=tau2, transform=transform, ci=ci)
        singles = [
            pool_proportions(x[i, ~np.isnan(x[i])], n[i, ~np.isnan(x[i])], tau2=tau2, transform=transform, ci=ci)
            for i in range(x.shape[0])
        ]
    assert isinstance(batch, PooledProportionBatch)
    for i, single in enumerate(singles):
        for name in FIELDS:
            assert batch.row(i)[name] == getattr(single, name), (i, name)


def test_padding_may_sit_anywhere_in_a_row() -> None:
    x = np.array([[3.0, np.nan, 5.0, 9.0], [np.nan, 3.0, 5.0, 9.0]])
    n = np.array([[10.0, np.nan, 12.0, 20.0], [np.nan, 10.0, 12.0, 20.0]])
    batch = pool_proportions(x, n, tau2="REML")
    assert batch.row(0) == batch.row(1)


def test_batch_fields_are_arrays_of_the_batch_length() -> None:
    x, n = random_batch(seed=3, rows=7)
    batch = pool_proportions(x, n)
    for name in FIELDS:
        assert np.shape(getattr(batch, name)) == (7,)
    assert (batch.k == (~np.isnan(x)).sum(axis=1)).all()


def test_labels_are_refused_for_a_batch() -> None:
    x, n = random_batch(seed=4, rows=2)
    with pytest.raises(ValueError, match="labels"):
        pool_proportions(x, n, labels=["a"])


def test_bad_values_in_a_batch_name_the_study() -> None:
    x, n = random_batch(seed=5, rows=3)
    x[1, 0] = n[1, 0] + 1
    with pytest.raises(ValueError, match="^row 2: study 1: events must not exceed n"):
        pool_proportions(x, n)


def test_rows_that_cannot_be_fitted_become_nan_with_a_note() -> None:
    x, n = random_batch(seed=6, rows=6)
    x[1, 0] = n[1, 0] + 1  # invalid counts
    x[3], n[3] = np.nan, np.nan  # no study
    x[4, :3], n[4, :3] = [0, 0, 0], [5, 10, 200000]  # fine now: metafor's tau^2 = 0
    x[4, 3:], n[4, 3:] = np.nan, np.nan
    with pytest.warns(UserWarning, match="Ratio of largest to smallest sampling variance"):
        batch = pool_proportions(x, n, tau2="REML", transform="raw", errors="nan")
    assert len(batch.notes) == 6
    assert batch.notes[1].startswith("study 1: events must not exceed n")
    assert "k = 0" in batch.notes[3]
    for bad in (1, 3):
        assert all(np.isnan(getattr(batch, name)[bad]) for name in ["estimate", "ci_low", "pi_high", "mu", "se", "tau2", "i2", "q"])
        assert batch.n_total[bad] == 0 and batch.events_total[bad] == 0
    assert batch.k[1] == (~np.isnan(x[1])).sum() and batch.k[3] == 0
    assert batch.tau2[4] == 0 and np.isfinite(batch.estimate[4])
    good = [0, 2, 4, 5]
    with pytest.warns(UserWarning):
        clean = pool_proportions(x[good], n[good], tau2="REML", transform="raw")
    for j, i in enumerate(good):  # the other rows are as if fitted without the bad ones
        assert batch.notes[i] == ""
        assert batch.row(i) == clean.row(j)


def test_estimator_failures_become_nan_with_a_note_or_name_the_row() -> None:
    # REML does not converge in 100 iterations here (nor in metafor).
    stuck = np.array([0, 4, 2, 95, 4, 2, 0, 1, 0, 0, 4, 3, 1, 7, 4, 1, 1, 0, 0, 4, 4, 4, 5, 6], dtype=float)
    sizes = np.array([43, 58, 20, 2000, 29, 45, 14, 13, 46, 45, 22, 40, 16, 59, 19, 6, 20, 6, 22, 40, 39, 28, 38, 48], dtype=float)
    x = np.vstack([stuck + (stuck < 5), stuck])
    n = np.vstack([sizes, sizes])
    with pytest.raises(ConvergenceError, match=r"Fisher scoring did not converge in 100 iterations \(row 2\)") as info:
        pool_proportions(x, n, tau2="REML")
    assert list(info.value.rows) == [1]
    batch = pool_proportions(x, n, tau2="REML", errors="nan")
    assert np.isfinite(batch.estimate[0]) and np.isnan(batch.estimate[1])
    assert batch.notes == ("", "tau2='REML': Fisher scoring did not converge in 100 iterations")
    assert batch.k[1] == 24 and batch.n_total[1] == sizes.sum()


def test_errors_option_is_checked_and_for_batches() -> None:
    with pytest.raises(ValueError, match="errors='ignore'"):
        pool_proportions(np.array([[1.0, 2.0]]), np.array([[10.0, 10.0]]), errors="ignore")
    with pytest.raises(ValueError, match="errors='nan' is for a batch"):
        pool_proportions([1, 2], [10, 10], errors="nan")


def test_glmm_rows_that_cannot_be_fitted_become_nan() -> None:
    x = np.array([[3.0, 5.0, 9.0], [0.0, 0.0, 0.0], [2.0, np.nan, np.nan], [4.0, 6.0, 1.0]])
    n = np.array([[10.0, 12.0, 20.0], [10.0, 12.0, 20.0], [10.0, np.nan, np.nan], [11.0, 13.0, 9.0]])
    with pytest.raises(ValueError, match="^row 2: the GLMM has no finite estimate"):
        pool_proportions(x, n, method="glmm")
    batch = pool_proportions(x, n, method="glmm", errors="nan")
    assert "no finite estimate" in batch.notes[1] and "at least 2 studies" in batch.notes[2]
    assert np.isnan(batch.estimate[1:3]).all() and batch.notes[0] == batch.notes[3] == ""
    clean = pool_proportions(x[[0, 3]], n[[0, 3]], method="glmm")
    assert batch.row(0) == clean.row(0) and batch.row(3) == clean.row(1)


@pytest.mark.parametrize("method", ["inverse-variance", "glmm"])
def test_t_prediction_interval_in_a_batch(method: str) -> None:
    x, n = random_batch(seed=7, rows=10, width=5)
    batch = pool_proportions(x, n, pi="t", method=method)
    for i in range(len(x)):
        keep = ~np.isnan(x[i])
        single = pool_proportions(x[i, keep], n[i, keep], pi="t", method=method)
        for name in FIELDS:  # bit for bit, NaN where k < 3
            assert np.array_equal(batch.row(i)[name], getattr(single, name), equal_nan=True), (i, name)
        assert (batch.k[i] < 3) == ("k >= 3" in batch.notes[i])
    assert batch.pi_method == "t"
