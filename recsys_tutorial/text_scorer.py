"""The fine-tuned language model as a scorer of top-K lists (chapters 3.5 and 6).

:class:`TextModelScorer` has the ``score_items(user_id, item_ids)`` method that
:func:`recsys_tutorial.recommend.recommend` and :class:`recsys_tutorial.recommend.TwoStage`
call; it is re-exported by :mod:`recsys_tutorial.recommend`. Ids of any kind (int or str) are
looked up as given: the text builders of :mod:`recsys_tutorial.text` only ever see row
positions, never the ids themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import catalogue_ids, id_array, positive_int
from .errors import UnknownItemError
from .schema import ITEM_COL, RATING_COL, TIME_COL, TITLE_COL, USER_COL, id_repr


def _coded_catalogue(
    movies: pd.DataFrame, tags: pd.DataFrame | None
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame | None]:
    """(ids as given, ``movies`` and ``tags`` with ids replaced by row positions 0..n-1).

    The text builders then never see the ids themselves, so any id kind works.
    """
    ids, _ = catalogue_ids(movies)  # refuses a repeated id
    coded = movies.assign(**{ITEM_COL: np.arange(len(movies), dtype=np.int64)})
    if tags is None or ITEM_COL not in tags.columns:
        return ids, coded, tags  # item_texts reports a malformed tags frame itself
    position = {item: pos for pos, item in enumerate(ids.tolist())}
    codes = pd.Series([position.get(i, -1) for i in tags[ITEM_COL].tolist()], index=tags.index)
    return ids, coded, tags[codes >= 0].assign(**{ITEM_COL: codes[codes >= 0].astype(np.int64)})


class TextModelScorer:
    """A fine-tuned (history, candidate) → rating model as a scorer (chapters 3.5 and 6).

    For ``user_id`` it builds the history text from that user's ratings in ``ratings`` (their
    latest ``max_items``, most recent first, exactly as :func:`recsys_tutorial.text.make_pairs`
    writes it; ``NO_HISTORY`` for a user with none, i.e. an unknown user is scored from the
    candidate text alone), pairs it with each candidate's item text and predicts in batches
    of ``batch_size`` with :func:`recsys_tutorial.train.predict`. Scores are predicted
    ratings in stars. History texts are cached per user; call :meth:`clear_cache` after
    changing ``ratings``. Ids of any kind (int or str) are looked up as given.

    ``model``, ``tokenizer`` and ``scaler`` are what
    :func:`recsys_tutorial.train.finetune_rating_model` returns (or a loaded checkpoint).
    Use the same ``max_items``, ``max_length`` and templates as in training. Raises
    RecommendError for a bad ``batch_size`` or a ``movies`` frame that repeats an id.
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

        self.batch_size = positive_int(batch_size, "batch_size")
        self.model, self.tokenizer, self.scaler = model, tokenizer, scaler
        self.ratings = ratings
        self.max_items, self.max_length, self.bf16 = int(max_items), int(max_length), bool(bf16)
        self.entry_template = entry_template or entry_text
        ids, coded, coded_tags = _coded_catalogue(movies, tags)
        titles = movies[TITLE_COL].fillna("").astype(str).tolist()
        self.titles = dict(zip(ids.tolist(), titles, strict=True))
        texts = item_texts(
            coded, coded_tags, max_tags=max_tags, template=item_template or item_text
        )
        self.item_texts = {item: texts[pos] for pos, item in enumerate(ids.tolist())}
        self._histories: dict[object, str] = {}

    def clear_cache(self) -> None:
        """Forget the cached history texts (after ``ratings`` changed)."""
        self._histories.clear()

    def history_for(self, user_id) -> str:
        """The user's history text: all their ratings in ``ratings`` count as earlier.

        Raises UnknownItemError when the user rated an item absent from ``movies``.
        """
        from .text import NO_HISTORY, build_histories

        if user_id not in self._histories:
            rows = self.ratings[self.ratings[USER_COL] == user_id]
            if rows.empty:
                text = NO_HISTORY
            else:
                # the user's rows with items as positions: build_histories never sees the ids
                codes, rated = pd.factorize(rows[ITEM_COL], use_na_sentinel=False)
                missing = [i for i in rated.tolist() if i not in self.titles]
                if missing:
                    raise UnknownItemError(
                        f"user {id_repr(user_id)} rated {len(missing)} item(s) absent from "
                        "the movies given to TextModelScorer, e.g. "
                        + ", ".join(id_repr(i) for i in missing[:5])
                    )
                context = pd.DataFrame(
                    {
                        USER_COL: 0,
                        ITEM_COL: codes.astype(np.int64),
                        RATING_COL: rows[RATING_COL].to_numpy(),
                        TIME_COL: rows[TIME_COL].to_numpy(),
                    }
                )
                target = pd.DataFrame({USER_COL: [0], TIME_COL: [int(rows[TIME_COL].max()) + 1]})
                titles = {pos: self.titles[item] for pos, item in enumerate(rated.tolist())}
                text = build_histories(
                    target,
                    context,
                    titles,
                    max_items=self.max_items,
                    entry_template=self.entry_template,
                )[0]
            self._histories[user_id] = text
        return self._histories[user_id]

    def pairs_for(self, user_id, item_ids) -> tuple[list[str], list[str]]:
        """The (history, candidate) texts the model reads for ``item_ids`` (two lists, one
        entry per item). Raises UnknownItemError for an id absent from ``movies``."""
        ids = id_array(item_ids).tolist()
        unknown = [i for i in ids if i not in self.item_texts]
        if unknown:
            raise UnknownItemError(
                f"{len(unknown)} item(s) are not in the catalogue given to TextModelScorer, "
                f"e.g. {', '.join(id_repr(i) for i in unknown[:5])}"
            )
        history = self.history_for(user_id)
        return [history] * len(ids), [self.item_texts[i] for i in ids]

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Predicted ratings (stars) of ``item_ids`` for ``user_id``, in the order given."""
        from .datasets import RatingTextDataset, make_loader
        from .train import predict

        histories, candidates = self.pairs_for(user_id, item_ids)
        if not candidates:
            return np.array([], dtype=np.float64)
        dataset = RatingTextDataset(
            histories, candidates, None, self.tokenizer, max_length=self.max_length
        )
        loader = make_loader(dataset, self.batch_size, shuffle=False)
        return predict(self.model, loader, self.scaler, bf16=self.bf16)
