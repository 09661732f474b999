"""Confidence intervals for the book's headline numbers (every chapter, first in 5.4).

A test set of a few thousand ratings, or a few hundred users, measures a model with noise.
These helpers put a number and its 95% interval side by side so that the text can say what
a run shows and what it cannot tell apart:

- :func:`bootstrap_interval`: the interval of a mean (per-user NDCG@10, squared errors, ...).
- :func:`rmse_interval`: RMSE with its interval, resampling ratings.
- :func:`rmse_difference_interval`: RMSE(a) - RMSE(b) on the **same** ratings, each resample
  shared by both models (a paired bootstrap: much tighter than two separate intervals).
- :func:`verdict`: the words "better than" / "worse than" / "not measurably different from"
  that a difference interval supports.
- :func:`format_interval`: ``"0.912 [0.901, 0.925]"`` for tables and prose.

All intervals are percentile-bootstrap intervals (Efron & Tibshirani 1993, *An Introduction
to the Bootstrap*, Chapman & Hall, chapter 13). They treat ratings (or users) as independent
draws, so they measure the noise of the test set, not the variation between training runs:
for that, repeat the run with other seeds and report mean ± standard deviation.
Bad arguments raise :class:`~recsys_tutorial.errors.EvaluationError` naming the argument.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import EvaluationError

VERDICTS = ("better than", "worse than", "not measurably different from")


def _finite_vector(values, *, name: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise EvaluationError(f"{name} must be numbers (one per user or per rating)") from None
    if x.size == 0:
        raise EvaluationError(f"{name} is empty: a bootstrap interval needs at least one value")
    if not np.isfinite(x).all():
        raise EvaluationError(f"{name} must be finite (found NaN or inf); drop those first")
    return x


def _check_options(n_resamples: object, confidence: object, seed: object) -> tuple[int, float]:
    if (
        isinstance(n_resamples, (bool, np.bool_))
        or not isinstance(n_resamples, numbers.Integral)
        or n_resamples < 1
    ):
        raise EvaluationError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if (
        isinstance(confidence, (bool, np.bool_))
        or not isinstance(confidence, numbers.Real)
        or not 0.0 < float(confidence) < 1.0
    ):
        raise EvaluationError(
            f"confidence must be a number strictly between 0 and 1 (e.g. 0.95), got {confidence!r}"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise EvaluationError(f"seed must be a non-negative integer, got {seed!r}")
    return int(n_resamples), float(confidence)


def _resampled_means(columns: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Means of each row of ``columns`` (shape (m, n)) over ``n_resamples`` shared resamples.

    Returns shape (n_resamples, m): row r holds the m means on the r-th resample of the n
    positions, the same positions for every row (what makes a paired bootstrap paired).
    """
    rng = np.random.default_rng(int(seed))
    n = columns.shape[1]
    out = np.empty((n_resamples, columns.shape[0]), dtype=np.float64)
    chunk = max(1, (1 << 22) // n)  # bounds memory to about 32 MB of indices
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = columns[:, idx].mean(axis=2).T
    return out


def _quantiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_interval(
    values,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval ``(low, high)`` of the mean of ``values``.

    ``values`` are independent per-user (or per-rating) numbers, shape (n,), e.g. a column of
    :func:`recsys_tutorial.metrics.per_user_metrics` or squared errors. The mean is
    recomputed on ``n_resamples`` resamples drawn with replacement (seeded by ``seed``: the
    same inputs give the same interval); ``low`` and ``high`` are its ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles, in the units of ``values``.

    Raises EvaluationError when ``values`` is empty or holds a non-finite number,
    ``n_resamples`` is not a positive integer, ``confidence`` is not strictly between 0 and 1
    or ``seed`` is not a non-negative integer.
    """
    x = _finite_vector(values, name="values")
    n_resamples, confidence = _check_options(n_resamples, confidence, seed)
    means = _resampled_means(x[None, :], n_resamples, int(seed))[:, 0]
    return _quantiles(means, confidence)


def rmse_interval(
    y_true,
    y_pred,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(rmse, low, high)``: the RMSE of ``y_pred`` and its bootstrap interval over ratings.

    ``y_true`` and ``y_pred`` have shape (n,), in stars. Each resample draws n ratings with
    replacement and takes the root of their mean squared error. Raises EvaluationError when
    the lengths differ, a value is not finite, or an option is bad (see
    :func:`bootstrap_interval`).
    """
    errors = _paired_errors(y_true, y_pred)
    n_resamples, confidence = _check_options(n_resamples, confidence, seed)
    mse = _resampled_means(errors[None, :], n_resamples, int(seed))[:, 0]
    low, high = _quantiles(np.sqrt(mse), confidence)
    return float(np.sqrt(errors.mean())), low, high


def rmse_difference_interval(
    y_true,
    pred_a,
    pred_b,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(difference, low, high)`` of RMSE(a) - RMSE(b) on the same ratings (paired bootstrap).

    All three arrays have shape (n,), in stars; negative means model a is more accurate.
    Each resample draws the same n ratings for both models, so the interval measures the
    difference itself rather than two noisy levels; pass ``low`` and ``high`` to
    :func:`verdict`. Raises EvaluationError as :func:`rmse_interval` does.
    """
    errors_a = _paired_errors(y_true, pred_a, name="pred_a")
    errors_b = _paired_errors(y_true, pred_b, name="pred_b")
    n_resamples, confidence = _check_options(n_resamples, confidence, seed)
    mse = _resampled_means(np.stack([errors_a, errors_b]), n_resamples, int(seed))
    low, high = _quantiles(np.sqrt(mse[:, 0]) - np.sqrt(mse[:, 1]), confidence)
    return float(np.sqrt(errors_a.mean()) - np.sqrt(errors_b.mean())), low, high


def _paired_errors(y_true, y_pred, *, name: str = "y_pred") -> np.ndarray:
    truth = _finite_vector(y_true, name="y_true")
    pred = _finite_vector(y_pred, name=name)
    if truth.shape != pred.shape:
        raise EvaluationError(
            f"y_true has {truth.size} values but {name} has {pred.size}: "
            "pass one prediction per rating, in the same order"
        )
    return (truth - pred) ** 2


def verdict(low: float, high: float, *, lower_is_better: bool = True) -> str:
    """The words a difference interval (a - b) supports, to put between "a is" and "b".

    With ``lower_is_better`` (RMSE): an interval wholly below 0 gives ``"better than"``,
    wholly above 0 ``"worse than"``, and one that holds 0 ``"not measurably different
    from"``. With ``lower_is_better=False`` (NDCG@10, hit rate) the first two swap. Raises
    EvaluationError when ``low > high`` or a bound is not finite.
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise EvaluationError(
            f"low and high must be finite with low <= high, got ({low!r}, {high!r})"
        )
    if low <= 0.0 <= high:
        return VERDICTS[2]
    below = high < 0.0
    return VERDICTS[0] if below == lower_is_better else VERDICTS[1]


def format_interval(value: float, low: float, high: float, fmt: str = ".3f") -> str:
    """``"0.912 [0.901, 0.925]"``: a value and its interval in one format (``fmt``)."""
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"
