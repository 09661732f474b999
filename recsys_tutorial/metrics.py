"""Accuracy and ranking metrics (chapters 3, 5 and 6).

Rating error: ``rmse`` and ``mae`` (scikit-learn underneath). Top-K lists: each ranking
metric takes the recommended ids in rank order, the set of relevant ids and ``k``, and
treats relevance as binary. ``ranking_report`` averages them over users.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error

from .errors import RecommendError


def _as_float_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("cannot compute an error over zero ratings")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("ratings and predictions must be finite (found NaN or inf)")
    return t, p


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, in rating points (stars)."""
    t, p = _as_float_arrays(y_true, y_pred)
    return float(np.sqrt(mean_squared_error(t, p)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in rating points (stars)."""
    t, p = _as_float_arrays(y_true, y_pred)
    return float(mean_absolute_error(t, p))


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise RecommendError(f"k must be a positive integer, got {k!r}")


def _hits(recommended: Sequence, relevant: Iterable, k: int) -> np.ndarray:
    _check_k(k)
    rel = set(relevant)
    return np.array([item in rel for item in list(recommended)[:k]], dtype=np.float64)


def precision_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Share of the top ``k`` that is relevant (a list shorter than k counts the gap as misses)."""
    return float(_hits(recommended, relevant, k).sum() / k)


def recall_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Share of the relevant items found in the top ``k`` (0.0 when nothing is relevant)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return float(_hits(recommended, rel, k).sum() / len(rel))


def hit_rate_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """1.0 if at least one relevant item is in the top ``k``, else 0.0."""
    return float(_hits(recommended, relevant, k).any())


def ndcg_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Binary NDCG@k: DCG = sum of 1/log2(rank+1) over hits, divided by the best possible DCG."""
    rel = set(relevant)
    hits = _hits(recommended, rel, k)
    if not rel:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits * discounts[: hits.size]).sum())
    idcg = float(discounts[: min(len(rel), k)].sum())
    return dcg / idcg


def map_at_k(recommended: Sequence, relevant: Iterable, k: int) -> float:
    """Average precision at k: mean of precision@i over the ranks i of hits, over min(|relevant|, k)."""
    rel = set(relevant)
    hits = _hits(recommended, rel, k)
    if not rel:
        return 0.0
    precisions = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float((precisions * hits).sum() / min(len(rel), k))


def catalogue_coverage(recommendations: Mapping | Iterable[Sequence], n_items: int) -> float:
    """Share of the catalogue (``n_items`` items) that appears in at least one list."""
    lists = recommendations.values() if isinstance(recommendations, Mapping) else recommendations
    shown = set()
    for items in lists:
        shown.update(items)
    return len(shown) / n_items


def gini(counts) -> float:
    """Gini coefficient of exposure counts: 0 = every item shown equally, 1 = one item takes all."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
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


def ranking_report(
    recommendations: Mapping[object, Sequence], relevant: Mapping[object, Iterable], k: int = 10
) -> dict[str, float]:
    """Each ranking metric @k averaged over users that have at least one relevant item.

    Keys: ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit_rate@k``, ``map@k`` and ``users``.
    """
    _check_k(k)
    users = [u for u in recommendations if len(set(relevant.get(u, ()))) > 0]
    if not users:
        raise RecommendError("no user has a relevant item in the test set; nothing to evaluate")
    report = {
        f"{name}@{k}": float(np.mean([fn(recommendations[u], relevant[u], k) for u in users]))
        for name, fn in RANKING_METRICS.items()
    }
    report["users"] = len(users)
    return report
