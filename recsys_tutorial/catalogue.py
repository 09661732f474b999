"""Item ids and catalogues as the recommenders see them (chapters 3.5 and 6.1).

Ids are kept exactly as given (see :mod:`recsys_tutorial.schema`): :func:`id_array` never
turns a string into a number or a number into a string, and :func:`catalogue_ids`
deduplicates by equality, keeping the order of first appearance (ids of mixed kinds are never
sorted).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .errors import RecommendError, SchemaError
from .schema import ITEM_COL, TITLE_COL, id_repr


def id_array(values) -> np.ndarray:
    """Ids as a 1-D array that keeps each id as given.

    NumPy/pandas integer or float arrays stay as they are, Python integers that fit become
    ``int64``, anything else (strings, very large integers, mixed kinds) an ``object`` array
    holding the very objects given. Raises RecommendError for a bare string.
    """
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        values = values.reshape(-1)
        return values if values.dtype.kind in "iuf" else values.astype(object)
    if isinstance(values, (str, bytes)):
        raise RecommendError(f"expected a sequence of ids, got the string {values!r}")
    items = list(values)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in items):
        if all(-(2**63) <= int(v) < 2**63 for v in items):
            return np.array(items, dtype=np.int64)
    return np.fromiter(items, dtype=object, count=len(items))


def positive_int(value: object, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer (NumPy integers accepted, ``bool``
    refused), else a RecommendError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value <= 0:
        raise RecommendError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def catalogue_ids(
    items, *, item_col: str = ITEM_COL, title_col: str = TITLE_COL
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(ids, titles)`` of a catalogue: a movies frame or a sequence of item ids.

    A sequence is deduplicated, keeping the order of first appearance (titles are then
    ``None``). A frame must have one row per item: a repeated id raises RecommendError naming
    it and its row positions; a missing ``item_col`` raises SchemaError. ``titles`` is the
    frame's ``title_col`` aligned with ``ids`` (``None`` without that column).
    """
    if not isinstance(items, pd.DataFrame):
        ids = id_array(items)
        return (pd.unique(ids) if ids.size else ids), None
    if item_col not in items.columns:
        raise SchemaError(f"items: missing column {item_col!r}; found {list(items.columns)}")
    ids = id_array(items[item_col])
    repeated = items[item_col].duplicated(keep=False).to_numpy()
    if repeated.any():
        first = ids[repeated][0]
        rows = np.flatnonzero(repeated & (items[item_col] == first).to_numpy()).tolist()
        raise RecommendError(
            f"items: id {id_repr(first)} appears in {len(rows)} rows (positions {rows[:5]}); "
            f"each item must have one row: drop duplicates of column {item_col!r} first"
        )
    titles = items[title_col].to_numpy() if title_col in items.columns else None
    return ids, titles
