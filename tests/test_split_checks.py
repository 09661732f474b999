"""Tests for recsys_tutorial.split_checks: the checks and building blocks every split shares."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import SchemaError, SplitError
from recsys_tutorial.schema import IMPLICIT_ATTR, ITEM_COL, RATING_COL, USER_COL
from recsys_tutorial.split_checks import (
    check_fraction,
    check_frame,
    check_no_duplicates,
    check_seed,
    check_sides,
    distinct_ids,
    held_out_count,
    held_out_share,
    share_count,
    sides,
    sides_by_index,
)


def _frame(n: int = 4) -> pd.DataFrame:
    frame = pd.DataFrame({USER_COL: np.arange(n) % 2, ITEM_COL: np.arange(n),
                          RATING_COL: np.linspace(1.0, 5.0, n)}, index=np.arange(10, 10 + n))
    frame.attrs["rating_scale"] = (1.0, 5.0)
    return frame


def test_check_frame_names_what_is_wrong():
    frame = _frame()
    assert check_frame(frame, [USER_COL, ITEM_COL]) is frame
    with pytest.raises(SplitError, match="train: expected a pandas DataFrame, got list"):
        check_frame([(1, 2)], [USER_COL], what="train")
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['timestamp'\]; found "
                                          r"\['userId', 'movieId', 'rating'\]"):
        check_frame(frame, [USER_COL, "timestamp"])
    with pytest.raises(SplitError, match="the frame is empty"):
        check_frame(frame.iloc[:0], [USER_COL])


def test_check_no_duplicates_names_the_first_row_and_the_fix():
    frame = pd.concat([_frame(), _frame().iloc[[2]]], ignore_index=True)
    check_no_duplicates(_frame())  # no copies: nothing raised
    with pytest.raises(SplitError, match=r"2 rows rate a \(user, item\) pair more than once, "
                                         r"first at row 2 \(user 0, item 2\).*duplicates='mean'"):
        check_no_duplicates(frame)
    events = frame.drop(columns=RATING_COL)
    events.attrs[IMPLICIT_ATTR] = True
    with pytest.raises(SplitError, match=r"drop_duplicates\(\['u', 'i'\], keep='last'\)"):
        check_no_duplicates(events.rename(columns={USER_COL: "u", ITEM_COL: "i"}),
                            user_col="u", item_col="i")


def test_check_fraction_and_seed_accept_numpy_scalars():
    assert check_fraction("test_size", np.float32(0.25)) == 0.25
    assert type(check_fraction("test_size", np.float64(0.5))) is float
    for bad in (0, 1, 1.5, -0.1, float("nan"), "0.2", None, True):
        with pytest.raises(SplitError, match="val_share must be"):
            check_fraction("val_share", bad)
    assert check_seed(np.uint8(7)) == 7 and type(check_seed(np.int64(7))) is int
    for bad in (-1, 1.0, "1", True):
        with pytest.raises(SplitError, match="seed must be a non-negative integer"):
            check_seed(bad)


def test_held_out_share_takes_test_size_or_one_deprecated_alias():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the current name
        assert held_out_share("f", 0.3, 0.2) == 0.3
        assert held_out_share("f", 0.3, 0.2, frac=None) == 0.3
    with pytest.warns(DeprecationWarning, match=r"f\(frac=\.\.\.\) is deprecated; use "
                                                r"f\(test_size=\.\.\.\)"):
        assert held_out_share("f", 0.2, 0.2, frac=0.4) == 0.4
    with pytest.raises(SplitError, match="pass the held-out share once"):
        held_out_share("f", 0.3, 0.2, frac=0.4)  # test_size changed too
    with pytest.raises(SplitError, match="once"):
        held_out_share("f", 0.2, 0.2, frac=0.4, val_size=0.1)
    with pytest.raises(SplitError, match="frac must be strictly between 0 and 1"), \
            pytest.warns(DeprecationWarning):
        held_out_share("f", 0.2, 0.2, frac=2)


def test_counts_round_half_up_and_keep_one_for_training():
    assert [share_count(0.25, n) for n in (2, 6, 10, 3)] == [1, 2, 3, 1]  # 0.5, 1.5, 2.5, 0.75
    assert share_count(0.5, 5) == 3  # round() would give 2
    assert held_out_count(0.01, 10, "test_size", "ratings") == 1  # at least one
    assert held_out_count(0.5, 5, "test_size", "ratings") == 3
    with pytest.raises(SplitError, match="test_size=0.9 of 2 users leaves no users for training"):
        held_out_count(0.9, 2, "test_size", "users")


def test_distinct_ids_sorts_one_kind_and_keeps_appearance_for_mixed():
    np.testing.assert_array_equal(distinct_ids(pd.Series([3, 1, 3, 2])), [1, 2, 3])
    assert list(distinct_ids(pd.Series(["b", "007", "a", "b"], dtype=object))) == ["007", "a", "b"]
    mixed = distinct_ids(pd.Series(["b", 2, "a", 2], dtype=object))
    assert list(mixed) == ["b", 2, "a"] and type(mixed[1]) is int


def test_sides_keep_order_attrs_and_a_fresh_index():
    frame = _frame(5)
    train, test = sides(frame, np.array([False, True, False, True, False]))
    assert list(test[ITEM_COL]) == [1, 3] and list(train[ITEM_COL]) == [0, 2, 4]
    assert list(train.index) == [0, 1, 2] and list(test.index) == [0, 1]
    assert train.attrs == test.attrs == {"rating_scale": (1.0, 5.0)}
    train.attrs["rating_scale"] = (0, 1)  # copies: the input's attrs are untouched
    assert frame.attrs["rating_scale"] == (1.0, 5.0)
    by_index = sides_by_index(frame, [3, 1])
    pd.testing.assert_frame_equal(by_index[1], test)
    assert check_sides(train, test, "why") == (train, test)
    with pytest.raises(SplitError, match="the split would leave test empty: all tied"):
        check_sides(frame, frame.iloc[:0], "all tied")
    with pytest.raises(SplitError, match="leave train empty"):
        check_sides(frame.iloc[:0], frame, "why")
