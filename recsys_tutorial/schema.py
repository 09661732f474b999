"""Column names, the rating scale and the id policy: the bottom layer every module imports.

Nothing here imports another module of the package except :mod:`recsys_tutorial.errors`.

**Ids** (users and items) are kept exactly as given: integers stay integers, strings stay
strings (leading zeros, very large numbers written as text and non-ASCII names included), and
nothing in the package converts one kind to the other. Lookups compare ids with ``==``.

**The rating scale** travels with the data: :func:`recsys_tutorial.data.from_frames` stores it
in the ratings frame's ``attrs`` (pandas keeps ``attrs`` through filtering, copying and the
package's splits), and every rating model and :class:`~recsys_tutorial.models.TargetScaler`
resolves it with :func:`rating_scale`: an explicit ``scale=`` first, then the frame's
``attrs``, then the range the training ratings span.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError, SchemaError

USER_COL = "userId"
ITEM_COL = "movieId"
RATING_COL = "rating"
TIME_COL = "timestamp"
TITLE_COL = "title"
YEAR_COL = "year"
GENRES_COL = "genres"

#: MovieLens' star scale (half stars from 0.5 to 5).
RATING_SCALE: tuple[float, float] = (0.5, 5.0)
#: Key of ``DataFrame.attrs`` that carries the rating scale of a ratings frame.
SCALE_ATTR = "rating_scale"
#: Key of ``DataFrame.attrs`` that marks implicit-feedback events (no rating column).
IMPLICIT_ATTR = "implicit_feedback"


def check_scale(scale: object, *, name: str = "scale") -> tuple[float, float]:
    """``scale`` as ``(low, high)`` floats with ``low < high``, or a :class:`ConfigError`.

    NumPy scalars are accepted like Python numbers.
    """
    try:
        low, high = scale  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a pair (low, high) such as (1, 10), got {scale!r}") from None
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ConfigError(f"{name} must hold two finite numbers (low, high), got {scale!r}")
    low, high = float(low), float(high)
    if not low < high:
        raise ConfigError(f"{name}: low ({low:g}) must be below high ({high:g}), got {scale!r}")
    return low, high


def rating_scale(
    frame: pd.DataFrame | None = None,
    scale: object = None,
    *,
    rating_col: str = RATING_COL,
) -> tuple[float, float]:
    """The rating scale to clip predictions to: ``scale`` if given, else ``frame.attrs``, else
    the ``[min, max]`` of ``frame[rating_col]`` (a model cannot know a wider scale).

    Raises :class:`ConfigError` for a malformed ``scale`` and :class:`SchemaError` when the
    frame has no rating column (implicit feedback) and no scale was given.
    """
    if scale is not None:
        return check_scale(scale)
    if frame is not None and frame.attrs.get(SCALE_ATTR) is not None:
        return check_scale(frame.attrs[SCALE_ATTR], name=f"frame.attrs[{SCALE_ATTR!r}]")
    if frame is None:
        return RATING_SCALE
    require_ratings(frame, rating_col=rating_col, what="rating_scale")
    values = pd.to_numeric(frame[rating_col], errors="coerce").to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise SchemaError(f"rating_scale: column {rating_col!r} holds no finite rating")
    low, high = float(values.min()), float(values.max())
    return (low, high) if low < high else (low - 0.5, high + 0.5)


#: Where the default "liked" threshold sits on the rating scale: 7/9 of the way from its bottom
#: to its top (4 stars on MovieLens' 0.5-5, 8 points on 1-10, 4.11 on 1-5).
LIKED_SHARE = 7 / 9


def liked_threshold(
    frame: pd.DataFrame | None = None, threshold: object = None, *, scale: object = None
) -> float:
    """The rating from which an item counts as liked (relevant) in top-K evaluation.

    ``threshold`` if given; else ``LIKED_SHARE`` of the way up the rating scale, the scale
    taken from ``scale``, then ``frame.attrs``, then MovieLens' :data:`RATING_SCALE` (not
    the observed range: a few ratings must not change what "liked" means).
    """
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise ConfigError(f"threshold must be a number, got {threshold!r}")
        return float(threshold)
    if scale is not None:
        low, high = check_scale(scale)
    elif frame is not None and frame.attrs.get(SCALE_ATTR) is not None:
        low, high = check_scale(frame.attrs[SCALE_ATTR], name=f"frame.attrs[{SCALE_ATTR!r}]")
    else:
        low, high = RATING_SCALE
    return low + (high - low) * LIKED_SHARE


def with_scale(frame: pd.DataFrame, scale: tuple[float, float]) -> pd.DataFrame:
    """``frame`` with its rating scale recorded in ``frame.attrs`` (in place; returns it)."""
    frame.attrs[SCALE_ATTR] = check_scale(scale)
    return frame


def require_ratings(frame: pd.DataFrame, *, rating_col: str = RATING_COL, what: str = "this model") -> None:
    """A :class:`SchemaError` unless ``frame`` has a rating column: rating models need ratings.

    Implicit-feedback data (clicks, plays, purchases: ``from_frames(..., rating_col=None)``)
    has none; rank it with a ranking model (``Popularity``) instead.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    if rating_col not in frame.columns:
        implicit = bool(frame.attrs.get(IMPLICIT_ATTR))
        raise SchemaError(
            f"{what} needs ratings, but the frame has no {rating_col!r} column "
            f"(found {list(frame.columns)})"
            + ("; it holds implicit feedback (clicks, plays, purchases), which has no ratings"
               if implicit else "")
            + ": rank implicit feedback with a ranking model such as Popularity, or, if your "
            "ratings are in another column, name it when you load the data (rating_col=)"
        )


def id_repr(value: Any) -> str:
    """An id as shown in messages: ``repr`` without NumPy's ``np.int64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)
