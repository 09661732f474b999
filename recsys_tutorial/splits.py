"""Train/test splits without leakage (chapter 2: cross-validation; results chapter: S1-S4).

Every split takes a ratings frame (one row per (user, item) pair, as returned by
:mod:`recsys_tutorial.data`) and returns ``(train, test)`` frames with a fresh index; each
side keeps the input's row order, columns and ``attrs`` (the rating scale, the implicit-feedback
flag). Column names are keyword arguments (``user_col=``, ``item_col=``, ``time_col=``)
defaulting to the package's. No split needs a rating column, so implicit-feedback events
(clicks, plays) split like ratings. Ids of any hashable kind are kept exactly. The held-out
share is always ``test_size`` (the old ``test_frac=``, ``frac=`` and ``val_size=`` still work
but emit a :class:`DeprecationWarning`). Random splits are deterministic given ``seed``.

- S1 :func:`random_split`: a random share of all ratings;
- S2 :func:`temporal_split`: per user, the most recent ratings (strictly later than train);
- S3 :func:`cold_start_items_split` / :func:`cold_start_users_split`: whole items / users;
- S4 :func:`global_temporal_split`: one cut-off time for everybody (nothing from the future);
- :func:`kfold_splits`: k folds, each rating in exactly one test fold (chapter 2);
- :func:`train_val_split`: a validation slice carved out of ``train`` only (chapter 2).

:func:`leakage_report` counts what a test set shares with its training set.

Problems raise :class:`~recsys_tutorial.errors.SplitError` (a fraction outside (0, 1), an
empty frame, duplicated (user, item) pairs, a split that would leave a side empty) or
:class:`~recsys_tutorial.errors.SchemaError` (a missing column); those checks, and the
building blocks every split shares, live in :mod:`recsys_tutorial.split_checks`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .errors import SplitError
from .leakage import leakage_report, time_values
from .schema import ITEM_COL, TIME_COL, USER_COL
from .split_checks import (
    Split,
    check_fraction,
    check_frame,
    check_no_duplicates,
    check_seed,
    check_sides,
    distinct_ids,
    held_out_count,
    held_out_share,
    share_count,
    sides,
    sides_by_index,
)

__all__ = [
    "random_split",
    "temporal_split",
    "global_temporal_split",
    "cold_start_items_split",
    "cold_start_users_split",
    "kfold_splits",
    "train_val_split",
    "leakage_report",
]

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
    frac = check_fraction("test_size", test_size)
    seed = check_seed(seed)
    ratings = check_frame(ratings, [user_col, item_col])
    check_no_duplicates(ratings, user_col=user_col, item_col=item_col)
    n = len(ratings)
    n_test = held_out_count(frac, n, "test_size", "ratings")
    chosen = np.random.default_rng(seed).permutation(n)[:n_test]
    return sides_by_index(ratings, chosen)


# --------------------------------------------------------------------------- S2


def temporal_split(
    ratings: pd.DataFrame,
    test_size: float = 0.2,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
    test_frac: float | None = None,
) -> Split:
    """S2 (results chapter): per user, the most recent ``test_size`` of their ratings go to test.

    Each user's ratings are ordered by ``time_col`` (numbers such as Unix seconds, or
    datetimes). A user with n ratings sends ``test_size * n`` (rounded half up, at least 1,
    at most n - 1) of the latest to test, so every user with two or more ratings at
    distinct times is in both sets; users with a single rating stay in train.
    ``test_frac=`` is the deprecated name of ``test_size``.

    Tie rule: every test rating of a user is *strictly later* than all of that user's
    training ratings. The cut therefore always falls between two distinct timestamps: when
    the ideal cut would split ratings sharing one timestamp, the whole tied group moves to
    one side, the side that keeps the user's test count closest to ``test_size * n`` (to
    train when both are equally close). A user whose ratings all share one timestamp stays
    entirely in train.
    """
    frac = held_out_share("temporal_split", test_size, 0.2, test_frac=test_frac)
    ratings = check_frame(ratings, [user_col, item_col, time_col])
    check_no_duplicates(ratings, user_col=user_col, item_col=item_col)
    t = time_values(ratings, time_col, "ratings")

    n = len(ratings)
    users = pd.factorize(ratings[user_col], sort=False)[0]
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
    train, test = sides(ratings, mask)
    return check_sides(
        train,
        test,
        "no user has two ratings at distinct timestamps, so no rating can be "
        "strictly later than that user's training ratings",
    )


# --------------------------------------------------------------------------- S4


def global_temporal_split(
    ratings: pd.DataFrame,
    *,
    test_size: float = 0.2,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
) -> Split:
    """S4 (ranking chapter): one cut-off time for everybody; the latest ``test_size`` of all
    ratings (by ``time_col``) go to test, everything earlier to train.

    Every test rating is strictly later than every training rating, so no model sees the
    future of any user or item (``leakage_report(...)["later_item_ratings"] == 0`` and
    ``"not_after_train" == 0``). Users whose ratings all fall after the cut-off are cold in
    test; users who stopped before it are absent from test.

    Tie rule: ratings sharing the cut-off timestamp all go to the same side. The cut falls
    between two distinct timestamps, the one that keeps the test count closest to
    ``test_size * n`` (rounded half up, at least 1, at most n - 1); on a draw, the later cut
    (more train). Raises :class:`SplitError` when a side would be empty (a single timestamp).
    """
    frac = check_fraction("test_size", test_size)
    ratings = check_frame(ratings, [user_col, item_col, time_col])
    check_no_duplicates(ratings, user_col=user_col, item_col=item_col)
    t = time_values(ratings, time_col, "ratings")
    n = len(t)
    ideal = n - min(max(1, share_count(frac, n)), n - 1)  # as temporal_split: 1 <= n_test <= n - 1
    t_sorted = np.sort(t, kind="stable")
    cuts = np.flatnonzero(t_sorted[1:] > t_sorted[:-1]) + 1  # first positions of a later time
    if cuts.size == 0:
        raise SplitError(
            f"the split would leave test empty: all {n} ratings share one {time_col!r} value, "
            "so no cut-off time separates past from future"
        )
    dist = np.abs(cuts - ideal)
    best = cuts[dist == dist.min()].max()  # nearest to the ideal; later cut on a draw
    return sides(ratings, t >= t_sorted[best])


# --------------------------------------------------------------------------- S3


def _cold_start_split(
    ratings: pd.DataFrame, frac: float, seed: int, col: str, other: str, what: str
) -> Split:
    seed = check_seed(seed)
    ratings = check_frame(ratings, [col, other])
    keys = distinct_ids(ratings[col])
    n_hold = held_out_count(frac, len(keys), "test_size", f"distinct {what}")
    held = keys[np.random.default_rng(seed).choice(len(keys), size=n_hold, replace=False)]
    mask = ratings[col].isin(held).to_numpy()
    return sides(ratings, mask)


def cold_start_items_split(
    ratings: pd.DataFrame,
    test_size: float = 0.1,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    frac: float | None = None,
) -> Split:
    """S3 (results chapter): a random ``test_size`` of the rated items go to test, all their ratings.

    ``test_size`` is a share of distinct rated items (rounded half up, at least one), not of
    ratings: popular items carry more ratings, so the test share of ratings varies with the
    seed. No test item appears in train: the model must rate items from their text alone.
    Items are drawn from their sorted list (order of appearance when ids mix ints and strings).
    ``frac=`` is the deprecated name of ``test_size``.
    """
    share = held_out_share("cold_start_items_split", test_size, 0.1, frac=frac)
    return _cold_start_split(ratings, share, seed, item_col, user_col, "items")


def cold_start_users_split(
    ratings: pd.DataFrame,
    test_size: float = 0.1,
    seed: int = 42,
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    frac: float | None = None,
) -> Split:
    """S3 for users (results chapter): a random ``test_size`` of the users go to test, all ratings.

    ``test_size`` is a share of distinct users (rounded half up, at least one). No test user
    appears in train. ``frac=`` is the deprecated name of ``test_size``.
    """
    share = held_out_share("cold_start_users_split", test_size, 0.1, frac=frac)
    return _cold_start_split(ratings, share, seed, user_col, item_col, "users")


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
    first fold is drawn. (The held-out share is ``1 / k``: there is no ``test_size``.)
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
        raise SplitError(f"k must be an integer of at least 2 folds, got {k!r}")
    seed = check_seed(seed)
    ratings = check_frame(ratings, [user_col, item_col])
    check_no_duplicates(ratings, user_col=user_col, item_col=item_col)
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
        yield sides_by_index(ratings, test_idx)


# --------------------------------------------------------------------------- validation


def train_val_split(
    train: pd.DataFrame,
    test_size: float = 0.1,
    seed: int = 42,
    how: str = "random",
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    time_col: str = TIME_COL,
    val_size: float | None = None,
) -> Split:
    """A validation slice of ``train`` (chapter 2): ``(train_part, val)``, for early stopping and tuning.

    Pass the *training* frame only, never the test set. ``test_size`` is the share held out
    for validation (``val_size=`` is its deprecated name). ``how="random"`` draws
    ``test_size`` of the ratings at random (like :func:`random_split`); ``how="temporal"``
    takes each user's latest ``test_size`` (like :func:`temporal_split`, same tie rule;
    ``seed`` unused); ``how="global-temporal"`` the latest ``test_size`` of all ratings (like
    :func:`global_temporal_split`). ``how="cold-items"`` holds out ``test_size`` of the
    training items with all their ratings (like :func:`cold_start_items_split`). Choose the
    ``how`` of the test split, so validation mimics the test: tuning and blending on warm,
    random rows and then testing on the future or on unseen items picks the wrong models
    (results chapter, 5.4).
    """
    share = held_out_share("train_val_split", test_size, 0.1, val_size=val_size)
    cols = {"user_col": user_col, "item_col": item_col}
    if how == "random":
        return random_split(train, share, seed, **cols)
    if how == "temporal":
        return temporal_split(train, share, time_col=time_col, **cols)
    if how == "global-temporal":
        return global_temporal_split(train, test_size=share, time_col=time_col, **cols)
    if how == "cold-items":
        return cold_start_items_split(train, share, seed, **cols)
    raise SplitError(
        f"how must be 'random', 'temporal', 'global-temporal' or 'cold-items', got {how!r}"
    )
