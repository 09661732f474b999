"""The argument checks and building blocks every split of :mod:`recsys_tutorial.splits` shares.

Checks: :func:`check_frame` (a non-empty frame with the needed columns), :func:`check_no_duplicates`
(one row per (user, item) pair), :func:`check_fraction` (a share strictly inside (0, 1)),
:func:`check_seed`, :func:`held_out_share` (``test_size`` or one deprecated alias of it).
Building blocks: :func:`distinct_ids`, :func:`share_count` and :func:`held_out_count` (how many
things go to test), :func:`sides` / :func:`sides_by_index` (the ``(train, test)`` frames: input
order, a fresh index, the input's ``attrs``) and :func:`check_sides` (neither side empty).

Problems raise :class:`~recsys_tutorial.errors.SplitError`, or
:class:`~recsys_tutorial.errors.SchemaError` for a missing column; NumPy scalars are accepted
wherever Python numbers are.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import SchemaError, SplitError
from .schema import IMPLICIT_ATTR, ITEM_COL, RATING_COL, USER_COL, id_repr

__all__ = [
    "Split", "check_fraction", "check_frame", "check_no_duplicates", "check_seed", "check_sides",
    "distinct_ids", "held_out_count", "held_out_share", "share_count", "sides", "sides_by_index",
]

#: What every split returns: ``(train, test)``.
Split = tuple[pd.DataFrame, pd.DataFrame]


# --------------------------------------------------------------------------- checks


def check_frame(ratings: object, columns: Sequence[str], *, what: str = "ratings") -> pd.DataFrame:
    """``ratings`` if it is a non-empty DataFrame holding ``columns``.

    Raises :class:`SplitError` for another type or an empty frame, :class:`SchemaError`
    naming the missing columns (and the ``user_col=``/``item_col=``/``time_col=`` fix).
    """
    if not isinstance(ratings, pd.DataFrame):
        raise SplitError(f"{what}: expected a pandas DataFrame, got {type(ratings).__name__}")
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise SchemaError(
            f"{what}: missing column(s) {missing}; found {list(ratings.columns)}. "
            "Pass user_col=/item_col=/time_col= to name your columns."
        )
    if len(ratings) == 0:
        raise SplitError(f"{what}: the frame is empty; there is nothing to split")
    return ratings


def check_no_duplicates(
    ratings: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    what: str = "ratings",
) -> None:
    """Raise :class:`SplitError` when a (user, item) pair has more than one row: its copies
    could land on both sides of a split. The message names the count, the first row (0-based
    position) and its ids, and the fix (``validate_ratings(..., duplicates=...)`` for ratings,
    ``drop_duplicates`` for implicit-feedback events)."""
    dup = ratings.duplicated([user_col, item_col], keep=False).to_numpy()
    if not dup.any():
        return
    row = int(np.flatnonzero(dup)[0])
    implicit = ratings.attrs.get(IMPLICIT_ATTR) or RATING_COL not in ratings.columns
    fix = (
        "Keep one event per pair first, e.g. "
        f"frame.drop_duplicates([{user_col!r}, {item_col!r}], keep='last')."
        if implicit
        else "Resolve them first with validate_ratings(frame, duplicates='mean') "
        "or duplicates='last'."
    )
    raise SplitError(
        f"{what}: {int(dup.sum())} rows rate a (user, item) pair more than once, first at "
        f"row {row} (user {id_repr(ratings[user_col].iloc[row])}, item "
        f"{id_repr(ratings[item_col].iloc[row])}); the copies could land on both sides of the "
        f"split. {fix}"
    )


def check_fraction(name: str, value: object) -> float:
    """``value`` (a Python or NumPy real) as a float strictly inside (0, 1); else a
    :class:`SplitError` naming ``name`` (booleans, strings, None and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SplitError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    value = float(value)
    if not (0.0 < value < 1.0):  # also rejects NaN
        raise SplitError(
            f"{name} must be strictly between 0 and 1 (a share, e.g. 0.2 for 20%), got {value!r}"
        )
    return value


def check_seed(seed: object) -> int:
    """``seed`` (a Python or NumPy integer >= 0) as an ``int``; else a :class:`SplitError`."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SplitError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def held_out_share(func: str, test_size: object, default: float, **aliases: object) -> float:
    """The held-out share of a call to ``func``: ``test_size``, or the one deprecated alias
    given (``test_frac=``, ``frac=``, ``val_size=``; not None) with a :class:`DeprecationWarning`.

    ``default`` is ``func``'s default ``test_size``: an alias next to a changed ``test_size``,
    or two aliases, raise :class:`SplitError` (the share must be passed once). The share is
    checked by :func:`check_fraction`.
    """
    given = {name: value for name, value in aliases.items() if value is not None}
    if not given:
        return check_fraction("test_size", test_size)
    (name, value), *rest = given.items()
    if rest or test_size != default:
        raise SplitError(
            f"{func}: pass the held-out share once, as test_size=; got test_size={test_size!r} "
            f"and {', '.join(f'{k}={v!r}' for k, v in given.items())}"
        )
    warnings.warn(
        f"{func}({name}=...) is deprecated; use {func}(test_size=...), "
        "the one name every split uses",
        DeprecationWarning,
        stacklevel=3,
    )
    return check_fraction(name, value)


# --------------------------------------------------------------------------- building blocks


def distinct_ids(values: pd.Series) -> np.ndarray:
    """The distinct ids of ``values``: sorted when all are numbers (a numeric column) or all
    strings, else (mixed kinds, Python ints in an object column) in order of appearance."""
    keys = values.drop_duplicates().to_numpy()
    if keys.dtype.kind in "iuf" or all(isinstance(k, str) for k in keys):
        return np.sort(keys)
    return keys


def share_count(frac: float, n: int) -> int:
    """``frac * n`` rounded half up (Python's ``round`` would round 2.5 down to 2)."""
    return int(math.floor(frac * n + 0.5))


def held_out_count(frac: float, n: int, name: str, unit: str) -> int:
    """How many of ``n`` things go to test: :func:`share_count`, at least 1; a
    :class:`SplitError` (naming ``name`` and ``unit``) when that leaves nothing for training."""
    n_test = max(1, share_count(frac, n))
    if n_test >= n:
        raise SplitError(
            f"{name}={frac} of {n} {unit} leaves no {unit} for training; "
            f"use a smaller {name} or more data (at least 2 {unit} are needed)"
        )
    return n_test


def sides(ratings: pd.DataFrame, test_mask: np.ndarray) -> Split:
    """``(train, test)`` by a boolean mask of ``len(ratings)``: rows keep the input's order,
    get a fresh index and a copy of the input's ``attrs``."""
    train = ratings.loc[~test_mask].reset_index(drop=True)
    test = ratings.loc[test_mask].reset_index(drop=True)
    train.attrs = copy.deepcopy(ratings.attrs)
    test.attrs = copy.deepcopy(ratings.attrs)
    return train, test


def sides_by_index(ratings: pd.DataFrame, test_rows: Sequence[int] | np.ndarray) -> Split:
    """``(train, test)`` with the rows at positions ``test_rows`` in test (see :func:`sides`)."""
    mask = np.zeros(len(ratings), dtype=bool)
    mask[test_rows] = True
    return sides(ratings, mask)


def check_sides(train: pd.DataFrame, test: pd.DataFrame, why: str) -> Split:
    """``(train, test)`` unchanged, or a :class:`SplitError` saying which side is empty and
    ``why``."""
    if len(train) == 0 or len(test) == 0:
        side = "train" if len(train) == 0 else "test"
        raise SplitError(f"the split would leave {side} empty: {why}")
    return train, test
