"""Hand-computed values for every metric in recsys_tutorial.metrics."""

import math

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import EvaluationError
from recsys_tutorial.metrics import (
    RANKING_METRICS,
    bootstrap_interval,
    catalogue_coverage,
    gini,
    hit_rate_at_k,
    mae,
    map_at_k,
    ndcg_at_k,
    per_user_metrics,
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
    with pytest.raises(EvaluationError, match="2 values"):
        rmse([1, 2], [1, 2, 3])
    with pytest.raises(EvaluationError, match="zero ratings"):
        mae([], [])
    with pytest.raises(EvaluationError, match="y_true.*finite"):
        rmse([1, np.nan], [1, 2])
    with pytest.raises(EvaluationError, match="y_pred.*finite.*position 1"):
        mae([1, 2], [1, np.inf])
    with pytest.raises(ValueError, match="numbers"):  # EvaluationError is a ValueError
        rmse(["a"], [1])


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


@pytest.mark.parametrize("k", [0, -1, 2.5, True, False, "3", None, np.float64(2.0)])
@pytest.mark.parametrize("name", list(RANKING_METRICS))
def test_bad_k_is_a_clear_error(name, k):
    with pytest.raises(EvaluationError, match=r"^k must be a positive integer"):
        RANKING_METRICS[name](REC, REL, k)
    with pytest.raises(EvaluationError, match=r"^k must be a positive integer"):
        ranking_report({1: REC}, {1: REL}, k=k)


def test_numpy_integer_k_is_accepted():
    for fn in RANKING_METRICS.values():
        assert fn(REC, REL, np.int64(5)) == fn(REC, REL, 5)
    assert ranking_report({1: REC}, {1: REL}, k=np.int32(5))["users"] == 1


# --------------------------------------------------------------------------- repeats, range


@pytest.mark.parametrize("name", list(RANKING_METRICS))
def test_a_list_that_repeats_an_item_is_refused(name):
    # the example: ndcg 2.13, recall and map 3.0 before the fix
    with pytest.raises(EvaluationError, match=r"repeats item 7 at ranks \[1, 2, 3\]"):
        RANKING_METRICS[name]([7, 7, 7], {7}, 3)
    with pytest.raises(EvaluationError, match=r"repeats item 'b' at ranks \[2, 4\]"):
        RANKING_METRICS[name](["a", "b", "c", "b"], {"b"}, 2)  # a repeat beyond k is refused too
    with pytest.raises(EvaluationError, match=r"repeats item 7 at ranks \[1, 2\]"):
        RANKING_METRICS[name](np.array([7, 7]), {7}, 2)


def test_ranking_report_refuses_a_repeated_item_naming_the_user():
    with pytest.raises(EvaluationError, match=r"user 'u2'.*repeats item 5 at ranks \[1, 3\]"):
        ranking_report({"u1": [1, 2], "u2": [5, 6, 5]}, {"u1": {1}, "u2": {5}}, k=3)
    with pytest.raises(EvaluationError, match="sequence of item ids"):
        ndcg_at_k("abc", {"a"}, 3)


def test_every_ranking_metric_stays_in_the_unit_interval():
    rng = np.random.default_rng(0)
    for _ in range(300):
        k = int(rng.integers(1, 8))
        rec = rng.permutation(20)[: rng.integers(0, 12)].tolist()
        rel = set(rng.choice(20, size=rng.integers(0, 6), replace=False).tolist())
        for fn in RANKING_METRICS.values():
            assert 0.0 <= fn(rec, rel, k) <= 1.0


def test_precision_recall_map_hand_computed_on_short_lists():
    # list of 2 for k=4: hits at ranks 1 and 2 of relevant {x, y, z}
    rec, rel = ["x", "q", "y"], {"x", "y", "z"}
    assert precision_at_k(rec, rel, 4) == pytest.approx(2 / 4)
    assert recall_at_k(rec, rel, 4) == pytest.approx(2 / 3)
    # AP@4: precision at rank 1 = 1, at rank 3 = 2/3; divided by min(3, 4) = 3
    assert map_at_k(rec, rel, 4) == pytest.approx((1 + 2 / 3) / 3)
    # k = 2 cuts the list: only the hit at rank 1; divided by min(3, 2) = 2
    assert map_at_k(rec, rel, 2) == pytest.approx(1 / 2)
    assert recall_at_k(rec, rel, 2) == pytest.approx(1 / 3)
    assert hit_rate_at_k([], rel, 3) == 0.0 and map_at_k([], rel, 3) == 0.0
    # a huge k costs nothing: ideal DCG over the 3 relevant items
    assert ndcg_at_k(rec, rel, 10**12) == pytest.approx(
        (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    )
    assert precision_at_k(rec, set(), 3) == 0.0 and recall_at_k(rec, set(), 3) == 0.0


def test_ndcg_agrees_with_scikit_learn_on_random_lists():
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(42)
    n_items, checked = 40, 0
    for _ in range(1000):
        k = int(rng.integers(1, 11))
        length = int(rng.integers(0, k + 6))  # about a third of the lists are shorter than k
        ranked = rng.permutation(n_items)[:length]
        relevant = set(rng.choice(n_items, size=int(rng.integers(1, 9)), replace=False).tolist())
        # distinct scores: ranked items first in list order, then unranked irrelevant items,
        # then unranked relevant ones, so sklearn's top k holds our list plus zero-gain filler
        # and its ideal DCG counts every relevant item, capped at k, as ours does
        unranked = [i for i in range(n_items) if i not in set(ranked.tolist())]
        order = (
            ranked.tolist()
            + [i for i in unranked if i not in relevant]
            + [i for i in unranked if i in relevant]
        )
        y_score = np.empty(n_items)
        y_score[order] = np.arange(n_items, 0, -1, dtype=float)
        y_true = np.array([[1.0 if i in relevant else 0.0 for i in range(n_items)]])
        expected = ndcg_score(y_true, y_score[None, :], k=k)
        assert ndcg_at_k(ranked.tolist(), relevant, k) == pytest.approx(expected, abs=1e-12)
        checked += length < k
    assert checked > 200  # many short lists were covered


# --------------------------------------------------------------------------- many users


def test_ranking_report_counts_users_without_a_list_as_zero():
    # the example: lists for user 1 only, user 2 also has a relevant test item
    report = ranking_report({1: ["a", "b"]}, {1: {"a"}, 2: {"c"}}, k=2)
    assert report["users"] == 2
    assert report["users_without_list"] == 1
    assert report["hit_rate@2"] == pytest.approx(0.5)
    assert report["recall@2"] == pytest.approx(0.5)
    assert report["ndcg@2"] == pytest.approx(0.5)
    assert report["precision@2"] == pytest.approx(0.25)
    assert list(report) == [
        "precision@2",
        "recall@2",
        "ndcg@2",
        "hit_rate@2",
        "map@2",
        "users",
        "users_without_list",
    ]


def test_ranking_report_on_a_sample_of_users_and_no_relevant_item():
    recs = {1: ["a"], 3: ["c"]}
    rel = {1: {"a"}, 2: {"b"}, 3: {"x"}, 4: set()}
    report = ranking_report(recs, rel, k=1, users=[1, 3, 4, 1])
    assert (report["users"], report["users_without_list"]) == (2, 0)  # 4 has nothing relevant
    assert report["hit_rate@1"] == pytest.approx(0.5)
    with pytest.raises(EvaluationError, match="no user has a relevant item"):
        ranking_report(recs, {1: set()}, k=1)
    with pytest.raises(EvaluationError, match="mapping"):
        ranking_report([["a"]], rel, k=1)


def test_per_user_metrics_rows_and_missing_lists():
    recs = {"u1": ["a", "b", "c"], "u3": ["z"], "u9": ["a"]}
    rel = {"u1": {"b", "d"}, "u2": {"a"}, "u3": set()}
    table = per_user_metrics(recs, rel, k=3)
    assert table.index.tolist() == ["u1", "u2"]  # u3: nothing relevant; u9: not in relevant
    assert table.index.name == "userId"
    assert table.columns.tolist() == [
        "precision@3",
        "recall@3",
        "ndcg@3",
        "hit_rate@3",
        "map@3",
        "has_list",
    ]
    u1 = table.loc["u1"]
    assert u1["precision@3"] == pytest.approx(1 / 3)
    assert u1["recall@3"] == pytest.approx(1 / 2)
    assert u1["ndcg@3"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert u1["map@3"] == pytest.approx((1 / 2) / 2)
    assert (
        table.loc["u2", ["precision@3", "recall@3", "ndcg@3", "hit_rate@3", "map@3"]].tolist()
        == [0.0] * 5
    )
    assert table["has_list"].tolist() == [True, False]
    report = ranking_report(recs, rel, k=3)
    for col in table.columns[:-1]:
        assert report[col] == pytest.approx(table[col].mean())


def test_ranking_report_interval_brackets_the_mean():
    rng = np.random.default_rng(1)
    recs = {u: rng.permutation(30)[:5].tolist() for u in range(200)}
    rel = {u: set(rng.choice(30, size=3, replace=False).tolist()) for u in range(200)}
    plain = ranking_report(recs, rel, k=5)
    report = ranking_report(recs, rel, k=5, interval=True, n_resamples=500, seed=3)
    for name in RANKING_METRICS:
        key = f"{name}@5"
        assert report[key] == plain[key]
        assert report[f"{key}_low"] < report[key] < report[f"{key}_high"]
        values = per_user_metrics(recs, rel, 5)[key].to_numpy()
        assert (report[f"{key}_low"], report[f"{key}_high"]) == bootstrap_interval(
            values, n_resamples=500, seed=3
        )


def test_bootstrap_interval_values():
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert bootstrap_interval([5.0]) == (5.0, 5.0)
    # 0/1 values with p = 0.3, n = 400: the normal approximation gives 0.3 +- 1.96 * sqrt(.21 / 400)
    values = np.array([1.0] * 120 + [0.0] * 280)
    low, high = bootstrap_interval(values, n_resamples=4000, seed=0)
    half = 1.959964 * math.sqrt(0.3 * 0.7 / 400)
    assert low == pytest.approx(0.3 - half, abs=0.006)
    assert high == pytest.approx(0.3 + half, abs=0.006)
    assert bootstrap_interval(values, seed=0) == bootstrap_interval(pd.Series(values), seed=0)
    assert bootstrap_interval(values, seed=0) != bootstrap_interval(values, seed=1)
    low90, high90 = bootstrap_interval(values, confidence=0.9, n_resamples=4000, seed=0)
    assert low < low90 < high90 < high


def test_bootstrap_interval_matches_scipy_percentile_bootstrap():
    from scipy.stats import bootstrap

    values = np.random.default_rng(5).exponential(size=150)
    ours = bootstrap_interval(values, n_resamples=20000, seed=0)
    ref = bootstrap((values,), np.mean, n_resamples=20000, method="percentile", random_state=0)
    ref = ref.confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.02)
    assert ours[1] == pytest.approx(ref.high, abs=0.02)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": []}, "values is empty"),
        ({"values": [1.0, np.nan]}, "finite"),
        ({"values": ["a"]}, "numbers"),
        ({"values": [1.0], "n_resamples": 0}, "n_resamples"),
        ({"values": [1.0], "n_resamples": True}, "n_resamples"),
        ({"values": [1.0], "confidence": 1.0}, "confidence"),
        ({"values": [1.0], "confidence": 0}, "confidence"),
        ({"values": [1.0], "confidence": float("nan")}, "confidence"),
        ({"values": [1.0], "seed": -1}, "seed"),
        ({"values": [1.0], "seed": 1.5}, "seed"),
    ],
)
def test_bootstrap_interval_validates_arguments(kwargs, match):
    with pytest.raises(EvaluationError, match=match):
        bootstrap_interval(kwargs.pop("values"), **kwargs)
    assert bootstrap_interval([1.0, 3.0], n_resamples=np.int64(10), seed=np.int64(2))[0] >= 1.0


