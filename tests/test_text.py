import time

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import SchemaError, UnknownItemError
from recsys_tutorial.text import (
    NO_HISTORY,
    build_histories,
    history_text,
    item_text,
    item_texts,
    make_pairs,
)


def test_item_text_formats_and_skips_missing_parts():
    assert item_text("Toy Story", 1995, ["Adventure", "Animation", "Comedy"]) == (
        "Toy Story (1995) | Adventure, Animation, Comedy"
    )
    assert item_text("Heat") == "Heat"
    assert item_text("Heat", pd.NA, [], ["crime", "la"]) == "Heat | tags: crime, la"


def test_item_texts_with_top_tags_and_custom_template():
    movies = pd.DataFrame(
        {"movieId": [1, 2], "title": ["A", "B"], "year": pd.array([2000, None], dtype="Int64"),
         "genres": [["Drama"], []]}
    )
    tags = pd.DataFrame(
        {"userId": [1, 2, 3, 1], "movieId": [1, 1, 1, 2], "tag": ["Funny", "funny", "dark", "x"],
         "timestamp": [1, 2, 3, 4]}
    )
    texts = item_texts(movies, tags, max_tags=1)
    assert texts == {1: "A (2000) | Drama | tags: funny", 2: "B | tags: x"}
    short = item_texts(movies, template=lambda title, year, genres, tags: title.lower())
    assert short == {1: "a", 2: "b"}


def test_history_text_most_recent_first_truncated_and_empty():
    entries = [("Toy Story", 5.0), ("Heat", 4.0), ("Alien", 3.5)]
    assert history_text(entries, max_items=2) == "Toy Story 5.0; Heat 4.0"
    assert history_text([], max_items=6) == NO_HISTORY


def _frame(rows):
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


def test_build_histories_never_leaks_future_or_ties():
    context = _frame(
        [
            (1, 10, 5.0, 100),
            (1, 11, 4.0, 200),
            (1, 12, 1.0, 300),  # the target itself (same timestamp): must not appear
            (1, 13, 2.0, 300),  # a tie in time with the target: excluded too
            (1, 99, 0.5, 900),  # a planted future rating
            (2, 10, 3.0, 50),
        ]
    )
    titles = {10: "Toy Story", 11: "Heat", 12: "Target", 13: "Tie", 99: "FUTURE"}
    targets = _frame([(1, 12, 1.0, 300), (2, 11, 4.0, 10), (3, 10, 4.0, 1000), (1, 99, 0.5, 900)])
    hist = build_histories(targets, context, titles, max_items=6)
    assert hist[0] == "Heat 4.0; Toy Story 5.0"
    assert "FUTURE" not in hist[0] and "Target" not in hist[0] and "Tie" not in hist[0]
    assert hist[1] == NO_HISTORY  # user 2's only rating is later than the target
    assert hist[2] == NO_HISTORY  # user 3 is unknown: falls back to item-only information
    assert hist[3].startswith("Tie 2.0; Target 1.0; Heat 4.0")  # the future target sees the past
    assert "FUTURE" not in hist[3]


def test_build_histories_keeps_the_most_recent_max_items():
    context = _frame([(1, i, 1.0 + (i % 4), 10 * i) for i in range(1, 11)])
    titles = {i: f"M{i}" for i in range(1, 12)}
    (hist,) = build_histories(_frame([(1, 11, 3.0, 1000)]), context, titles, max_items=3)
    assert hist == "M10 3.0; M9 2.0; M8 1.0"


def test_build_histories_unknown_title_raises():
    context = _frame([(1, 5, 4.0, 1)])
    with pytest.raises(UnknownItemError, match="no title"):
        build_histories(_frame([(1, 6, 4.0, 2)]), context, {6: "x"})


def test_build_histories_is_vectorised_and_matches_a_loop():
    rng = np.random.default_rng(0)
    n = 100_000
    ctx = pd.DataFrame(
        {"userId": rng.integers(0, 500, n), "movieId": rng.integers(0, 2000, n),
         "rating": rng.integers(1, 11, n) / 2, "timestamp": rng.integers(0, 10**6, n)}
    )
    titles = {i: f"M{i}" for i in range(2000)}
    start = time.perf_counter()
    hist = build_histories(ctx, ctx, titles, max_items=4)
    assert time.perf_counter() - start < 10
    assert len(hist) == n
    for j in rng.choice(n, 20, replace=False):  # a slow reference on a sample
        row = ctx.iloc[j]
        past = ctx[(ctx.userId == row.userId) & (ctx.timestamp < row.timestamp)]
        past = past.sort_values("timestamp", kind="stable", ascending=False)
        assert len(hist[j].split("; ")) == min(4, len(past)) or (len(past) == 0 and hist[j] == NO_HISTORY)
        if len(past) and past.timestamp.nunique() == len(past):
            expected = "; ".join(f"M{m} {r:.1f}" for m, r in zip(past.movieId[:4], past.rating[:4], strict=True))
            assert hist[j] == expected


def test_make_pairs_columns_and_no_leakage_on_synthetic():
    data = make_synthetic(n_users=20, n_items=30, seed=1, ratings_per_user=8)
    targets = data.ratings.groupby("userId").tail(2)
    pairs = make_pairs(targets, data.ratings, data.movies, max_items=3)
    assert list(pairs.columns) == ["userId", "movieId", "history", "candidate", "rating"]
    assert len(pairs) == len(targets)
    np.testing.assert_array_equal(pairs.rating.to_numpy(), targets.rating.to_numpy())
    first = data.ratings.groupby("userId").head(1)
    first_pairs = make_pairs(first, data.ratings, data.movies)
    assert (first_pairs.history == NO_HISTORY).all()
    assert pairs.history.str.count(";").max() <= 2
    with pytest.raises(SchemaError):
        make_pairs(targets.drop(columns="timestamp"), data.ratings, data.movies)


def test_make_pairs_unknown_target_item():
    data = make_synthetic(n_users=3, n_items=10, seed=0, ratings_per_user=3)
    targets = _frame([(0, 999, 4.0, 10**10)])
    with pytest.raises(UnknownItemError, match="not in the catalogue"):
        make_pairs(targets, data.ratings, data.movies)
