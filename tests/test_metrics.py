"""Hand-computed values for every metric in recsys_tutorial.metrics."""

import math

import numpy as np
import pytest

from recsys_tutorial.errors import RecommendError
from recsys_tutorial.metrics import (
    catalogue_coverage,
    gini,
    hit_rate_at_k,
    mae,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
    rmse,
)


def test_rmse_and_mae_hand_computed():
    # errors: 1, -1, 2 -> squared 1, 1, 4 -> mean 2 -> rmse sqrt(2); abs mean 4/3
    assert rmse([3, 4, 5], [4, 3, 3]) == pytest.approx(math.sqrt(2))
    assert mae([3, 4, 5], [4, 3, 3]) == pytest.approx(4 / 3)
    assert rmse([1.0], [1.0]) == 0.0


def test_error_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="2 values"):
        rmse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="zero ratings"):
        mae([], [])
    with pytest.raises(ValueError, match="finite"):
        rmse([1, np.nan], [1, 2])


# Recommended list a, b, c, d, e ; relevant {b, d, z}
REC = ["a", "b", "c", "d", "e"]
REL = {"b", "d", "z"}


def test_precision_recall_hit_rate():
    assert precision_at_k(REC, REL, 5) == pytest.approx(2 / 5)
    assert precision_at_k(REC, REL, 2) == pytest.approx(1 / 2)
    assert recall_at_k(REC, REL, 5) == pytest.approx(2 / 3)
    assert recall_at_k(REC, REL, 1) == 0.0
    assert hit_rate_at_k(REC, REL, 1) == 0.0
    assert hit_rate_at_k(REC, REL, 2) == 1.0
    # a list shorter than k: the gap counts as misses for precision
    assert precision_at_k(["b"], REL, 4) == pytest.approx(1 / 4)


def test_ndcg_hand_computed():
    # hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal: 3 relevant -> ranks 1, 2, 3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(REC, REL, 5) == pytest.approx(dcg / idcg)
    # ideal is capped at k: with k = 2 and hit at rank 2 only
    assert ndcg_at_k(REC, REL, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["b", "d", "z"], REL, 3) == pytest.approx(1.0)
    assert ndcg_at_k(REC, set(), 5) == 0.0


def test_map_hand_computed():
    # hits at ranks 2 (P=1/2) and 4 (P=2/4); divided by min(3, 5) = 3
    assert map_at_k(REC, REL, 5) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert map_at_k(["b", "d"], {"b", "d"}, 2) == pytest.approx(1.0)


def test_coverage_and_gini():
    assert catalogue_coverage({1: [1, 2], 2: [2, 3]}, n_items=10) == pytest.approx(0.3)
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    # one item takes everything among n=4: G = (n-1)/n
    assert gini([0, 0, 0, 8]) == pytest.approx(3 / 4)
    # [1, 2, 3]: mean abs difference formula gives 2/9
    assert gini([1, 2, 3]) == pytest.approx(2 / 9)


def test_ranking_report_skips_users_without_relevant_items():
    recs = {1: ["a", "b"], 2: ["c", "d"], 3: ["e", "f"]}
    rel = {1: {"a"}, 2: {"x"}, 3: set()}
    report = ranking_report(recs, rel, k=2)
    assert report["users"] == 2
    assert report["hit_rate@2"] == pytest.approx(0.5)
    assert report["precision@2"] == pytest.approx(0.25)
    assert report["ndcg@2"] == pytest.approx(0.5)


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_bad_k_is_a_clear_error(k):
    with pytest.raises(RecommendError, match="positive integer"):
        ndcg_at_k(REC, REL, k)
