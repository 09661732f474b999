"""Loading and validating rating data: MovieLens, your own frames, a synthetic catalogue (chapter 1).

``load_movielens`` looks for the archive in ``path``, then in the folder named by
``RECSYS_TUTORIAL_DATA``, then in the cache, and only then downloads it from GroupLens.
Every CSV is checked against the SHA-256 kept below, so a corrupted or altered file is
caught before it reaches a model.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DATA_ENV, cache_dir
from .errors import (
    ChecksumError,
    DataFileError,
    DuplicateRatingError,
    RatingValueError,
    SchemaError,
)

USER_COL = "userId"
ITEM_COL = "movieId"
RATING_COL = "rating"
TIME_COL = "timestamp"
TITLE_COL = "title"
YEAR_COL = "year"
GENRES_COL = "genres"
RATING_SCALE = (0.5, 5.0)
DUPLICATE_POLICIES = ("raise", "mean", "last")

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"
#: SHA-256 of each CSV inside the GroupLens archive (checked on every load).
CHECKSUMS: dict[str, dict[str, str]] = {
    "ml-latest-small": {
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
    }
}
_REQUIRED_COLUMNS = {
    "ratings.csv": [USER_COL, ITEM_COL, RATING_COL, TIME_COL],
    "movies.csv": [ITEM_COL, TITLE_COL, GENRES_COL],
    "tags.csv": [USER_COL, ITEM_COL, "tag", TIME_COL],
    "links.csv": [ITEM_COL, "imdbId", "tmdbId"],
}


@dataclass
class RatingsData:
    """Ratings plus an item catalogue, with the package's column names.

    ``ratings``: userId, movieId, rating (float32), timestamp (int64 seconds).
    ``movies``: movieId, title (year removed), year (nullable int), genres (list of str).
    ``tags``: userId, movieId, tag, timestamp (may be empty).
    ``truth``: for synthetic data only, the noise-free expected rating of every
    (user, item) pair as an array indexed ``[userId, movieId]``.
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    tags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REQUIRED_COLUMNS["tags.csv"]))
    links: pd.DataFrame | None = None
    name: str = "custom"
    scale: tuple[float, float] = RATING_SCALE
    truth: np.ndarray | None = None

    @property
    def items(self) -> pd.DataFrame:
        """Alias of ``movies`` for catalogues that are not films."""
        return self.movies

    def summary(self) -> dict[str, float]:
        """Counts and sparsity, as shown in chapter 1."""
        n_users = self.ratings[USER_COL].nunique()
        n_items = self.ratings[ITEM_COL].nunique()
        return {
            "ratings": len(self.ratings),
            "users": int(n_users),
            "rated_items": int(n_items),
            "catalogue_items": len(self.movies),
            "density": len(self.ratings) / max(1, n_users * n_items),
            "mean_rating": float(self.ratings[RATING_COL].mean()),
        }


# --------------------------------------------------------------------------- validation


