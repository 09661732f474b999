"""No leakage in recsys_tutorial.splits: property tests on random frames, then MovieLens."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys_tutorial.data import ITEM_COL, RATING_COL, TIME_COL, USER_COL
from recsys_tutorial.errors import SchemaError, SplitError
from recsys_tutorial.splits import (
    cold_start_items_split,
    cold_start_users_split,
    global_temporal_split,
    kfold_splits,
    leakage_report,
    random_split,
    temporal_split,
    train_val_split,
)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALVES = [x / 2 for x in range(1, 11)]
KEY = [USER_COL, ITEM_COL]


@st.composite
def ratings_frames(draw, min_rows: int = 1, max_rows: int = 50) -> pd.DataFrame:
    """Unique (user, item) pairs over few users/items, half-star ratings, timestamps with many ties."""
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, 7), st.integers(0, 14)),
            min_size=min_rows,
            max_size=max_rows,
            unique=True,
        )
    )
    n = len(pairs)
    ratings = draw(st.lists(st.sampled_from(HALVES), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    frame = pd.DataFrame(pairs, columns=KEY)
    frame[RATING_COL] = np.asarray(ratings, dtype=np.float32)
    frame[TIME_COL] = np.asarray(times, dtype=np.int64) * 1000
    frame["note"] = [f"row{i}" for i in range(n)]  # an extra column must travel along
    # a non-default index: the splits must not rely on it and must return a fresh one
    frame.index = pd.RangeIndex(100, 100 + n)
    return frame


fractions = st.floats(0.05, 0.95)


def _held_out(frac: float, n: int) -> int:
    return max(1, math.floor(frac * n + 0.5))


def assert_partition(ratings: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> None:
    """train and test together are the input: no row lost, duplicated or altered; no pair shared."""
    assert list(train.columns) == list(ratings.columns) == list(test.columns)
    assert train.index.equals(pd.RangeIndex(len(train)))
    assert test.index.equals(pd.RangeIndex(len(test)))
    assert len(train) + len(test) == len(ratings)
    shared = train.merge(test, on=KEY)
    assert shared.empty, f"(user, item) pairs on both sides:\n{shared}"
    both = pd.concat([train, test]).set_index(KEY).sort_index()
    pd.testing.assert_frame_equal(both, ratings.set_index(KEY).sort_index())
    # each side keeps the input's row order
    for side in (train, test):
        positions = ratings.reset_index(drop=True).reset_index().merge(side, on=KEY)["index"]
        assert positions.is_monotonic_increasing


def assert_strictly_later(train: pd.DataFrame, test: pd.DataFrame) -> None:
    last_train = train.groupby(USER_COL)[TIME_COL].max()
    first_test = test.groupby(USER_COL)[TIME_COL].min()
    common = first_test.index.intersection(last_train.index)
    assert (first_test[common] > last_train[common]).all()
    assert leakage_report(train, test)["not_after_train"] == 0


# --------------------------------------------------------------------------- S1


@PROPERTY
@given(ratings_frames(), fractions, st.integers(0, 2**16))
def test_random_split_partitions_without_leakage(ratings, frac, seed):
    n_test = _held_out(frac, len(ratings))
    if n_test >= len(ratings):
        with pytest.raises(SplitError, match="test_size"):
            random_split(ratings, frac, seed)
        return
    train, test = random_split(ratings, frac, seed)
    assert_partition(ratings, train, test)
    assert len(test) == n_test
    again = random_split(ratings, frac, seed)
    pd.testing.assert_frame_equal(again[1], test)
    assert leakage_report(train, test)["shared_pairs"] == 0


# --------------------------------------------------------------------------- S2


def _reference_temporal_test_keys(ratings: pd.DataFrame, frac: float) -> set[tuple[int, int]]:
    """The documented tie rule, one user at a time in plain Python."""
    keys = set()
    for user, g in ratings.groupby(USER_COL):
        g = g.sort_values(TIME_COL, kind="stable")
        times = g[TIME_COL].tolist()
        n = len(times)
        if n < 2:
            continue
        ideal = n - min(max(1, math.floor(frac * n + 0.5)), n - 1)
        cuts = [p for p in range(1, n) if times[p] > times[p - 1]]
        if not cuts:
            continue
        cut = min(cuts, key=lambda p: (abs(p - ideal), -p))
        keys |= {
            (user, item) for item, t in zip(g[ITEM_COL], times, strict=True) if t >= times[cut]
        }
    return keys


@PROPERTY
@given(ratings_frames(), fractions)
def test_temporal_split_test_strictly_later_per_user(ratings, frac):
    expected = _reference_temporal_test_keys(ratings, frac)
    if not expected:
        with pytest.raises(SplitError, match="test empty"):
            temporal_split(ratings, frac)
        return
    train, test = temporal_split(ratings, frac)
    assert_partition(ratings, train, test)
    assert_strictly_later(train, test)
    assert set(zip(test[USER_COL], test[ITEM_COL], strict=True)) == expected
    # users with a single rating, or all ratings at one time, stay in train
    per_user = ratings.groupby(USER_COL)[TIME_COL].nunique()
    assert set(test[USER_COL]) == set(per_user[per_user >= 2].index)


def test_temporal_split_tie_rule_hand_checked():
    # user 1: times 1,2,3,3,3 -> ideal test count 1 (cut at position 4) falls inside the tied
    # group at t=3 (positions 2-4). Cuts allowed: 1 (before t=2) or 2 (before t=3); the
    # nearest to 4 is 2, so all three t=3 ratings go to test together.
    # user 2: times 5,5 -> no strict cut, all in train. user 3: one rating, train.
    # user 4: times 1,2,2,2,2 with frac 0.2: ideal cut 4, allowed cut 1 only -> 4 in test.
    ratings = pd.DataFrame(
        {
            USER_COL: [1, 1, 1, 1, 1, 2, 2, 3, 4, 4, 4, 4, 4],
            ITEM_COL: [10, 11, 12, 13, 14, 10, 11, 10, 10, 11, 12, 13, 14],
            RATING_COL: [4.0] * 13,
            TIME_COL: [3, 1, 3, 2, 3, 5, 5, 9, 1, 2, 2, 2, 2],
        }
    )
    train, test = temporal_split(ratings, 0.2)
    assert sorted(zip(test[USER_COL], test[ITEM_COL], strict=True)) == [
        (1, 10),
        (1, 12),
        (1, 14),
        (4, 11),
        (4, 12),
        (4, 13),
        (4, 14),
    ]
    assert_partition(ratings, train, test)

    # a draw: times 1,2,2,3 with frac 0.5 -> ideal cut 2 is inside the t=2 pair; cuts 1 and 3
    # are equally close, and the draw goes to train (cut 3): only the t=3 rating is tested.
    draw = pd.DataFrame(
        {USER_COL: [1] * 4, ITEM_COL: [1, 2, 3, 4], RATING_COL: [3.0] * 4, TIME_COL: [1, 2, 2, 3]}
    )
    _, test = temporal_split(draw, 0.5)
    assert test[ITEM_COL].tolist() == [4]


def test_temporal_split_rejects_non_numeric_timestamps():
    frame = pd.DataFrame(
        {USER_COL: [1, 1], ITEM_COL: [1, 2], RATING_COL: [3.0, 4.0], TIME_COL: ["1", "late"]}
    )
    with pytest.raises(SplitError, match=r"row 1 holds 'late'"):
        temporal_split(frame)


# --------------------------------------------------------------------------- S3


@PROPERTY
@given(ratings_frames(), fractions, st.integers(0, 2**16), st.sampled_from(["items", "users"]))
def test_cold_start_splits_hold_out_whole_items_or_users(ratings, frac, seed, kind):
    split, col = (
        (cold_start_items_split, ITEM_COL)
        if kind == "items"
        else (cold_start_users_split, USER_COL)
    )
    n_keys = ratings[col].nunique()
    n_hold = _held_out(frac, n_keys)
    if n_hold >= n_keys:
        with pytest.raises(SplitError, match="no distinct"):
            split(ratings, frac, seed)
        return
    train, test = split(ratings, frac, seed)
    assert_partition(ratings, train, test)
    assert test[col].nunique() == n_hold
    assert set(test[col]).isdisjoint(train[col])
    # every rating of a held-out key is in test
    assert len(test) == ratings[col].isin(test[col].unique()).sum()
    report = leakage_report(train, test)
    assert report[f"cold_{kind}"] == n_hold and report[f"cold_{kind[:-1]}_ratings"] == len(test)
    pd.testing.assert_frame_equal(split(ratings, frac, seed)[1], test)


# --------------------------------------------------------------------------- k-fold


@PROPERTY
@given(ratings_frames(), st.integers(2, 6), st.integers(0, 2**16))
def test_kfold_every_rating_in_exactly_one_test_fold(ratings, k, seed):
    if k > len(ratings):
        with pytest.raises(SplitError, match="folds need at least"):
            kfold_splits(ratings, k, seed)
        return
    folds = list(kfold_splits(ratings, k, seed))
    assert len(folds) == k
    for train, test in folds:
        assert_partition(ratings, train, test)
    tests = pd.concat([test for _, test in folds])
    assert not tests.duplicated(KEY).any()
    assert len(tests) == len(ratings)
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    again = list(kfold_splits(ratings, k, seed))
    for (_, a), (_, b) in zip(folds, again, strict=True):
        pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- validation


@PROPERTY
@given(ratings_frames(min_rows=2), fractions, st.sampled_from(["random", "temporal", "cold-items"]))
def test_train_val_split_is_a_slice_of_train(ratings, frac, how):
    try:
        fit, val = train_val_split(ratings, frac, seed=7, how=how)
    except SplitError:  # same conditions as the underlying split, checked above
        return
    assert_partition(ratings, fit, val)
    if how == "temporal":
        assert_strictly_later(fit, val)
    if how == "cold-items":  # no validation item is seen while fitting
        assert not set(val[ITEM_COL]) & set(fit[ITEM_COL])


def test_train_val_split_leaves_test_untouched():
    ratings = _small_frame(40)
    train, test = random_split(ratings, 0.25, seed=1)
    fit, val = train_val_split(train, 0.2, seed=1)
    assert len(fit) + len(val) == len(train) == 30
    assert val.merge(test, on=KEY).empty and fit.merge(test, on=KEY).empty


# --------------------------------------------------------------------------- errors


def _small_frame(n: int = 10) -> pd.DataFrame:
    return pd.DataFrame(
        {
            USER_COL: np.arange(n) % 4,
            ITEM_COL: np.arange(n),
            RATING_COL: np.full(n, 3.5, dtype=np.float32),
            TIME_COL: np.arange(n, dtype=np.int64),
        }
    )


ALL_SPLITS = [
    lambda r, f: random_split(r, f),
    lambda r, f: temporal_split(r, f),
    lambda r, f: cold_start_items_split(r, f),
    lambda r, f: cold_start_users_split(r, f),
    lambda r, f: train_val_split(r, f),
    lambda r, f: train_val_split(r, f, how="temporal"),
    lambda r, f: train_val_split(r, f, how="cold-items"),
]
SPLIT_IDS = ["random", "temporal", "cold_items", "cold_users", "val_random", "val_temporal", "val_cold_items"]


@pytest.mark.parametrize("split", ALL_SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("frac", [0, 1, -0.2, 1.5, float("nan"), "0.2", None, True])
def test_bad_fraction_raises_split_error(split, frac):
    with pytest.raises(SplitError, match="between 0 and 1"):
        split(_small_frame(), frac)


@pytest.mark.parametrize("split", ALL_SPLITS, ids=SPLIT_IDS)
def test_empty_frame_raises_split_error(split):
    with pytest.raises(SplitError, match="empty"):
        split(_small_frame().iloc[:0], 0.2)


@pytest.mark.parametrize("split", ALL_SPLITS, ids=SPLIT_IDS)
def test_missing_column_raises_schema_error(split):
    frame = _small_frame().rename(columns={ITEM_COL: "item"})
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['movieId'\]"):
        split(frame, 0.2)


@pytest.mark.parametrize("split", ALL_SPLITS[:2], ids=SPLIT_IDS[:2])
def test_duplicate_pairs_raise_split_error(split):
    frame = pd.concat([_small_frame(), _small_frame().iloc[[3]]], ignore_index=True)
    with pytest.raises(SplitError, match=r"more than once, first at row 3.*duplicates='mean'"):
        split(frame, 0.2)


def test_splits_that_would_leave_a_side_empty():
    one = _small_frame(1)
    with pytest.raises(SplitError, match="leaves no ratings for training"):
        random_split(one, 0.2)
    with pytest.raises(SplitError, match="leaves no distinct items"):
        cold_start_items_split(one, 0.5)
    with pytest.raises(SplitError, match="leaves no distinct users"):
        cold_start_users_split(_small_frame(4).assign(**{USER_COL: 0}), 0.5)
    same_time = _small_frame().assign(**{TIME_COL: 7})
    with pytest.raises(SplitError, match="test empty"):
        temporal_split(same_time, 0.2)
    with pytest.raises(SplitError, match="expected a pandas DataFrame"):
        random_split([(1, 2, 3.0)], 0.2)


@pytest.mark.parametrize("k", [1, 0, 2.5, True, "3"])
def test_kfold_rejects_bad_k_at_call_time(k):
    with pytest.raises(SplitError, match="k must be an integer"):
        kfold_splits(_small_frame(), k)  # no next(): checked before the first fold


def test_kfold_rejects_more_folds_than_ratings_and_bad_how():
    with pytest.raises(SplitError, match="k=11 folds need at least 11 ratings"):
        kfold_splits(_small_frame(10), 11)
    expected = "how must be 'random', 'temporal', 'global-temporal' or 'cold-items'"
    with pytest.raises(SplitError, match=expected):
        train_val_split(_small_frame(), how="future")


def test_custom_column_names():
    frame = _small_frame(12).rename(
        columns={USER_COL: "u", ITEM_COL: "i", RATING_COL: "r", TIME_COL: "t"}
    )
    cols = {"user_col": "u", "item_col": "i"}
    train, test = random_split(frame, 0.25, **cols)
    assert len(test) == 3
    train, test = temporal_split(frame, 0.25, time_col="t", **cols)
    assert (test.groupby("u")["t"].min() > train.groupby("u")["t"].max()).all()
    train, test = cold_start_items_split(frame, 0.25, **cols)
    assert set(train["i"]).isdisjoint(test["i"])
    assert leakage_report(train, test, time_col="t", **cols)["cold_items"] == 3


def test_leakage_report_hand_checked():
    train = pd.DataFrame({USER_COL: [1, 1, 2], ITEM_COL: [10, 11, 10], TIME_COL: [5, 6, 5]})
    test = pd.DataFrame(
        {USER_COL: [1, 1, 2, 3], ITEM_COL: [10, 12, 13, 10], TIME_COL: [7, 6, 9, 1]}
    )
    report = leakage_report(train, test)
    assert report["shared_pairs"] == 1 and report["shared_rows"] == 1  # (1, 10)
    assert report["cold_users"] == 1 and report["cold_user_ratings"] == 1  # user 3
    assert report["cold_items"] == 2 and report["cold_item_ratings"] == 2  # items 12, 13
    assert report["not_after_train"] == 1  # user 1's rating at t=6 is not after t=6
    assert report["train_ratings"] == 3 and report["test_ratings"] == 4
    no_time = leakage_report(train.drop(columns=TIME_COL), test)
    assert no_time["not_after_train"] is None


# --------------------------------------------------------------------------- MovieLens


def _movielens_dir() -> Path | None:
    for d in (
        os.environ.get("RECSYS_TUTORIAL_DATA"),
        Path(__file__).resolve().parents[2] / "shared" / "data",
    ):
        if d and (Path(d) / "ml-latest-small.zip").is_file():
            return Path(d)
    return None


@pytest.fixture(scope="module")
def movielens() -> pd.DataFrame:
    folder = _movielens_dir()
    if folder is None:
        pytest.skip("ml-latest-small.zip not found (set RECSYS_TUTORIAL_DATA to its folder)")
    try:
        from recsys_tutorial.movielens import load_movielens
    except ImportError:  # before the loader moved out of data.py
        from recsys_tutorial.data import load_movielens

    return load_movielens(path=folder, download=False).ratings


def test_movielens_random_split_is_80_20(movielens):
    train, test = random_split(movielens)
    assert len(test) / len(movielens) == pytest.approx(0.2, abs=0.001)
    report = leakage_report(train, test)
    assert report["shared_pairs"] == 0 and report["cold_users"] == 0


def test_movielens_temporal_split_is_about_80_20_and_later(movielens):
    train, test = temporal_split(movielens)
    assert 0.18 < len(test) / len(movielens) < 0.22
    assert test[USER_COL].nunique() == movielens[USER_COL].nunique()  # all 610 users tested
    assert_strictly_later(train, test)


def test_movielens_cold_items_holds_10_percent_of_items(movielens):
    train, test = cold_start_items_split(movielens)
    n_items = movielens[ITEM_COL].nunique()
    assert test[ITEM_COL].nunique() == round(0.1 * n_items)
    assert set(test[ITEM_COL]).isdisjoint(train[ITEM_COL])
    assert len(train) + len(test) == len(movielens)
    other = cold_start_items_split(movielens, seed=7)[1]
    assert set(other[ITEM_COL]) != set(test[ITEM_COL])  # the seed matters


def test_movielens_cold_users_and_kfold(movielens):
    train, test = cold_start_users_split(movielens)
    assert test[USER_COL].nunique() == 61
    assert set(test[USER_COL]).isdisjoint(train[USER_COL])
    seen = np.zeros(len(movielens), dtype=int)
    index = pd.MultiIndex.from_frame(movielens[KEY])
    for _, fold in kfold_splits(movielens, k=5):
        seen[index.get_indexer(pd.MultiIndex.from_frame(fold[KEY]))] += 1
    assert (seen == 1).all()


# --------------------------------------------------------------------------- S4: one cut-off time


def test_global_temporal_split_hand_checked_and_tie_rule():
    # times 1..8 with a tie at 7: ideal test count round(0.25 * 9) = 2 -> ideal cut at position
    # 7 (the 2nd of the tied 7s). Allowed cuts fall before a new time: positions 6 (before the
    # 7s) or 8 (before 9); both are one away: the draw goes to train (cut 8), test = {t=9}.
    ratings = pd.DataFrame(
        {USER_COL: [1, 2, 3, 1, 2, 3, 1, 2, 3], ITEM_COL: [1, 1, 1, 2, 2, 2, 3, 3, 3],
         TIME_COL: [9, 7, 1, 2, 3, 4, 5, 6, 7]}
    )
    train, test = global_temporal_split(ratings, test_size=0.25)
    assert test[TIME_COL].tolist() == [9]
    assert sorted(train[TIME_COL]) == [1, 2, 3, 4, 5, 6, 7, 7]
    # 0.4 of 9 -> 4 (ideal cut 5): allowed cuts 5 (before t=6) exactly: test = {6, 7, 7, 9}
    train, test = global_temporal_split(ratings, test_size=0.4)
    assert sorted(test[TIME_COL]) == [6, 7, 7, 9] and train[TIME_COL].max() == 5
    assert_partition(ratings, train, test)
    with pytest.raises(SplitError, match="share one 'timestamp'"):
        global_temporal_split(ratings.assign(**{TIME_COL: 3}))
    with pytest.raises(SplitError, match="between 0 and 1"):
        global_temporal_split(ratings, test_size=1.0)


@PROPERTY
@given(ratings_frames(), fractions)
def test_global_temporal_split_everything_in_test_is_later(ratings, frac):
    if ratings[TIME_COL].nunique() < 2:
        with pytest.raises(SplitError):
            global_temporal_split(ratings, test_size=frac)
        return
    train, test = global_temporal_split(ratings, test_size=frac)
    assert_partition(ratings, train, test)
    assert train[TIME_COL].max() < test[TIME_COL].min()
    report = leakage_report(train, test)
    assert report["later_item_ratings"] == 0 and report["not_after_train"] == 0


# events whose per-user temporal split leaks item futures, hand-counted below
LEAKY = pd.DataFrame(
    [
        ("A", "i1", 1), ("A", "i2", 2), ("A", "i3", 3), ("A", "i4", 4),
        ("B", "i1", 10), ("B", "i2", 11), ("B", "i3", 12), ("B", "i5", 13),
        ("C", "i4", 5), ("C", "i5", 6),
        ("E", "i9", 1), ("E", "i2", 2),
        ("G", "i8", 30), ("G", "i10", 31),
        ("H", "i11", 8), ("H", "i8", 30),
    ],
    columns=[USER_COL, ITEM_COL, TIME_COL],
)


def test_later_item_ratings_per_user_temporal_vs_global():
    train, test = temporal_split(LEAKY, test_size=0.25)
    assert sorted(zip(test[USER_COL], test[ITEM_COL], strict=True)) == [
        ("A", "i4"), ("B", "i5"), ("C", "i5"), ("E", "i2"), ("G", "i10"), ("H", "i8"),
    ]
    # (A, i4, t=4): C rated i4 at 5 in train -> leak. (E, i2, t=2): A's i2 at 2 is a tie (not
    # after), B's i2 at 11 is after -> leak. (H, i8, t=30): G's i8 at 30 is only a tie -> none.
    # (B, i5), (C, i5): i5 is in no training rating. (G, i10): unseen item.
    assert leakage_report(train, test)["later_item_ratings"] == 2
    train, test = global_temporal_split(LEAKY, test_size=0.25)
    assert leakage_report(train, test)["later_item_ratings"] == 0  # S4: nothing after any test row


# --------------------------------------------------------------------------- attrs, implicit, ids

EVERY_SPLIT = {
    "random": lambda r: random_split(r, 0.3, seed=1),
    "temporal": lambda r: temporal_split(r, 0.3),
    "global_temporal": lambda r: global_temporal_split(r, test_size=0.3),
    "cold_items": lambda r: cold_start_items_split(r, 0.3, seed=1),
    "cold_users": lambda r: cold_start_users_split(r, 0.3, seed=1),
    "val_random": lambda r: train_val_split(r, 0.3, seed=1),
    "val_temporal": lambda r: train_val_split(r, 0.3, how="temporal"),
    "val_global": lambda r: train_val_split(r, 0.3, how="global-temporal"),
    "val_cold_items": lambda r: train_val_split(r, 0.3, how="cold-items"),
    "kfold_first": lambda r: next(iter(kfold_splits(r, 3, seed=1))),
    "kfold_last": lambda r: list(kfold_splits(r, 3, seed=1))[-1],
}


def _events(n: int = 24, *, ratings: bool = True) -> pd.DataFrame:
    frame = _small_frame(n)
    if not ratings:
        frame = frame.drop(columns=RATING_COL)
        frame.attrs["implicit_feedback"] = True
    frame.attrs["rating_scale"] = (1.0, 10.0)
    frame.attrs["source"] = {"name": "mine"}
    return frame


@pytest.mark.parametrize("split", list(EVERY_SPLIT.values()), ids=list(EVERY_SPLIT))
def test_every_split_keeps_attrs_on_both_sides(split):
    frame = _events()
    train, test = split(frame)
    for side in (train, test):
        assert side.attrs == frame.attrs
    train.attrs["source"]["name"] = "changed"  # each side has its own copy
    assert frame.attrs["source"]["name"] == "mine" and test.attrs["source"]["name"] == "mine"


@pytest.mark.parametrize("split", list(EVERY_SPLIT.values()), ids=list(EVERY_SPLIT))
def test_every_split_works_on_implicit_feedback(split):
    events = _events(ratings=False)
    train, test = split(events)
    assert_partition(events, train, test)
    assert test.attrs["implicit_feedback"] is True and RATING_COL not in test.columns
    report = leakage_report(train, test)
    assert report["shared_pairs"] == 0 and report["later_item_ratings"] is not None


def test_repeated_implicit_events_are_named_with_a_fix():
    events = _events(ratings=False)
    events = pd.concat([events, events.iloc[[2]]], ignore_index=True)
    with pytest.raises(SplitError, match=r"drop_duplicates\(\['userId', 'movieId'\]"):
        random_split(events)


MIXED = ["A1", 1, "1", "007", 7, 2**70, "Zoë", "ид"]


@pytest.mark.parametrize("split", list(EVERY_SPLIT.values()), ids=list(EVERY_SPLIT))
def test_every_split_keeps_ids_of_any_kind(split):
    n = 4 * len(MIXED)
    users = [MIXED[k % len(MIXED)] for k in range(n)]
    items = [MIXED[(k // len(MIXED) + k) % len(MIXED)] for k in range(n)]  # unique pairs
    frame = pd.DataFrame(
        {USER_COL: pd.Series(users, dtype=object), ITEM_COL: pd.Series(items, dtype=object),
         TIME_COL: np.arange(n)}
    )
    train, test = split(frame)
    assert_partition(frame, train, test)
    def typed(f):
        return {(type(u), u, type(i), i) for u, i in zip(f[USER_COL], f[ITEM_COL], strict=True)}

    assert typed(train) | typed(test) == typed(frame)
    report = leakage_report(train, test)
    assert report["shared_pairs"] == 0


def test_numpy_scalars_give_the_same_splits():
    frame = _events()
    f64, i64 = np.float64, np.int64
    for plain, numpy in [
        (random_split(frame, 0.25, 3), random_split(frame, f64(0.25), i64(3))),
        (temporal_split(frame, 0.25), temporal_split(frame, np.float32(0.25))),
        (cold_start_users_split(frame, 0.5, 2), cold_start_users_split(frame, f64(0.5), i64(2))),
        (train_val_split(frame, 0.25, 4), train_val_split(frame, f64(0.25), np.uint8(4))),
        (global_temporal_split(frame, test_size=0.25), global_temporal_split(frame, test_size=f64(1 / 4))),
        (next(iter(kfold_splits(frame, 3, 5))), next(iter(kfold_splits(frame, i64(3), i64(5))))),
    ]:
        pd.testing.assert_frame_equal(plain[1], numpy[1])
    with pytest.raises(SplitError, match="seed"):
        random_split(frame, 0.2, seed="1")


@pytest.mark.parametrize(
    ("call", "old", "new"),
    [
        (temporal_split, {"test_frac": 0.3}, {"test_size": 0.3}),
        (cold_start_items_split, {"frac": 0.3}, {"test_size": 0.3}),
        (cold_start_users_split, {"frac": 0.3}, {"test_size": 0.3}),
        (train_val_split, {"val_size": 0.3}, {"test_size": 0.3}),
    ],
)
def test_old_share_names_still_work_with_a_deprecation_warning(call, old, new):
    frame = _events()
    with pytest.warns(DeprecationWarning, match="test_size"):
        before = call(frame, **old)
    pd.testing.assert_frame_equal(before[1], call(frame, **new)[1])
    with pytest.raises(SplitError, match="once"):
        call(frame, test_size=0.4, **old)


def test_datetime_timestamps_split_like_numbers():
    frame = _events()
    dated = frame.assign(**{TIME_COL: pd.to_datetime(frame[TIME_COL], unit="D", utc=True)})
    splits = (lambda r: temporal_split(r, 0.25), lambda r: global_temporal_split(r, test_size=0.25))
    for split in splits:
        pd.testing.assert_frame_equal(split(dated)[1][KEY], split(frame)[1][KEY])
    assert leakage_report(*temporal_split(dated))["not_after_train"] == 0


def test_movielens_global_temporal_split_has_no_item_future_leakage(movielens):
    train, test = global_temporal_split(movielens)
    assert len(test) == 20_167  # 20% rounded to the nearest cut between two timestamps
    assert train[TIME_COL].max() < test[TIME_COL].min()
    assert leakage_report(train, test)["later_item_ratings"] == 0
    assert test.attrs == train.attrs == movielens.attrs
    # the per-user temporal split (S2) lets training see later ratings of most test items
    assert leakage_report(*temporal_split(movielens))["later_item_ratings"] == 16_414
