"""Reliability of recsys_tutorial.data: every bad input raises the specific error, naming what is wrong."""

from __future__ import annotations

import io
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys_tutorial.config import CACHE_ENV, DATA_ENV
from recsys_tutorial.data import (
    GENRES_COL,
    ITEM_COL,
    RATING_COL,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
    RatingsData,
    from_frames,
    load_movielens,
    make_synthetic,
    parse_movies,
    read_ratings_csv,
    validate_ratings,
)
from recsys_tutorial.errors import (
    ChecksumError,
    DataError,
    DataFileError,
    DuplicateRatingError,
    RatingValueError,
    SchemaError,
)

NAME = "ml-latest-small"
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALVES = [x / 2 for x in range(1, 11)]


def _movielens_zip() -> Path | None:
    for d in (os.environ.get(DATA_ENV), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if d and (Path(d) / f"{NAME}.zip").is_file():
            return Path(d) / f"{NAME}.zip"
    return None


@pytest.fixture(scope="module")
def zip_bytes() -> bytes:
    path = _movielens_zip()
    if path is None:
        pytest.skip(f"{NAME}.zip not found (set {DATA_ENV} to its folder)")
    return path.read_bytes()


@pytest.fixture(scope="module")
def movielens() -> RatingsData:
    path = _movielens_zip()
    if path is None:
        pytest.skip(f"{NAME}.zip not found (set {DATA_ENV} to its folder)")
    return load_movielens(path=path, download=False)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test may read or fill the user's cache, or find the shared data by accident."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(DATA_ENV, raising=False)


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


def _ratings_member(raw: bytes) -> tuple[int, int]:
    """Start and length of ratings.csv's compressed bytes inside the archive."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("ratings.csv"))
    header = raw[info.header_offset : info.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def _with_modified_ratings(raw: bytes) -> bytes:
    """A valid zip whose ratings.csv differs from GroupLens's by one rating."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("ratings.csv"):
                assert b"\n1,1,4.0,964982703" in data[:100]
                data = data.replace(b"\n1,1,4.0,964982703", b"\n1,1,5.0,964982703", 1)
            dst.writestr(info.filename, data)
    return out.getvalue()


# --------------------------------------------------------------------------- files and archives


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.csv: no such file"):
        read_ratings_csv(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match=r"nope\.zip: no such file or folder"):
        load_movielens(path=tmp_path / "nope.zip")
    with pytest.raises(DataFileError, match=r"holds neither ml-latest-small\.zip"):
        load_movielens(path=tmp_path)  # an existing folder without the data
    with pytest.raises(DataFileError, match=r"not found in .*RECSYS_TUTORIAL_DATA"):
        load_movielens(download=False)  # nothing in the (empty) cache, no download allowed
    with pytest.raises(DataFileError, match="is a folder"):
        read_ratings_csv(tmp_path)


def test_empty_files(tmp_path):
    empty = _write(tmp_path / "ratings.csv", b"")
    with pytest.raises(DataFileError, match=r"ratings\.csv: the file is empty"):
        read_ratings_csv(empty)
    header_only = _write(tmp_path / "header.csv", "userId,movieId,rating,timestamp\n")
    with pytest.raises(DataFileError, match=r"header\.csv: no ratings"):
        read_ratings_csv(header_only)
    empty_zip = _write(tmp_path / f"{NAME}.zip", b"")
    with pytest.raises(DataFileError, match=r"ml-latest-small\.zip: the file is empty"):
        load_movielens(path=empty_zip)


def test_not_a_zip(tmp_path):
    fake = _write(tmp_path / f"{NAME}.zip", "<html>404 Not Found</html>")
    with pytest.raises(
        DataFileError, match=r"ml-latest-small\.zip: truncated or corrupted archive"
    ):
        load_movielens(path=fake)


def test_zip_without_the_ratings(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-latest-small/movies.csv", "movieId,title,genres\n")
    archive = _write(tmp_path / f"{NAME}.zip", buf.getvalue())
    with pytest.raises(
        DataFileError, match=r"the archive has no \w+\.csv; is it the right archive"
    ):
        load_movielens(path=archive)


def test_truncated_zip(tmp_path, zip_bytes):
    archive = _write(tmp_path / f"{NAME}.zip", zip_bytes[: len(zip_bytes) // 2])
    with pytest.raises(
        DataFileError, match=r"ml-latest-small\.zip: truncated or corrupted archive"
    ):
        load_movielens(path=archive)


@PROPERTY
@given(offset=st.floats(0.0, 0.999), value=st.integers(0, 255))
def test_corrupted_zip(tmp_path_factory, zip_bytes, offset, value):
    start, size = _ratings_member(zip_bytes)
    position = start + int(offset * size)
    raw = bytearray(zip_bytes)
    if raw[position] == value:
        value ^= 0xFF
    raw[position] = value
    archive = _write(tmp_path_factory.mktemp("corrupt") / f"{NAME}.zip", bytes(raw))
    with pytest.raises(DataFileError, match=r"ml-latest-small\.zip"):  # corrupted or checksum
        load_movielens(path=archive)


def test_wrong_checksum(tmp_path, zip_bytes):
    archive = _write(tmp_path / f"{NAME}.zip", _with_modified_ratings(zip_bytes))
    with pytest.raises(
        ChecksumError, match=r"ml-latest-small\.zip:ratings\.csv: SHA-256 \w+ differs"
    ):
        load_movielens(path=archive)


def test_extracted_folder_is_checked_too(tmp_path, zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / NAME
    data = load_movielens(path=tmp_path, download=False)  # finds the extracted folder
    assert len(data.ratings) == 100_836
    tags = folder / "tags.csv"
    tags.write_bytes(tags.read_bytes() + b"1,1,extra tag,1\n")
    with pytest.raises(ChecksumError, match=r"tags\.csv"):
        load_movielens(path=folder)
    (folder / "links.csv").unlink()
    with pytest.raises(DataFileError, match=r"links\.csv: missing"):
        load_movielens(path=folder)


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
    path = _write(
        tmp_path / "mine.csv", "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,11,3.0,2020-01-01\n"
    )
    with pytest.raises(
        SchemaError,
        match=r"mine\.csv: column 'timestamp' must hold numbers, but row 1 holds '2020-01-01'",
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
        match=r"mine\.csv: 3 rows rate a \(user, item\) pair more than once, first at row 0 \(user 1, item 10\)",
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
        error, pattern = (
            SchemaError,
            rf"column '{col}' must hold numbers, but row {row} holds 'n/a'",
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


# --------------------------------------------------------------------------- MovieLens


def test_real_archive_loads(movielens):
    ratings = movielens.ratings
    assert len(ratings) == 100_836
    assert ratings[USER_COL].nunique() == 610
    assert len(movielens.movies) == 9_742
    assert ratings[RATING_COL].between(0.5, 5.0).all()
    assert ratings.dtypes.to_dict() == {
        USER_COL: np.dtype("int64"),
        ITEM_COL: np.dtype("int64"),
        RATING_COL: np.dtype("float32"),
        TIME_COL: np.dtype("int64"),
    }
    assert not ratings.duplicated([USER_COL, ITEM_COL]).any()
    assert len(movielens.tags) > 0 and movielens.links is not None


def test_real_titles_years_and_genres(movielens):
    movies = movielens.movies.set_index(ITEM_COL)
    assert movies.loc[1, TITLE_COL] == "Toy Story" and movies.loc[1, YEAR_COL] == 1995
    assert movies.loc[1, GENRES_COL] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert movies[GENRES_COL].map(lambda g: isinstance(g, list)).all()
    no_year = movies[movies[YEAR_COL].isna()]
    assert 0 < len(no_year) < 20 and "Babylon 5" in set(no_year[TITLE_COL])
    assert movies[YEAR_COL].dropna().between(1900, 2030).all()


def test_parse_movies_by_hand():
    movies = parse_movies(
        pd.DataFrame(
            {
                ITEM_COL: [1, 2, 3, 4, 5],
                TITLE_COL: [
                    "Toy Story (1995)",
                    "Babylon 5",
                    "(500) Days of Summer (2009)",
                    "Fawlty Towers (1975-1979)",
                    "Black Mirror (2011-) ",
                ],
                GENRES_COL: [
                    "Adventure|Animation",
                    "Sci-Fi",
                    "Comedy|Drama|Romance",
                    "Comedy",
                    "(no genres listed)",
                ],
            }
        )
    )
    assert movies[TITLE_COL].tolist() == [
        "Toy Story",
        "Babylon 5",
        "(500) Days of Summer",
        "Fawlty Towers",
        "Black Mirror",
    ]
    years = movies[YEAR_COL].tolist()
    assert years[0] == 1995 and pd.isna(years[1]) and years[2:] == [2009, 1975, 2011]
    assert movies[GENRES_COL].tolist() == [
        ["Adventure", "Animation"],
        ["Sci-Fi"],
        ["Comedy", "Drama", "Romance"],
        ["Comedy"],
        [],
    ]
    with pytest.raises(SchemaError, match=r"movies\.csv: item id 1 appears more than once"):
        parse_movies(pd.DataFrame({ITEM_COL: [1, 1], TITLE_COL: ["a", "b"], GENRES_COL: ["", ""]}))


# --------------------------------------------------------------------------- simulated download


class _FakeResponse:
    """What urllib.request.urlopen returns, serving ``data`` and announcing ``length`` bytes."""

    def __init__(self, data: bytes, length: int | None = None):
        self._body = io.BytesIO(data)
        self.headers = {"Content-Length": str(len(data) if length is None else length)}

    def read(self, size: int = -1) -> bytes:
        return self._body.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _serve(monkeypatch, data: bytes | Exception, length: int | None = None) -> list[str]:
    urls: list[str] = []

    def fake_urlopen(url, timeout=None):
        urls.append(url)
        if isinstance(data, Exception):
            raise data
        return _FakeResponse(data, length)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return urls


def test_download_puts_a_verified_archive_in_the_cache(tmp_path, monkeypatch, zip_bytes):
    urls = _serve(monkeypatch, zip_bytes)
    data = load_movielens(progress=False)
    assert urls == ["https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"]
    assert len(data.ratings) == 100_836
    cache = tmp_path / "cache"
    assert sorted(p.name for p in cache.iterdir()) == [f"{NAME}.zip"]
    assert (cache / f"{NAME}.zip").read_bytes() == zip_bytes
    # the next load uses the cache: no second download
    _serve(monkeypatch, AssertionError("downloaded twice"))
    assert len(load_movielens(progress=False).ratings) == 100_836


def _bad_downloads(raw: bytes) -> dict[str, tuple[bytes | Exception, int | None, type, str]]:
    start, size = _ratings_member(raw)
    flipped = bytearray(raw)
    flipped[start + size // 2] ^= 0xFF
    return {
        "cut_short": (raw[: len(raw) // 3], None, DataFileError, "truncated or corrupted"),
        "connection_dropped": (
            raw[: len(raw) // 3],
            len(raw),
            DataFileError,
            r"received \d+ of 994178 bytes",
        ),
        "corrupted": (bytes(flipped), None, DataFileError, "truncated or corrupted"),
        "altered": (_with_modified_ratings(raw), None, ChecksumError, r"ratings\.csv: SHA-256"),
        "html_page": (b"<html>maintenance</html>", None, DataFileError, "truncated or corrupted"),
        "network": (
            urllib.error.URLError("no route to host"),
            None,
            DataFileError,
            "could not download",
        ),
    }


@pytest.mark.parametrize(
    "case", ["cut_short", "connection_dropped", "corrupted", "altered", "html_page", "network"]
)
def test_bad_download_raises_and_leaves_no_file(tmp_path, monkeypatch, zip_bytes, case):
    data, length, error, pattern = _bad_downloads(zip_bytes)[case]
    _serve(monkeypatch, data, length)
    with pytest.raises(error, match=pattern) as info:
        load_movielens(progress=False)
    assert "ml-latest-small.zip" in str(info.value)  # names the URL or the archive
    assert list((tmp_path / "cache").iterdir()) == []  # nothing cached, not even a .part file


def test_download_interrupted_by_an_http_error(tmp_path, monkeypatch):
    import http.client

    class Dropping(_FakeResponse):
        def read(self, size: int = -1) -> bytes:
            raise http.client.IncompleteRead(b"PK", 1000)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Dropping(b"", 1002))
    with pytest.raises(DataFileError, match="could not download .*IncompleteRead"):
        load_movielens(progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


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
