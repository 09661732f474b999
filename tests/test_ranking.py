"""recsys_tutorial.ranking: liked-events matrix, EASE by hand, iALS/BPR through `implicit`."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import ConfigError, DataError, SchemaError
from recsys_tutorial.ranking import BPR, EASE, IMPLICIT_INSTALL_HINT, ImplicitALS, liked_matrix
from recsys_tutorial.schema import with_scale


def events(rows, rating=True):
    cols = ["userId", "movieId", "rating"] if rating else ["userId", "movieId"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- liked_matrix


def test_liked_matrix_keeps_ratings_from_four_stars_and_every_user_and_item():
    train = events([(1, 10, 4.0), (1, 20, 3.5), (2, 20, 5.0), (3, 30, 2.0)])
    x, users, items = liked_matrix(train)
    assert list(users) == [1, 2, 3] and list(items) == [10, 20, 30]
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.toarray(), [[1, 0, 0], [0, 1, 0], [0, 0, 0]])


def test_liked_threshold_follows_a_one_to_ten_scale():
    train = with_scale(events([("a", 1, 7), ("a", 2, 8), ("b", 1, 10), ("b", 3, 3)]), (1, 10))
    x, users, items = liked_matrix(train)  # 7/9 up 1-10: 8 points
    np.testing.assert_array_equal(x.toarray(), [[0, 1, 0], [1, 0, 0]])
    x7, _, _ = liked_matrix(train, threshold=7)
    assert x7.sum() == 3
    x_scale, _, _ = liked_matrix(train.assign(rating=train.rating), scale=(1, 10))
    assert x_scale.sum() == 2


def test_implicit_feedback_counts_every_event_once():
    clicks = events([("u1", "i1"), ("u1", "i1"), ("u1", "i2"), ("u2", "i2")], rating=False)
    x, users, items = liked_matrix(clicks)
    np.testing.assert_array_equal(x.toarray(), [[1, 1], [0, 1]])  # a repeated click is one 1


def test_liked_matrix_errors_name_the_problem():
    with pytest.raises(SchemaError, match="movieId"):
        liked_matrix(pd.DataFrame({"userId": [1], "rating": [5.0]}))
    with pytest.raises(DataError, match=r"none rated >= 4"):
        liked_matrix(events([(1, 1, 3.0), (2, 1, 1.0)]))
    with pytest.raises(SchemaError, match="DataFrame"):
        liked_matrix([(1, 1, 5.0)])


# --------------------------------------------------------------------------- EASE

TWO_ITEMS = events([("u1", "a", 5.0), ("u1", "b", 4.0), ("u2", "a", 4.5), ("u3", "b", 4.0)])


def test_ease_two_items_by_hand():
    # X = [[1,1],[1,0],[0,1]] -> G = [[2,1],[1,2]]; lambda = 1: P = (G + I)^-1 = [[3,-1],[-1,3]]/8
    # B_ab = -P_ab / P_bb = (1/8) / (3/8) = 1/3, diagonal 0
    model = EASE(lam=1.0).fit(TWO_ITEMS)
    np.testing.assert_allclose(model.B_, [[0, 1 / 3], [1 / 3, 0]], rtol=1e-6)
    # u2 liked a: scores x_u . B = [0, 1/3]; u1 liked both: [1/3, 1/3]
    np.testing.assert_allclose(model.score_items("u2", ["a", "b"]), [0.0, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(model.score_items("u1", ["b", "a"]), [1 / 3, 1 / 3], rtol=1e-6)
    assert model.score_items("u2", ["a"]).dtype == np.float64


def test_ease_matches_the_closed_form_computed_with_numpy():
    rng = np.random.default_rng(0)
    dense = (rng.random((12, 6)) < 0.4).astype(np.float64)
    dense[0] = 1.0  # every item liked at least once
    rows = [(u, i, 5.0) for u, i in zip(*np.nonzero(dense), strict=True)]
    lam = 2.5
    model = EASE(lam=lam).fit(events(rows))
    order = np.asarray(model.items_)  # items in order of appearance
    x = dense[:, order]
    gram = x.T @ x
    p = np.linalg.inv(gram + lam * np.eye(6))
    b = np.eye(6) - p / np.diag(p)
    np.testing.assert_allclose(np.diag(model.B_), 0.0)
    np.testing.assert_allclose(model.B_, b, atol=1e-5)
    # the constrained least-squares optimum: (G + lam I) B - G is diagonal
    resid = (gram + lam * np.eye(6)) @ model.B_ - gram
    np.testing.assert_allclose(resid - np.diag(np.diag(resid)), 0.0, atol=1e-4)
    scores = model.score_users(list(model.users_), list(model.items_))
    np.testing.assert_allclose(scores, x[np.asarray(model.users_)] @ b, atol=1e-5)


def test_ease_only_inverts_liked_items_and_scores_the_rest_zero():
    train = events([(1, 10, 5.0), (1, 20, 4.0), (2, 10, 4.0), (2, 30, 1.0), (3, 20, 5.0)])
    model = EASE(lam=1.0).fit(train)
    assert list(model.active_items_) == [10, 20] and model.B_.shape == (2, 2)
    # item 30 (only disliked) and 99 (never rated) score 0, as in the full closed form
    np.testing.assert_array_equal(model.score_items(2, [30, 99]), [0.0, 0.0])
    full = EASE(lam=1.0).fit(train)
    assert full.score_items(2, [20])[0] == pytest.approx(1 / 3, rel=1e-6)


@pytest.mark.parametrize("ids", [
    ["007", "07", "7"],  # leading zeros are different ids
    [7, "7", 2**70],  # an int, a string and a very large integer stay three ids
    ["Zoë", "東京", "A1"],
])
def test_ease_keeps_ids_of_any_kind(ids):
    a, b, c = ids
    coded = events([(1, 0, 5.0), (1, 1, 4.0), (2, 0, 4.5), (3, 1, 4.0), (3, 2, 5.0)])
    named = coded.assign(movieId=pd.Series([a, b, a, b, c], dtype=object),
                         userId=pd.Series([c, c, b, a, a], dtype=object))
    ref = EASE(lam=1.0).fit(coded)
    model = EASE(lam=1.0).fit(named)
    assert list(model.items_) == [a, b, c] and list(model.users_) == [c, b, a]
    for user, ref_user in ((c, 1), (b, 2), (a, 3)):
        np.testing.assert_allclose(model.score_items(user, [c, a, b]),
                                   ref.score_items(ref_user, [2, 0, 1]), rtol=1e-6)


def test_unknown_users_and_users_without_likes_get_popularity():
    train = events([(1, 10, 5.0), (1, 20, 4.0), (2, 10, 4.0), (3, 20, 1.0), (4, 10, 4.5)])
    model = EASE(lam=1.0).fit(train)
    # liked events per item: 10 -> 3, 20 -> 1
    np.testing.assert_array_equal(model.score_items(999, [10, 20, 55]), [3.0, 1.0, 0.0])
    np.testing.assert_array_equal(model.score_items(3, [20, 10]), [1.0, 3.0])  # only a 1-star
    scores = model.score_users([999, 1, 3], [10, 20])
    assert scores.shape == (3, 2) and scores.dtype == np.float32
    np.testing.assert_allclose(scores[1], model.score_items(1, [10, 20]))


def test_ease_score_users_equals_score_items_row_by_row():
    rng = np.random.default_rng(1)
    rows = [(int(u), int(i), float(r)) for u, i, r in
            zip(rng.integers(0, 30, 300), rng.integers(0, 40, 300), rng.choice([2.0, 4.0, 5.0], 300),
                strict=True)]
    train = events(rows).drop_duplicates(["userId", "movieId"])
    model = EASE(lam=5.0).fit(train)
    users, items = [3, 0, 17, 1000], [39, 5, 7, 123, 0]
    block = model.score_users(users, items)
    for row, user in zip(block, users, strict=True):
        np.testing.assert_allclose(row, model.score_items(user, items), rtol=1e-5, atol=1e-6)
    assert model.score_users(users).shape == (4, len(model.items_))


@pytest.mark.parametrize("lam", [0, -1.0, True, "300", float("nan")])
def test_ease_refuses_a_bad_lambda(lam):
    with pytest.raises(ConfigError, match="lam"):
        EASE(lam=lam).fit(TWO_ITEMS)


def test_ease_accepts_numpy_scalars_and_must_be_fitted_first():
    assert EASE(lam=np.float32(1.0)).fit(TWO_ITEMS).B_.shape == (2, 2)
    with pytest.raises(ConfigError, match="fit"):
        EASE().score_items("u1", ["a"])


# --------------------------------------------------------------------------- iALS and BPR


def test_factor_models_say_how_to_install_implicit(monkeypatch):
    for name in ("implicit", "implicit.cpu", "implicit.cpu.als", "implicit.cpu.bpr"):
        monkeypatch.setitem(sys.modules, name, None)  # "import implicit" now fails
    for model in (ImplicitALS(), BPR()):
        with pytest.raises(ConfigError, match=r'pip install "recsys-tutorial\[implicit\]"'):
            model.fit(TWO_ITEMS)
    assert IMPLICIT_INSTALL_HINT == 'pip install "recsys-tutorial[implicit]"'


def two_tastes(seed=0, n_users=60, n_items=40, per_user=8, held_out=2):
    """Users 0..29 like items 0..19, users 30..59 items 20..39: (train, test) with each user's
    last ``held_out`` liked items in test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    half = n_items // 2
    for u in range(n_users):
        group = 0 if u < n_users // 2 else half
        liked = group + rng.choice(half, size=per_user + held_out, replace=False)
        train += [(u, int(i), 5.0) for i in liked[:per_user]]
        test += [(u, int(i), 5.0) for i in liked[per_user:]]
    return events(train), events(test)


