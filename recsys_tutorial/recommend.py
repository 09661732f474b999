"""From scores to top-K lists (chapters 3.5 and 6.1).

A *scorer* is any object with ``score_items(user_id, item_ids) -> np.ndarray`` (one score per
item, higher is better): every baseline has it, and :class:`TwoStage` combines a cheap
retriever with an expensive reranker such as the fine-tuned language model.

Rules every function here follows:

* **Ids are kept as given**: integers stay integers and strings stay strings (``"007"`` keeps
  its zeros); the ids in a list are the catalogue's own objects. Ties in score are broken by
  the order of the catalogue, never by sorting ids (which may mix kinds).
* **The catalogue** (``items``: a movies frame or a sequence of ids) is deduplicated, keeping
  the order of first appearance; a catalogue *frame* that repeats an id is refused
  (:class:`~recsys_tutorial.errors.RecommendError`), as its rows would disagree on titles.
* **Lists are never padded**: an item whose score is not finite (``-inf``, ``NaN``: e.g. not
  retrieved by :class:`TwoStage`) is never recommended, so a list may be shorter than ``k``;
  :func:`recommend` then warns (``UserWarning``) with the user and how many items were
  available.
* **A user absent from** ``seen`` raises :class:`~recsys_tutorial.errors.UnknownUserError`
  unless ``allow_unknown_users=True``; the scorer then decides how to rank for a user it has
  never seen (the baselines fall back to item biases or popularity, :class:`TextModelScorer`
  to ``NO_HISTORY``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd

from .catalogue import catalogue_ids, id_array, positive_int
from .errors import RecommendError, SchemaError, UnknownUserError
from .schema import ITEM_COL, RATING_COL, TITLE_COL, USER_COL, id_repr, liked_threshold
from .text_scorer import TextModelScorer

__all__ = [
    "Scorer",
    "TextModelScorer",
    "TopKLists",
    "TwoStage",
    "candidates_for",
    "recommend",
    "relevant_items",
    "top_k_for_users",
]


class Scorer(Protocol):
    def score_items(self, user_id, item_ids) -> np.ndarray: ...


def _request(k: object, items, item_col: str) -> tuple[int, np.ndarray, np.ndarray | None]:
    """(k, catalogue ids, titles) after checking that ``k`` is a positive int within it."""
    k = positive_int(k, "k")
    catalogue, titles = catalogue_ids(items, item_col=item_col)
    if k > catalogue.size:
        raise RecommendError(
            f"k={k} is larger than the catalogue ({catalogue.size} item(s)); "
            f"ask for at most {catalogue.size}"
        )
    return k, catalogue, titles


def _left_mask(
    user_id,
    seen: pd.DataFrame,
    catalogue: np.ndarray,
    *,
    exclude_seen: bool,
    allow_unknown_users: bool,
    user_col: str,
    item_col: str,
) -> np.ndarray:
    """Boolean mask over ``catalogue``: the items ``user_id`` may be recommended (maybe none)."""
    for col in (user_col, item_col):
        if col not in seen.columns:
            raise SchemaError(f"seen: missing column {col!r}; found {list(seen.columns)}")
    user_rows = seen[seen[user_col] == user_id]
    if user_rows.empty and not allow_unknown_users:
        raise UnknownUserError(
            f"user {id_repr(user_id)} has no ratings in the data given; "
            "recommend for a known user, "
            "or pass allow_unknown_users=True to rank for a new user (popularity/text only)"
        )
    if not exclude_seen:
        return np.ones(catalogue.size, dtype=bool)
    rated = user_rows[item_col].to_numpy()
    if catalogue.dtype.kind in "iu" and rated.dtype.kind in "iu":
        return ~np.isin(catalogue, rated)  # fast path: integer ids on both sides
    return ~pd.Series(catalogue, dtype=object).isin(rated.tolist()).to_numpy()


def _unseen_mask(user_id, seen: pd.DataFrame, catalogue: np.ndarray, **options) -> np.ndarray:
    """:func:`_left_mask`, but a user with nothing left is a :class:`RecommendError`."""
    mask = _left_mask(user_id, seen, catalogue, **options)
    if not mask.any():
        raise RecommendError(
            f"user {id_repr(user_id)} has rated every item in the catalogue; "
            "nothing left to recommend"
        )
    return mask


def candidates_for(
    user_id,
    seen: pd.DataFrame,
    items,
    *,
    exclude_seen: bool = True,
    allow_unknown_users: bool = False,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> np.ndarray:
    """Item ids the user may be recommended: the catalogue (deduplicated, in order of first
    appearance) minus what they rated in ``seen``. Ids are returned as given.

    Raises UnknownUserError for a user absent from ``seen`` (unless ``allow_unknown_users``)
    and RecommendError when nothing is left or ``items`` is a frame that repeats an id.
    """
    catalogue, _ = catalogue_ids(items, item_col=item_col)
    mask = _unseen_mask(
        user_id, seen, catalogue, exclude_seen=exclude_seen,
        allow_unknown_users=allow_unknown_users, user_col=user_col, item_col=item_col,
    )
    return catalogue[mask]


def _rank(
    scorer: Scorer, user_id, cands: np.ndarray, titles: np.ndarray | None, k: int, item_col: str
) -> tuple[pd.DataFrame, int]:
    """(top-``k`` frame over the finite scores of ``cands``, number of finite scores)."""
    # one call over all candidates: scorers batch internally (a two-stage scorer must see them all)
    scores = np.asarray(scorer.score_items(user_id, cands), dtype=np.float64).reshape(-1)
    if scores.size != cands.size:
        raise RecommendError(
            f"{type(scorer).__name__}.score_items returned {scores.size} scores for {cands.size} "
            f"items (user {id_repr(user_id)}); a scorer must return one score per item"
        )
    top = np.flatnonzero(np.isfinite(scores))
    available, k_eff = top.size, min(k, top.size)
    if 0 < k_eff < top.size:  # keep the k best, and every item tied with the k-th
        kth = np.partition(scores[top], top.size - k_eff)[top.size - k_eff]
        top = top[scores[top] >= kth]
    top = top[np.lexsort((top, -scores[top]))][:k_eff]  # by score, ties by catalogue order
    out = pd.DataFrame(
        {"rank": np.arange(1, k_eff + 1), item_col: cands[top], "score": scores[top]}
    )
    if titles is not None:
        out[TITLE_COL] = titles[top]
    return out, int(available)


def recommend(
    scorer: Scorer,
    user_id,
    *,
    seen: pd.DataFrame,
    items,
    k: int = 10,
    exclude_seen: bool = True,
    allow_unknown_users: bool = False,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> pd.DataFrame:
    """The top ``k`` items for ``user_id``: a frame with columns ``rank`` (1..), ``item_col``
    (the ids as given), ``score`` (the scorer's units) and ``title`` if ``items`` has titles.

    ``seen`` holds the ratings the user already gave (excluded when ``exclude_seen``);
    ``items`` is the catalogue (a movies frame or ids). Items with a non-finite score are left
    out, so the list has fewer than ``k`` rows when fewer than ``k`` unseen items have a finite
    score; a ``UserWarning`` then names the user and how many were available. Ties in score
    keep the catalogue's order.

    Raises RecommendError for ``k`` that is not a positive integer or exceeds the catalogue,
    a catalogue frame that repeats an id, or a user with nothing left to recommend;
    UnknownUserError for a user absent from ``seen`` (unless ``allow_unknown_users``).
    """
    k, catalogue, titles = _request(k, items, item_col)
    mask = _unseen_mask(
        user_id, seen, catalogue, exclude_seen=exclude_seen,
        allow_unknown_users=allow_unknown_users, user_col=user_col, item_col=item_col,
    )
    out, available = _rank(
        scorer, user_id, catalogue[mask], None if titles is None else titles[mask], k, item_col
    )
    if len(out) < k:
        warnings.warn(
            f"user {id_repr(user_id)}: only {available} item(s) with a finite score were available "
            f"({int(mask.sum())} unseen candidates), so the list has {len(out)} "
            f"of the {k} asked for",
            UserWarning,
            stacklevel=2,
        )
    return out


class TopKLists(dict):
    """``{user: [item ids in rank order]}``, a plain ``dict``, plus ``attrs`` (like pandas'):

    * ``attrs["skipped_users"]``: users left out because nothing was left to recommend (every
      catalogue item seen, or no item with a finite score), in the order met;
    * ``attrs["short_users"]``: users whose list has fewer than ``k`` items.
    """

    def __init__(self, lists=(), *, skipped_users=(), short_users=()) -> None:
        super().__init__(lists)
        self.attrs = {"skipped_users": list(skipped_users), "short_users": list(short_users)}


def top_k_for_users(
    scorer: Scorer,
    users: Iterable,
    *,
    seen: pd.DataFrame,
    items,
    k: int = 10,
    exclude_seen: bool = True,
    allow_unknown_users: bool = False,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
) -> TopKLists:
    """``{user: [item ids in rank order]}`` for many users (evaluate with metrics.ranking_report).

    Same rules as :func:`recommend`, but a user with nothing to recommend (every item seen, or
    no finite score) does not stop the loop: they are left out of the dict and listed in
    ``result.attrs["skipped_users"]``; users with fewer than ``k`` items are listed in
    ``result.attrs["short_users"]``. One ``UserWarning`` for each group names how many and the
    first few. (metrics.ranking_report scores a skipped user with a relevant item as 0.)
    """
    k, catalogue, _ = _request(k, items, item_col)
    lists, skipped, short = {}, [], []
    for u in users:
        mask = _left_mask(
            u,
            seen,
            catalogue,
            exclude_seen=exclude_seen,
            allow_unknown_users=allow_unknown_users,
            user_col=user_col,
            item_col=item_col,
        )
        out = _rank(scorer, u, catalogue[mask], None, k, item_col)[0] if mask.any() else None
        if out is None or out.empty:
            skipped.append(u)
            continue
        lists[u] = out[item_col].tolist()
        if len(out) < k:
            short.append(u)
    for group, what in (
        (skipped, "had nothing left to recommend and were skipped"),
        (short, f"got fewer than k={k} items"),
    ):
        if group:
            first = ", ".join(id_repr(u) for u in group[:5])
            warnings.warn(f"{len(group)} user(s) {what} (e.g. {first})", UserWarning, stacklevel=2)
    return TopKLists(lists, skipped_users=skipped, short_users=short)


def relevant_items(
    test: pd.DataFrame,
    *,
    threshold: float | None = None,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
) -> dict[object, set]:
    """``{user: set of relevant items in test}`` for top-K evaluation (users in order of first
    appearance).

    With a rating column, an item is relevant when rated ``>= threshold``; ``threshold=None``
    uses :func:`recsys_tutorial.schema.liked_threshold` (4 stars on MovieLens' 0.5-5 scale,
    8 on a 1-10 scale recorded in ``test.attrs``). Implicit feedback (no rating column): every
    test event is relevant.
    """
    if user_col not in test.columns or item_col not in test.columns:
        raise SchemaError(
            f"relevant_items: missing column(s) {[c for c in (user_col, item_col) if c not in test.columns]}; "
            f"found {list(test.columns)}; pass user_col=/item_col="
        )
    if rating_col in test.columns:
        cut = liked_threshold(test, threshold)
        liked = test[pd.to_numeric(test[rating_col], errors="coerce") >= cut]
    else:
        liked = test
    return {u: set(g[item_col]) for u, g in liked.groupby(user_col, sort=False)}


class TwoStage:
    """Retrieve ``n_candidates`` with a cheap scorer, then rerank them with an expensive one.

    The candidates are the ``n_candidates`` items with the highest *finite* retriever scores
    (ties by the order given). Every other item gets ``-inf``, and the reranker's score
    otherwise (a ``NaN`` from it stays ``NaN``): :func:`recommend` drops non-finite scores, so
    asking for more than ``n_candidates`` items gives a shorter list, never one padded with
    items that were not retrieved.
    """

    def __init__(self, retriever: Scorer, reranker: Scorer, n_candidates: int = 100) -> None:
        self.retriever, self.reranker = retriever, reranker
        self.n_candidates = positive_int(n_candidates, "n_candidates")

    def score_items(self, user_id, item_ids) -> np.ndarray:
        ids = id_array(item_ids)
        first = np.asarray(self.retriever.score_items(user_id, ids), dtype=np.float64).reshape(-1)
        if first.size != ids.size:
            raise RecommendError(
                f"retriever returned {first.size} scores for {ids.size} items; "
                "one per item expected"
            )
        finite = np.flatnonzero(np.isfinite(first))
        keep = np.sort(finite[np.lexsort((finite, -first[finite]))][: self.n_candidates])
        scores = np.full(ids.size, -np.inf)
        if keep.size:
            scores[keep] = np.asarray(
                self.reranker.score_items(user_id, ids[keep]), dtype=np.float64
            )
        return scores
