"""Cleaning ratings on the way in: ids, dates, ratings and repeated pairs, with errors that
name the column and the row.

Used by :mod:`recsys_tutorial.data` and :mod:`recsys_tutorial.movielens`. Row numbers in
messages count data rows from 0 (by position, not by index label).

* :func:`clean_ids` keeps ids exactly as given (integers as int64, text untouched).
* :func:`ids_from_text` turns a text column read from a file into int64 only when every
  value is a canonical decimal integer that fits int64 (so ``"007"`` keeps a column text).
* :func:`clean_timestamps` turns Unix seconds, datetimes or ISO-8601 strings into int64
  Unix seconds (UTC).
* :func:`clean_ratings` turns numbers (or numeric text) into float32 ratings on a scale.
* :func:`genre_list` and :func:`check_rated_items` clean an items frame.
* :func:`resolve_duplicates` applies a policy to (user, item) pairs given more than once.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re

import numpy as np
import pandas as pd

from .errors import DuplicateRatingError, RatingValueError, SchemaError
from .schema import ITEM_COL, RATING_COL, TIME_COL, USER_COL, id_repr

_CANONICAL_INT = r"0|-?[1-9][0-9]*"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
DUPLICATE_POLICIES = ("raise", "mean", "last")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
_DATES = (
    "Unix seconds (whole numbers), datetimes or ISO-8601 dates such as '2020-01-01T12:00:00+01:00'"
)


def looks_numeric(text: object) -> bool:
    """True when ``text`` (e.g. a header cell) is a plain decimal number such as ``"5"``."""
    return isinstance(text, str) and _NUMBER.fullmatch(text.strip()) is not None


def _is_missing(value: object) -> bool:
    """None, NaN, NaT, pd.NA or the empty string (any hashable cell)."""
    if isinstance(value, str):
        return value == ""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return isinstance(value, np.datetime64) and bool(np.isnat(value))


def _missing_error(source: str, column: object, row: int, what: str) -> SchemaError:
    return SchemaError(
        f"{source}: column {column!r} is empty at row {row}: every row needs {what}; "
        "drop or fill that row"
    )


def _first(mask: np.ndarray) -> int | None:
    rows = np.flatnonzero(mask)
    return int(rows[0]) if rows.size else None


# --------------------------------------------------------------------------- ids


def clean_ids(values: pd.Series, *, source: str = "ratings", column: object = "id") -> pd.Series:
    """The id column ``values`` (fresh index) with every id kept exactly as given.

    Integer columns (NumPy or nullable) become int64 (uint64 beyond int64 stays uint64);
    float columns of whole numbers become int64; text columns stay as they are; object
    columns stay as they are (Python ints beyond int64 included) unless every value is an
    integer that fits int64, which gives int64. Raises :class:`SchemaError` naming
    ``column`` and the row for a missing id (NaN, None, NaT, ``""``), an unhashable id (a
    list) or a fractional or infinite float.
    """
    values = values.reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    dtype = values.dtype
    if pd.api.types.is_object_dtype(dtype):
        return _object_ids(values, source, column)
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        missing = values.isna().to_numpy(dtype=bool)
        if isinstance(dtype, pd.StringDtype):
            missing = missing | (values == "").to_numpy(dtype=bool, na_value=False)
        if missing.any():
            raise _missing_error(source, column, _first(missing), "an id")
        return values
    if pd.api.types.is_integer_dtype(dtype):
        missing = values.isna().to_numpy(dtype=bool)
        if missing.any():
            raise _missing_error(source, column, _first(missing), "an id")
        if dtype.kind == "u" and len(values) and int(values.max()) > _INT64_MAX:
            return values
        return values.astype(np.int64)
    return pd.Series(_whole_numbers(values, source, column, "an id", "whole numbers or text ids"))


def _object_ids(values: pd.Series, source: str, column: object) -> pd.Series:
    all_int64 = True
    for row, value in enumerate(values.to_numpy(dtype=object)):
        try:
            hash(value)
        except TypeError:
            text = repr(value)
            raise SchemaError(
                f"{source}: column {column!r} holds an unhashable {type(value).__name__} at row "
                f"{row} ({text if len(text) <= 60 else text[:57] + '...'}); an id must be a "
                "number or a string"
            ) from None
        if _is_missing(value):
            raise _missing_error(source, column, row, "an id")
        all_int64 = all_int64 and (
            isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_))
            and _INT64_MIN <= int(value) <= _INT64_MAX
        )
    return values.astype(np.int64) if all_int64 and len(values) else values


def _whole_numbers(values: pd.Series, source: str, column: object, what: str, kind: str):
    """A float column as int64, or the error for its first missing or non-whole value."""
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(x)
    with np.errstate(invalid="ignore"):
        bad = ~missing & (~np.isfinite(x) | (np.mod(x, 1) != 0) | (np.abs(x) >= 2.0**63))
    first_missing, first_bad = _first(missing), _first(bad)
    if first_missing is not None and (first_bad is None or first_missing < first_bad):
        raise _missing_error(source, column, first_missing, what)
    if first_bad is not None:
        raise SchemaError(
            f"{source}: column {column!r} must hold {kind}, but row {first_bad} holds "
            f"{id_repr(values.iloc[first_bad])}"
        )
    return x.astype(np.int64)


def ids_from_text(values: pd.Series) -> pd.Series:
    """A text id column read from a file, as int64 when EVERY value is a canonical decimal
    integer that fits int64 (``"42"``, ``"-7"``; not ``"007"``, ``"+7"``, ``"1e3"``), else
    unchanged. Other columns are returned unchanged."""
    is_text = isinstance(values.dtype, pd.StringDtype) or (
        pd.api.types.is_object_dtype(values.dtype) and all(isinstance(v, str) for v in values)
    )
    if not is_text or len(values) == 0:
        return values
    text = values.astype(object)
    canonical = text.map(
        lambda v: isinstance(v, str) and re.fullmatch(_CANONICAL_INT, v) is not None
    )
    if not canonical.all():
        return values
    if any(len(v) > 18 and not _INT64_MIN <= int(v) <= _INT64_MAX for v in text):
        return values
    return text.astype(np.int64)


# --------------------------------------------------------------------------- timestamps


def clean_timestamps(
    values: pd.Series, *, source: str = "ratings", column: object = "timestamp"
) -> np.ndarray:
    """Times as int64 Unix seconds (UTC), one per row.

    Accepts Unix seconds (whole numbers, also as text such as ``"5"``), a datetime64 column
    (naive ones are taken as UTC, tz-aware ones converted to UTC), datetime objects and
    ISO-8601 strings (``"2020-01-01"``, ``"2020-01-01T00:00:00+01:00"``, parsed with
    ``pd.to_datetime(..., utc=True, format="ISO8601")``), mixed freely in one column.
    Fractions of a second are dropped (floored). Raises :class:`SchemaError` naming
    ``column`` and the row for a missing date (NaN, None, NaT, ``""``) and naming the row
    and the value for one that cannot be read.
    """
    values = values.reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        missing = values.isna().to_numpy(dtype=bool)
        if missing.any():
            raise _missing_error(source, column, _first(missing), "a time")
        utc = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return _seconds(utc)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        if pd.api.types.is_integer_dtype(dtype) and not values.isna().any():
            return values.to_numpy(dtype=np.int64)
        return _whole_numbers(values, source, column, "a time", "whole numbers")
    return _mixed_times(values.to_numpy(dtype=object), source, column)


def _seconds(utc: pd.Series) -> np.ndarray:
    # not .astype("int64") // 10**9: pandas 3 may store datetimes in s, ms or us
    return ((utc - _EPOCH) // pd.Timedelta("1s")).to_numpy(dtype=np.int64)


def _whole_second(value: object) -> int | None:
    """A number (or numeric text) as whole seconds; None when it is not a whole number."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(_CANONICAL_INT, text.lstrip("+")):
            value = int(text)
        else:
            value = float(text)
    if isinstance(value, numbers.Integral):
        value = int(value)
        return value if _INT64_MIN <= value <= _INT64_MAX else None
    value = float(value)
    if not math.isfinite(value) or value % 1 != 0 or abs(value) >= 2.0**63:
        return None
    return int(value)


