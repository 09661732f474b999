"""Top-K lists from score matrices, their evaluation, and tuning on a validation slice.

:func:`recsys_tutorial.recommend.top_k_for_users` asks a scorer for one user at a time; the
functions here score a block of users at once (``scorer.score_users(users, items)`` when the
scorer has it, e.g. the models of :mod:`recsys_tutorial.ranking`, else ``score_items`` user by
user) and cut the top ``k`` with NumPy, giving the same lists (same rules: seen items
excluded, non-finite scores never shown, ties broken by catalogue order, lists never padded).

- :func:`score_matrix`, :func:`seen_matrix` — the ``users × items`` scores and seen mask;
- :func:`top_k_matrix`, :func:`top_k_lists` — the best ``k`` columns of each row;
- :func:`recommend_lists` — ``{user: [item ids]}`` for many users, batched;
- :func:`evaluate_ranker` — :func:`~recsys_tutorial.metrics.ranking_report` plus catalogue
  coverage and the Gini coefficient of exposure;
- :func:`tune_on_validation` — the grid point with the best validation NDCG@k.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .catalogue import catalogue_ids, id_array, positive_int
from .errors import ConfigError, RecommendError, SchemaError, UnknownUserError
from .metrics import catalogue_coverage, gini, ranking_report
from .recommend import TopKLists, relevant_items
from .schema import ITEM_COL, RATING_COL, USER_COL, id_repr

__all__ = [
    "score_matrix",
    "seen_matrix",
    "top_k_matrix",
    "top_k_lists",
    "recommend_lists",
    "evaluate_ranker",
    "tune_on_validation",
]


def _unique(ids) -> np.ndarray:
    values = id_array(ids)
    return pd.unique(values) if values.size else values


def score_matrix(scorer, users, items) -> np.ndarray:
    """Scores (float64, ``len(users) × len(items)``) of ``items`` for each of ``users``.

    Uses ``scorer.score_users(users, items)`` when the scorer has it, else one
    ``score_items(user, items)`` call per user. Raises RecommendError for a wrong shape.
    """
    users, items = id_array(users), id_array(items)
    if hasattr(scorer, "score_users"):
        scores = np.asarray(scorer.score_users(users, items), dtype=np.float64)
    else:
        rows = [np.asarray(scorer.score_items(u, items), dtype=np.float64).reshape(-1) for u in users]
        scores = np.stack(rows) if rows else np.zeros((0, items.size))
    if scores.shape != (users.size, items.size):
        raise RecommendError(
            f"{type(scorer).__name__} returned scores of shape {scores.shape} for "
            f"{users.size} users × {items.size} items; one score per (user, item) is needed"
        )
    return scores


def seen_matrix(
    seen: pd.DataFrame, users, items, *, user_col: str = USER_COL, item_col: str = ITEM_COL
) -> np.ndarray:
    """Boolean ``len(users) × len(items)``: True where ``seen`` has an event of that pair.

    ``users`` and ``items`` must not repeat an id. Raises SchemaError for missing columns.
    """
    missing = [c for c in (user_col, item_col) if c not in seen.columns]
    if missing:
        raise SchemaError(f"seen: missing column(s) {missing}; found {list(seen.columns)}")
    user_index, item_index = pd.Index(id_array(users)), pd.Index(id_array(items))
    rows = user_index.get_indexer(seen[user_col].to_numpy())
    cols = item_index.get_indexer(seen[item_col].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    mask = np.zeros((len(user_index), len(item_index)), dtype=bool)
    mask[rows[keep], cols[keep]] = True
    return mask


def top_k_matrix(scores, seen_mask, k: int) -> np.ndarray:
    """Column positions (int64, ``n_rows × k``) of each row's ``k`` best scores, best first.

    Columns where ``seen_mask`` is True or the score is not finite are never chosen; a row with
    fewer than ``k`` such columns is padded with ``-1``. Ties in score go to the lower column
    (the catalogue's order), as in :func:`recsys_tutorial.recommend.recommend`. Raises
    RecommendError for a bad ``k`` or shapes that differ.
    """
    k = positive_int(k, "k")
    scores = np.asarray(scores, dtype=np.float64)
    seen_mask = np.asarray(seen_mask, dtype=bool)
    if scores.ndim != 2 or seen_mask.shape != scores.shape:
        raise RecommendError(
            f"scores must be a 2-D users × items array and seen_mask the same shape; got "
            f"{scores.shape} and {seen_mask.shape}"
        )
    out = np.full((scores.shape[0], k), -1, dtype=np.int64)
    available = np.isfinite(scores) & ~seen_mask
    for r in range(scores.shape[0]):
        top = np.flatnonzero(available[r])
        k_eff = min(k, top.size)
        if k_eff == 0:
            continue
        values = scores[r, top]
        if k_eff < top.size:  # keep the k best and every column tied with the k-th
            kth = np.partition(values, top.size - k_eff)[top.size - k_eff]
            top, values = top[values >= kth], values[values >= kth]
        out[r, :k_eff] = top[np.lexsort((top, -values))][:k_eff]
    return out


def top_k_lists(scores, seen_mask, k: int, users, items) -> TopKLists:
    """``{user: [item ids]}`` from :func:`top_k_matrix`; rows are ``users``, columns ``items``.

    Users with nothing left are left out and listed in ``attrs["skipped_users"]``, users with
    fewer than ``k`` items in ``attrs["short_users"]`` (as :class:`~recsys_tutorial.recommend.
    TopKLists` from ``top_k_for_users``, without its warnings).
    """
    users, items = id_array(users), id_array(items)
    top = top_k_matrix(scores, seen_mask, k)
    if top.shape[0] != users.size or np.asarray(scores).shape[1] != items.size:
        raise RecommendError(
            f"scores have shape {np.asarray(scores).shape} but {users.size} users and "
            f"{items.size} items were given"
        )
    lists, skipped, short = {}, [], []
    for user, row in zip(users, top, strict=True):
        row = row[row >= 0]
        if row.size == 0:
            skipped.append(user)
            continue
        lists[user] = items[row].tolist()
        if row.size < top.shape[1]:
            short.append(user)
    return TopKLists(lists, skipped_users=skipped, short_users=short)


def recommend_lists(
    scorer,
    users: Iterable,
    *,
    seen: pd.DataFrame,
    items,
    k: int = 10,
    exclude_seen: bool = True,
    allow_unknown_users: bool = False,
    batch_size: int = 1024,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> TopKLists:
    """:func:`~recsys_tutorial.recommend.top_k_for_users`, scored ``batch_size`` users at a time.

    Same lists and ``attrs`` (no warnings). ``items`` is the catalogue (a movies frame or
    ids). Raises UnknownUserError for a user absent from ``seen`` unless
    ``allow_unknown_users`` (the scorer then ranks for them), RecommendError for a bad ``k``
    or one larger than the catalogue.
    """
    k, batch_size = positive_int(k, "k"), positive_int(batch_size, "batch_size")
    catalogue, _ = catalogue_ids(items, item_col=item_col)
    if k > catalogue.size:
        raise RecommendError(f"k={k} is larger than the catalogue ({catalogue.size} item(s))")
    users = _unique(users)
    if user_col not in seen.columns:
        raise SchemaError(f"seen: missing column {user_col!r}; found {list(seen.columns)}")
    if not allow_unknown_users:
        unknown = pd.Index(pd.unique(seen[user_col].to_numpy())).get_indexer(users) < 0
        if unknown.any():
            raise UnknownUserError(
                f"{int(unknown.sum())} user(s) have no event in seen, e.g. "
                f"{id_repr(users[unknown][0])}; pass allow_unknown_users=True to rank for them"
            )
    lists, skipped, short = {}, [], []
    for start in range(0, users.size, batch_size):
        block = users[start : start + batch_size]
        scores = score_matrix(scorer, block, catalogue)
        mask = (seen_matrix(seen, block, catalogue, user_col=user_col, item_col=item_col)
                if exclude_seen else np.zeros(scores.shape, dtype=bool))
        part = top_k_lists(scores, mask, k, block, catalogue)
        lists.update(part)
        skipped += part.attrs["skipped_users"]
        short += part.attrs["short_users"]
    return TopKLists(lists, skipped_users=skipped, short_users=short)


def evaluate_ranker(
    scorer,
    test: pd.DataFrame,
    *,
    seen: pd.DataFrame,
    items,
    k: int = 10,
    users: Iterable | None = None,
    threshold: float | None = None,
    interval: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
    allow_unknown_users: bool = False,
    batch_size: int = 1024,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
) -> dict[str, float]:
    """Top-``k`` quality of ``scorer`` on ``test``, every unseen catalogue item a candidate.

    Relevant: :func:`~recsys_tutorial.recommend.relevant_items` (test ratings ``>=
    liked_threshold``; every event for implicit feedback). Users: every test user with a
    relevant item, or ``users``. Returns :func:`~recsys_tutorial.metrics.ranking_report`'s
    keys (``ndcg@k`` ..., with ``_low``/``_high`` when ``interval``) plus ``coverage`` (share
    of the catalogue in some list) and ``gini`` (of the slots per catalogue item, never-shown
    items counting 0). Errors as :func:`recommend_lists` and ``ranking_report``.
    """
    relevant = relevant_items(test, threshold=threshold, user_col=user_col, item_col=item_col,
                              rating_col=rating_col)
    chosen = [u for u, rel in relevant.items() if rel] if users is None else list(users)
    catalogue, _ = catalogue_ids(items, item_col=item_col)
    lists = recommend_lists(scorer, chosen, seen=seen, items=catalogue, k=k,
                            allow_unknown_users=allow_unknown_users, batch_size=batch_size,
                            user_col=user_col, item_col=item_col)
    report = ranking_report(lists, relevant, k, users=chosen, interval=interval,
                            n_resamples=n_resamples, seed=seed)
    report["coverage"] = catalogue_coverage(lists, catalogue.size)
    shown = [item for items_ in lists.values() for item in items_]
    slots = np.bincount(pd.Index(catalogue).get_indexer(shown), minlength=catalogue.size)
    report["gini"] = gini(slots)
    return report


def _grid_points(grid) -> list[dict]:
    if isinstance(grid, Mapping):
        names = list(grid)
        values = [list(grid[n]) if isinstance(grid[n], (list, tuple, np.ndarray, range))
                  else [grid[n]] for n in names]
        combos = itertools.product(*values) if names else ()
        points = [dict(zip(names, combo, strict=True)) for combo in combos]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)) and all(
        isinstance(p, Mapping) for p in grid
    ):
        points = [dict(p) for p in grid]
    else:
        raise ConfigError(
            "grid must be a mapping {parameter: [values]} (every combination is tried) or a "
            f"list of parameter dicts, got {type(grid).__name__}"
        )
    if not points:
        raise ConfigError("grid is empty: give at least one value for every parameter")
    return points


def tune_on_validation(
    make_model: Callable[..., object],
    grid,
    fit: pd.DataFrame,
    val: pd.DataFrame,
    *,
    seen: pd.DataFrame,
    k: int = 10,
    users: Iterable | None = None,
    items=None,
    threshold: float | None = None,
    allow_unknown_users: bool = False,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
) -> tuple[dict, pd.DataFrame]:
    """``(best_params, table)``: the grid point whose model has the best validation NDCG@k.

    For each point of ``grid`` (``{name: [values]}``, every combination in order, or a list
    of dicts), ``make_model(**params).fit(fit)`` is scored on ``val`` with
    :func:`evaluate_ranker` (``seen`` excluded, normally ``fit``; candidates ``items``,
    default every item of ``fit`` and ``val``). Never pass the test set here. ``table`` has
    one row per point: the parameters, every metric of :func:`evaluate_ranker` and
    ``fit_seconds``; ``best_params`` is the first row with the highest ``ndcg@k``.
    Raises ConfigError for an empty or malformed grid.
    """
    points = _grid_points(grid)
    if items is None:
        items = _unique(pd.concat([fit[item_col], val[item_col]], ignore_index=True))
    rows = []
    for params in points:
        start = time.perf_counter()
        model = make_model(**params)
        model.fit(fit)
        fit_seconds = time.perf_counter() - start
        report = evaluate_ranker(model, val, seen=seen, items=items, k=k, users=users,
                                 threshold=threshold, allow_unknown_users=allow_unknown_users,
                                 user_col=user_col, item_col=item_col, rating_col=rating_col)
        rows.append({**params, **report, "fit_seconds": fit_seconds})
    table = pd.DataFrame(rows)
    best = int(np.argmax(table[f"ndcg@{int(k)}"].to_numpy()))
    return dict(points[best]), table