def validate_ratings(
    frame: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
    timestamp_col: str | None = TIME_COL,
    scale: tuple[float, float] = RATING_SCALE,
    duplicates: str = "raise",
    source: str = "ratings",
) -> pd.DataFrame:
    """A clean copy of a ratings frame with the package's column names, or a specific error.

    Checks that the columns exist, ids and ratings are numbers, no rating is NaN or outside
    ``scale``, timestamps (optional) are numbers, and applies the duplicate policy:
    ``"raise"`` (default), ``"mean"`` (average the ratings, keep the latest timestamp) or
    ``"last"`` (keep the most recent rating). ``source`` names the file in messages.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if duplicates not in DUPLICATE_POLICIES:
        raise SchemaError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    wanted = [user_col, item_col, rating_col] + ([timestamp_col] if timestamp_col else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source}: missing column(s) {missing}; found {list(frame.columns)}. "
            "Rename your columns or pass user_col=/item_col=/rating_col=/timestamp_col=."
        )
    if len(frame) == 0:
        raise DataFileError(f"{source}: no ratings (the frame or file is empty)")
    out = pd.DataFrame(
        {
            USER_COL: _numeric_column(frame[user_col], source, user_col, integer=True),
            ITEM_COL: _numeric_column(frame[item_col], source, item_col, integer=True),
            RATING_COL: _numeric_column(frame[rating_col], source, rating_col).astype(np.float32),
        }
    )
    if timestamp_col:
        out[TIME_COL] = _numeric_column(frame[timestamp_col], source, timestamp_col, integer=True)
    else:
        out[TIME_COL] = np.arange(len(out), dtype=np.int64)  # file order stands in for time
    bad = out[RATING_COL].isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RatingValueError(
            f"{source}: column {rating_col!r}: {int(bad.sum())} rating(s) are missing (NaN), first at row {row}; "
            "drop or fill them before loading"
        )
    low, high = scale
    out_of_scale = (out[RATING_COL] < low) | (out[RATING_COL] > high)
    if out_of_scale.any():
        row = int(np.flatnonzero(out_of_scale.to_numpy())[0])
        raise RatingValueError(
            f"{source}: column {rating_col!r}: {int(out_of_scale.sum())} rating(s) outside the scale [{low}, {high}], "
            f"first at row {row} (value {out[RATING_COL].iloc[row]}); rescale them or pass scale="
        )
    dup = out.duplicated([USER_COL, ITEM_COL], keep=False)
    if dup.any():
        if duplicates == "raise":
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise DuplicateRatingError(
                f"{source}: {int(dup.sum())} rows rate a (user, item) pair more than once, "
                f"first at row {row} (user {out[USER_COL].iloc[row]}, item {out[ITEM_COL].iloc[row]}); "
                "pass duplicates='mean' or duplicates='last' to resolve them"
            )
        out = out.sort_values(TIME_COL, kind="stable")
        if duplicates == "last":
            out = out.drop_duplicates([USER_COL, ITEM_COL], keep="last")
        else:
            out = out.groupby([USER_COL, ITEM_COL], as_index=False, sort=False).agg(
                {RATING_COL: "mean", TIME_COL: "max"}
            )
            out[RATING_COL] = out[RATING_COL].astype(np.float32)
    return out.reset_index(drop=True)


def _numeric_column(values: pd.Series, source: str, name: str, *, integer: bool = False) -> pd.Series:
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError(
            f"{source}: column {name!r} must hold numbers, but row {row} holds {_shown(values.iloc[row])}"
        )
    if integer:
        if converted.isna().any():
            row = int(np.flatnonzero(converted.isna().to_numpy())[0])
            raise SchemaError(f"{source}: column {name!r} is empty at row {row}")
        fractional = np.mod(converted.to_numpy(dtype=float), 1) != 0
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise SchemaError(
                f"{source}: column {name!r} must hold whole numbers, but row {row} holds {_shown(values.iloc[row])}"
            )
        return converted.astype(np.int64)
    return converted.astype(np.float64)


def _shown(value: object) -> str:
    """``repr`` of a cell for messages, without NumPy's ``np.float64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


_YEAR_RE = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


def parse_movies(frame: pd.DataFrame, *, source: str = "movies.csv") -> pd.DataFrame:
    """movieId, title without the trailing year, year (nullable int), genres as a list of str."""
    missing = [c for c in (ITEM_COL, TITLE_COL, GENRES_COL) if c not in frame.columns]
    if missing:
        raise SchemaError(f"{source}: missing column(s) {missing}; found {list(frame.columns)}")
    titles = frame[TITLE_COL].fillna("").astype(str).str.strip()
    years = titles.str.extract(_YEAR_RE)[0]
    out = pd.DataFrame(
        {
            ITEM_COL: _numeric_column(frame[ITEM_COL], source, ITEM_COL, integer=True),
            TITLE_COL: titles.str.replace(_YEAR_RE, "", regex=True).str.strip(),
            YEAR_COL: pd.to_numeric(years, errors="coerce").astype("Int64"),
            GENRES_COL: [
                [] if g in ("", "(no genres listed)") else g.split("|")
                for g in frame[GENRES_COL].fillna("").astype(str)
            ],
        }
    )
    if out[ITEM_COL].duplicated().any():
        dup = int(out[ITEM_COL][out[ITEM_COL].duplicated()].iloc[0])
        raise SchemaError(f"{source}: item id {dup} appears more than once")
    return out


def from_frames(
    ratings: pd.DataFrame,
    items: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
    timestamp_col: str | None = TIME_COL,
    title_col: str = TITLE_COL,
    genres_col: str | None = GENRES_COL,
    scale: tuple[float, float] = RATING_SCALE,
    duplicates: str = "raise",
    name: str = "custom",
) -> RatingsData:
    """Your own data in the package's form, validated on the way in (chapter 5.3).

    ``items`` needs an id and a title column; genres (a list or a ``|``-separated string)
    are optional. Every rated item must be in ``items``.
    """
    clean = validate_ratings(
        ratings,
        user_col=user_col,
        item_col=item_col,
        rating_col=rating_col,
        timestamp_col=timestamp_col,
        scale=scale,
        duplicates=duplicates,
    )
    missing = [c for c in (item_col, title_col) if c not in items.columns]
    if missing:
        raise SchemaError(f"items: missing column(s) {missing}; found {list(items.columns)}")
    genres = items[genres_col] if genres_col and genres_col in items.columns else [None] * len(items)
    movies = pd.DataFrame(
        {
            ITEM_COL: _numeric_column(items[item_col], "items", item_col, integer=True),
            TITLE_COL: items[title_col].fillna("").astype(str),
            YEAR_COL: pd.array([pd.NA] * len(items), dtype="Int64"),
            GENRES_COL: [_genre_list(g) for g in genres],
        }
    )
    if movies[ITEM_COL].duplicated().any():
        dup = int(movies[ITEM_COL][movies[ITEM_COL].duplicated()].iloc[0])
        raise SchemaError(f"items: item id {dup} appears more than once; keep one row per item")
    if "year" in items.columns:
        movies[YEAR_COL] = pd.to_numeric(items["year"], errors="coerce").astype("Int64").to_numpy()
    unknown = sorted(set(clean[ITEM_COL]) - set(movies[ITEM_COL]))
    if unknown:
        raise SchemaError(
            f"ratings: {len(unknown)} rated item(s) are not in the items frame, e.g. {unknown[:5]}; "
            "add them to the items frame or drop their ratings"
        )
    return RatingsData(ratings=clean, movies=movies, name=name, scale=scale)


