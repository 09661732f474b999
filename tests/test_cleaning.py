"""recsys_tutorial.cleaning: ids kept as given, dates to Unix seconds, ratings on a scale,
repeated pairs resolved; each bad cell named by its column and row."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.cleaning import (
    check_rated_items,
    clean_ids,
    clean_ratings,
    clean_timestamps,
    genre_list,
    ids_from_text,
    looks_numeric,
    resolve_duplicates,
)
from recsys_tutorial.errors import DuplicateRatingError, RatingValueError, SchemaError
from recsys_tutorial.schema import ITEM_COL, RATING_COL, TIME_COL, USER_COL

# --------------------------------------------------------------------------- ids


def test_integer_id_columns_become_int64():
    for values in (
        pd.Series([3, 1, 2], dtype=np.int32),
        pd.Series([3, 1, 2], dtype="Int64"),
        pd.Series([3.0, 1.0, 2.0]),
        pd.Series([3, 1, 2], dtype=object),
    ):
        out = clean_ids(values, column="u")
        assert out.dtype == np.int64 and out.tolist() == [3, 1, 2]


def test_other_id_columns_are_left_as_they_are():
    huge = pd.Series([2**64 - 1, 1], dtype=np.uint64)  # beyond int64: not wrapped around
    assert clean_ids(huge).tolist() == [2**64 - 1, 1]
    text = pd.Series(["007", "A1", "ユーザー"])
    out = clean_ids(text)
    assert out.tolist() == ["007", "A1", "ユーザー"] and out.dtype == text.dtype
    assert clean_ids(pd.Series(["b", "a"], dtype="category")).tolist() == ["b", "a"]
    mixed = pd.Series([1, "1", 2**80, 2.0], dtype=object)
    assert [(type(v), v) for v in clean_ids(mixed)] == [
        (int, 1),
        (str, "1"),
        (int, 2**80),
        (float, 2.0),
    ]
    # a fresh index, whatever the frame's index was
    assert clean_ids(pd.Series([5, 6], index=[10, 3])).index.tolist() == [0, 1]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([1.0, np.nan, 3.0]),
        pd.Series(["a", None, "c"]),
        pd.Series(["a", "", "c"]),
        pd.Series(["a", pd.NaT, "c"], dtype=object),
        pd.Series(["a", np.float64("nan"), "c"], dtype=object),
    ],
)
def test_a_missing_id_is_named(values):
    with pytest.raises(
        SchemaError, match=r"^f\.csv: column 'who' is empty at row 1: every row needs an id"
    ):
        clean_ids(values, source="f.csv", column="who")


def test_bad_ids():
    with pytest.raises(
        SchemaError, match=r"column 'who' holds an unhashable dict at row 0 \(\{'a': 1\}\)"
    ):
        clean_ids(pd.Series([{"a": 1}, 2], dtype=object), column="who")
    with pytest.raises(
        SchemaError, match=r"must hold whole numbers or text ids, but row 1 holds inf"
    ):
        clean_ids(pd.Series([1.0, np.inf]), column="who")


def test_ids_from_text():
    assert ids_from_text(pd.Series(["42", "-7", "0"])).tolist() == [42, -7, 0]
    assert ids_from_text(pd.Series(["9223372036854775807"])).dtype == np.int64
    for kept in (["007", "1"], ["+7"], ["1e3"], ["-0"], [" 5"], ["9223372036854775808"], ["1", ""]):
        assert ids_from_text(pd.Series(kept)).tolist() == kept
    numbers = pd.Series([1, 2])
    assert ids_from_text(numbers) is numbers  # not text: unchanged


# --------------------------------------------------------------------------- timestamps


def test_every_kind_of_time_gives_unix_seconds():
    paris = dt.timezone(dt.timedelta(hours=1))
    cells = pd.Series(
        [
            5,
            "6",
            7.0,
            "2020-01-01T00:00:00+01:00",
            dt.datetime(2020, 1, 1, tzinfo=paris),
            pd.Timestamp("2020-01-01"),  # naive: UTC
            np.datetime64("1970-01-02"),
            " 2020-01-01 ",
        ],
        dtype=object,
    )
    assert clean_timestamps(cells).tolist() == [
        5, 6, 7, 1_577_833_200, 1_577_833_200, 1_577_836_800, 86_400, 1_577_836_800,
    ]  # fmt: skip
    assert clean_timestamps(pd.Series([-1, 2**40])).tolist() == [-1, 2**40]


def test_the_first_bad_time_is_named():
    cells = pd.Series(["2020-01-01", "soon", None], dtype=object)
    with pytest.raises(SchemaError, match=r"column 't' must hold .*, but row 1 holds 'soon'"):
        clean_timestamps(cells, column="t")
    with pytest.raises(SchemaError, match=r"column 't' is empty at row 0"):
        clean_timestamps(pd.Series([None, "soon"], dtype=object), column="t")
    with pytest.raises(SchemaError, match=r"must hold .*, but row 0 holds True"):
        clean_timestamps(pd.Series([True, False]), column="t")
    with pytest.raises(SchemaError, match=r"but row 1 holds '1.5'"):
        clean_timestamps(pd.Series(["1", "1.5"]), column="t")


# --------------------------------------------------------------------------- ratings


def test_clean_ratings():
    out = clean_ratings(pd.Series([1, "2.5", 3.0], dtype=object), scale=(1, 3))
    assert out.dtype == np.float32 and out.tolist() == [1.0, 2.5, 3.0]
    with pytest.raises(
        RatingValueError, match=r"column 'r': 1 rating\(s\) are missing \(NaN\), first at row 1"
    ):
        clean_ratings(pd.Series(["1", ""]), scale=(1, 5), column="r")
    with pytest.raises(SchemaError, match=r"column 'r' must hold numbers, but row 0 holds 'five'"):
        clean_ratings(pd.Series(["five"]), scale=(1, 5), column="r")
    with pytest.raises(
        RatingValueError, match=r"outside the scale \[1, 5\], first at row 0 \(value 0.0\)"
    ):
        clean_ratings(pd.Series([0.0]), scale=(1, 5), column="r")


# --------------------------------------------------------------------------- duplicates and items


def test_duplicates_with_ids_of_mixed_kinds():
    frame = pd.DataFrame(
        {
            USER_COL: pd.Series(["7", 7, "7"], dtype=object),  # "7" and 7 are two users
            ITEM_COL: [1, 1, 1],
            RATING_COL: np.array([2.0, 4.0, 5.0], dtype=np.float32),
            TIME_COL: [3, 1, 2],
        }
    )
    with pytest.raises(
        DuplicateRatingError, match=r"2 rows rate .* first at row 0 \(user '7', item 1\)"
    ):
        resolve_duplicates(frame, "raise")
    out = resolve_duplicates(frame, "mean")
    assert out.values.tolist() == [[7, 1, 4.0, 1], ["7", 1, 3.5, 3]]
    assert [type(u) for u in out[USER_COL]] == [int, str]


def test_genre_list_and_rated_items():
    assert genre_list("A|B||C") == ["A", "B", "C"]
    assert genre_list(("x", 1)) == ["x", "1"]
    assert (
        genre_list(np.nan) == []
        and genre_list(None) == []
        and genre_list("(no genres listed)") == []
    )
    check_rated_items(pd.Series([1, 2]), pd.Series([2, 1, 3]))  # all there: no error
    with pytest.raises(
        SchemaError, match=r"2 rated item\(s\) are not in the items frame, e\.g\. \[9, 'x'\]"
    ):
        check_rated_items(pd.Series([9, 1, "x", 9], dtype=object), pd.Series([1]))


def test_looks_numeric():
    assert looks_numeric("5") and looks_numeric(" -1.5e3 ") and looks_numeric("978300760")
    assert not looks_numeric("userId") and not looks_numeric("") and not looks_numeric(5)