def ndcg_of(scorer, train, test):
    from recsys_tutorial.ranking import evaluate_ranker

    items = np.arange(40)
    return evaluate_ranker(scorer, test, seen=train, items=items, k=5)["ndcg@5"]


class RandomScores:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def score_items(self, user_id, item_ids):
        return self.rng.random(len(item_ids))


@pytest.mark.parametrize("make", [
    lambda: ImplicitALS(factors=8, regularization=0.1, alpha=5.0, iterations=10, seed=0),
    lambda: BPR(factors=8, learning_rate=0.05, regularization=0.01, iterations=100, seed=0),
    lambda: EASE(lam=10.0),
], ids=["ials", "bpr", "ease"])
def test_models_learn_two_tastes_far_better_than_random(make):
    if not isinstance(make(), EASE):
        pytest.importorskip("implicit", reason="the implicit extra is not installed")
    train, test = two_tastes()
    model = make().fit(train)
    random_ndcg = np.mean([ndcg_of(RandomScores(s), train, test) for s in range(5)])
    learned = ndcg_of(model, train, test)
    assert random_ndcg < 0.15  # 2 relevant among 32 unseen items
    assert learned > random_ndcg + 0.15, (learned, random_ndcg)
    # each user's own taste group outscores the other group's unseen items
    scores = model.score_users(list(range(60)), list(range(40)))
    own = np.where(np.arange(60)[:, None] < 30, np.arange(40) < 20, np.arange(40) >= 20)
    assert (scores[own].mean() > scores[~own].mean())


