"""What top-K lists expose, and reranking for or against popularity (chapters 6.1 and 8.3).

- :func:`exposure_report` — catalogue coverage, the share of slots taken by the *head* (the most
  rated items, :func:`head_items`) and the Gini coefficient of exposure over the catalogue;
- :func:`zscore` / :func:`zscore_blend` — per-user standardised scores and their weighted sum,
  so two scorers on different scales can be mixed;
- :func:`popularity_strength` — ``log(1 + n_i) / log(1 + n_max)``: 0 for an unrated item, 1 for
  the most rated one;
- :class:`ZScoreBlend` (6.1: a rating model plus a popularity signal) and
  :class:`PopularityPenalty` (8.3: a model's standardised scores minus a popularity term) — both
  scorers (``score_items(user_id, item_ids)``) for :func:`recsys_tutorial.recommend.recommend`.

Scores that are not finite (``-inf``: outside a two-stage candidate set) stay ``-inf``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import EvaluationError, UnknownItemError
from .metrics import catalogue_coverage, gini

__all__ = [
    "ZSCORE_EPS",
    "zscore",
    "zscore_blend",
    "popularity_strength",
    "head_items",
    "exposure_report",
    "ZScoreBlend",
    "PopularityPenalty",
]

#: Added to the standard deviation so that a constant score vector standardises to zeros.
ZSCORE_EPS = 1e-9


def zscore(scores) -> np.ndarray:
    """``(s - mean) / (std + ZSCORE_EPS)`` over the finite entries of ``scores`` (1-D, float64).

    Mean and (population) standard deviation are taken over the finite entries only; the
    others come back as ``-inf``. ``zscore([1, 2, 3])`` is about ``[-1.2247, 0, 1.2247]``.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    out = np.full(s.shape, -np.inf)
    finite = np.isfinite(s)
    if finite.any():
        kept = s[finite]
        out[finite] = (kept - kept.mean()) / (kept.std() + ZSCORE_EPS)
    return out


def zscore_blend(scores_a, scores_b, weight: float) -> np.ndarray:
    """``zscore(scores_a) + weight * zscore(scores_b)``, one value per item (float64).

    An item whose score is not finite in either input gets ``-inf``. Raises
    :class:`~recsys_tutorial.errors.EvaluationError` if the inputs differ in length.
    """
    za, zb = zscore(scores_a), zscore(scores_b)
    if za.shape != zb.shape:
        raise EvaluationError(
            f"scores_a has {za.size} scores and scores_b {zb.size}; blend scores of the same items"
        )
    both = np.isfinite(za) & np.isfinite(zb)
    out = np.full(za.shape, -np.inf)
    out[both] = za[both] + float(weight) * zb[both]
    return out


def popularity_strength(counts: pd.Series, items: Iterable) -> pd.Series:
    """``log(1 + n_i) / log(1 + max n)`` for each of ``items``, indexed by item (float64, 0 to 1).

    ``counts`` is ratings per item (``train[ITEM_COL].value_counts()``); items it lacks count 0.
    Raises :class:`~recsys_tutorial.errors.EvaluationError` if no item has a rating.
    """
    items = list(items)
    n_max = float(counts.max()) if len(counts) else 0.0
    if n_max <= 0:
        raise EvaluationError("counts: no item has a rating; popularity strength is undefined")
    values = np.log1p(counts.reindex(items).fillna(0).to_numpy(np.float64)) / np.log1p(n_max)
    return pd.Series(values, index=pd.Index(items))


def head_items(counts: pd.Series, share: float, n_items: int) -> set:
    """The ``max(1, round(share * n_items))`` most rated items: the catalogue's *head*.

    ``counts`` is ratings per item (``value_counts()``; ties keep its order). ``n_items`` is the
    catalogue size, so ``share=0.01`` is the top 1% of the catalogue. Raises
    :class:`~recsys_tutorial.errors.EvaluationError` for a share outside (0, 1] or a
    non-positive ``n_items``.
    """
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 < share <= 1:
        raise EvaluationError(f"share must be in (0, 1], got {share!r} (0.01 = the top 1%)")
    if isinstance(n_items, bool) or not isinstance(n_items, numbers.Integral) or n_items <= 0:
        raise EvaluationError(f"n_items must be a positive integer (catalogue size), got {n_items!r}")
    n_head = max(1, int(round(float(share) * int(n_items))))
    ordered = counts.sort_values(ascending=False, kind="stable")
    return set(ordered.index[:n_head])


