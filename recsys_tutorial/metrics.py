"""Accuracy and ranking metrics (chapters 3, 5 and 6).

Rating error: ``rmse`` and ``mae`` (scikit-learn underneath). Top-K lists: each ranking
metric takes the recommended ids in rank order, the relevant ids and ``k``, and treats
relevance as binary; every ranking metric lies in [0, 1]. ``per_user_metrics`` scores many
users at once, ``ranking_report`` averages over them and ``bootstrap_interval`` puts a
percentile-bootstrap confidence interval around any such mean.

Inputs a metric cannot score raise :class:`~recsys_tutorial.errors.EvaluationError` (a
``ValueError``) naming the argument: lengths that differ, NaN, ``k`` that is not a positive
integer, a recommended list that repeats an item (a list must rank distinct items; repeats
would push recall and NDCG above 1).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_squared_error

from .errors import EvaluationError
from .intervals import bootstrap_interval
from .schema import USER_COL, id_repr


def _as_float_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    try:
        t = np.asarray(y_true, dtype=np.float64).ravel()
        p = np.asarray(y_pred, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise EvaluationError(
            f"y_true and y_pred must hold numbers (ratings in stars): {exc}"
        ) from None
    if t.shape != p.shape:
        raise EvaluationError(
            f"y_true has {t.size} values but y_pred has {p.size}; pass one prediction per rating"
        )
    if t.size == 0:
        raise EvaluationError(
            "cannot compute an error over zero ratings (y_true and y_pred are empty)"
        )
    for name, values in (("y_true", t), ("y_pred", p)):
        if not np.isfinite(values).all():
            raise EvaluationError(
                f"{name}: ratings and predictions must be finite (found NaN or inf at position "
                f"{int(np.flatnonzero(~np.isfinite(values))[0])}); drop or fill those rows first"
            )
    return t, p


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, in rating points (stars). Raises EvaluationError on bad input."""
    t, p = _as_float_arrays(y_true, y_pred)
    return float(np.sqrt(mean_squared_error(t, p)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in rating points (stars). Raises EvaluationError on bad input."""
    t, p = _as_float_arrays(y_true, y_pred)
    return float(mean_absolute_error(t, p))


# --------------------------------------------------------------------------- top-K lists


def check_k(k: object, *, name: str = "k") -> int:
    """``k`` as an ``int`` if it is a positive integer (NumPy integers accepted, ``bool``
    refused), else an :class:`EvaluationError` naming it."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k <= 0:
        raise EvaluationError(f"{name} must be a positive integer (e.g. 10), got {k!r}")
    return int(k)


def _ranked_list(recommended: Sequence, *, what: str = "recommended") -> list:
    """``recommended`` as a list of distinct ids, or an EvaluationError naming the first repeat."""
    if isinstance(recommended, (str, bytes)) or not isinstance(recommended, Iterable):
        raise EvaluationError(
            f"{what} must be a sequence of item ids in rank order, got {type(recommended).__name__}"
        )
    items = list(recommended)
    first_rank: dict = {}
    for rank, item in enumerate(items, start=1):
        try:
            earlier = first_rank.setdefault(item, rank)
        except TypeError:
            raise EvaluationError(
                f"{what}: item ids must be hashable, got {item!r} at rank {rank}"
            ) from None
        if earlier != rank:
            ranks = [r for r, other in enumerate(items, start=1) if other == item]
            raise EvaluationError(
                f"{what} repeats item {id_repr(item)} at ranks {ranks}; a top-K list must rank "
                "distinct items (deduplicate it, keeping the first occurrence)"
            )
    return items


def _relevant_set(relevant: Iterable, *, what: str = "relevant") -> set:
    if isinstance(relevant, (str, bytes)) or not isinstance(relevant, Iterable):
        raise EvaluationError(
            f"{what} must be a collection of item ids, got {type(relevant).__name__}"
        )
    try:
        return set(relevant)
    except TypeError:
        raise EvaluationError(f"{what}: item ids must be hashable") from None


def _hits(recommended: Sequence, relevant: set, k: int) -> np.ndarray:
    """1.0 / 0.0 per rank of the top ``k`` (shorter when the list is shorter than ``k``)."""
    return np.array([item in relevant for item in recommended[:k]], dtype=np.float64)


def _scores(recommended: Sequence, relevant: Iterable, k: object) -> dict[str, float]:
    """All five metrics of one list (validated once)."""
    k = check_k(k)
    items = _ranked_list(recommended)
    rel = _relevant_set(relevant)
    hits = _hits(items, rel, k)
    n_hits = float(hits.sum())
    if not rel:
        return {"precision": n_hits / k, "recall": 0.0, "ndcg": 0.0, "hit_rate": 0.0, "map": 0.0}
    ideal = min(len(rel), k)
    discounts = 1.0 / np.log2(np.arange(2, max(hits.size, ideal) + 2))  # no k-sized array
    precisions = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return {
        "precision": n_hits / k,
        "recall": n_hits / len(rel),
        "ndcg": float((hits * discounts[: hits.size]).sum() / discounts[:ideal].sum()),
        "hit_rate": float(n_hits > 0),
        "map": float((precisions * hits).sum() / ideal),
    }


def precision_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Share of the top ``k`` that is relevant (a list shorter than k counts the gap as misses)."""
    return _scores(recommended, relevant, k)["precision"]


def recall_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Share of the relevant items found in the top ``k`` (0.0 when nothing is relevant)."""
    return _scores(recommended, relevant, k)["recall"]


def hit_rate_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """1.0 if at least one relevant item is in the top ``k``, else 0.0."""
    return _scores(recommended, relevant, k)["hit_rate"]


def ndcg_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Binary NDCG@k: DCG = sum of 1/log2(rank+1) over hits in the top ``k``, divided by the
    best possible DCG, that of min(|relevant|, k) hits at the top. 0.0 when nothing is relevant.
    """
    return _scores(recommended, relevant, k)["ndcg"]


def map_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Average precision at k: sum of precision@i over the ranks i <= k of hits, divided by
    min(|relevant|, k). 0.0 when nothing is relevant."""
    return _scores(recommended, relevant, k)["map"]


def catalogue_coverage(recommendations: Mapping | Iterable[Sequence], n_items: int) -> float:
    """Share of the catalogue that appears in at least one list, in [0, 1].

    ``recommendations`` is ``{user: [item ids]}`` or an iterable of lists; ``n_items`` is the
    size of the catalogue the lists were drawn from (e.g. ``len(movies)``), a positive integer.
    Raises EvaluationError for a bad ``n_items``, or when the lists show more distinct items
    than ``n_items`` (then ``n_items`` is not the catalogue size).
    """
    n_items = check_k(n_items, name="n_items")
    lists = recommendations.values() if isinstance(recommendations, Mapping) else recommendations
    shown: set = set()
    for items in lists:
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            raise EvaluationError(
                f"recommendations must hold lists of item ids, got a {type(items).__name__}"
            )
        try:
            shown.update(items)
        except TypeError:
            raise EvaluationError("recommendations: item ids must be hashable") from None
    if len(shown) > n_items:
        raise EvaluationError(
            f"the lists show {len(shown)} distinct items but n_items={n_items}; "
            "n_items must be the size of the catalogue the lists come from"
        )
    return len(shown) / n_items


def gini(counts) -> float:
    """Gini coefficient of exposure counts: 0 = every item shown equally, 1 = one item takes all.

    ``counts`` are non-negative finite numbers (times each item was shown); 0.0 when empty or
    all zero. Raises EvaluationError otherwise.
    """
    try:
        x = np.sort(np.asarray(counts, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise EvaluationError("counts must be numbers (times each item was shown)") from None
    if not np.isfinite(x).all() or (x < 0).any():
        raise EvaluationError("counts must be finite and non-negative (times each item was shown)")
    if x.size == 0 or x.sum() == 0:
        return 0.0
    n = x.size
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


RANKING_METRICS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "hit_rate": hit_rate_at_k,
    "map": map_at_k,
}


# --------------------------------------------------------------------------- many users


def per_user_metrics(
    recommendations: Mapping[object, Sequence],
    relevant: Mapping[object, Iterable],
    k: int = 10,
    *,
    users: Iterable | None = None,
) -> pd.DataFrame:
    """Every ranking metric @k for each user with at least one relevant item.

    ``recommendations`` is ``{user: [item ids in rank order]}``, ``relevant`` is ``{user: item
    ids}`` (e.g. :func:`recsys_tutorial.recommend.relevant_items`). The users scored are those
    of ``relevant`` (or of ``users`` when given) with a non-empty relevant set, in that order;
    a user with a list but no relevant item is not scored (no metric is defined for them). A
    user with a relevant item but **no list** scores 0 on every metric.

    Returns a DataFrame indexed by user (index name ``userId``), one row per scored user,
    columns ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit_rate@k``, ``map@k`` (floats in
    [0, 1]) and ``has_list`` (bool). Raises EvaluationError for a bad ``k`` or a list that
    repeats an item (every list given is checked, scored or not).
    """
    k = check_k(k)
    for name, value in (("recommendations", recommendations), ("relevant", relevant)):
        if not isinstance(value, Mapping):
            raise EvaluationError(
                f"{name} must be a mapping {{user: item ids}}, got {type(value).__name__}"
            )
    for user, items in recommendations.items():
        _ranked_list(items, what=f"the list of user {id_repr(user)}")
    candidates = relevant if users is None else _user_list(users)
    scored, rows = [], []
    for user in candidates:
        rel = _relevant_set(relevant.get(user, ()), what=f"relevant[{id_repr(user)}]")
        if not rel:
            continue
        has_list = user in recommendations
        values = _scores(recommendations[user] if has_list else [], rel, k)
        scored.append(user)
        rows.append([*(values[name] for name in RANKING_METRICS), has_list])
    columns = [f"{name}@{k}" for name in RANKING_METRICS] + ["has_list"]
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index(scored, name=USER_COL))
    return frame.astype({c: np.float64 for c in columns[:-1]} | {"has_list": bool})


def _user_list(users: Iterable) -> list:
    if isinstance(users, (str, bytes)) or not isinstance(users, Iterable):
        raise EvaluationError(f"users must be a collection of user ids, got {type(users).__name__}")
    return list(dict.fromkeys(users))  # order of first appearance, repeats once


def ranking_report(
    recommendations: Mapping[object, Sequence],
    relevant: Mapping[object, Iterable],
    k: int = 10,
    *,
    users: Iterable | None = None,
    interval: bool = False,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Each ranking metric @k averaged over the users with at least one relevant item.

    Every user of ``relevant`` (or of ``users``, to evaluate a sample) with a non-empty
    relevant set counts, **including users without a list**, who score 0 on every metric
    (dropping them would flatter a recommender that fails for some users). Users with a list
    but no relevant item are not counted. See :func:`per_user_metrics` for the per-user rows.

    Keys: ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit_rate@k``, ``map@k`` (means in [0,
    1]), ``users`` (users counted) and ``users_without_list`` (how many of them had no list).
    With ``interval=True`` also ``<metric>@k_low`` and ``<metric>@k_high``: the
    ``confidence`` percentile-bootstrap interval over users (:func:`bootstrap_interval`).
    Raises EvaluationError for a bad ``k``, a list that repeats an item, or when no user has
    a relevant item.
    """
    table = per_user_metrics(recommendations, relevant, k, users=users)
    if table.empty:
        raise EvaluationError(
            "no user has a relevant item in the test set (relevant is empty for every user "
            "evaluated); nothing to evaluate: check the relevance threshold or the split"
        )
    if len(recommendations) and not table["has_list"].any():
        warnings.warn(
            f"ranking_report: none of the {len(recommendations)} lists belongs to a user with a "
            f"relevant item (list keys e.g. {[id_repr(u) for u in list(recommendations)[:3]]}, "
            f"relevant keys e.g. {[id_repr(u) for u in list(relevant)[:3]]}); every user scores "
            "0. Check that both use the same ids of the same kind ('1' is not 1)",
            UserWarning,
            stacklevel=2,
        )
    metric_cols = [c for c in table.columns if c != "has_list"]
    report = {col: float(table[col].mean()) for col in metric_cols}
    report["users"] = len(table)
    report["users_without_list"] = int((~table["has_list"]).sum())
    if interval:
        for col in metric_cols:
            low, high = bootstrap_interval(
                table[col].to_numpy(), n_resamples=n_resamples, confidence=confidence, seed=seed
            )
            report[f"{col}_low"], report[f"{col}_high"] = low, high
    return report
