"""Tests of recsys_tutorial.intervals: hand-checked values, pairing, verdicts, bad input."""

import numpy as np
import pytest

from recsys_tutorial.errors import EvaluationError
from recsys_tutorial.intervals import (
    bootstrap_interval,
    format_interval,
    rmse_difference_interval,
    rmse_interval,
    verdict,
)


def test_bootstrap_interval_of_constant_values_is_the_constant():
    assert bootstrap_interval([0.25] * 10) == (0.25, 0.25)


def test_bootstrap_interval_covers_the_mean_and_matches_normal_theory():
    x = np.random.default_rng(1).normal(size=2000)
    low, high = bootstrap_interval(x, n_resamples=2000)
    assert low < x.mean() < high
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)  # about 0.044
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)


def test_rmse_interval_value_is_the_rmse_and_is_inside():
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 2.0, 3.0, 6.0])  # squared errors 0, 0, 0, 4: RMSE 1
    value, low, high = rmse_interval(truth, pred)
    assert value == pytest.approx(1.0)
    assert 0.0 <= low <= value <= high <= 2.0


def test_rmse_difference_is_paired():
    rng = np.random.default_rng(0)
    truth = rng.uniform(1, 5, size=3000)
    noise = rng.normal(scale=1.0, size=3000)
    pred_a = truth + noise
    pred_b = truth + noise * 1.05  # b is always 5% worse on the same ratings
    diff, low, high = rmse_difference_interval(truth, pred_a, pred_b)
    assert diff == pytest.approx(-0.05 * np.sqrt(np.mean(noise**2)), rel=1e-9)
    assert high < 0  # paired: a tiny but systematic gain is detected
    _, low_a, high_a = rmse_interval(truth, pred_a)
    assert high - low < (high_a - low_a) / 5  # far tighter than one model's own interval
    assert verdict(low, high) == "better than"


def test_verdict_words():
    assert verdict(-0.2, -0.1) == "better than"
    assert verdict(0.1, 0.2) == "worse than"
    assert verdict(-0.1, 0.1) == "not measurably different from"
    assert verdict(0.01, 0.02, lower_is_better=False) == "better than"
    assert verdict(-0.02, -0.01, lower_is_better=False) == "worse than"


def test_format_interval():
    assert format_interval(0.9123, 0.9, 0.92549) == "0.912 [0.900, 0.925]"
    assert format_interval(0.5, 0.25, 0.75, ".2f") == "0.50 [0.25, 0.75]"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bootstrap_interval([]), "values is empty"),
        (lambda: bootstrap_interval([1.0, np.nan]), "finite"),
        (lambda: bootstrap_interval([1.0], n_resamples=0), "n_resamples"),
        (lambda: bootstrap_interval([1.0], confidence=1.0), "confidence"),
        (lambda: bootstrap_interval([1.0], seed=-1), "seed"),
        (lambda: rmse_interval([1.0, 2.0], [1.0]), "y_true has 2 values but y_pred has 1"),
        (lambda: rmse_difference_interval([1.0], [1.0], [1.0, 2.0]), "pred_b has 2"),
        (lambda: verdict(0.2, 0.1), "low <= high"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(EvaluationError, match=match):
        call()
