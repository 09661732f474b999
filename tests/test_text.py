import time

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import ConfigError, SchemaError, UnknownItemError
from recsys_tutorial.text import (
    NO_HISTORY,
    build_histories,
    history_positions,
    history_text,
    item_text,
    item_texts,
    item_titles,
    make_pairs,
    top_tags,
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


# --------------------------------------------------------------------------- any ids, implicit data

ODD_MOVIES = pd.DataFrame(
    {
        "movieId": pd.Series(["007", 7, "tt0114709", 2**70, "Amélie"], dtype=object),
        "title": ["GoldenEye", "Seven", "Toy Story", "Huge", "Amélie"],
        "genres": [["Action"], ["Crime"], ["Animation"], [], ["Romance"]],
    }
)


def _odd_ratings():
    rows = [
        ("A1", "007", 4.0, 1),
        ("A1", 7, 2.0, 2),
        ("A1", "tt0114709", 5.0, 3),
        ("007", 7, 3.0, 1),  # a user whose id looks like an item id: no confusion
        (7, 2**70, 1.0, 5),
        ("Zoë", "Amélie", 4.5, 9),
    ]
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    return frame.astype({"userId": object, "movieId": object})


def test_make_pairs_with_string_user_ids_keeps_ids():
    ratings = _odd_ratings()
    pairs = make_pairs(ratings, ratings, ODD_MOVIES, max_items=2)
    assert pairs["userId"].tolist() == ["A1", "A1", "A1", "007", 7, "Zoë"]
    assert pairs["movieId"].tolist() == ["007", 7, "tt0114709", 7, 2**70, "Amélie"]
    assert [type(u) for u in pairs["userId"]] == [str, str, str, str, int, str]
    assert pairs["history"].tolist() == [
        NO_HISTORY, "GoldenEye 4.0", "Seven 2.0; GoldenEye 4.0", NO_HISTORY, NO_HISTORY, NO_HISTORY
    ]
    assert pairs["candidate"].tolist()[:2] == ["GoldenEye | Action", "Seven | Crime"]


def test_item_texts_and_titles_keep_ids_exactly():
    texts = item_texts(ODD_MOVIES)
    assert list(texts) == ["007", 7, "tt0114709", 2**70, "Amélie"]
    assert texts["007"] == "GoldenEye | Action" and texts[7] == "Seven | Crime"
    assert "7" not in texts and 2**70 in texts
    assert item_titles(ODD_MOVIES)["Amélie"] == "Amélie"


def test_top_tags_with_mixed_item_ids():
    tags = pd.DataFrame(
        {"movieId": pd.Series(["007", 7, "007", 7, 7], dtype=object),
         "tag": ["Bond", "dark", "bond", "Noir", "dark"]}
    )
    assert top_tags(tags, 1) == {"007": ["bond"], 7: ["dark"]}
    texts = item_texts(ODD_MOVIES, tags, max_tags=np.int64(2))
    assert texts[7] == "Seven | Crime | tags: dark, noir"


def test_unknown_ids_are_named_with_their_repr():
    ratings = _odd_ratings()
    with pytest.raises(UnknownItemError, match=r"'7'"):
        make_pairs(_frame([("A1", "7", 4.0, 9)]), ratings, ODD_MOVIES)
    with pytest.raises(UnknownItemError, match=r"no title, e.g. 'Amélie'"):
        build_histories(_frame([("Zoë", "007", 4.0, 10)]), ratings, {"007": "x"})


def test_histories_on_implicit_feedback_show_titles_only():
    events = _odd_ratings().drop(columns="rating")
    events.attrs["implicit_feedback"] = True
    hist = build_histories(events, events, item_titles(ODD_MOVIES), max_items=3)
    assert hist[:3] == [NO_HISTORY, "GoldenEye", "Seven; GoldenEye"]
    pairs = make_pairs(events, events, ODD_MOVIES)
    assert pairs["rating"].isna().all() and pairs["history"].tolist()[2] == "Seven; GoldenEye"
    assert history_text([("Heat", None), ("Alien", 3.5)]) == "Heat; Alien 3.5"


def test_history_positions_match_users_exactly_and_accept_datetimes():
    context = pd.DataFrame(
        {"userId": pd.Series([1, "1", 1], dtype=object),
         "timestamp": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])}
    )
    targets = pd.DataFrame(
        {"userId": pd.Series([1, "1"], dtype=object),
         "timestamp": pd.to_datetime(["2020-02-01", "2020-02-01"])}
    )
    order, stop, count = history_positions(targets, context, max_items=np.int64(5))
    assert count.tolist() == [2, 1]  # user 1 has two earlier ratings, user "1" one
    assert sorted(order[stop[0] - count[0] : stop[0]].tolist()) == [0, 2]
    assert order[stop[1] - 1] == 1


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True])
def test_bad_max_items_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="max_items"):
        history_text([("Heat", 4.0)], max_items=bad)


def test_string_ids_pass_the_whole_pipeline():
    """The issue's example: "A1"-style ids through random_split, BiasBaseline and make_pairs."""
    from recsys_tutorial.baselines import BiasBaseline
    from recsys_tutorial.splits import random_split

    data = make_synthetic(n_users=12, n_items=15, seed=2, ratings_per_user=6)
    ratings = data.ratings.assign(
        userId=[f"A{u}" for u in data.ratings.userId],
        movieId=[f"0{i}" for i in data.ratings.movieId],
    )
    movies = data.movies.assign(movieId=[f"0{i}" for i in data.movies.movieId])
    train, test = random_split(ratings, test_size=np.float64(0.25), seed=np.int64(0))
    assert BiasBaseline().fit(train).predict(test).shape == (len(test),)
    pairs = make_pairs(test, train, movies, max_items=3)
    assert pairs["userId"].tolist() == test["userId"].tolist()
    assert pairs["movieId"].tolist() == test["movieId"].tolist()  # "07" keeps its leading zero
    assert pairs["movieId"].str.startswith("0").all()
    assert (pairs["history"] != NO_HISTORY).any()
