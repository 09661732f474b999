"""MovieLens from GroupLens (ml-latest-small, ml-100k), checked against known SHA-256s (ch. 1).

:func:`load_movielens` looks for the archive in ``path``, then in the folder named by
``RECSYS_TUTORIAL_DATA``, then in the cache, and only then downloads it from GroupLens.
Every member file is checked against the SHA-256 kept below, so a corrupted or altered file
is caught before it reaches a model. :func:`movielens_100k_split` returns ML-100K's
predefined train/test splits (u1-u5, ua, ub).
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import lzma
import os
import re
import tempfile
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .cleaning import clean_ids
from .config import DATA_ENV, cache_dir
from .data import TAG_COLUMNS, RatingsData, validate_ratings
from .errors import ChecksumError, DataFileError, SchemaError
from .schema import (
    GENRES_COL,
    ITEM_COL,
    RATING_COL,
    RATING_SCALE,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
    id_repr,
)

__all__ = [
    "CHECKSUMS", "GROUPLENS_URL", "ML100K_SPLITS", "SCALES", "download_movielens",
    "load_movielens", "movielens_100k_split", "parse_movies",
]  # fmt: skip

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"
#: SHA-256 of each file inside the GroupLens archives (checked on every load).
CHECKSUMS: dict[str, dict[str, str]] = {
    "ml-latest-small": {
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
    },
    "ml-100k": {
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.item": "6dd287831559152bea892eb27694a492ff14926ac5f7a16e5f8c4968e6fe13c3",
        "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
        "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
        "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
        "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
        "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
        "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
        "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
        "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
        "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
        "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
        "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
        "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
        "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
        "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
        "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
    },
}
#: The rating scale of each variant: half stars from 0.5, or whole stars from 1.
SCALES: dict[str, tuple[float, float]] = {"ml-latest-small": RATING_SCALE, "ml-100k": (1.0, 5.0)}
#: ML-100K's predefined splits: u1-u5 (5-fold, 80/20), ua and ub (10 test ratings per user).
ML100K_SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
_MARKER = {"ml-latest-small": "ratings.csv", "ml-100k": "u.data"}  # marks an extracted folder
_LOADED = {
    "ml-latest-small": ("ratings.csv", "movies.csv", "tags.csv", "links.csv"),
    "ml-100k": ("u.data", "u.item", "u.genre"),
}
_REQUIRED_COLUMNS = {
    "ratings.csv": [USER_COL, ITEM_COL, RATING_COL, TIME_COL],
    "movies.csv": [ITEM_COL, TITLE_COL, GENRES_COL],
    "tags.csv": TAG_COLUMNS,
    "links.csv": [ITEM_COL, "imdbId", "tmdbId"],
}
_U_ITEM_FIELDS = [ITEM_COL, TITLE_COL, "release_date", "video_release_date", "imdb_url"]
_YEAR_RE = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


def load_movielens(
    name: str = "ml-latest-small",
    path: str | os.PathLike[str] | None = None,
    *,
    duplicates: str = "raise",
    download: bool = True,
    progress: bool = True,
) -> RatingsData:
    """MovieLens ``name`` (``"ml-latest-small"`` or ``"ml-100k"``) as :class:`RatingsData`.

    ``path`` may be the zip archive, a folder holding it, or a folder holding the extracted
    files. Without it: ``$RECSYS_TUTORIAL_DATA``, then the cache, then a download (unless
    ``download=False``). Every file read is checked against :data:`CHECKSUMS`.

    ``ratings``: userId, movieId (int64), rating (float32), timestamp (int64 Unix seconds),
    with the scale of :data:`SCALES` in ``attrs``; ``movies``: movieId, title (year
    removed), year (nullable int), genres (list of str). ml-latest-small also has ``tags``
    and ``links``; ml-100k has empty tags and ``links=None``.

    Raises :class:`DataFileError` (unknown variant, not found, empty, truncated or corrupted
    archive), :class:`ChecksumError` (an altered file) and :class:`SchemaError`.
    """
    _check_name(name)
    source = _locate(name, path, download=download, progress=progress)
    files = _read_members(name, source, _LOADED[name])
    if name == "ml-100k":
        ratings = _read_u_data(files["u.data"], f"{source}:u.data", duplicates)
        movies = _read_u_item(files["u.item"], files["u.genre"], source)
        return RatingsData(ratings=ratings, movies=movies, name=name, scale=SCALES[name])
    ratings = validate_ratings(
        _read_csv(files, "ratings.csv", source),
        scale=SCALES[name],
        duplicates=duplicates,
        source=f"{source}:ratings.csv",
    )
    movies = parse_movies(_read_csv(files, "movies.csv", source), source=f"{source}:movies.csv")
    tags = _read_csv(files, "tags.csv", source)
    links = _read_csv(files, "links.csv", source)
    return RatingsData(ratings, movies, tags=tags, links=links, name=name, scale=SCALES[name])


def movielens_100k_split(
    name: str = "u1",
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)``: ML-100K's predefined split ``name`` (from ``{name}.base`` and
    ``{name}.test``), validated, in the package's columns, with the scale (1, 5) in ``attrs``.

    u1-u5 are the five disjoint 80/20 folds (80,000 / 20,000 ratings each); ua and ub hold
    out exactly 10 ratings per user (90,570 / 9,430). The archive is found as by
    :func:`load_movielens`. Raises :class:`DataFileError` for a name not in
    :data:`ML100K_SPLITS`, plus the errors of :func:`load_movielens`.
    """
    if name not in ML100K_SPLITS:
        raise DataFileError(
            f"unknown ML-100K split {name!r}; choose one of {list(ML100K_SPLITS)} (u1-u5: the "
            "five 80/20 folds; ua, ub: 10 ratings per user held out)"
        )
    source = _locate("ml-100k", path, download=download, progress=progress)
    members = (f"{name}.base", f"{name}.test")
    files = _read_members("ml-100k", source, members)
    train, test = (_read_u_data(files[m], f"{source}:{m}", "raise") for m in members)
    return train, test


