"""recsys_tutorial.ranking_eval: batched top-K lists equal top_k_for_users; evaluation; tuning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import ConfigError, RecommendError, UnknownUserError
from recsys_tutorial.ranking import EASE
from recsys_tutorial.ranking_eval import (
    evaluate_ranker,
    recommend_lists,
    score_matrix,
    seen_matrix,
    top_k_lists,
    top_k_matrix,
    tune_on_validation,
)
from recsys_tutorial.recommend import top_k_for_users


class TableScorer:
    """Fixed scores: ``table[user][item]`` (score_items only, no score_users)."""

    def __init__(self, table):
        self.table = table

    def score_items(self, user_id, item_ids):
        return np.array([self.table[user_id][i] for i in item_ids], dtype=np.float64)


def test_top_k_matrix_by_hand():
    scores = [[3.0, 1.0, 3.0, 2.0, np.nan],
              [-np.inf, 5.0, np.inf, 0.0, 1.0]]
    seen = [[False, False, False, True, False],
            [False, True, False, False, False]]
    # row 0: 3 (col 0) ties 3 (col 2): the lower column first; col 3 seen, col 4 NaN
    # row 1: +inf is not finite, col 1 seen, -inf never shown: cols 4, 3, then nothing
    np.testing.assert_array_equal(top_k_matrix(scores, seen, 3), [[0, 2, 1], [4, 3, -1]])
    np.testing.assert_array_equal(top_k_matrix(scores, seen, np.int64(1)), [[0], [4]])


def test_top_k_matrix_refuses_bad_input():
    with pytest.raises(RecommendError, match="k must be a positive integer"):
        top_k_matrix([[1.0]], [[False]], 0)
    with pytest.raises(RecommendError, match="same shape"):
        top_k_matrix([[1.0, 2.0]], [[False]], 1)


def test_top_k_lists_equal_top_k_for_users_with_ties_strings_and_unshowable_items():
    items = ["007", "A1", 7, "7", "Zoë"]
    table = {
        "u1": {"007": 1.0, "A1": 2.0, 7: 2.0, "7": -np.inf, "Zoë": 0.5},
        "u2": {"007": 0.0, "A1": 0.0, 7: 0.0, "7": 0.0, "Zoë": 0.0},  # all tied
        "u3": {"007": np.nan, "A1": -np.inf, 7: 1.0, "7": np.nan, "Zoë": np.nan},  # one left
        "u4": {"007": 1.0, "A1": 1.0, 7: -np.inf, "7": -np.inf, "Zoë": -np.inf},  # nothing left
    }
    seen = pd.DataFrame({"userId": ["u1", "u2", "u3", "u4", "u4"],
                         "movieId": ["Zoë", 7, "A1", "007", "A1"]})
    scorer = TableScorer(table)
    users = list(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # short and skipped users
        expected = top_k_for_users(scorer, users, seen=seen, items=items, k=3)
    scores = score_matrix(scorer, users, items)
    mask = seen_matrix(seen, users, items)
    got = top_k_lists(scores, mask, 3, users, items)
    assert got == expected
    assert got == {"u1": ["A1", 7, "007"], "u2": ["007", "A1", "7"], "u3": [7]}
    assert got.attrs == expected.attrs == {"skipped_users": ["u4"], "short_users": ["u3"]}
    batched = recommend_lists(scorer, users, seen=seen, items=items, k=3, batch_size=3)
    assert batched == expected and batched.attrs == expected.attrs


def test_seen_matrix_by_hand_ignores_pairs_outside_the_block():
    seen = pd.DataFrame({"userId": [1, 1, 2, 9], "movieId": [10, 30, 20, 10]})
    np.testing.assert_array_equal(seen_matrix(seen, [2, 1], [10, 20, 99]),
                                  [[False, True, False], [True, False, False]])


def ratings_frame(seed=0, n_users=25, n_items=30, n=300):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"userId": rng.integers(0, n_users, n), "movieId": rng.integers(0, n_items, n),
                          "rating": rng.choice([1.0, 3.0, 4.0, 4.5, 5.0], n)})
    return frame.drop_duplicates(["userId", "movieId"]).reset_index(drop=True)


def test_recommend_lists_with_ease_equal_top_k_for_users():
    train = ratings_frame()
    model = EASE(lam=3.0).fit(train)
    users, items = list(pd.unique(train.userId)), list(range(35))  # 5 items never rated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = top_k_for_users(model, users, seen=train, items=items, k=5)
    got = recommend_lists(model, users, seen=train, items=items, k=5, batch_size=7)
    assert got == expected
    # the fallback path (one score_items call per user) gives the same scores
    np.testing.assert_allclose(score_matrix(TableScorer({u: dict(zip(items, model.score_items(
        u, items), strict=True)) for u in users[:3]}), users[:3], items),
        score_matrix(model, users[:3], items), rtol=1e-6)


def test_recommend_lists_refuses_unknown_users_unless_allowed():
    train = ratings_frame()
    model = EASE(lam=3.0).fit(train)
    with pytest.raises(UnknownUserError, match="allow_unknown_users"):
        recommend_lists(model, [0, 404], seen=train, items=range(30), k=3)
    lists = recommend_lists(model, [404], seen=train, items=range(30), k=3, allow_unknown_users=True)
    popular = train[train.rating >= 4].movieId.value_counts()
    assert set(lists[404]) <= set(popular.index[popular >= popular.iloc[2]])
    with pytest.raises(RecommendError, match="larger than the catalogue"):
        recommend_lists(model, [0], seen=train, items=[1, 2], k=3)


def test_evaluate_ranker_by_hand():
    train = pd.DataFrame({"userId": [1, 2], "movieId": ["a", "b"], "rating": [5.0, 5.0]})
    test = pd.DataFrame({"userId": [1, 1, 2, 2], "movieId": ["b", "c", "c", "d"],
                         "rating": [5.0, 2.0, 4.0, 3.0]})  # relevant: 1 -> {b}, 2 -> {c}
    table = {1: {"a": 9.0, "b": 1.0, "c": 2.0, "d": 0.0},  # list [c, b]: hit at rank 2
             2: {"a": 3.0, "b": 9.0, "c": 2.0, "d": 1.0}}  # list [a, c]: hit at rank 2
    report = evaluate_ranker(TableScorer(table), test, seen=train, items=["a", "b", "c", "d"], k=2)
    assert report["ndcg@2"] == pytest.approx(1 / np.log2(3))
    assert report["precision@2"] == pytest.approx(0.5) and report["hit_rate@2"] == 1.0
    assert report["users"] == 2 and report["coverage"] == pytest.approx(3 / 4)
    # slots per item a, b, c, d = 1, 1, 2, 0: Gini = (n + 1 - 2 * sum(cum share)) / n
    cum = np.cumsum([0, 1, 1, 2]) / 4
    assert report["gini"] == pytest.approx((5 - 2 * cum.sum()) / 4)
    with_ci = evaluate_ranker(TableScorer(table), test, seen=train, items=list("abcd"), k=2,
                              interval=True)
    assert with_ci["ndcg@2_low"] <= with_ci["ndcg@2"] <= with_ci["ndcg@2_high"]


class Signed:
    """Popularity in ``fit`` times ``sign``: +1 ranks popular items first, -1 last."""

    def __init__(self, sign, shift=0.0):
        self.sign, self.shift = sign, shift

    def fit(self, train):
        self.counts = train.movieId.value_counts()
        return self

    def score_items(self, user_id, item_ids):
        return np.array([self.sign * self.counts.get(i, 0) + self.shift for i in item_ids], float)


def popular_validation():
    """Items 0..4 are popular in fit and are what validation users liked next."""
    fit = pd.DataFrame({"userId": np.repeat(np.arange(20), 3),
                        "movieId": np.concatenate([np.roll(np.arange(5), -u)[:3] for u in range(20)]),
                        "rating": 5.0})
    fit = pd.concat([fit, pd.DataFrame({"userId": np.arange(20), "movieId": 10 + np.arange(20),
                                        "rating": 5.0})], ignore_index=True)
    val = pd.DataFrame({"userId": np.arange(20),
                        "movieId": [np.roll(np.arange(5), -u)[3] for u in range(20)],
                        "rating": 5.0})
    return fit, val


def test_tuning_picks_the_clearly_better_grid_point():
    fit, val = popular_validation()
    best, table = tune_on_validation(lambda sign, shift: Signed(sign, shift),
                                     {"sign": [-1.0, 1.0], "shift": [0.0, 3.0]}, fit, val,
                                     seen=fit, k=3)
    assert best == {"sign": 1.0, "shift": 0.0}  # first of the two tied best points
    assert list(table.columns[:2]) == ["sign", "shift"] and len(table) == 4
    ndcg = table["ndcg@3"].to_numpy()
    assert ndcg[2] == ndcg[3] > 0.5 > ndcg[0]
    assert {"recall@3", "coverage", "gini", "fit_seconds", "users"} <= set(table.columns)
    best_list, _ = tune_on_validation(Signed, [{"sign": -1.0}, {"sign": 1.0}], fit, val, seen=fit, k=3)
    assert best_list == {"sign": 1.0}


def test_tuning_chooses_ease_lambda_on_validation_only():
    train = ratings_frame(seed=3, n=500)
    cut = int(len(train) * 0.8)
    fit, val = train.iloc[:cut], train.iloc[cut:]
    best, table = tune_on_validation(EASE, {"lam": [0.5, 5.0, 50.0]}, fit, val, seen=fit,
                                     allow_unknown_users=True)
    assert table["lam"].tolist() == [0.5, 5.0, 50.0]
    assert best["lam"] == table.loc[table["ndcg@10"].idxmax(), "lam"]
    refit = EASE(**best).fit(fit)
    again = evaluate_ranker(refit, val, seen=fit, items=pd.unique(train.movieId),
                            allow_unknown_users=True)
    assert again["ndcg@10"] == pytest.approx(table["ndcg@10"].max())


@pytest.mark.parametrize("grid", [{}, [], {"lam": []}, "lam", [1, 2]])
def test_tuning_refuses_an_empty_or_malformed_grid(grid):
    fit, val = popular_validation()
    with pytest.raises(ConfigError, match="grid"):
        tune_on_validation(Signed, grid, fit, val, seen=fit)
