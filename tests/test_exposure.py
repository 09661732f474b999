"""recsys_tutorial.exposure: coverage, head share, Gini, z-score blends, popularity penalty."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import EvaluationError, UnknownItemError
from recsys_tutorial.exposure import (
    PopularityPenalty,
    ZScoreBlend,
    exposure_report,
    head_items,
    popularity_strength,
    zscore,
    zscore_blend,
)

SQRT_1_5 = math.sqrt(1.5)  # 1 / std of [1, 2, 3] (population std = sqrt(2/3))


def test_zscore_by_hand():
    np.testing.assert_allclose(zscore([1, 2, 3]), [-SQRT_1_5, 0.0, SQRT_1_5], rtol=1e-8)
    np.testing.assert_array_equal(zscore([4.0, 4.0]), [0.0, 0.0])  # constant: zeros, no NaN
    out = zscore([1.0, -np.inf, 3.0, np.nan])
    np.testing.assert_allclose(out[[0, 2]], [-1.0, 1.0], rtol=1e-8)  # mean 2, std 1
    assert out[1] == -np.inf and out[3] == -np.inf
    assert zscore([]).size == 0


def test_zscore_blend_by_hand():
    # z([1, 2, 3]) = [-1.2247, 0, 1.2247]; z([30, 10, 20]) = [1.2247, -1.2247, 0]
    out = zscore_blend([1, 2, 3], [30, 10, 20], 0.5)
    np.testing.assert_allclose(out, [-0.5 * SQRT_1_5, -0.5 * SQRT_1_5, SQRT_1_5], rtol=1e-8)
    np.testing.assert_allclose(zscore_blend([1, 2, 3], [30, 10, 20], 0), zscore([1, 2, 3]))
    # not finite in either input: -inf, even with a negative weight
    blended = zscore_blend([1.0, 2.0, -np.inf], [-np.inf, 1.0, 2.0], -2.0)
    assert blended[0] == -np.inf and blended[2] == -np.inf and np.isfinite(blended[1])
    with pytest.raises(EvaluationError, match="same items"):
        zscore_blend([1, 2], [1, 2, 3], 1.0)


def test_zscore_blend_equals_the_chapter_6_1_formula():
    rng = np.random.default_rng(0)
    rating, pop = rng.normal(3.5, 0.6, 500), rng.integers(0, 300, 500).astype(float)

    def z(x):
        return (x - x.mean()) / (x.std() + 1e-9)

    for alpha in (0.0, 0.25, 4.0):
        np.testing.assert_array_equal(
            zscore_blend(rating, np.log1p(pop), alpha), z(rating) + alpha * z(np.log1p(pop))
        )


def test_popularity_strength_by_hand():
    counts = pd.Series({10: 3, 20: 1, 30: 0})
    strength = popularity_strength(counts, [10, 20, 30, 40])
    np.testing.assert_allclose(strength.to_numpy(), [1.0, math.log(2) / math.log(4), 0.0, 0.0])
    assert list(strength.index) == [10, 20, 30, 40]
    mixed = popularity_strength(pd.Series({"007": 1, 7: 3}), ["007", 7])
    assert list(mixed.index) == ["007", 7]  # ids kept as given
    with pytest.raises(EvaluationError, match="no item has a rating"):
        popularity_strength(pd.Series({1: 0}), [1])


def test_head_items_rounds_the_share_and_keeps_tie_order():
    counts = pd.Series([9, 5, 5, 5, 1], index=["a", "b", "c", "d", "e"])
    assert head_items(counts, 0.4, 5) == {"a", "b"}  # round(2.0)
    assert head_items(counts, 0.5, 5) == {"a", "b"}  # round(2.5) = 2 (banker's rounding)
    assert head_items(counts, 0.01, 5) == {"a"}  # at least one item
    assert head_items(counts.iloc[::-1], 0.2, 5) == {"a"}  # unsorted counts are sorted
    assert head_items(counts, 0.01, 9742) == set(counts.index[:97])  # 97 = 9742 // 100
    for bad in (0, 1.5, True):
        with pytest.raises(EvaluationError, match="share"):
            head_items(counts, bad, 5)
    with pytest.raises(EvaluationError, match="n_items"):
        head_items(counts, 0.1, 0)


def test_exposure_report_by_hand():
    # 3 users × 2 slots over a catalogue of 5; item 1 is the head
    lists = {"u1": [1, 2], "u2": [1, 3], "u3": [1, 2]}
    report = exposure_report(lists, [1, 2, 3, 4, 5], head={1})
    assert report["coverage"] == pytest.approx(3 / 5)
    assert report["head_share"] == pytest.approx(3 / 6)
    # slots per item sorted: [0, 0, 1, 2, 3], cumulative share sum = (0+0+1+3+6)/6 = 10/6;
    # Gini = (n + 1 - 2 * 10/6) / n = (6 - 10/3) / 5 = 8/15
    assert report["gini"] == pytest.approx(8 / 15)


def test_exposure_report_extremes_and_errors():
    same = exposure_report({u: [7] for u in range(4)}, [7, 8, 9, 10], head={7})
    assert same == pytest.approx({"coverage": 0.25, "head_share": 1.0, "gini": 0.75})
    spread = exposure_report({0: [7, 8], 1: [9, 10]}, [7, 8, 9, 10], head={7})
    assert spread == pytest.approx({"coverage": 1.0, "head_share": 0.25, "gini": 0.0})
    with pytest.raises(EvaluationError, match="catalogue is empty"):
        exposure_report({0: [1]}, [], head=set())
    with pytest.raises(EvaluationError, match="no item"):
        exposure_report({0: []}, [1], head=set())
    with pytest.raises(UnknownItemError, match="not in the catalogue"):
        exposure_report({0: [1, 99]}, [1, 2], head=set())


class Fixed:
    def __init__(self, scores: dict):
        self.scores = scores

    def score_items(self, user_id, item_ids):
        return np.array([self.scores[i] for i in np.asarray(item_ids).tolist()], dtype=float)


def test_zscore_blend_scorer():
    model = Fixed({1: 1.0, 2: 2.0, 3: 3.0})
    popularity = Fixed({1: np.e**3 - 1, 2: np.e - 1, 3: np.e**2 - 1})  # log1p: 3, 1, 2
    blend = ZScoreBlend(model, popularity, 0.5, transform=np.log1p)
    np.testing.assert_allclose(
        blend.score_items(0, [1, 2, 3]), [-0.5 * SQRT_1_5, -0.5 * SQRT_1_5, SQRT_1_5], rtol=1e-8
    )
    np.testing.assert_allclose(ZScoreBlend(model, popularity, 0.0).score_items(0, [1, 2, 3]),
                               zscore([1, 2, 3]))


def test_popularity_penalty_by_hand():
    model = Fixed({1: 1.0, 2: 2.0, 3: 3.0, 4: -np.inf})
    strength = pd.Series({1: 0.0, 2: 1.0, 3: 0.5, 4: 1.0})
    scores = PopularityPenalty(model, strength, 2.0).score_items(0, [1, 2, 3, 4])
    np.testing.assert_allclose(scores[:3], [-SQRT_1_5, -2.0, SQRT_1_5 - 1.0], rtol=1e-8)
    assert scores[3] == -np.inf  # outside the candidates stays out
    with pytest.raises(UnknownItemError, match="no popularity strength"):
        PopularityPenalty(model, strength.drop(3), 1.0).score_items(0, [1, 3])
