"""From scores to top-K lists (chapters 3.5 and 6.1).

A *scorer* is any object with ``score_items(user_id, item_ids) -> np.ndarray`` (higher is
better): every baseline has it, and :class:`TwoStage` combines a cheap retriever with an
expensive reranker such as the fine-tuned language model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd

from .data import ITEM_COL, TITLE_COL, USER_COL
from .errors import RecommendError, UnknownUserError


class Scorer(Protocol):
    def score_items(self, user_id, item_ids) -> np.ndarray: ...


def _catalogue_ids(items) -> np.ndarray:
    if isinstance(items, pd.DataFrame):
        return items[ITEM_COL].to_numpy()
    return np.asarray(list(items))


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
    """Item ids the user may be recommended: the catalogue minus what they rated in ``seen``."""
    catalogue = _catalogue_ids(items)
    user_rows = seen[seen[user_col] == user_id]
    if user_rows.empty and not allow_unknown_users:
        raise UnknownUserError(
            f"user {user_id!r} has no ratings in the data given; recommend for a known user, "
            "or pass allow_unknown_users=True to rank for a new user (popularity/text only)"
        )
    if not exclude_seen:
        return catalogue
    left = catalogue[~np.isin(catalogue, user_rows[item_col].to_numpy())]
    if left.size == 0:
        raise RecommendError(f"user {user_id!r} has rated every item in the catalogue; nothing left to recommend")
    return left


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
    """The top ``k`` items for ``user_id``: columns rank, movieId, score (and title if ``items`` has titles).

    ``seen`` holds the ratings the user already gave (excluded when ``exclude_seen``);
    ``items`` is the catalogue (a movies frame or ids).
    """
    catalogue = _catalogue_ids(items)
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise RecommendError(f"k must be a positive integer, got {k!r}")
    if k > catalogue.size:
        raise RecommendError(f"k={k} is larger than the catalogue ({catalogue.size} items); ask for at most {catalogue.size}")
    cands = candidates_for(
        user_id, seen, catalogue, exclude_seen=exclude_seen,
        allow_unknown_users=allow_unknown_users, user_col=user_col, item_col=item_col,
    )
    # one call over all candidates: scorers batch internally (a two-stage scorer must see them all)
    scores = np.asarray(scorer.score_items(user_id, cands), dtype=np.float64)
    k_eff = min(k, cands.size)
    top = np.argpartition(-scores, k_eff - 1)[:k_eff]
    top = top[np.lexsort((cands[top], -scores[top]))]  # by score, ties by id: deterministic
    out = pd.DataFrame({"rank": np.arange(1, k_eff + 1), item_col: cands[top], "score": scores[top]})
    if isinstance(items, pd.DataFrame) and TITLE_COL in items.columns:
        out = out.merge(items[[item_col, TITLE_COL]], on=item_col, how="left")
    return out


def top_k_for_users(
    scorer: Scorer, users: Iterable, *, seen: pd.DataFrame, items, k: int = 10, **kwargs
) -> dict[object, list]:
    """``{user: [item ids in rank order]}`` for many users (evaluation with metrics.ranking_report)."""
    return {u: recommend(scorer, u, seen=seen, items=items, k=k, **kwargs)[ITEM_COL].tolist() for u in users}


def relevant_items(test: pd.DataFrame, *, threshold: float = 4.0, user_col: str = USER_COL, item_col: str = ITEM_COL, rating_col: str = "rating") -> dict[object, set]:
    """``{user: set of items rated ≥ threshold in test}``, the 'relevant' items of top-K evaluation."""
    liked = test[test[rating_col] >= threshold]
    return {u: set(g[item_col]) for u, g in liked.groupby(user_col)}


class TwoStage:
    """Retrieve ``n_candidates`` with a cheap scorer, then rerank them with an expensive one.

    Items outside the retrieved set get ``-inf`` so they never enter the top K.
    """

    def __init__(self, retriever: Scorer, reranker: Scorer, n_candidates: int = 100) -> None:
        if n_candidates <= 0:
            raise RecommendError(f"n_candidates must be positive, got {n_candidates}")
        self.retriever, self.reranker, self.n_candidates = retriever, reranker, n_candidates

    def score_items(self, user_id, item_ids) -> np.ndarray:
        ids = np.asarray(item_ids)
        first = np.asarray(self.retriever.score_items(user_id, ids), dtype=np.float64)
        n = min(self.n_candidates, ids.size)
        keep = np.argpartition(-first, n - 1)[:n]
        scores = np.full(ids.size, -np.inf)
        scores[keep] = np.asarray(self.reranker.score_items(user_id, ids[keep]), dtype=np.float64)
        return scores


class TextModelScorer:
    """A fine-tuned (history, candidate) → rating model as a scorer (chapters 3.5 and 6).

    For ``user_id`` it builds the history text from that user's ratings in ``ratings`` (their
    latest ``max_items``, most recent first, exactly as :func:`recsys_tutorial.text.make_pairs`
    writes it; ``NO_HISTORY`` for a user with none), pairs it with each candidate's item text and
    predicts in batches of ``batch_size`` with :func:`recsys_tutorial.train.predict`. Scores are
    predicted ratings in stars. History texts are cached per user; call :meth:`clear_cache`
    after changing ``ratings``.

    ``model``, ``tokenizer`` and ``scaler`` are what
    :func:`recsys_tutorial.train.finetune_rating_model` returns (or a loaded checkpoint).
    Use the same ``max_items``, ``max_length`` and templates as in training.
    """

    def __init__(
        self,
        model,
        tokenizer,
        scaler,
        *,
        ratings: pd.DataFrame,
        movies: pd.DataFrame,
        tags: pd.DataFrame | None = None,
        max_tags: int = 0,
        max_items: int = 6,
        max_length: int = 96,
        batch_size: int = 128,
        bf16: bool = False,
        item_template=None,
        entry_template=None,
    ) -> None:
        from .text import entry_text, item_text, item_texts

        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise RecommendError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model, self.tokenizer, self.scaler = model, tokenizer, scaler
        self.ratings = ratings
        self.max_items, self.max_length = int(max_items), int(max_length)
        self.batch_size, self.bf16 = int(batch_size), bool(bf16)
        self.entry_template = entry_template or entry_text
        self.titles = dict(
            zip(movies[ITEM_COL].astype(np.int64), movies[TITLE_COL].fillna("").astype(str), strict=True)
        )
        self.item_texts = item_texts(movies, tags, max_tags=max_tags, template=item_template or item_text)
        self._histories: dict[object, str] = {}

    def clear_cache(self) -> None:
        """Forget the cached history texts (after ``ratings`` changed)."""
        self._histories.clear()

    def history_for(self, user_id) -> str:
        """The user's history text: all their ratings in ``ratings`` count as earlier."""
        from .data import TIME_COL
        from .text import build_histories

        if user_id not in self._histories:
            rows = self.ratings[self.ratings[USER_COL] == user_id]
            if rows.empty:
                from .text import NO_HISTORY

                text = NO_HISTORY
            else:
                target = pd.DataFrame({USER_COL: [user_id], TIME_COL: [int(rows[TIME_COL].max()) + 1]})
                text = build_histories(
                    target, rows, self.titles, max_items=self.max_items, entry_template=self.entry_template
                )[0]
            self._histories[user_id] = text
        return self._histories[user_id]

    def pairs_for(self, user_id, item_ids) -> tuple[list[str], list[str]]:
        """The (history, candidate) texts the model reads for ``item_ids``."""
        from .errors import UnknownItemError

        ids = np.asarray(item_ids).reshape(-1)
        unknown = [int(i) for i in ids if int(i) not in self.item_texts]
        if unknown:
            raise UnknownItemError(
                f"{len(unknown)} item(s) are not in the catalogue given to TextModelScorer, e.g. {unknown[:5]}"
            )
        history = self.history_for(user_id)
        return [history] * ids.size, [self.item_texts[int(i)] for i in ids]

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Predicted ratings (stars) of ``item_ids`` for ``user_id``, in the order given."""
        from .datasets import RatingTextDataset, make_loader
        from .train import predict

        histories, candidates = self.pairs_for(user_id, item_ids)
        if not candidates:
            return np.array([], dtype=np.float64)
        dataset = RatingTextDataset(histories, candidates, None, self.tokenizer, max_length=self.max_length)
        loader = make_loader(dataset, self.batch_size, shuffle=False)
        return predict(self.model, loader, self.scaler, bf16=self.bf16)