@pytest.mark.parametrize("cls", [ImplicitALS, BPR])
def test_factor_models_are_reproducible_with_a_seed(cls):
    pytest.importorskip("implicit", reason="the implicit extra is not installed")
    train, _ = two_tastes()
    one = cls(factors=8, iterations=5, seed=3).fit(train)
    two = cls(factors=8, iterations=5, seed=3).fit(train)
    np.testing.assert_array_equal(one.user_factors_, two.user_factors_)
    np.testing.assert_array_equal(one.score_users([0, 45]), two.score_users([0, 45]))
    other = cls(factors=8, iterations=5, seed=4).fit(train)
    assert not np.array_equal(one.item_factors_, other.item_factors_)


def test_factor_models_score_with_their_factors_and_fall_back_to_popularity():
    pytest.importorskip("implicit", reason="the implicit extra is not installed")
    train, _ = two_tastes()
    model = ImplicitALS(factors=4, iterations=3, seed=0).fit(train)
    pos_u, pos_i = model.users_.get_loc(7), model.items_.get_loc(3)
    expect = model.user_factors_[pos_u] @ model.item_factors_[pos_i]
    assert model.score_items(7, [3])[0] == pytest.approx(float(expect), rel=1e-5)
    assert model.score_items(7, ["new item"])[0] == 0.0
    np.testing.assert_array_equal(model.score_items("new user", [3, 25]),
                                  model.popularity_[[pos_i, model.items_.get_loc(25)]])


@pytest.mark.parametrize("bad", [{"factors": 0}, {"factors": 2.5}, {"iterations": -1},
                                 {"regularization": -0.1}, {"seed": -1}])
def test_factor_models_refuse_bad_settings(bad):
    pytest.importorskip("implicit", reason="the implicit extra is not installed")
    for cls in (ImplicitALS, BPR):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            cls(**bad).fit(TWO_ITEMS)