def _mixed_times(cells: np.ndarray, source: str, column: object) -> np.ndarray:
    out = np.zeros(len(cells), dtype=np.int64)
    missing = np.zeros(len(cells), dtype=bool)
    bad = np.zeros(len(cells), dtype=bool)
    date_rows: list[int] = []
    for row, value in enumerate(cells):
        if isinstance(value, str) and value.strip() == "" or _is_missing(value):
            missing[row] = True
        elif isinstance(value, (bool, np.bool_)):
            bad[row] = True
        elif isinstance(value, numbers.Real) or looks_numeric(value):
            seconds = _whole_second(value)
            bad[row] = seconds is None
            out[row] = seconds or 0
        elif isinstance(value, (str, dt.date, np.datetime64)):
            date_rows.append(row)
        else:
            bad[row] = True
    if date_rows:
        dates = [c.strip() if isinstance(c, str) else c for c in cells[date_rows]]
        parsed = pd.to_datetime(
            pd.Series(dates, dtype=object), utc=True, format="ISO8601", errors="coerce"
        )
        unread = parsed.isna().to_numpy(dtype=bool)
        bad[np.asarray(date_rows)[unread]] = True
        out[np.asarray(date_rows)[~unread]] = _seconds(parsed[~unread])
    first_missing, first_bad = _first(missing), _first(bad)
    if first_missing is not None and (first_bad is None or first_missing < first_bad):
        raise _missing_error(source, column, first_missing, "a time")
    if first_bad is not None:
        raise SchemaError(
            f"{source}: column {column!r} must hold {_DATES}, but row {first_bad} holds "
            f"{id_repr(cells[first_bad])}"
        )
    return out


