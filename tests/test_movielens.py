"""Reliability of recsys_tutorial.movielens: the GroupLens archives load exactly, and every
damaged, altered or missing file raises the specific error, naming what is wrong."""

from __future__ import annotations

import hashlib
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
from recsys_tutorial.data import RatingsData
from recsys_tutorial.errors import ChecksumError, DataFileError, SchemaError
from recsys_tutorial.movielens import (
    CHECKSUMS,
    ML100K_SPLITS,
    SCALES,
    load_movielens,
    movielens_100k_split,
    parse_movies,
)
from recsys_tutorial.schema import (
    GENRES_COL,
    ITEM_COL,
    RATING_COL,
    SCALE_ATTR,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
)

NAME = "ml-latest-small"
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _archive(name: str = NAME) -> Path | None:
    for d in (os.environ.get(DATA_ENV), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if d and (Path(d) / f"{name}.zip").is_file():
            return Path(d) / f"{name}.zip"
    return None


def _archive_or_skip(name: str) -> Path:
    path = _archive(name)
    if path is None:
        pytest.skip(f"{name}.zip not found (set {DATA_ENV} to its folder)")
    return path


@pytest.fixture(scope="module")
def zip_bytes() -> bytes:
    return _archive_or_skip(NAME).read_bytes()


@pytest.fixture(scope="module")
def movielens() -> RatingsData:
    return load_movielens(path=_archive_or_skip(NAME), download=False)


@pytest.fixture(scope="module")
def ml100k_path() -> Path:
    return _archive_or_skip("ml-100k")


@pytest.fixture(scope="module")
def ml100k(ml100k_path) -> RatingsData:
    return load_movielens("ml-100k", path=ml100k_path, download=False)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test may read or fill the user's cache, or find the shared data by accident."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(DATA_ENV, raising=False)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
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


def test_missing_archive(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.zip: no such file or folder"):
        load_movielens(path=tmp_path / "nope.zip")
    with pytest.raises(DataFileError, match=r"holds neither ml-latest-small\.zip"):
        load_movielens(path=tmp_path)  # an existing folder without the data
    with pytest.raises(DataFileError, match=r"holds neither ml-100k\.zip nor ml-100k/u\.data"):
        load_movielens("ml-100k", path=tmp_path)
    with pytest.raises(DataFileError, match=r"not found in .*RECSYS_TUTORIAL_DATA"):
        load_movielens(download=False)  # nothing in the (empty) cache, no download allowed
    with pytest.raises(DataFileError, match=r"unknown MovieLens variant 'ml-1m'; known: \["):
        load_movielens("ml-1m")


def test_empty_archive(tmp_path):
    empty_zip = _write(tmp_path / f"{NAME}.zip", b"")
    with pytest.raises(DataFileError, match=r"ml-latest-small\.zip: the file is empty"):
        load_movielens(path=empty_zip)


def test_not_a_zip(tmp_path):
    fake = _write(tmp_path / f"{NAME}.zip", b"<html>404 Not Found</html>")
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


# --------------------------------------------------------------------------- ml-latest-small


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


def test_ml_latest_small_carries_its_scale(movielens):
    assert movielens.scale == (0.5, 5.0) == SCALES[NAME]
    assert movielens.ratings.attrs[SCALE_ATTR] == (0.5, 5.0)
    assert not movielens.implicit and movielens.name == NAME


# --------------------------------------------------------------------------- ml-100k


def _with_altered_member(raw: bytes, member: str) -> bytes:
    """A valid zip whose ``member`` differs from GroupLens's by one byte."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/" + member):
                assert data.startswith(b"196\t242\t3\t881250949\n")
                data = b"196\t242\t4" + data[len(b"196\t242\t3") :]  # one rating changed
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_ml100k_checksums_are_those_of_the_archive(ml100k_path):
    with zipfile.ZipFile(ml100k_path) as zf:
        digests = {
            Path(n).name: hashlib.sha256(zf.read(n)).hexdigest()
            for n in zf.namelist()
            if Path(n).name in CHECKSUMS["ml-100k"]
        }
    assert digests == CHECKSUMS["ml-100k"]
    assert len(digests) == 3 + 2 * len(ML100K_SPLITS)  # u.data, u.item, u.genre + 7 splits


def test_ml100k_real_counts(ml100k):
    ratings = ml100k.ratings
    assert len(ratings) == 100_000
    assert ratings[USER_COL].nunique() == 943
    assert ratings[ITEM_COL].nunique() == 1_682 and len(ml100k.movies) == 1_682
    assert ratings.dtypes.to_dict() == {
        USER_COL: np.dtype("int64"),
        ITEM_COL: np.dtype("int64"),
        RATING_COL: np.dtype("float32"),
        TIME_COL: np.dtype("int64"),
    }
    assert sorted(ratings[RATING_COL].unique().tolist()) == [1.0, 2.0, 3.0, 4.0, 5.0]
    # u.data's first line: 196 242 3 881250949
    assert ratings.iloc[0].tolist() == [196, 242, 3.0, 881250949]
    assert ml100k.name == "ml-100k" and ml100k.scale == (1.0, 5.0)
    assert ratings.attrs[SCALE_ATTR] == (1.0, 5.0)
    assert ml100k.links is None
    assert len(ml100k.tags) == 0 and list(ml100k.tags.columns) == [
        USER_COL,
        ITEM_COL,
        "tag",
        TIME_COL,
    ]
    assert ml100k.summary()["mean_rating"] == pytest.approx(3.52986, abs=1e-5)


def test_ml100k_titles_years_and_genres(ml100k):
    movies = ml100k.movies.set_index(ITEM_COL)
    assert list(ml100k.movies.columns) == [ITEM_COL, TITLE_COL, YEAR_COL, GENRES_COL]
    assert movies.loc[1, TITLE_COL] == "Toy Story" and movies.loc[1, YEAR_COL] == 1995
    assert movies.loc[1, GENRES_COL] == ["Animation", "Children's", "Comedy"]
    assert movies.loc[2, GENRES_COL] == ["Action", "Adventure", "Thriller"]  # GoldenEye
    # item 267 has the title "unknown", no date and only the "unknown" genre flag
    assert movies.loc[267, TITLE_COL] == "unknown" and pd.isna(movies.loc[267, YEAR_COL])
    assert movies.loc[267, GENRES_COL] == []
    assert movies[GENRES_COL].map(lambda g: "unknown" not in g).all()


def test_ml100k_altered_member_fails_its_checksum(tmp_path, ml100k_path):
    archive = _write(
        tmp_path / "ml-100k.zip", _with_altered_member(ml100k_path.read_bytes(), "u.data")
    )
    with pytest.raises(ChecksumError, match=r"ml-100k\.zip:u\.data: SHA-256 \w+ differs"):
        load_movielens("ml-100k", path=archive)


def test_ml100k_small_altered_archive(tmp_path):
    """A hand-made archive with the right names but other content is refused."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member in CHECKSUMS["ml-100k"]:
            zf.writestr(f"ml-100k/{member}", "1\t1\t5\t881250949\n")
    archive = _write(tmp_path / "ml-100k.zip", buf.getvalue())
    with pytest.raises(ChecksumError, match=r"ml-100k\.zip:u\.data: SHA-256"):
        load_movielens("ml-100k", path=archive)
    with pytest.raises(ChecksumError, match=r"ml-100k\.zip:u1\.base: SHA-256"):
        movielens_100k_split("u1", path=archive)


def test_ml100k_extracted_folder(tmp_path, ml100k_path):
    with zipfile.ZipFile(ml100k_path) as zf:
        zf.extractall(tmp_path)
    data = load_movielens("ml-100k", path=tmp_path, download=False)  # finds the folder
    assert len(data.ratings) == 100_000
    (tmp_path / "ml-100k" / "u.genre").unlink()
    with pytest.raises(DataFileError, match=r"u\.genre: missing"):
        load_movielens("ml-100k", path=tmp_path / "ml-100k")


@pytest.mark.parametrize(
    "name, n_train, n_test",
    [("u1", 80_000, 20_000), ("u5", 80_000, 20_000), ("ua", 90_570, 9_430), ("ub", 90_570, 9_430)],
)
def test_ml100k_split_sizes(ml100k_path, name, n_train, n_test):
    train, test = movielens_100k_split(name, path=ml100k_path, download=False)
    assert (len(train), len(test)) == (n_train, n_test)
    for frame in (train, test):
        assert list(frame.columns) == [USER_COL, ITEM_COL, RATING_COL, TIME_COL]
        assert frame.attrs[SCALE_ATTR] == (1.0, 5.0)
    if name in ("ua", "ub"):  # exactly 10 test ratings per user, all 943 users
        per_user = test.groupby(USER_COL).size()
        assert len(per_user) == 943 and (per_user == 10).all()


def test_ml100k_u1_train_and_test_are_disjoint(ml100k_path, ml100k):
    train, test = movielens_100k_split("u1", path=ml100k_path, download=False)
    pairs = lambda f: set(zip(f[USER_COL], f[ITEM_COL], strict=True))  # noqa: E731
    assert pairs(train) & pairs(test) == set()
    assert pairs(train) | pairs(test) == pairs(ml100k.ratings)  # together: all of u.data


def test_ml100k_unknown_split(ml100k_path):
    with pytest.raises(DataFileError, match=r"unknown ML-100K split 'u6'; choose one of \['u1'"):
        movielens_100k_split("u6", path=ml100k_path)


def test_ml100k_download(tmp_path, monkeypatch, ml100k_path):
    urls = _serve(monkeypatch, ml100k_path.read_bytes())
    data = load_movielens("ml-100k", progress=False)
    assert urls == ["https://files.grouplens.org/datasets/movielens/ml-100k.zip"]
    assert len(data.ratings) == 100_000
    assert (tmp_path / "cache" / "ml-100k.zip").read_bytes() == ml100k_path.read_bytes()
    _serve(monkeypatch, AssertionError("downloaded twice"))
    train, _ = movielens_100k_split("u2", progress=False)  # from the cache
    assert len(train) == 80_000


# --------------------------------------------------------------------------- parse_movies


@PROPERTY
@given(st.lists(st.one_of(st.integers(1, 10**6), st.text("0123456789AB", min_size=1)), min_size=2))
def test_parse_movies_keeps_ids_and_refuses_repeats(ids):
    frame = pd.DataFrame(
        {ITEM_COL: ids, TITLE_COL: ["x (2000)"] * len(ids), GENRES_COL: [""] * len(ids)}
    )
    if len(set(ids)) < len(ids):
        with pytest.raises(SchemaError, match="appears more than once"):
            parse_movies(frame)
    else:
        assert parse_movies(frame)[ITEM_COL].tolist() == ids