def parse_movies(frame: pd.DataFrame, *, source: str = "movies.csv") -> pd.DataFrame:
    """movieId (ids kept as given), title without the trailing year, year (nullable int),
    genres as a list of str (``"(no genres listed)"`` and ``""`` give ``[]``).

    Raises :class:`SchemaError` for a missing column or a missing or repeated id.
    """
    missing = [c for c in (ITEM_COL, TITLE_COL, GENRES_COL) if c not in frame.columns]
    if missing:
        raise SchemaError(f"{source}: missing column(s) {missing}; found {list(frame.columns)}")
    titles = frame[TITLE_COL].fillna("").astype(str).str.strip().reset_index(drop=True)
    years = titles.str.extract(_YEAR_RE)[0]
    ids = clean_ids(frame[ITEM_COL], source=source, column=ITEM_COL)
    out = pd.DataFrame(
        {
            ITEM_COL: ids,
            TITLE_COL: titles.str.replace(_YEAR_RE, "", regex=True).str.strip(),
            YEAR_COL: pd.to_numeric(years, errors="coerce").astype("Int64"),
            GENRES_COL: [
                [] if g in ("", "(no genres listed)") else g.split("|")
                for g in frame[GENRES_COL].fillna("").astype(str)
            ],
        }
    )
    repeated = ids.duplicated()
    if repeated.any():
        raise SchemaError(
            f"{source}: item id {id_repr(ids[repeated].iloc[0])} appears more than once"
        )
    return out


# --------------------------------------------------------------------------- ML-100K files


