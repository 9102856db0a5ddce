"""2-D input: one meta-analysis per row, equal to fitting each row on its own."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis import pool_proportions
from analysis.proportions import PooledProportionBatch, _FIELDS

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
        for name in _FIELDS:
            assert batch.row(i)[name] == getattr(single, name), (i, name)


def test_padding_may_sit_anywhere_in_a_row() -> None:
    x = np.array([[3.0, np.nan, 5.0, 9.0], [np.nan, 3.0, 5.0, 9.0]])
    n = np.array([[10.0, np.nan, 12.0, 20.0], [np.nan, 10.0, 12.0, 20.0]])
    batch = pool_proportions(x, n, tau2="REML")
    assert batch.row(0) == batch.row(1)


def test_batch_fields_are_arrays_of_the_batch_length() -> None:
    x, n = random_batch(seed=3, rows=7)
    batch = pool_proportions(x, n)
    for name in _FIELDS:
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
