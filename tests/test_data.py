"""Reliability of recsys_tutorial.data: your own frames and files load with ids, dates and scale
kept exactly, and every bad input raises the specific error, naming what is wrong.

The MovieLens loaders are tested in test_movielens.py."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys_tutorial.data import (
    GENRES_COL,
    IMPLICIT_ATTR,
    ITEM_COL,
    RATING_COL,
    SCALE_ATTR,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
    from_frames,
    make_synthetic,
    read_ratings_csv,
    validate_ratings,
)
from recsys_tutorial.errors import (
    ChecksumError,
    ConfigError,
    DataError,
    DataFileError,
    DuplicateRatingError,
    RatingValueError,
    SchemaError,
)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALVES = [x / 2 for x in range(1, 11)]


def _frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            USER_COL: np.arange(n) % 3,
            ITEM_COL: np.arange(n) + 10,
            RATING_COL: [HALVES[i % len(HALVES)] for i in range(n)],
            TIME_COL: np.arange(n) * 10 + 1_000,
        }
    )


def _write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.csv: no such file"):
        read_ratings_csv(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="is a folder"):
        read_ratings_csv(tmp_path)


def test_empty_files(tmp_path):
    empty = _write(tmp_path / "ratings.csv", b"")
    with pytest.raises(DataFileError, match=r"ratings\.csv: the file is empty"):
        read_ratings_csv(empty)
    header_only = _write(tmp_path / "header.csv", "userId,movieId,rating,timestamp\n")
    with pytest.raises(DataFileError, match=r"header\.csv: no ratings"):
        read_ratings_csv(header_only)


# --------------------------------------------------------------------------- CSV content


def test_missing_or_renamed_column(tmp_path):
    path = _write(tmp_path / "mine.csv", "user,movieId,rating,timestamp\n1,10,4.0,5\n")
    with pytest.raises(
        SchemaError, match=r"mine\.csv: missing column\(s\) \['userId'\]; found \['user'"
    ):
        read_ratings_csv(path)
    # the fix the message suggests works
    assert read_ratings_csv(path, user_col="user")[USER_COL].tolist() == [1]
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['timestamp'\]"):
        validate_ratings(_frame().drop(columns=TIME_COL))
    assert validate_ratings(_frame().drop(columns=TIME_COL), timestamp_col=None)[
        TIME_COL
    ].tolist() == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_text_in_rating_column(tmp_path):
    path = _write(
        tmp_path / "mine.csv", "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,11,four,6\n"
    )
    with pytest.raises(
        SchemaError, match=r"mine\.csv: column 'rating' must hold numbers, but row 1 holds 'four'"
    ):
        read_ratings_csv(path)


def test_timestamps_that_are_not_numbers(tmp_path):
    # an ISO date among Unix seconds is read (it used to be refused); a word is not
    path = _write(
        tmp_path / "mine.csv", "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,11,3.0,2020-01-01\n"
    )
    assert read_ratings_csv(path)[TIME_COL].tolist() == [5, 1_577_836_800]
    path = _write(
        tmp_path / "word.csv", "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,11,3.0,yesterday\n"
    )
    with pytest.raises(
        SchemaError,
        match=r"word\.csv: column 'timestamp' must hold Unix seconds \(whole numbers\), datetimes "
        r"or ISO-8601 dates such as .*, but row 1 holds 'yesterday'",
    ):
        read_ratings_csv(path)
    with pytest.raises(
        SchemaError, match=r"column 'timestamp' must hold whole numbers, but row 2 holds 1.5"
    ):
        validate_ratings(_frame().assign(**{TIME_COL: [1, 2, 1.5, 4, 5]}))
    with pytest.raises(SchemaError, match=r"column 'timestamp' is empty at row 3"):
        validate_ratings(_frame().assign(**{TIME_COL: [1, 2, 3, None, 5]}))


def test_non_utf8_text(tmp_path):
    latin1 = "userId,movieId,rating,timestamp,comment\n1,10,4.0,5,très bien\n".encode("latin-1")
    path = _write(tmp_path / "latin1.csv", latin1)
    with pytest.raises(DataFileError, match=r"latin1\.csv: not UTF-8 text.*re-save it as UTF-8"):
        read_ratings_csv(path)


def test_unparsable_csv(tmp_path):
    path = _write(
        tmp_path / "ragged.csv", 'userId,movieId,rating,timestamp\n1,10,4.0,5\n"unclosed,1\n'
    )
    with pytest.raises(DataFileError, match=r"ragged\.csv: not a readable CSV"):
        read_ratings_csv(path)


DUPLICATES = pd.DataFrame(
    {
        USER_COL: [1, 1, 1, 2],
        ITEM_COL: [10, 10, 10, 10],
        RATING_COL: [4.0, 2.0, 3.0, 5.0],
        TIME_COL: [100, 300, 200, 50],  # the latest of user 1's three is the 2.0, not the last row
    }
)


def test_duplicates_raise_by_default():
    with pytest.raises(
        DuplicateRatingError,
        match=r"mine\.csv: 3 rows rate a \(user, item\) pair more than once, "
        r"first at row 0 \(user 1, item 10\)",
    ):
        validate_ratings(DUPLICATES, source="mine.csv")


def test_duplicates_mean_policy():
    out = validate_ratings(DUPLICATES, duplicates="mean").sort_values(USER_COL)
    # user 1: (4 + 2 + 3) / 3 = 3.0 with the latest timestamp 300; user 2 unchanged
    assert out[USER_COL].tolist() == [1, 2]
    assert out[RATING_COL].tolist() == [3.0, 5.0]
    assert out[TIME_COL].tolist() == [300, 50]
    assert out[RATING_COL].dtype == np.float32
    uneven = DUPLICATES.assign(**{RATING_COL: [4.0, 2.0, 3.5, 5.0]})
    mean = validate_ratings(uneven, duplicates="mean").set_index(USER_COL)[RATING_COL]
    assert mean[1] == pytest.approx(9.5 / 3, abs=1e-6)


def test_duplicates_last_policy():
    out = validate_ratings(DUPLICATES, duplicates="last")
    assert out.index.equals(pd.RangeIndex(2))
    out = out.sort_values(USER_COL)
    assert out[RATING_COL].tolist() == [2.0, 5.0]  # the most recent (t=300), not the last row
    assert out[TIME_COL].tolist() == [300, 50]


def test_unknown_duplicate_policy():
    with pytest.raises(SchemaError, match=r"duplicates must be one of \('raise', 'mean', 'last'\)"):
        validate_ratings(_frame(), duplicates="first")


@st.composite
def frames_with_a_bad_value(draw):
    n = draw(st.integers(1, 30))
    frame = pd.DataFrame(
        {
            USER_COL: draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)),
            ITEM_COL: np.arange(n),  # unique pairs
            RATING_COL: draw(st.lists(st.sampled_from(HALVES), min_size=n, max_size=n)),
            TIME_COL: draw(st.lists(st.integers(0, 2**31), min_size=n, max_size=n)),
        }
    )
    row = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(["nan", "low", "high", "inf", "text", "time_text"]))
    return frame, row, kind


@PROPERTY
@given(frames_with_a_bad_value())
def test_a_planted_bad_value_is_reported_at_its_row(case):
    frame, row, kind = case
    if kind in ("text", "time_text"):
        col = RATING_COL if kind == "text" else TIME_COL
        frame[col] = frame[col].astype(object)
        frame.loc[row, col] = "n/a"
        must = "numbers" if kind == "text" else r"Unix seconds \(whole numbers\), datetimes .*"
        error, pattern = (
            SchemaError,
            rf"column '{col}' must hold {must}, but row {row} holds 'n/a'",
        )
    else:
        value = {"nan": np.nan, "low": 0.0, "high": 5.5, "inf": np.inf}[kind]
        frame.loc[row, RATING_COL] = value
        word = "missing" if kind == "nan" else "outside the scale"
        error, pattern = (
            RatingValueError,
            rf"column 'rating': 1 rating\(s\) .*{word}.*first at row {row}\b",
        )
    with pytest.raises(error, match=rf"^my\.csv: {pattern}"):
        validate_ratings(frame, source="my.csv")


def test_custom_scale():
    ten = _frame().assign(**{RATING_COL: [1, 10, 7, 3, 5]})
    assert validate_ratings(ten, scale=(1, 10))[RATING_COL].max() == 10
    with pytest.raises(
        RatingValueError, match=r"outside the scale \[0.5, 5.0\], first at row 1 \(value 10.0\)"
    ):
        validate_ratings(ten)


def test_validate_rejects_non_frames_and_empty_frames():
    with pytest.raises(SchemaError, match="expected a pandas DataFrame, got list"):
        validate_ratings([[1, 2, 3.0, 4]])
    with pytest.raises(DataFileError, match="no ratings"):
        validate_ratings(_frame().iloc[:0])


def test_every_data_error_is_a_value_error():
    # notebooks may catch ValueError; the package promises its own classes under it
    for cls in (DataFileError, ChecksumError, SchemaError, RatingValueError, DuplicateRatingError):
        assert issubclass(cls, DataError) and issubclass(cls, ValueError)


# --------------------------------------------------------------------------- your own frames


ITEMS = pd.DataFrame(
    {
        "what": [10, 11, 12],  # item_col names the item id in both frames
        "name": ["Alien", "Amélie", "Heat"],
        "tags": ["Horror|Sci-Fi", np.nan, "Crime|Drama"],
        "year": [1979, 2001, None],
    }
)
RATINGS = pd.DataFrame(
    {
        "who": [1, 1, 2, 2],
        "what": [10, 11, 10, 12],
        "stars": [5, 4.5, "3", 2.0],
        "when": [3, 1, 2, 4],
    }
)
COLUMNS = dict(
    user_col="who",
    item_col="what",
    rating_col="stars",
    timestamp_col="when",
    title_col="name",
    genres_col="tags",
)


def test_from_frames_hand_typed():
    data = from_frames(RATINGS, ITEMS, **COLUMNS, name="mine")
    assert data.name == "mine" and data.truth is None
    assert list(data.ratings.columns) == [USER_COL, ITEM_COL, RATING_COL, TIME_COL]
    assert data.ratings[RATING_COL].tolist() == [5.0, 4.5, 3.0, 2.0]
    assert data.ratings[RATING_COL].dtype == np.float32 and data.ratings[TIME_COL].dtype == np.int64
    assert data.movies[TITLE_COL].tolist() == ["Alien", "Amélie", "Heat"]
    assert data.movies[GENRES_COL].tolist() == [["Horror", "Sci-Fi"], [], ["Crime", "Drama"]]
    assert data.movies[YEAR_COL].tolist()[:2] == [1979, 2001] and pd.isna(
        data.movies[YEAR_COL].iloc[2]
    )
    assert data.items is data.movies
    summary = data.summary()
    assert summary["ratings"] == 4 and summary["users"] == 2 and summary["rated_items"] == 3
    assert summary["mean_rating"] == pytest.approx(3.625)


def test_from_frames_validates():
    with pytest.raises(
        SchemaError, match=r"1 rated item\(s\) are not in the items frame, e.g. \[12\]"
    ):
        from_frames(RATINGS, ITEMS.iloc[:2], **COLUMNS)
    with pytest.raises(SchemaError, match=r"items: missing column\(s\) \['name'\]"):
        from_frames(RATINGS, ITEMS.drop(columns="name"), **COLUMNS)
    with pytest.raises(RatingValueError, match="first at row 0"):
        from_frames(RATINGS.assign(stars=[9, 4, 3, 2]), ITEMS, **COLUMNS)
    with pytest.raises(SchemaError, match="item id 10 appears more than once"):
        from_frames(RATINGS, pd.concat([ITEMS, ITEMS.iloc[[0]]]), **COLUMNS)
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['userId'"):
        from_frames(RATINGS, ITEMS)  # the default column names are not there


def test_from_frames_without_genres_gives_independent_empty_lists():
    data = from_frames(RATINGS, ITEMS.drop(columns="tags"), **{**COLUMNS, "genres_col": None})
    genres = data.movies[GENRES_COL]
    assert genres.tolist() == [[], [], []]
    genres.iloc[0].append("Horror")
    assert genres.iloc[1] == []


# --------------------------------------------------------------------------- ids kept as given

ITEMS_BY_NAME = pd.DataFrame({ITEM_COL: ["A1", "007", "映画"], TITLE_COL: ["One", "Two", "Three"]})


def test_string_ids_are_kept_identical():
    ratings = pd.DataFrame(
        {
            USER_COL: ["007", "A1", "ユーザー", "007"],
            ITEM_COL: ["A1", "007", "映画", "映画"],
            RATING_COL: [4.0, 3.5, 5.0, 1.0],
            TIME_COL: [1, 2, 3, 4],
        }
    )
    data = from_frames(ratings, ITEMS_BY_NAME)
    assert data.ratings[USER_COL].tolist() == ["007", "A1", "ユーザー", "007"]
    assert data.ratings[ITEM_COL].tolist() == ["A1", "007", "映画", "映画"]
    assert data.movies[ITEM_COL].tolist() == ["A1", "007", "映画"]
    assert all(type(u) is str for u in data.ratings[USER_COL])
    assert data.summary()["users"] == 3


def test_large_and_mixed_ids_are_kept():
    big = 2**70  # a Python int beyond int64
    ratings = pd.DataFrame(
        {
            USER_COL: pd.Series([big, "18446744073709551617", 7], dtype=object),
            ITEM_COL: [1, 2, 3],
            RATING_COL: [1.0, 2.0, 3.0],
            TIME_COL: [1, 2, 3],
        }
    )
    out = validate_ratings(ratings)
    assert out[USER_COL].tolist() == [big, "18446744073709551617", 7]
    assert [type(u) for u in out[USER_COL]] == [int, str, int]
    assert out[ITEM_COL].dtype == np.int64
    # an object column of small Python ints becomes int64, the same values
    small = ratings.assign(**{USER_COL: pd.Series([5, 6, 7], dtype=object)})
    assert validate_ratings(small)[USER_COL].dtype == np.int64


def test_whole_float_ids_become_int64():
    # e.g. an int column that went through a merge with NaN and back
    out = validate_ratings(_frame(3).assign(**{USER_COL: [1.0, 2.0, 3.0]}))
    assert out[USER_COL].dtype == np.int64 and out[USER_COL].tolist() == [1, 2, 3]
    with pytest.raises(
        SchemaError,
        match=r"column 'userId' must hold whole numbers or text ids, but row 1 holds 2.5",
    ):
        validate_ratings(_frame(3).assign(**{USER_COL: [1.0, 2.5, 3.0]}))


@pytest.mark.parametrize("missing", [None, np.nan, ""])
def test_a_missing_id_names_the_column_and_row(missing):
    frame = _frame(4).assign(**{ITEM_COL: pd.Series(["a", "b", missing, "d"], dtype=object)})
    with pytest.raises(SchemaError, match=r"^mine\.csv: column 'movieId' is empty at row 2"):
        validate_ratings(frame, source="mine.csv")


def test_an_unhashable_id_is_refused():
    frame = _frame(3).assign(**{USER_COL: pd.Series([1, [2, 3], 4], dtype=object)})
    with pytest.raises(SchemaError, match=r"column 'userId' holds an unhashable list at row 1"):
        validate_ratings(frame)


def test_unknown_items_are_listed_in_order_of_appearance():
    ratings = pd.DataFrame(
        {
            USER_COL: [1, 1, 2, 2],
            ITEM_COL: pd.Series(["zz", 3, "A1", "b"], dtype=object),  # mixed kinds: no sorting
            RATING_COL: [1.0, 2.0, 3.0, 4.0],
            TIME_COL: [1, 2, 3, 4],
        }
    )
    with pytest.raises(
        SchemaError, match=r"3 rated item\(s\) are not in the items frame, e\.g\. \['zz', 3, 'b'\]"
    ):
        from_frames(ratings, ITEMS_BY_NAME)


def test_an_id_of_another_kind_is_explained():
    ratings = _frame(1).assign(**{ITEM_COL: [10]})
    items = pd.DataFrame({ITEM_COL: ["10"], TITLE_COL: ["Ten"]})
    with pytest.raises(
        SchemaError,
        match=r"e\.g\. \[10\] \(ids are compared exactly: the ratings' 10 is not the items' '10'",
    ):
        from_frames(ratings, items)


def test_a_repeated_text_item_id_is_named():
    items = pd.concat([ITEMS_BY_NAME, ITEMS_BY_NAME.iloc[[1]]])
    ratings = _frame(1).assign(**{ITEM_COL: ["A1"]})
    with pytest.raises(SchemaError, match=r"items: item id '007' appears more than once"):
        from_frames(ratings, items)


ID = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(2**62, 2**80),
    st.from_regex(r"0[0-9]{1,6}", fullmatch=True),  # leading zeros
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8),
    st.sampled_from(["A1", "ユーザー", "Zoë", "NA", "18446744073709551617"]),
)


@PROPERTY
@given(users=st.lists(ID, min_size=1, max_size=12), data=st.data())
def test_any_ids_survive_from_frames_unchanged(users, data):
    items = data.draw(st.lists(ID, min_size=len(users), max_size=len(users), unique=True))
    ratings = pd.DataFrame(
        {
            USER_COL: pd.Series(users, dtype=object),
            ITEM_COL: pd.Series(items, dtype=object),
            RATING_COL: 3.0,
            TIME_COL: range(len(users)),
        }
    )
    catalogue = pd.DataFrame({ITEM_COL: pd.Series(items[::-1], dtype=object), TITLE_COL: "t"})
    out = from_frames(ratings, catalogue)
    assert [(type(u), u) for u in out.ratings[USER_COL]] == [(type(u), u) for u in users]
    assert [(type(i), i) for i in out.ratings[ITEM_COL]] == [(type(i), i) for i in items]
    assert [(type(i), i) for i in out.movies[ITEM_COL]] == [(type(i), i) for i in items[::-1]]


def _as_read(ids: list[str]) -> list:
    """What read_ratings_csv makes of an id column: ints only if every id is canonical."""
    canonical = re.compile(r"0|-?[1-9][0-9]*")
    if all(canonical.fullmatch(s) and -(2**63) <= int(s) < 2**63 for s in ids):
        return [int(s) for s in ids]
    return ids


TEXT_ID = st.one_of(
    st.from_regex(r"0[0-9]{0,6}", fullmatch=True),
    st.from_regex(r"-?[1-9][0-9]{0,20}", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=8),
)


@PROPERTY
@given(users=st.lists(TEXT_ID, min_size=1, max_size=10))
def test_csv_round_trip_keeps_text_ids(tmp_path_factory, users):
    frame = pd.DataFrame(
        {
            USER_COL: users,
            ITEM_COL: [f"item-{i:03d}" for i in range(len(users))],
            RATING_COL: 4.0,
            TIME_COL: range(len(users)),
        }
    )
    path = tmp_path_factory.mktemp("ids") / "ratings.csv"
    frame.to_csv(path, index=False)
    out = read_ratings_csv(path)
    assert out[USER_COL].tolist() == _as_read(users)
    assert out[ITEM_COL].tolist() == frame[ITEM_COL].tolist()


def test_csv_ids_are_text_unless_every_one_is_a_plain_integer(tmp_path):
    path = _write(
        tmp_path / "mine.csv",
        "userId,movieId,rating,timestamp\n007,A1,4,1\nNA,42,3,2\n18446744073709551617,42,3,3\n",
    )
    out = read_ratings_csv(path)
    assert out[USER_COL].tolist() == ["007", "NA", "18446744073709551617"]
    assert out[ITEM_COL].tolist() == ["A1", "42", "42"]  # one text id keeps the column text
    plain = _write(
        tmp_path / "plain.csv",
        "userId,movieId,rating,timestamp\n-3,42,4,1\n0,9223372036854775807,3,2\n",
    )
    out = read_ratings_csv(plain)
    assert out[USER_COL].dtype == np.int64 and out[USER_COL].tolist() == [-3, 0]
    assert out[ITEM_COL].tolist() == [42, 2**63 - 1]
    blank = _write(tmp_path / "blank.csv", "userId,movieId,rating,timestamp\n1,42,4,1\n,43,3,2\n")
    with pytest.raises(SchemaError, match=r"blank\.csv: column 'userId' is empty at row 1"):
        read_ratings_csv(blank)


# --------------------------------------------------------------------------- dates


def test_datetime_column_with_a_time_zone():
    stamps = pd.to_datetime(["2020-01-01T00:00:00+01:00", "2020-01-01T01:00:00+01:00"])
    out = validate_ratings(_frame(2).assign(**{TIME_COL: stamps}))
    assert out[TIME_COL].dtype == np.int64
    assert out[TIME_COL].tolist() == [1_577_833_200, 1_577_836_800]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_naive_datetimes_are_utc_in_any_unit(unit):
    stamps = pd.Series(pd.to_datetime(["1970-01-02", "2020-01-01 00:00:01.9"], format="ISO8601"))
    stamps = stamps.dt.as_unit(unit)
    out = validate_ratings(_frame(2).assign(**{TIME_COL: stamps}))
    assert out[TIME_COL].tolist() == [86_400, 1_577_836_801]  # fractions of a second dropped


def test_iso_strings():
    iso = ["2020-01-01", "2020-01-01T00:00:00+01:00", "2020-01-01T00:00:00Z", "2020-01-01 12:30"]
    out = validate_ratings(_frame(4).assign(**{TIME_COL: iso}))
    assert out[TIME_COL].tolist() == [1_577_836_800, 1_577_833_200, 1_577_836_800, 1_577_881_800]


def test_iso_strings_in_a_csv(tmp_path):
    path = _write(
        tmp_path / "dates.csv",
        "userId,movieId,rating,timestamp\n1,10,4,2020-01-01T00:00:00+01:00\n1,11,3,2020-01-02\n",
    )
    assert read_ratings_csv(path)[TIME_COL].tolist() == [1_577_833_200, 1_577_923_200]


@pytest.mark.parametrize(
    "times",
    [
        pd.to_datetime(["2020-01-01", "2020-01-02", None]),
        ["2020-01-01", "2020-01-02", None],
        ["2020-01-01", "2020-01-02", ""],
        [1.0, 2.0, np.nan],
    ],
    ids=["NaT", "None", "empty", "NaN"],
)
def test_a_missing_date_names_the_column_and_row(times):
    with pytest.raises(SchemaError, match=r"^mine\.csv: column 'timestamp' is empty at row 2"):
        validate_ratings(_frame(3).assign(**{TIME_COL: times}), source="mine.csv")


def test_an_unreadable_date_names_the_row_and_value():
    with pytest.raises(
        SchemaError, match=r"column 'when' must hold .*, but row 1 holds '2020-13-45'"
    ):
        validate_ratings(
            _frame(2).rename(columns={TIME_COL: "when"}).assign(when=["2020-01-01", "2020-13-45"]),
            timestamp_col="when",
        )


# --------------------------------------------------------------------------- rating scale


def test_a_one_to_ten_scale_travels_with_the_data():
    ratings = _frame(3).assign(**{RATING_COL: [1, 10, 7], ITEM_COL: [10, 11, 12]})
    items = pd.DataFrame({ITEM_COL: [10, 11, 12], TITLE_COL: ["a", "b", "c"]})
    data = from_frames(ratings, items, scale=(np.int64(1), np.float32(10)))  # NumPy scalars
    assert data.scale == (1.0, 10.0)
    assert data.ratings.attrs[SCALE_ATTR] == (1.0, 10.0)
    assert data.ratings[RATING_COL].tolist() == [1.0, 10.0, 7.0]
    # re-validating the frame uses the scale it carries
    assert validate_ratings(data.ratings).attrs[SCALE_ATTR] == (1.0, 10.0)
    with pytest.raises(
        RatingValueError, match=r"outside the scale \[1.0, 10.0\], first at row 1 \(value 11.0\)"
    ):
        from_frames(ratings.assign(**{RATING_COL: [1, 11, 7]}), items, scale=(1, 10))
    with pytest.raises(ConfigError, match=r"scale: low \(10\) must be below high \(1\)"):
        validate_ratings(ratings, scale=(10, 1))


def test_default_scale_is_recorded():
    assert validate_ratings(_frame()).attrs[SCALE_ATTR] == (0.5, 5.0)
    assert make_synthetic(5, 5, 0, ratings_per_user=2).ratings.attrs[SCALE_ATTR] == (0.5, 5.0)


def test_read_ratings_csv_takes_a_scale(tmp_path):
    path = _write(tmp_path / "ten.csv", "userId,movieId,rating,timestamp\n1,10,9,1\n1,11,10,2\n")
    assert read_ratings_csv(path, scale=(1, 10)).attrs[SCALE_ATTR] == (1.0, 10.0)
    with pytest.raises(RatingValueError, match=r"ten\.csv: column 'rating': 2 rating\(s\) outside"):
        read_ratings_csv(path)


# --------------------------------------------------------------------------- implicit feedback

EVENTS = pd.DataFrame(
    {
        "who": ["u1", "u1", "u2", "u1"],
        "what": [10, 11, 10, 10],  # u1 plays item 10 twice, at t=5 and t=9
        "when": [5, 6, 7, 9],
    }
)
EVENT_ITEMS = pd.DataFrame({"what": [10, 11], "name": ["Song", "Other song"]})
EVENT_COLUMNS = dict(user_col="who", item_col="what", timestamp_col="when", title_col="name")


def test_implicit_events_have_no_rating_column():
    data = from_frames(EVENTS.iloc[:3], EVENT_ITEMS, rating_col=None, **EVENT_COLUMNS)
    assert list(data.ratings.columns) == [USER_COL, ITEM_COL, TIME_COL]
    assert data.ratings.attrs == {IMPLICIT_ATTR: True}  # no scale
    assert data.implicit and data.scale is None
    assert data.summary() == {
        "ratings": 3,
        "users": 2,
        "rated_items": 2,
        "catalogue_items": 2,
        "density": 3 / 4,
        "mean_rating": None,
    }
    assert not make_synthetic(3, 3, 0, ratings_per_user=1).implicit


def test_repeated_events_follow_the_duplicates_policy():
    with pytest.raises(
        DuplicateRatingError,
        match=r"2 events repeat a \(user, item\) pair, first at row 0 \(user 'u1', item 10\)",
    ):
        from_frames(EVENTS, EVENT_ITEMS, rating_col=None, **EVENT_COLUMNS)
    for policy in ("mean", "last"):
        data = from_frames(EVENTS, EVENT_ITEMS, rating_col=None, duplicates=policy, **EVENT_COLUMNS)
        out = data.ratings.sort_values([USER_COL, ITEM_COL])
        assert out.values.tolist() == [["u1", 10, 9], ["u1", 11, 6], ["u2", 10, 7]]


def test_implicit_csv_and_scale(tmp_path):
    path = _write(tmp_path / "plays.csv", "userId,movieId,timestamp\nA,1,5\nB,1,6\n")
    out = read_ratings_csv(path, rating_col=None)
    assert out.values.tolist() == [["A", 1, 5], ["B", 1, 6]] and out.attrs[IMPLICIT_ATTR]
    with pytest.raises(ConfigError, match=r"scale=\(1, 5\) was given with rating_col=None"):
        validate_ratings(
            EVENTS,
            rating_col=None,
            scale=(1, 5),
            **{k: v for k, v in EVENT_COLUMNS.items() if k != "title_col"},
        )
    with pytest.raises(
        SchemaError, match=r"missing column\(s\) \['rating'\].*rating_col=None for implicit"
    ):
        read_ratings_csv(path)


# --------------------------------------------------------------------------- file layouts


def test_movielens_1m_ratings_dat(tmp_path):
    path = _write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    out = read_ratings_csv(path, sep="::", names=[USER_COL, ITEM_COL, RATING_COL, TIME_COL])
    assert out.values.tolist() == [[1, 1193, 5.0, 978300760], [1, 661, 3.0, 978302109]]
    assert out[USER_COL].dtype == np.int64


def test_movielens_100k_u_data(tmp_path):
    path = _write(tmp_path / "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    out = read_ratings_csv(
        path, sep="\t", names=[USER_COL, ITEM_COL, RATING_COL, TIME_COL], scale=(1, 5)
    )
    assert out.values.tolist() == [[196, 242, 3.0, 881250949], [186, 302, 3.0, 891717742]]
    assert out.attrs[SCALE_ATTR] == (1.0, 5.0)


def test_a_wrong_separator_or_a_missing_header_is_explained(tmp_path):
    dat = _write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    with pytest.raises(
        SchemaError, match=r"looks separated by '::'; pass sep='::'.*no header row; pass names=\["
    ):
        read_ratings_csv(dat)
    with pytest.raises(
        SchemaError,
        match=r"the file has no header row; "
        r"pass names=\['userId', 'movieId', 'rating', 'timestamp'\]",
    ) as info:
        read_ratings_csv(dat, sep="::")
    assert "looks separated" not in str(info.value)
    semi = _write(tmp_path / "semi.csv", "userId;movieId;rating;timestamp\n1;10;3;5\n")
    with pytest.raises(SchemaError, match=r"looks separated by ';'; pass sep=';'\.$"):
        read_ratings_csv(semi)
    tab = _write(tmp_path / "tab.tsv", "userId\tmovieId\trating\ttimestamp\n1\t10\t3\t5\n")
    with pytest.raises(SchemaError, match=r"looks separated by '\\t'; pass sep='\\t'"):
        read_ratings_csv(tab)
    assert read_ratings_csv(tab, sep="\t")[ITEM_COL].tolist() == [10]


def test_unknown_keyword_arguments_are_named(tmp_path):
    path = _write(tmp_path / "mine.csv", "userId,movieId,rating,timestamp\n1,10,4.0,5\n")
    with pytest.raises(
        ConfigError,
        match=r"read_ratings_csv: unknown argument\(s\) \['delimiter'\] "
        r"\(did you mean delimiter= -> sep=\?\); accepted: \['sep', 'names', 'encoding', 'header'",
    ):
        read_ratings_csv(path, delimiter="::")
    with pytest.raises(
        ConfigError, match=r"\['user_column'\] \(did you mean user_column= -> user_col=\?\)"
    ):
        read_ratings_csv(path, user_column="userId")


def test_encoding_hint(tmp_path):
    latin1 = "userId,movieId,rating,timestamp\n1,Amélie,4.0,5\n".encode("latin-1")
    path = _write(tmp_path / "latin1.csv", latin1)
    with pytest.raises(
        DataFileError, match=r"latin1\.csv: not UTF-8 text .*pass encoding='latin-1'"
    ):
        read_ratings_csv(path)
    assert read_ratings_csv(path, encoding="latin-1")[ITEM_COL].tolist() == ["Amélie"]
    with pytest.raises(ConfigError, match=r"unknown encoding 'klingon'"):
        read_ratings_csv(path, encoding="klingon")


# --------------------------------------------------------------------------- synthetic


def test_make_synthetic_is_deterministic_and_well_formed():
    a = make_synthetic(n_users=30, n_items=20, seed=3, ratings_per_user=8)
    b = make_synthetic(n_users=30, n_items=20, seed=3, ratings_per_user=8)
    c = make_synthetic(n_users=30, n_items=20, seed=4, ratings_per_user=8)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.movies, b.movies)
    np.testing.assert_array_equal(a.truth, b.truth)
    assert not a.ratings.equals(c.ratings)
    assert a.truth.shape == (30, 20)
    assert ((a.truth >= 0.5) & (a.truth <= 5.0)).all()
    r = a.ratings
    assert r[RATING_COL].between(0.5, 5.0).all() and ((r[RATING_COL] * 2) % 1 == 0).all()
    assert (r.groupby(USER_COL).size() == 8).all()
    assert not r.duplicated([USER_COL, ITEM_COL]).any()
    assert r[TIME_COL].is_monotonic_increasing
    assert set(r[ITEM_COL]) <= set(a.movies[ITEM_COL]) and len(a.movies) == 20
    assert a.movies[GENRES_COL].map(len).between(2, 3).all()
    # it passes the package's own validation unchanged
    pd.testing.assert_frame_equal(validate_ratings(r), r)


@PROPERTY
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_make_synthetic_shapes(n_users, n_items, seed):
    data = make_synthetic(n_users, n_items, seed, ratings_per_user=5)
    assert data.truth.shape == (n_users, n_items)
    assert len(data.ratings) == n_users * min(5, n_items)
    assert data.ratings[RATING_COL].between(0.5, 5.0).all()


def test_names_must_be_a_list_and_a_missed_separator_is_named(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::10::4::978300760\n2::20::5::978302109\n")
    with pytest.raises(ConfigError, match="names must be a list of column names"):
        read_ratings_csv(path, sep="::", names="userId,movieId,rating,timestamp")
    names = ["userId", "movieId", "rating", "timestamp"]
    with pytest.raises(SchemaError, match=r"every line was read into the first column.*sep='::'"):
        read_ratings_csv(path, names=names)  # the separator is missing, the names are right
    assert read_ratings_csv(path, sep="::", names=names)["movieId"].tolist() == [10, 20]