def exposure_report(recommendations: Mapping[object, Sequence], catalogue: Iterable, head: set) -> dict:
    """How a set of top-K lists spreads exposure over the catalogue.

    ``recommendations`` is ``{user: [item ids]}`` (as from
    :func:`~recsys_tutorial.recommend.top_k_for_users`), ``catalogue`` every item id that could be
    shown, ``head`` the popular items (:func:`head_items`). Returns a dict of floats:

    - ``coverage``: share of the catalogue shown at least once
      (:func:`~recsys_tutorial.metrics.catalogue_coverage`);
    - ``head_share``: share of all recommended slots taken by ``head`` items;
    - ``gini``: Gini coefficient of the number of slots per catalogue item, items never shown
      counting 0 (:func:`~recsys_tutorial.metrics.gini`; 0 = equal, 1 = one item takes all).

    Raises :class:`~recsys_tutorial.errors.EvaluationError` for an empty catalogue or no
    recommended item, :class:`~recsys_tutorial.errors.UnknownItemError` for a recommended item
    missing from ``catalogue``.
    """
    catalogue = list(catalogue)
    if not catalogue:
        raise EvaluationError("catalogue is empty; pass every item id that could be recommended")
    shown = [item for items in recommendations.values() for item in items]
    if not shown:
        raise EvaluationError("recommendations hold no item; exposure is undefined")
    known = set(catalogue)
    unknown = list(dict.fromkeys(i for i in shown if i not in known))
    if unknown:
        raise UnknownItemError(
            f"{len(unknown)} recommended item(s) are not in the catalogue, e.g. {unknown[:5]}; "
            "pass the catalogue the lists were drawn from"
        )
    slots = pd.Series(shown).value_counts().reindex(catalogue, fill_value=0)
    return {
        "coverage": float(catalogue_coverage(recommendations, len(catalogue))),
        "head_share": float(np.mean([i in head for i in shown])),
        "gini": float(gini(slots.to_numpy())),
    }


class ZScoreBlend:
    """A scorer: ``zscore(scorer) + weight * zscore(transform(other))`` per user (chapter 6.1).

    Both are standardised over the items asked for (the user's candidates), so ``weight`` is in
    standard deviations whatever the two scales. E.g. ``ZScoreBlend(mf, popularity, 0.5,
    transform=np.log1p)`` adds half a standard deviation of log popularity. Wrap an expensive
    scorer in :class:`~recsys_tutorial.experiment.CachedScorer` to try many weights.
    """

    def __init__(self, scorer, other, weight: float, *, transform: Callable | None = None) -> None:
        self.scorer, self.other, self.weight, self.transform = scorer, other, float(weight), transform

    def score_items(self, user_id, item_ids) -> np.ndarray:
        a = np.asarray(self.scorer.score_items(user_id, item_ids), dtype=np.float64)
        b = np.asarray(self.other.score_items(user_id, item_ids), dtype=np.float64)
        if self.transform is not None:
            b = np.asarray(self.transform(b), dtype=np.float64)
        return zscore_blend(a, b, self.weight)


class PopularityPenalty:
    """A scorer: ``zscore(scorer) - weight * strength[item]`` per user (chapter 8.3).

    ``strength`` is a per-item popularity term indexed by item id, usually
    :func:`popularity_strength` (0 to 1), so ``weight`` is in standard deviations of the model's
    scores. Raises :class:`~recsys_tutorial.errors.UnknownItemError` for an item ``strength``
    lacks.
    """

    def __init__(self, scorer, strength: pd.Series, weight: float) -> None:
        self.scorer, self.strength, self.weight = scorer, strength, float(weight)

    def score_items(self, user_id, item_ids) -> np.ndarray:
        z = zscore(self.scorer.score_items(user_id, item_ids))
        ids = np.asarray(item_ids).reshape(-1)
        missing = ~pd.Index(ids).isin(self.strength.index)
        if missing.any():
            raise UnknownItemError(
                f"{int(missing.sum())} item(s) have no popularity strength, e.g. "
                f"{ids[missing][:5].tolist()}; build strength over the whole catalogue"
            )
        return z - self.weight * self.strength.reindex(ids).to_numpy(np.float64)
