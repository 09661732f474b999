"""What a test set shares with its training set (chapter 2; results chapter, S1-S4).

:func:`leakage_report` counts shared pairs, cold users and items, and two kinds of *temporal*
leakage: test ratings that are not after the same user's training ratings, and test ratings
whose item was rated in training *later* by someone else (the training data "knows the future"
of that item; the S2 leakage of Ji et al., TOIS 2023, "A Critical Study on Data Leakage in
Recommender System Offline Evaluation"). :func:`recsys_tutorial.splits.leakage_report` is the
same function.

Ids of any hashable kind are compared exactly (``1`` and ``"1"`` differ); nothing is sorted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, SchemaError, SplitError
from .schema import ITEM_COL, TIME_COL, USER_COL

__all__ = ["leakage_report", "time_values"]


def time_values(
    frame: pd.DataFrame,
    time_col: str = TIME_COL,
    what: str = "ratings",
    *,
    error: type[DataError] = SplitError,
) -> np.ndarray:
    """``frame[time_col]`` as a NumPy array of numbers, one per row.

    Numbers (Unix seconds or any other unit, also as numeric text) stay numbers; datetimes
    become int64 nanoseconds since 1970 (UTC for time-zone aware ones). Raises ``error``
    (default :class:`SplitError`) naming the first row that is missing or not a time.
    """
    col = frame[time_col]
    if pd.api.types.is_datetime64_any_dtype(col):
        bad = col.isna().to_numpy()
        if not bad.any():
            if isinstance(col.dtype, pd.DatetimeTZDtype):
                col = col.dt.tz_convert("UTC").dt.tz_localize(None)
            return col.astype("datetime64[ns]").to_numpy().view(np.int64)
    else:
        values = pd.to_numeric(col, errors="coerce")
        bad = values.isna().to_numpy()
        if not bad.any():
            return values.to_numpy()
    row = int(np.flatnonzero(bad)[0])
    raise error(
        f"{what}: column {time_col!r} must hold numbers (e.g. Unix seconds) or datetimes, but "
        f"row {row} holds {col.iloc[row]!r}"
    )


def _codes(train: pd.Series, test: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes of the ids of both sides (exact comparison) and their count."""
    codes, uniques = pd.factorize(pd.concat([train, test], ignore_index=True), sort=False)
    return codes[: len(train)], codes[len(train) :], len(uniques)


def _lowest(dtype: np.dtype) -> float | int:
    return -np.inf if dtype.kind == "f" else np.iinfo(np.int64).min


def _later_item_ratings(tr_i, tr_u, tr_t, te_i, te_u, te_t, n_items: int) -> int:
    """Test rows whose item has a training rating by *another* user strictly after them."""
    t, fill = tr_t, _lowest(tr_t.dtype)
    best = np.full(n_items, fill, dtype=t.dtype)
    np.maximum.at(best, tr_i, t)  # latest training time per item
    at_best = np.flatnonzero(t == best[tr_i])
    _, first = np.unique(tr_i[at_best], return_index=True)
    best_user = np.full(n_items, -1, dtype=np.int64)
    best_user[tr_i[at_best[first]]] = tr_u[at_best[first]]  # one user holding that time
    others = tr_u != best_user[tr_i]
    second = np.full(n_items, fill, dtype=t.dtype)  # latest time by anyone but best_user
    np.maximum.at(second, tr_i[others], t[others])
    latest_other = np.where(best_user[te_i] == te_u, second[te_i], best[te_i])
    return int((latest_other > te_t).sum())


def leakage_report(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
) -> dict[str, int | None]:
    """What ``test`` shares with ``train`` (chapter 2), as counts (Python ints).

    ``train_ratings`` / ``test_ratings``, ``train_users`` / ``test_users`` /
    ``train_items`` / ``test_items``: sizes. ``shared_pairs``: distinct (user, item) pairs on
    both sides (0 for every split here); ``shared_rows``: test rows whose pair is also in
    train; ``cold_users`` / ``cold_items``: distinct test users / items absent from train, and
    ``cold_user_ratings`` / ``cold_item_ratings`` the test ratings they carry.

    With ``time_col`` in both frames (else ``None``): ``not_after_train``: test ratings at or
    before the latest training rating of the same user (0 for a temporal split);
    ``later_item_ratings``: test ratings whose item has at least one training rating, by another
    user, made strictly after the test rating (0 for
    :func:`~recsys_tutorial.splits.global_temporal_split`; usually many for per-user temporal and
    random splits). No rating column is needed (implicit feedback works).
    """
    for frame, what in ((train, "train"), (test, "test")):
        if not isinstance(frame, pd.DataFrame):
            raise SplitError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in (user_col, item_col) if c not in frame.columns]
        if missing:
            raise SchemaError(f"{what}: missing column(s) {missing}; found {list(frame.columns)}")
    tr_u, te_u, n_users = _codes(train[user_col], test[user_col])
    tr_i, te_i, n_items = _codes(train[item_col], test[item_col])
    tr_pair = tr_u.astype(np.int64) * n_items + tr_i
    te_pair = te_u.astype(np.int64) * n_items + te_i
    in_train = np.isin(te_pair, tr_pair)
    cold_user = ~np.isin(te_u, tr_u)
    cold_item = ~np.isin(te_i, tr_i)
    report: dict[str, int | None] = {
        "train_ratings": len(train),
        "test_ratings": len(test),
        "train_users": int(np.unique(tr_u).size),
        "test_users": int(np.unique(te_u).size),
        "train_items": int(np.unique(tr_i).size),
        "test_items": int(np.unique(te_i).size),
        "shared_pairs": int(np.unique(te_pair[in_train]).size),
        "shared_rows": int(in_train.sum()),
        "cold_users": int(np.unique(te_u[cold_user]).size),
        "cold_items": int(np.unique(te_i[cold_item]).size),
        "cold_user_ratings": int(cold_user.sum()),
        "cold_item_ratings": int(cold_item.sum()),
        "not_after_train": None,
        "later_item_ratings": None,
    }
    if time_col in train.columns and time_col in test.columns:
        tr_t = time_values(train, time_col, "train")
        te_t = time_values(test, time_col, "test")
        # one dtype for both sides: int64 (exact, e.g. nanoseconds) unless either is a float
        dtype = np.float64 if "f" in (tr_t.dtype.kind, te_t.dtype.kind) else np.int64
        tr_t, te_t = tr_t.astype(dtype), te_t.astype(dtype)
        last = np.full(n_users, _lowest(tr_t.dtype), dtype=dtype)
        np.maximum.at(last, tr_u, tr_t)
        # cold users have no training rating to be after (lowest value): never counted
        report["not_after_train"] = int((te_t <= last[te_u]).sum())
        report["later_item_ratings"] = _later_item_ratings(
            tr_i, tr_u, tr_t, te_i, te_u, te_t, n_items
        )
    return report
