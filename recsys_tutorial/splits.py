"""Train/test splits without leakage (chapter 2: cross-validation; results chapter: S1-S3).

Every split takes a ratings frame (one row per (user, item) pair, as returned by
:mod:`recsys_tutorial.data`) and returns ``(train, test)`` frames with a fresh index; each
side keeps the input's row order and columns. Column names are keyword arguments
(``user_col=``, ``item_col=``, ``time_col=``) defaulting to the package's. Random splits are
deterministic given ``seed``.

- S1 :func:`random_split`: a random share of all ratings;
- S2 :func:`temporal_split`: per user, the most recent ratings (strictly later than train);
- S3 :func:`cold_start_items_split` / :func:`cold_start_users_split`: whole items / users;
- :func:`kfold_splits`: k folds, each rating in exactly one test fold (chapter 2);
- :func:`train_val_split`: a validation slice carved out of ``train`` only (chapter 2).

:func:`leakage_report` counts what a test set shares with its training set.

Problems raise :class:`~recsys_tutorial.errors.SplitError` (a fraction outside (0, 1), an
empty frame, duplicated (user, item) pairs, a split that would leave a side empty) or
:class:`~recsys_tutorial.errors.SchemaError` (a missing column).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .data import ITEM_COL, TIME_COL, USER_COL
from .errors import SchemaError, SplitError

__all__ = [
    "random_split",
    "temporal_split",
    "cold_start_items_split",
    "cold_start_users_split",
    "kfold_splits",
    "train_val_split",
    "leakage_report",
]

Split = tuple[pd.DataFrame, pd.DataFrame]


# --------------------------------------------------------------------------- helpers


def _check_frame(ratings: object, columns: list[str], *, what: str = "ratings") -> pd.DataFrame:
    """``ratings`` if it is a non-empty frame holding ``columns`` with no repeated pair."""
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


def _check_no_duplicates(ratings: pd.DataFrame, user_col: str, item_col: str, what: str) -> None:
    dup = ratings.duplicated([user_col, item_col], keep=False).to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise SplitError(
            f"{what}: {int(dup.sum())} rows rate a (user, item) pair more than once, first at "
            f"row {row} (user {ratings[user_col].iloc[row]!r}, item {ratings[item_col].iloc[row]!r}); "
            "the copies could land on both sides of the split. Resolve them first with "
            "validate_ratings(frame, duplicates='mean') or duplicates='last'."
        )


def _check_fraction(name: str, value: object) -> float:
    """``value`` as a float strictly between 0 and 1, or a :class:`SplitError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SplitError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    value = float(value)
    if not (0.0 < value < 1.0):  # also rejects NaN
        raise SplitError(
            f"{name} must be strictly between 0 and 1 (a share, e.g. 0.2 for 20%), got {value!r}"
        )
    return value


def _share(frac: float, n: int) -> int:
    """``frac * n`` rounded half up (``round`` would round 2.5 to 2)."""
    return int(math.floor(frac * n + 0.5))


def _held_out_count(frac: float, n: int, name: str, unit: str) -> int:
    """How many of ``n`` things go to test: ``frac * n`` rounded, at least 1, at most n - 1."""
    n_test = max(1, _share(frac, n))
    if n_test >= n:
        raise SplitError(
            f"{name}={frac} of {n} {unit} leaves no {unit} for training; "
            f"use a smaller {name} or more data (at least 2 {unit} are needed)"
        )
    return n_test


def _sides(ratings: pd.DataFrame, test_mask: np.ndarray) -> Split:
    """(train, test) by a boolean mask, each in input order with a fresh index."""
    train = ratings.loc[~test_mask].reset_index(drop=True)
    test = ratings.loc[test_mask].reset_index(drop=True)
    return train, test


def _sides_by_index(ratings: pd.DataFrame, test_rows) -> Split:
    """(train, test) with the rows at positions ``test_rows`` in test."""
    mask = np.zeros(len(ratings), dtype=bool)
    mask[test_rows] = True
    return _sides(ratings, mask)


def _check_sides(train: pd.DataFrame, test: pd.DataFrame, why: str) -> Split:
    if len(train) == 0 or len(test) == 0:
        side = "train" if len(train) == 0 else "test"
        raise SplitError(f"the split would leave {side} empty: {why}")
    return train, test


# --------------------------------------------------------------------------- S1


def random_split(
    ratings: pd.DataFrame,
    test_size: float = 0.2,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> Split:
    """S1 (chapter 2): a random ``test_size`` share of all ratings goes to test.

    ``test_size`` is a fraction of rows in (0, 1); the test set holds ``test_size * n``
    ratings rounded half up, at least one. Users and items usually appear on both sides;
    a (user, item) pair never does.
    """
    frac = _check_fraction("test_size", test_size)
    ratings = _check_frame(ratings, [user_col, item_col])
    _check_no_duplicates(ratings, user_col, item_col, "ratings")
    n = len(ratings)
    n_test = _held_out_count(frac, n, "test_size", "ratings")
    chosen = np.random.default_rng(seed).permutation(n)[:n_test]
    return _sides_by_index(ratings, chosen)


# --------------------------------------------------------------------------- S2


def temporal_split(
    ratings: pd.DataFrame,
    test_frac: float = 0.2,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
) -> Split:
    """S2 (results chapter): per user, the most recent ``test_frac`` of their ratings go to test.

    Each user's ratings are ordered by ``time_col`` (any numbers; MovieLens uses Unix
    seconds). A user with n ratings sends ``test_frac * n`` (rounded half up, at least 1,
    at most n - 1) of the latest to test, so every user with two or more ratings at
    distinct times is in both sets; users with a single rating stay in train.

    Tie rule: every test rating of a user is *strictly later* than all of that user's
    training ratings. The cut therefore always falls between two distinct timestamps: when
    the ideal cut would split ratings sharing one timestamp, the whole tied group moves to
    one side, the side that keeps the user's test count closest to ``test_frac * n`` (to
    train when both are equally close). A user whose ratings all share one timestamp stays
    entirely in train.
    """
    frac = _check_fraction("test_frac", test_frac)
    ratings = _check_frame(ratings, [user_col, item_col, time_col])
    _check_no_duplicates(ratings, user_col, item_col, "ratings")
    times = pd.to_numeric(ratings[time_col], errors="coerce")
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise SplitError(
            f"ratings: column {time_col!r} must hold numbers (e.g. Unix seconds), but row {row} "
            f"holds {ratings[time_col].iloc[row]!r}"
        )

    n = len(ratings)
    users = pd.factorize(ratings[user_col], sort=False)[0]
    t = times.to_numpy(dtype=np.float64)
    order = np.lexsort((t, users))  # by user, then time
    u_sorted, t_sorted = users[order], t[order]
    starts = np.flatnonzero(np.r_[True, u_sorted[1:] != u_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(len(starts)), sizes)
    pos = np.arange(n) - starts[group]  # position within the user's time-ordered ratings

    # Ideal first test position per user: n_u - clip(round(frac * n_u), 1, n_u - 1).
    n_test = np.clip(np.floor(frac * sizes + 0.5).astype(np.int64), 1, np.maximum(sizes - 1, 1))
    ideal = sizes - n_test

    # Valid cuts: position p >= 1 whose timestamp is strictly after the previous one's.
    valid = np.r_[False, (u_sorted[1:] == u_sorted[:-1]) & (t_sorted[1:] > t_sorted[:-1])]
    cut = sizes.copy()  # default: no test ratings for the user
    if valid.any():
        vg, vp = group[valid], pos[valid]
        dist = np.abs(vp - ideal[vg])
        best = np.lexsort((-vp, dist, vg))  # nearest to ideal; later cut (more train) on a draw
        first = np.r_[True, vg[best][1:] != vg[best][:-1]]
        cut[vg[best][first]] = vp[best][first]
    in_test_sorted = pos >= cut[group]
    mask = np.zeros(n, dtype=bool)
    mask[order] = in_test_sorted
    train, test = _sides(ratings, mask)
    return _check_sides(
        train,
        test,
        "no user has two ratings at distinct timestamps, so no rating can be "
        "strictly later than that user's training ratings",
    )


# --------------------------------------------------------------------------- S3


def _cold_start_split(
    ratings: pd.DataFrame, frac: float, seed: int, col: str, other: str, what: str, name: str
) -> Split:
    frac = _check_fraction(name, frac)
    ratings = _check_frame(ratings, [col, other])
    keys = np.unique(ratings[col].to_numpy())
    n_hold = _held_out_count(frac, len(keys), name, f"distinct {what}")
    held = keys[np.random.default_rng(seed).choice(len(keys), size=n_hold, replace=False)]
    mask = ratings[col].isin(held).to_numpy()
    return _sides(ratings, mask)


def cold_start_items_split(
    ratings: pd.DataFrame,
    frac: float = 0.1,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> Split:
    """S3 (results chapter): a random ``frac`` of the rated items go to test with all their ratings.

    ``frac`` is a share of distinct rated items (rounded half up, at least one), not of
    ratings: popular items carry more ratings, so the test share of ratings varies with the
    seed. No test item appears in train: the model must rate items from their text alone.
    """
    return _cold_start_split(ratings, frac, seed, item_col, user_col, "items", "frac")


def cold_start_users_split(
    ratings: pd.DataFrame,
    frac: float = 0.1,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> Split:
    """S3 for users (results chapter): a random ``frac`` of the users go to test with all their ratings.

    ``frac`` is a share of distinct users (rounded half up, at least one). No test user
    appears in train.
    """
    return _cold_start_split(ratings, frac, seed, user_col, item_col, "users", "frac")


# --------------------------------------------------------------------------- k-fold


def kfold_splits(
    ratings: pd.DataFrame,
    k: int = 5,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> Iterator[Split]:
    """Chapter 2 cross-validation: ``k`` (train, test) pairs from a shuffled :class:`sklearn.model_selection.KFold`.

    Every rating is in exactly one test fold (fold sizes differ by at most one rating) and in
    the training set of the other ``k - 1``. Arguments are checked at the call, before the
    first fold is drawn.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
        raise SplitError(f"k must be an integer of at least 2 folds, got {k!r}")
    ratings = _check_frame(ratings, [user_col, item_col])
    _check_no_duplicates(ratings, user_col, item_col, "ratings")
    if k > len(ratings):
        raise SplitError(
            f"k={k} folds need at least {k} ratings, but the frame has {len(ratings)}; "
            "use fewer folds"
        )
    return _kfold(ratings, int(k), seed)


def _kfold(ratings: pd.DataFrame, k: int, seed: int) -> Iterator[Split]:
    from sklearn.model_selection import KFold

    n = len(ratings)
    for _, test_idx in KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)):
        yield _sides_by_index(ratings, test_idx)


# --------------------------------------------------------------------------- validation


def train_val_split(
    train: pd.DataFrame,
    val_size: float = 0.1,
    seed: int = 42,
    how: str = "random",
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
) -> Split:
    """A validation slice of ``train`` (chapter 2): ``(train_part, val)``, for early stopping and tuning.

    Pass the *training* frame only, never the test set. ``how="random"`` draws ``val_size``
    of the ratings at random (like :func:`random_split`); ``how="temporal"`` takes each
    user's latest ``val_size`` (like :func:`temporal_split`, same tie rule; ``seed`` unused).
    ``how="cold-items"`` holds out ``val_size`` of the training items with all their ratings
    (like :func:`cold_start_items_split`). Choose the ``how`` of the test split, so validation
    mimics the test: tuning and blending on warm, random rows and then testing on the future or
    on unseen items picks the wrong models (results chapter, 5.4).
    """
    if how == "random":
        return random_split(train, val_size, seed, user_col=user_col, item_col=item_col)
    if how == "temporal":
        return temporal_split(
            train, val_size, user_col=user_col, item_col=item_col, time_col=time_col
        )
    if how == "cold-items":
        return cold_start_items_split(train, val_size, seed, user_col=user_col, item_col=item_col)
    raise SplitError(f"how must be 'random', 'temporal' or 'cold-items', got {how!r}")


# --------------------------------------------------------------------------- leakage


def leakage_report(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
) -> dict[str, int | None]:
    """What ``test`` shares with ``train`` (chapter 2), as counts.

    ``shared_pairs``: distinct (user, item) pairs on both sides (0 for every split here);
    ``shared_rows``: test rows whose pair is also in train; ``cold_users`` / ``cold_items``:
    distinct test users / items absent from train, and ``cold_user_ratings`` /
    ``cold_item_ratings`` the test ratings they carry; ``not_after_train``: test ratings at
    or before the latest training rating of the same user (0 for a temporal split; ``None``
    when either frame lacks ``time_col``).
    """
    for frame, what in ((train, "train"), (test, "test")):
        if not isinstance(frame, pd.DataFrame):
            raise SplitError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in (user_col, item_col) if c not in frame.columns]
        if missing:
            raise SchemaError(f"{what}: missing column(s) {missing}; found {list(frame.columns)}")
    train_pairs = pd.MultiIndex.from_frame(train[[user_col, item_col]])
    test_pairs = pd.MultiIndex.from_frame(test[[user_col, item_col]])
    in_train = test_pairs.isin(train_pairs)
    cold_user = ~test[user_col].isin(train[user_col]).to_numpy()
    cold_item = ~test[item_col].isin(train[item_col]).to_numpy()
    report: dict[str, int | None] = {
        "train_ratings": len(train),
        "test_ratings": len(test),
        "train_users": int(train[user_col].nunique()),
        "test_users": int(test[user_col].nunique()),
        "train_items": int(train[item_col].nunique()),
        "test_items": int(test[item_col].nunique()),
        "shared_pairs": int(test_pairs[in_train].unique().size),
        "shared_rows": int(in_train.sum()),
        "cold_users": int(test[user_col][cold_user].nunique()),
        "cold_items": int(test[item_col][cold_item].nunique()),
        "cold_user_ratings": int(cold_user.sum()),
        "cold_item_ratings": int(cold_item.sum()),
        "not_after_train": None,
    }
    if time_col in train.columns and time_col in test.columns:
        last = train.groupby(user_col)[time_col].max()
        latest = test[user_col].map(last)  # NaN for cold users: nothing to be after
        report["not_after_train"] = int((test[time_col] <= latest).sum())
    return report
