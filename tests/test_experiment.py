"""recsys_tutorial.experiment: named splits, row samples, short item texts, cached/max scorers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial import splits
from recsys_tutorial.errors import ConfigError, RecommendError
from recsys_tutorial.experiment import (
    DEFAULT_TEST_SIZE,
    SPLITS,
    CachedScorer,
    MaxScorer,
    sample_rows,
    short_item_text,
    split_ratings,
)
from recsys_tutorial.recommend import TwoStage, recommend
from recsys_tutorial.text import item_text


@pytest.fixture
def ratings() -> pd.DataFrame:
    """40 users × 5 items, every pair rated once, distinct timestamps."""
    users, items = np.meshgrid(np.arange(40), np.arange(5), indexing="ij")
    n = users.size
    return pd.DataFrame({
        "userId": users.ravel(),
        "movieId": 100 + items.ravel(),
        "rating": (np.arange(n) % 9 + 1) / 2,
        "timestamp": np.arange(n) * 10,
    })


# --------------------------------------------------------------------------- split_ratings
@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("random", lambda r: splits.random_split(r, test_size=0.2, seed=3)),
        ("temporal", lambda r: splits.temporal_split(r, test_size=0.2)),
        ("cold-items", lambda r: splits.cold_start_items_split(r, test_size=0.1, seed=3)),
        ("cold-users", lambda r: splits.cold_start_users_split(r, test_size=0.1, seed=3)),
    ],
)
def test_split_ratings_dispatches_with_the_cli_defaults(ratings, how, expected):
    train, test = split_ratings(ratings, how, seed=3)
    want_train, want_test = expected(ratings)
    pd.testing.assert_frame_equal(train, want_train)
    pd.testing.assert_frame_equal(test, want_test)


def test_split_ratings_test_size_overrides_the_default(ratings):
    _, test = split_ratings(ratings, "random", seed=0, test_size=0.5)
    assert len(test) == 100  # half of 200 ratings
    _, cold = split_ratings(ratings, "cold-users", seed=0, test_size=0.25)
    assert cold["userId"].nunique() == 10  # a quarter of 40 users
    assert set(DEFAULT_TEST_SIZE) == set(SPLITS)


def test_split_ratings_unknown_name_lists_the_choices(ratings):
    with pytest.raises(ConfigError, match="'S1'.*random, temporal, cold-items, cold-users"):
        split_ratings(ratings, "S1", seed=0)


# --------------------------------------------------------------------------- sample_rows
def _old_notebook_sample(rng, frame, n):
    """The helper chapters 5.2 and 5.2b defined inline (one generator for several samples)."""
    positions = np.sort(rng.choice(len(frame), size=min(n, len(frame)), replace=False))
    return frame.iloc[positions].reset_index(drop=True)


def test_sample_rows_equals_the_old_inline_helper_with_a_shared_generator(ratings):
    val = ratings.iloc[150:]
    old_rng, new_rng = np.random.default_rng(42), np.random.default_rng(42)
    old = [_old_notebook_sample(old_rng, ratings, 30), _old_notebook_sample(old_rng, val, 80)]
    new = [sample_rows(ratings, 30, new_rng), sample_rows(val, 80, new_rng)]
    for a, b in zip(old, new, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert len(new[1]) == 50  # min(n, len): the whole frame, in its order
    pd.testing.assert_frame_equal(new[1], val.reset_index(drop=True))


def test_sample_rows_keeps_order_and_resets_index(ratings):
    out = sample_rows(ratings, 12, np.random.default_rng(0))
    assert list(out.index) == list(range(12))
    assert out["timestamp"].is_monotonic_increasing  # rows in their order in the frame
    assert not out.duplicated().any()
    assert out.merge(ratings).shape == out.shape  # every row comes from the frame


def test_sample_rows_integer_seed_is_deterministic_and_matches_pandas(ratings):
    a, b = sample_rows(ratings, 17, 7), sample_rows(ratings, 17, np.int64(7))
    pd.testing.assert_frame_equal(a, b)
    drawn = sample_rows(ratings, 17, 7, keep_order=False)
    pandas = ratings.sample(17, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(drawn, pandas)
    pd.testing.assert_frame_equal(a, drawn.sort_values("timestamp").reset_index(drop=True))
    assert not a.equals(sample_rows(ratings, 17, 8))


def test_sample_rows_edge_cases(ratings):
    assert sample_rows(ratings, 0, 1).empty
    assert len(sample_rows(ratings.iloc[:0], 5, 1)) == 0
    for bad in (-1, 2.5, True, "3"):
        with pytest.raises(ConfigError, match="n must be"):
            sample_rows(ratings, bad, 0)
    with pytest.raises(ConfigError, match="seed_or_rng"):
        sample_rows(ratings, 3, "seed")


# --------------------------------------------------------------------------- short_item_text
def test_short_item_text_cuts_title_and_genres():
    genres = ["Action", "Crime", "Thriller", "Drama"]
    assert short_item_text("Heat", 1995, genres) == "Heat (1995) | Action, Crime, Thriller"
    long_title = "A" * 70
    assert short_item_text(long_title, None, ()) == "A" * 60
    assert short_item_text("Heat", 1995, genres, max_genres=1, max_title=2) == "He (1995) | Action"
    # the same text the chapters' inline helper built
    assert short_item_text(long_title, 2001, genres, ["x"]) == item_text(
        long_title[:60], 2001, genres[:3], ["x"]
    )


# --------------------------------------------------------------------------- scorers
class CountingScorer:
    """Score = item id / 10 + user id; remembers which items it was asked to score."""

    def __init__(self):
        self.calls: list[list] = []

    def score_items(self, user_id, item_ids):
        ids = np.asarray(item_ids)
        self.calls.append(ids.tolist())
        return ids.astype(float) / 10 + user_id


def test_cached_scorer_scores_each_pair_once():
    inner = CountingScorer()
    cached = CachedScorer(inner)
    np.testing.assert_allclose(cached.score_items(1, [3, 5, 3]), [1.3, 1.5, 1.3])
    np.testing.assert_allclose(cached.score_items(1, np.array([5, 7])), [1.5, 1.7])
    np.testing.assert_allclose(cached.score_items(2, [5]), [2.5])
    assert inner.calls == [[3, 5], [7], [5]]
    cached.clear()
    cached.score_items(1, [3])
    assert inner.calls[-1] == [3]


def test_cached_scorer_checks_the_wrapped_scorer():
    class Broken:
        def score_items(self, user_id, item_ids):
            return np.zeros(1)

    with pytest.raises(RecommendError, match="1 scores for 2 items"):
        CachedScorer(Broken()).score_items(0, [1, 2])


class Fixed:
    def __init__(self, scores: dict):
        self.scores = scores

    def score_items(self, user_id, item_ids):
        return np.array([self.scores[i] for i in np.asarray(item_ids).tolist()], dtype=float)


def test_max_scorer_reranks_the_union_of_two_retrievers():
    items = np.arange(1, 9)
    first = Fixed({i: float(i) for i in items})  # retrieves 8, 7
    second = Fixed({i: float(-i) for i in items})  # retrieves 1, 2
    model = CachedScorer(Fixed({i: float(i % 3) for i in items}))
    union = MaxScorer([TwoStage(first, model, 2), TwoStage(second, model, 2)])
    scores = union.score_items(0, items)
    expected = np.full(8, -np.inf)
    for i in (1, 2, 7, 8):
        expected[i - 1] = i % 3
    np.testing.assert_array_equal(scores, expected)
    seen = pd.DataFrame({"userId": [0], "movieId": [99]})
    top = recommend(union, 0, seen=seen, items=np.append(items, 99), k=3)
    assert top["movieId"].tolist() == [2, 8, 1]  # model scores 2, 2, 1; ties by id
    with pytest.raises(RecommendError, match="at least one scorer"):
        MaxScorer([])


# --------------------------------------------------------------------------- prepare_experiment


def test_validation_inputs_are_built_like_test_inputs(monkeypatch):
    """Training and validation histories see only `fit`; test histories see all of `train`."""
    from recsys_tutorial import experiment, text
    from recsys_tutorial.config import get_profile
    from recsys_tutorial.data import make_synthetic

    data = make_synthetic(n_users=30, n_items=20, seed=1, ratings_per_user=10)
    monkeypatch.setattr(experiment, "load_dataset", lambda dataset, path: data)
    contexts = []
    real = text.make_pairs
    monkeypatch.setattr(text, "make_pairs", lambda t, c, *a, **k: contexts.append(c) or real(t, c, *a, **k))
    exp = experiment.prepare_experiment(get_profile("quick"), split="random", seed=0)
    train_ctx, val_ctx, test_ctx = contexts
    assert len(train_ctx) == len(val_ctx) == len(exp["fit"]) < len(test_ctx) == len(exp["train"])
    # no validation rating appears in a validation history's context
    val_pairs = set(zip(exp["targets"]["val"]["userId"], exp["targets"]["val"]["movieId"], strict=True))
    assert not val_pairs & set(zip(val_ctx["userId"], val_ctx["movieId"], strict=True))