def _read_u_data(data: bytes, where: str, duplicates: str) -> pd.DataFrame:
    """u.data and the split files: tab-separated user, item, rating, time; no header."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data), sep="\t", header=None, index_col=False,
            names=[USER_COL, ITEM_COL, RATING_COL, TIME_COL],
        )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{where}: cannot be parsed as tab-separated ratings ({exc})") from exc
    return validate_ratings(frame, scale=SCALES["ml-100k"], duplicates=duplicates, source=where)


def _read_u_item(item: bytes, genre: bytes, source: Path) -> pd.DataFrame:
    """u.item (latin-1, ``|``-separated, 19 genre flags in u.genre's order) as movies."""
    genres = [line.split("|")[0] for line in genre.decode("latin-1").splitlines() if line.strip()]
    try:
        frame = pd.read_csv(
            io.BytesIO(item), sep="|", header=None, index_col=False, encoding="latin-1",
            names=_U_ITEM_FIELDS + genres, quoting=csv.QUOTE_NONE,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{source}:u.item: cannot be parsed ({exc})") from exc
    flags = frame[genres].fillna(0).to_numpy(dtype=bool)
    names = [
        "|".join(g for g, on in zip(genres, row, strict=True) if on and g != "unknown")
        for row in flags
    ]
    table = pd.DataFrame(
        {ITEM_COL: frame[ITEM_COL], TITLE_COL: frame[TITLE_COL], GENRES_COL: names}
    )
    return parse_movies(table, source=f"{source}:u.item")


# --------------------------------------------------------------------------- archives


def _check_name(name: str) -> None:
    if name not in CHECKSUMS:
        raise DataFileError(f"unknown MovieLens variant {name!r}; known: {sorted(CHECKSUMS)}")


def _locate(name: str, path, *, download: bool, progress: bool) -> Path:
    marker = _MARKER[name]
    candidates: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataFileError(
                f"{p}: no such file or folder; pass the path of {name}.zip or of its folder"
            )
        candidates = [p / f"{name}.zip", p / name, p] if p.is_dir() else [p]
    else:
        if os.environ.get(DATA_ENV):
            d = Path(os.environ[DATA_ENV]).expanduser()
            candidates += [d / f"{name}.zip", d / name]
        candidates += [cache_dir() / f"{name}.zip"]
    for c in candidates:
        if c.is_file() or (c.is_dir() and (c / marker).exists()):
            return c
    if path is not None:
        raise DataFileError(f"{path}: holds neither {name}.zip nor {name}/{marker}")
    if not download:
        raise DataFileError(
            f"{name} not found in {[str(c) for c in candidates]}; "
            f"set {DATA_ENV} or allow download=True"
        )
    return download_movielens(name, progress=progress)


def download_movielens(name: str = "ml-latest-small", *, progress: bool = True) -> Path:
    """Download the archive from GroupLens into the cache (atomically), verify every file
    against :data:`CHECKSUMS` and return its path; nothing is cached when anything fails
    (:class:`DataFileError`, :class:`ChecksumError`)."""
    from tqdm.auto import tqdm

    _check_name(name)
    target = cache_dir() / f"{name}.zip"
    url = GROUPLENS_URL.format(name=name)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    try:
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"download {name}",
                disable=not progress,
            ) as bar:
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise DataFileError(
                f"the download of {url} is truncated: received {received} of {total} bytes; "
                "run it again, or download the archive by hand and set "
                f"{DATA_ENV} to its folder"
            )
        try:
            _read_members(name, Path(tmp))  # verify before it enters the cache
        except DataFileError as exc:  # name the URL, not the temporary file about to vanish
            raise type(exc)(
                f"the download of {url} is truncated or corrupted ({exc}); nothing was cached. "
                f"Run it again, or download the archive by hand and set {DATA_ENV} to its folder"
            ) from exc
        os.replace(tmp, target)
    except (OSError, http.client.HTTPException) as exc:
        raise DataFileError(
            f"could not download {url}: {type(exc).__name__}: {exc}. "
            f"Download it by hand and set {DATA_ENV} to its folder"
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


#: What a damaged zip header can surface as: a bad CRC, an unknown compression method or
#: version (NotImplementedError), an LZMA error, an encryption flag set by a flipped bit, ...
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    UnicodeDecodeError,
    OSError,
)


def _read_members(
    name: str, source: Path, members: Iterable[str] | None = None
) -> dict[str, bytes]:
    """The bytes of ``members`` (default: all) of the archive or folder, each verified
    against its SHA-256."""
    expected = CHECKSUMS[name]
    wanted = list(expected if members is None else members)
    files: dict[str, bytes] = {}
    if source.is_dir():
        for fname in wanted:
            f = source / fname
            if not f.exists():
                raise DataFileError(f"{f}: missing; the folder must hold {sorted(wanted)}")
            files[fname] = f.read_bytes()
    else:
        if source.stat().st_size == 0:
            raise DataFileError(
                f"{source}: the file is empty; delete it and download the archive again"
            )
        absent: list[str] = []
        try:
            with zipfile.ZipFile(source) as zf:
                names = {Path(n).name: n for n in zf.namelist()}
                absent = [fname for fname in wanted if fname not in names]
                if not absent:
                    files = {fname: zf.read(names[fname]) for fname in wanted}
        except _ZIP_ERRORS as exc:
            raise DataFileError(
                f"{source}: truncated or corrupted archive ({type(exc).__name__}: {exc}); "
                "delete it and download it again"
            ) from exc
        if absent:
            raise DataFileError(
                f"{source}: the archive has no {absent[0]}; is it the right archive?"
            )
    for fname, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected[fname]:
            raise ChecksumError(
                f"{source}:{fname}: SHA-256 {digest} differs from the expected {expected[fname]}; "
                "the file is altered or corrupted: download it again from GroupLens"
            )
    return files


def _read_csv(files: dict[str, bytes], fname: str, source: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(files[fname]), encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{source}:{fname}: cannot be parsed as UTF-8 CSV ({exc})") from exc
    missing = [c for c in _REQUIRED_COLUMNS[fname] if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source}:{fname}: missing column(s) {missing}; found {list(frame.columns)}"
        )
    return frame