# --------------------------------------------------------------------------- ratings


def clean_ratings(
    values: pd.Series,
    *,
    scale: tuple[float, float],
    source: str = "ratings",
    column: object = "rating",
) -> np.ndarray:
    """Ratings as a float32 array, each within ``scale = (low, high)``.

    Raises :class:`SchemaError` naming the first row whose cell is not a number (``'four'``)
    and :class:`RatingValueError` for missing (NaN) ratings and ratings outside ``scale``.
    """
    values = values.reset_index(drop=True)
    converted = pd.to_numeric(values, errors="coerce")
    given = values.notna().to_numpy(dtype=bool)
    if pd.api.types.is_object_dtype(values.dtype) or isinstance(values.dtype, pd.StringDtype):
        blank = values.astype(object).map(lambda v: isinstance(v, str) and v.strip() == "")
        given = given & ~blank.to_numpy(dtype=bool)
    ratings = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    row = _first(given & np.isnan(ratings))
    if row is not None:
        raise SchemaError(
            f"{source}: column {column!r} must hold numbers, but row {row} holds "
            f"{id_repr(values.iloc[row])}"
        )
    missing = np.isnan(ratings)
    if missing.any():
        raise RatingValueError(
            f"{source}: column {column!r}: {int(missing.sum())} rating(s) are missing (NaN), "
            f"first at row {_first(missing)}; drop or fill them before loading"
        )
    low, high = scale
    outside = (ratings < low) | (ratings > high)
    if outside.any():
        row = _first(outside)
        raise RatingValueError(
            f"{source}: column {column!r}: {int(outside.sum())} rating(s) outside the scale "
            f"[{low}, {high}], first at row {row} (value {float(ratings[row])}); rescale them or "
            "pass scale="
        )
    return ratings.astype(np.float32)


# --------------------------------------------------------------------------- items


def check_rated_items(rated: pd.Series, catalogue: pd.Series) -> None:
    """A :class:`SchemaError` listing the ``rated`` item ids absent from ``catalogue`` (in
    order of appearance; ``10`` and ``"10"`` differ, and the message says so)."""
    unknown = pd.unique(rated[~rated.isin(catalogue)])
    if len(unknown) == 0:
        return
    shown = list(unknown[:5])
    as_text = {str(k): k for k in catalogue}
    hint = ""
    for u in shown:
        if str(u) in as_text:
            hint = (
                f" (ids are compared exactly: the ratings' {id_repr(u)} is not the items' "
                f"{id_repr(as_text[str(u)])}; give both id columns the same type)"
            )
            break
    raise SchemaError(
        f"ratings: {len(unknown)} rated item(s) are not in the items frame, e.g. "
        f"[{', '.join(id_repr(u) for u in shown)}]{hint}; add them to the items frame or drop "
        "their ratings"
    )


def genre_list(value: object) -> list[str]:
    """Genres given as a list/tuple or a ``|``-separated string; missing values give ``[]``."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(g) for g in value]
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    text = str(value)
    return [] if text == "(no genres listed)" else [g for g in text.split("|") if g]


# --------------------------------------------------------------------------- duplicates


def resolve_duplicates(
    frame: pd.DataFrame, duplicates: str, *, source: str = "ratings", implicit: bool = False
) -> pd.DataFrame:
    """``frame`` (the package's columns) with each (user, item) pair once, by ``duplicates``.

    ``"raise"``: a :class:`DuplicateRatingError` naming the first repeated row; ``"mean"``:
    the mean rating with the latest time; ``"last"``: the most recent row. For implicit
    feedback (no rating column) both keep one event per pair, with its latest time.
    The result has a fresh index; without repeats ``frame`` is returned as it is.
    """
    dup = frame.duplicated([USER_COL, ITEM_COL], keep=False)
    if not dup.any():
        return frame
    if duplicates == "raise":
        row = _first(dup.to_numpy(dtype=bool))
        user, item = frame[USER_COL].iloc[row], frame[ITEM_COL].iloc[row]
        pair = f"first at row {row} (user {id_repr(user)}, item {id_repr(item)})"
        if implicit:
            raise DuplicateRatingError(
                f"{source}: {int(dup.sum())} events repeat a (user, item) pair, {pair}; pass "
                "duplicates='last' (or 'mean') to keep one event per pair, with its latest time"
            )
        raise DuplicateRatingError(
            f"{source}: {int(dup.sum())} rows rate a (user, item) pair more than once, {pair}; "
            "pass duplicates='mean' or duplicates='last' to resolve them"
        )
    frame = frame.sort_values(TIME_COL, kind="stable")
    if duplicates == "last" or implicit:
        return frame.drop_duplicates([USER_COL, ITEM_COL], keep="last").reset_index(drop=True)
    out = frame.groupby([USER_COL, ITEM_COL], as_index=False, sort=False).agg(
        {RATING_COL: "mean", TIME_COL: "max"}
    )
    out[RATING_COL] = out[RATING_COL].astype(np.float32)
    return out.reset_index(drop=True)