def _genre_list(value: object) -> list[str]:
    """Genres given as a list/tuple or a ``|``-separated string; missing values give ``[]``."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(g) for g in value]
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    text = str(value)
    return [] if text == "(no genres listed)" else [g for g in text.split("|") if g]


# --------------------------------------------------------------------------- MovieLens


def load_movielens(
    name: str = "ml-latest-small",
    path: str | os.PathLike[str] | None = None,
    *,
    duplicates: str = "raise",
    download: bool = True,
    progress: bool = True,
) -> RatingsData:
    """MovieLens ``name`` as :class:`RatingsData`, checked against the known SHA-256s.

    ``path`` may be the zip archive, a folder holding it, or a folder holding the extracted
    CSVs. Without it: ``$RECSYS_TUTORIAL_DATA``, then the cache, then a download.
    """
    if name not in CHECKSUMS:
        raise DataFileError(f"unknown MovieLens variant {name!r}; known: {sorted(CHECKSUMS)}")
    source = _locate(name, path, download=download, progress=progress)
    files = _read_members(name, source)
    ratings = validate_ratings(_read_csv(files, "ratings.csv", source), duplicates=duplicates, source=f"{source}:ratings.csv")
    movies = parse_movies(_read_csv(files, "movies.csv", source), source=f"{source}:movies.csv")
    tags = _read_csv(files, "tags.csv", source)
    links = _read_csv(files, "links.csv", source)
    return RatingsData(ratings=ratings, movies=movies, tags=tags, links=links, name=name)


def _locate(name: str, path, *, download: bool, progress: bool) -> Path:
    candidates: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataFileError(f"{p}: no such file or folder; pass the path of {name}.zip or of its folder")
        candidates = [p / f"{name}.zip", p / name, p] if p.is_dir() else [p]
    else:
        if os.environ.get(DATA_ENV):
            d = Path(os.environ[DATA_ENV]).expanduser()
            candidates += [d / f"{name}.zip", d / name]
        candidates += [cache_dir() / f"{name}.zip"]
    for c in candidates:
        if c.is_file() or (c.is_dir() and (c / "ratings.csv").exists()):
            return c
    if path is not None:
        raise DataFileError(f"{path}: holds neither {name}.zip nor {name}/ratings.csv")
    if not download:
        raise DataFileError(
            f"{name} not found in {[str(c) for c in candidates]}; set {DATA_ENV} or allow download=True"
        )
    return download_movielens(name, progress=progress)


def download_movielens(name: str = "ml-latest-small", *, progress: bool = True) -> Path:
    """Download the archive from GroupLens into the cache (atomically) and verify it."""
    from tqdm.auto import tqdm

    target = cache_dir() / f"{name}.zip"
    url = GROUPLENS_URL.format(name=name)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    try:
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {name}", disable=not progress) as bar:
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
            f"could not download {url}: {type(exc).__name__}: {exc}. Download it by hand and set {DATA_ENV} to its folder"
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _read_members(name: str, source: Path) -> dict[str, bytes]:
    """The CSV bytes of the archive or folder, each verified against its SHA-256."""
    expected = CHECKSUMS[name]
    files: dict[str, bytes] = {}
    if source.is_dir():
        for fname in expected:
            f = source / fname
            if not f.exists():
                raise DataFileError(f"{f}: missing; the folder must hold {sorted(expected)}")
            files[fname] = f.read_bytes()
    else:
        if source.stat().st_size == 0:
            raise DataFileError(f"{source}: the file is empty; delete it and download the archive again")
        absent: list[str] = []
        try:
            with zipfile.ZipFile(source) as zf:
                names = {Path(n).name: n for n in zf.namelist()}
                absent = [fname for fname in expected if fname not in names]
                if not absent:
                    files = {fname: zf.read(names[fname]) for fname in expected}
        except _ZIP_ERRORS as exc:
            # a damaged header can surface as almost anything: bad CRC, an unknown
            # compression method or version (NotImplementedError), an LZMA error, ...
            raise DataFileError(
                f"{source}: truncated or corrupted archive ({type(exc).__name__}: {exc}); "
                "delete it and download it again"
            ) from exc
        if absent:
            raise DataFileError(f"{source}: the archive has no {absent[0]}; is it the right archive?")
    for fname, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected[fname]:
            raise ChecksumError(
                f"{source}:{fname}: SHA-256 {digest} differs from the expected {expected[fname]}; "
                "the file is altered or corrupted: download it again from GroupLens"
            )
    return files


def zlib_error() -> type[Exception]:
    return zlib.error


_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,  # e.g. an encryption flag set by a flipped bit
    ValueError,
    UnicodeDecodeError,
    OSError,
)


def _read_csv(files: dict[str, bytes], fname: str, source: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(files[fname]), encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{source}:{fname}: cannot be parsed as UTF-8 CSV ({exc})") from exc
    missing = [c for c in _REQUIRED_COLUMNS[fname] if c not in frame.columns]
    if missing:
        raise SchemaError(f"{source}:{fname}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame


def read_ratings_csv(
    path: str | os.PathLike[str], *, duplicates: str = "raise", scale: tuple[float, float] = RATING_SCALE, **columns: str
) -> pd.DataFrame:
    """A ratings CSV of your own, validated (column names as keyword arguments)."""
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"{p}: no such file")
    if not p.is_file():
        raise DataFileError(f"{p}: is a folder, not a CSV file")
    if p.stat().st_size == 0:
        raise DataFileError(f"{p}: the file is empty")
    try:
        frame = pd.read_csv(p, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{p}: not UTF-8 text ({exc}); re-save it as UTF-8") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"{p}: not a readable CSV ({exc})") from exc
    except OSError as exc:
        raise DataFileError(f"{p}: cannot be read ({exc})") from exc
    return validate_ratings(frame, duplicates=duplicates, scale=scale, source=str(p), **columns)


# --------------------------------------------------------------------------- synthetic

SYNTHETIC_ATTRIBUTES = (
    "action", "comedy", "drama", "horror", "romance", "space", "crime", "animation",
    "musical", "western", "mystery", "war",
)


def make_synthetic(
    n_users: int = 200,
    n_items: int = 120,
    seed: int = 0,
    *,
    ratings_per_user: int = 30,
    noise: float = 0.3,
) -> RatingsData:
    """A deterministic catalogue whose true preferences are known (tests, chapters needing truth).

    Each item has 2-3 attribute words (its genres; its title lists them). A rating is
    3 + the item's attribute appeal (shared by all users) + the user's taste for those
    attributes + Gaussian noise, clipped to [0.5, 5] and rounded to halves. ``truth``
    holds the noise-free expectation for every (user, item) pair.
    """
    rng = np.random.default_rng(seed)
    k = len(SYNTHETIC_ATTRIBUTES)
    attrs = np.zeros((n_items, k))
    genres = []
    for i in range(n_items):
        chosen = rng.choice(k, size=int(rng.integers(2, 4)), replace=False)
        attrs[i, chosen] = 1.0
        genres.append([SYNTHETIC_ATTRIBUTES[j] for j in sorted(chosen)])
    appeal = rng.normal(0.0, 0.6, size=k)  # what everybody likes
    taste = rng.normal(0.0, 0.5, size=(n_users, k))  # what each user likes
    truth = np.clip(3.0 + attrs @ appeal + taste @ attrs.T, 0.5, 5.0)
    rows = []
    t = 1_000_000_000
    per_user = min(ratings_per_user, n_items)
    for u in range(n_users):
        for i in rng.choice(n_items, size=per_user, replace=False):
            r = np.clip(truth[u, i] + rng.normal(0.0, noise), 0.5, 5.0)
            t += int(rng.integers(1, 1000))
            rows.append((u, int(i), float(np.round(r * 2) / 2), t))
    ratings = pd.DataFrame(rows, columns=[USER_COL, ITEM_COL, RATING_COL, TIME_COL])
    ratings[RATING_COL] = ratings[RATING_COL].astype(np.float32)
    movies = pd.DataFrame(
        {
            ITEM_COL: np.arange(n_items, dtype=np.int64),
            TITLE_COL: [f"Item {i}: a {' '.join(g)} story" for i, g in enumerate(genres)],
            YEAR_COL: pd.array(rng.integers(1950, 2020, size=n_items), dtype="Int64"),
            GENRES_COL: genres,
        }
    )
    return RatingsData(ratings=ratings, movies=movies, name=f"synthetic-{seed}", truth=truth)
