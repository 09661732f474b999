"""Rating data in the package's form: your own frames and CSV files, a synthetic catalogue (ch. 1).

:func:`from_frames`, :func:`validate_ratings` and :func:`read_ratings_csv` check data on the way
in and return frames with the package's column names. The MovieLens archives are loaded by
:mod:`recsys_tutorial.movielens` (``load_movielens``), which builds on this module.

**Ids** (users and items) are kept exactly as given (see :mod:`recsys_tutorial.schema`):
integer columns become int64, whole-number float columns (NaN artefacts) become int64, and
text or mixed columns are left untouched (``"007"``, ``"A1"``, non-ASCII names, integers
too large for int64). **Dates** may be Unix seconds, datetimes or ISO-8601 strings; they are
stored as int64 Unix seconds (UTC). **The rating scale** travels in ``frame.attrs``.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import (
    DUPLICATE_POLICIES,
    check_rated_items,
    clean_ids,
    clean_ratings,
    clean_timestamps,
    genre_list,
    ids_from_text,
    resolve_duplicates,
)
from .errors import ConfigError, DataFileError, SchemaError
from .schema import (  # noqa: F401  (re-exported for older callers)
    GENRES_COL,
    IMPLICIT_ATTR,
    ITEM_COL,
    RATING_COL,
    RATING_SCALE,
    SCALE_ATTR,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
    check_scale,
    id_repr,
    with_scale,
)
from .textfiles import layout_hint, read_delimited, separator_hint, unknown_arguments_error

__all__ = [
    "USER_COL", "ITEM_COL", "RATING_COL", "TIME_COL", "TITLE_COL", "YEAR_COL", "GENRES_COL",
    "RATING_SCALE", "DUPLICATE_POLICIES", "TAG_COLUMNS", "RatingsData", "validate_ratings",
    "from_frames", "read_ratings_csv", "SYNTHETIC_ATTRIBUTES", "make_synthetic",
]  # fmt: skip

#: Columns of ``RatingsData.tags`` (MovieLens' tags.csv; empty for other data).
TAG_COLUMNS = [USER_COL, ITEM_COL, "tag", TIME_COL]


@dataclass
class RatingsData:
    """Ratings plus an item catalogue, with the package's column names.

    ``ratings``: userId, movieId (ids as given), rating (float32; absent for implicit
    feedback), timestamp (int64 Unix seconds, UTC). ``movies``: movieId, title (year
    removed), year (nullable int), genres (list of str). ``tags``: userId, movieId, tag,
    timestamp (may be empty). ``scale``: the rating scale ``(low, high)``, ``None`` for
    implicit feedback. ``truth``: for synthetic data only, the noise-free expected rating of
    every (user, item) pair as an array indexed ``[userId, movieId]``.
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    tags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TAG_COLUMNS))
    links: pd.DataFrame | None = None
    name: str = "custom"
    scale: tuple[float, float] | None = RATING_SCALE
    truth: np.ndarray | None = None

    @property
    def items(self) -> pd.DataFrame:
        """Alias of ``movies`` for catalogues that are not films."""
        return self.movies

    @property
    def implicit(self) -> bool:
        """True for implicit feedback: the ratings frame has no rating column."""
        return RATING_COL not in self.ratings.columns

    def summary(self) -> dict[str, float | None]:
        """Counts and sparsity, as shown in chapter 1 (``mean_rating`` is None if implicit)."""
        n_users = self.ratings[USER_COL].nunique()
        n_items = self.ratings[ITEM_COL].nunique()
        mean = None if self.implicit else float(self.ratings[RATING_COL].mean())
        return {
            "ratings": len(self.ratings),
            "users": int(n_users),
            "rated_items": int(n_items),
            "catalogue_items": len(self.movies),
            "density": len(self.ratings) / max(1, n_users * n_items),
            "mean_rating": mean,
        }


# --------------------------------------------------------------------------- validation