@pytest.mark.parametrize("n_items", [0, -3, 2.5, True, None, "10"])
def test_coverage_refuses_a_bad_catalogue_size(n_items):
    with pytest.raises(EvaluationError, match="n_items"):
        catalogue_coverage({1: [1, 2]}, n_items=n_items)


def test_coverage_stays_in_the_unit_interval():
    assert catalogue_coverage([[1, 2], [2, 3]], n_items=np.int64(3)) == pytest.approx(1.0)
    assert catalogue_coverage({}, n_items=5) == 0.0
    with pytest.raises(EvaluationError, match="3 distinct items but n_items=2"):
        catalogue_coverage({1: [1, 2], 2: [3]}, n_items=2)


def test_gini_refuses_negative_or_missing_counts():
    with pytest.raises(EvaluationError, match="non-negative"):
        gini([1, -1])
    with pytest.raises(EvaluationError, match="finite"):
        gini([1, np.nan])


def test_ranking_report_warns_when_no_list_matches_a_relevant_user():
    with pytest.warns(UserWarning, match=r"none of the 2 lists.*'1' is not 1"):
        report = ranking_report({"1": [10], "2": [20]}, {1: {10}, 2: {20}}, k=1)
    assert report["users_without_list"] == 2 and report["hit_rate@1"] == 0.0