def validate_ratings(
    frame: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str | None = RATING_COL,
    timestamp_col: str | None = TIME_COL,
    scale: tuple[float, float] | None = None,
    duplicates: str = "raise",
    source: str = "ratings",
) -> pd.DataFrame:
    """A clean copy of a ratings frame with the package's column names, or a specific error.

    Returns a frame with a fresh index and the columns userId, movieId (ids kept exactly as
    given: int columns as int64, text as text), rating (float32) and timestamp (int64 Unix
    seconds). ``frame.attrs[SCALE_ATTR]`` holds the rating scale.

    ``timestamp_col`` may hold Unix seconds (whole numbers), datetimes (naive ones are taken
    as UTC, aware ones converted to UTC) or ISO-8601 strings such as
    ``"2020-01-01T00:00:00+01:00"``; fractions of a second are dropped. ``timestamp_col=None``
    uses the row order as time. ``scale`` (default: the frame's ``attrs``, else
    :data:`RATING_SCALE`) bounds the ratings. ``rating_col=None`` reads implicit feedback
    (clicks, plays): no rating column, ``attrs[IMPLICIT_ATTR] = True`` and no scale.

    Duplicates: ``"raise"`` (default), ``"mean"`` (average the ratings, keep the latest
    timestamp) or ``"last"`` (keep the most recent rating); for implicit feedback both keep
    one event per (user, item) pair, with its latest time. ``source`` names the file in
    messages.

    Raises :class:`SchemaError` (a missing column, a missing or unhashable id, a missing or
    unparseable date, text in the rating column), :class:`RatingValueError` (NaN or outside
    ``scale``), :class:`DuplicateRatingError`, :class:`DataFileError` (no rows) and
    :class:`ConfigError` (a malformed ``scale``).
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if duplicates not in DUPLICATE_POLICIES:
        raise SchemaError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    implicit = rating_col is None
    if implicit and scale is not None:
        raise ConfigError(
            f"{source}: scale={scale!r} was given with rating_col=None; implicit feedback has no "
            "ratings to scale: drop scale= or name the rating column"
        )
    if not implicit:
        default = frame.attrs.get(SCALE_ATTR) or RATING_SCALE
        scale = check_scale(default if scale is None else scale)
    wanted = [user_col, item_col] + ([] if implicit else [rating_col])
    _require_columns(frame, wanted + ([timestamp_col] if timestamp_col else []), source)
    if len(frame) == 0:
        raise DataFileError(f"{source}: no ratings (the frame or file is empty)")
    out = pd.DataFrame(
        {
            USER_COL: clean_ids(frame[user_col], source=source, column=user_col),
            ITEM_COL: clean_ids(frame[item_col], source=source, column=item_col),
        }
    )
    if not implicit:
        out[RATING_COL] = clean_ratings(
            frame[rating_col], scale=scale, source=source, column=rating_col
        )
    if timestamp_col:
        out[TIME_COL] = clean_timestamps(frame[timestamp_col], source=source, column=timestamp_col)
    else:
        out[TIME_COL] = np.arange(len(out), dtype=np.int64)  # file order stands in for time
    out = resolve_duplicates(out, duplicates, source=source, implicit=implicit)
    if implicit:
        out.attrs[IMPLICIT_ATTR] = True
    else:
        with_scale(out, scale)
    return out


def _require_columns(frame: pd.DataFrame, wanted: list, source: str, hint: str = "") -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source}: missing column(s) {missing}; found {list(frame.columns)}. Rename your "
            "columns or pass user_col=/item_col=/rating_col=/timestamp_col= (rating_col=None "
            f"for implicit feedback without ratings, timestamp_col=None without times).{hint}"
        )


# --------------------------------------------------------------------------- your own frames


def from_frames(
    ratings: pd.DataFrame,
    items: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str | None = RATING_COL,
    timestamp_col: str | None = TIME_COL,
    title_col: str = TITLE_COL,
    genres_col: str | None = GENRES_COL,
    scale: tuple[float, float] | None = None,
    duplicates: str = "raise",
    name: str = "custom",
) -> RatingsData:
    """Your own data in the package's form, validated on the way in (chapter 5.3).

    ``ratings`` is checked by :func:`validate_ratings` (ids of any hashable kind kept exactly
    as given, dates as Unix seconds, datetimes or ISO-8601 strings, ``scale`` stored in
    ``ratings.attrs`` and in ``RatingsData.scale``; ``rating_col=None`` for implicit
    feedback, whose ``scale`` is None). ``items`` needs an id and a title column; genres (a
    list or a ``|``-separated string) and a ``year`` column are optional. Every rated item
    must be in ``items``, once, with the same id (``10`` and ``"10"`` differ).

    Raises :class:`SchemaError` for a missing column, a missing, unhashable or repeated item
    id and rated items absent from ``items``, plus the errors of :func:`validate_ratings`.
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
    if not isinstance(items, pd.DataFrame):
        raise SchemaError(f"items: expected a pandas DataFrame, got {type(items).__name__}")
    missing = [c for c in (item_col, title_col) if c not in items.columns]
    if missing:
        raise SchemaError(
            f"items: missing column(s) {missing}; found {list(items.columns)}. "
            "Rename them or pass item_col=/title_col="
        )
    ids = clean_ids(items[item_col], source="items", column=item_col)
    genres = (
        items[genres_col] if genres_col and genres_col in items.columns else [None] * len(items)
    )
    movies = pd.DataFrame(
        {
            ITEM_COL: ids,
            TITLE_COL: items[title_col].fillna("").astype(str).to_numpy(dtype=object),
            YEAR_COL: pd.array([pd.NA] * len(items), dtype="Int64"),
            GENRES_COL: [genre_list(g) for g in genres],
        }
    )
    repeated = ids.duplicated().to_numpy()
    if repeated.any():
        first = ids.iloc[int(np.flatnonzero(repeated)[0])]
        raise SchemaError(
            f"items: item id {id_repr(first)} appears more than once; keep one row per item"
        )
    if YEAR_COL in items.columns:
        years = pd.to_numeric(items[YEAR_COL], errors="coerce").to_numpy(float, na_value=np.nan)
        years = np.where(np.isfinite(years) & (np.round(years) == years), years, np.nan)
        movies[YEAR_COL] = pd.array(years, dtype="Float64").astype("Int64")
    check_rated_items(clean[ITEM_COL], ids)
    return RatingsData(ratings=clean, movies=movies, name=name, scale=clean.attrs.get(SCALE_ATTR))


# --------------------------------------------------------------------------- CSV files


def read_ratings_csv(
    path: str | os.PathLike[str],
    *,
    sep: str = ",",
    names: list[str] | None = None,
    encoding: str = "utf-8",
    header: int | str | None = "infer",
    duplicates: str = "raise",
    scale: tuple[float, float] | None = None,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str | None = RATING_COL,
    timestamp_col: str | None = TIME_COL,
    **unknown: object,
) -> pd.DataFrame:
    """A ratings file of your own (CSV, TSV, ``::``-separated, ...), validated.

    ``sep`` separates the fields (longer than one character: a regular expression, read by
    pandas' Python engine); ``names`` names the columns of a file without a header row
    (``header="infer"`` then reads none); the column arguments are those of
    :func:`validate_ratings`. Id columns are read as text and become int64 only when every
    value is a canonical decimal integer that fits int64 (``"42"``), so ``"007"`` and
    ``"A1"`` survive as text. Dates may be Unix seconds or ISO-8601 strings.

    MovieLens 1M: ``read_ratings_csv("ratings.dat", sep="::", names=["userId", "movieId",
    "rating", "timestamp"])``; MovieLens 100K: ``read_ratings_csv("u.data", sep="\\t",
    names=[...], scale=(1, 5))``.

    Raises :class:`DataFileError` (no such file, empty, undecodable: try
    ``encoding="latin-1"``, unparseable), :class:`SchemaError` (missing columns, with a hint
    when the separator or the header row looks wrong), :class:`ConfigError` (an unknown
    argument or encoding) and the errors of :func:`validate_ratings`.
    """
    if unknown:
        accepted = list(inspect.signature(read_ratings_csv).parameters)[1:-1]
        raise unknown_arguments_error("read_ratings_csv", unknown, accepted, {"delimiter": "sep"})
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"{p}: no such file")
    if not p.is_file():
        raise DataFileError(f"{p}: is a folder, not a CSV file")
    if p.stat().st_size == 0:
        raise DataFileError(f"{p}: the file is empty")
    if names is not None and (isinstance(names, str) or not all(isinstance(n, str) for n in names)):
        raise ConfigError(
            f"read_ratings_csv: names must be a list of column names such as "
            f"['userId', 'movieId', 'rating', 'timestamp'], got {names!r}"
        )
    numeric = [c for c in (rating_col, timestamp_col) if c is not None]
    frame = read_delimited(
        p, sep=sep, names=names, encoding=encoding, header=header, text_columns=[user_col, item_col]
    )
    wanted = [user_col, item_col, *numeric]
    _require_columns(frame, wanted, str(p), layout_hint(frame, sep=sep, wanted=wanted))
    wrong_sep = separator_hint(frame.iloc[:, 0], sep=sep) if frame.shape[1] > 1 else ""
    rest = frame.iloc[:, 1:]
    if wrong_sep and (rest.isna() | rest.astype(str).eq("")).all().all():  # all in one column
        raise SchemaError(f"{p}: every line was read into the first column.{wrong_sep}")
    for col in (user_col, item_col):
        frame[col] = ids_from_text(frame[col])
    return validate_ratings(
        frame,
        user_col=user_col,
        item_col=item_col,
        rating_col=rating_col,
        timestamp_col=timestamp_col,
        scale=scale,
        duplicates=duplicates,
        source=str(p),
    )


# --------------------------------------------------------------------------- synthetic

SYNTHETIC_ATTRIBUTES = (
    "action", "comedy", "drama", "horror", "romance", "space", "crime", "animation",
    "musical", "western", "mystery", "war",
)  # fmt: skip


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
    holds the noise-free expectation for every (user, item) pair. The ratings frame
    carries the scale (0.5, 5) in its ``attrs``.
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
    low, high = RATING_SCALE
    truth = np.clip(3.0 + attrs @ appeal + taste @ attrs.T, low, high)
    rows = []
    t = 1_000_000_000
    per_user = min(ratings_per_user, n_items)
    for u in range(n_users):
        for i in rng.choice(n_items, size=per_user, replace=False):
            r = np.clip(truth[u, i] + rng.normal(0.0, noise), low, high)
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
    with_scale(ratings, RATING_SCALE)
    return RatingsData(ratings=ratings, movies=movies, name=f"synthetic-{seed}", truth=truth)
