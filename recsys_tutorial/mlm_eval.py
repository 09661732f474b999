"""Reading a masked language model's guesses (chapter 2 and 9.1; FAQ Q1).

After :func:`recsys_tutorial.pretraining.train_mlm`, these functions ask what the model
learnt: :func:`fill_mask` lists its most likely tokens for one ``[MASK]``,
:func:`genre_cloze` turns the MovieLens catalogue into fill-in-the-genre questions and
:func:`masked_word_accuracy` scores the model on them (the share answered within its
``top_k`` guesses)::

    questions, answers = genre_cloze(movies, tokenizer, seed=42)
    masked_word_accuracy(model, tokenizer, questions, answers)         # before
    train_mlm(model, tokenizer, movie_sentences(movies), steps=200, lr=2e-3, seed=42)
    masked_word_accuracy(model, tokenizer, questions, answers)         # after
    fill_mask(model, tokenizer, f"Alien (1979). Genres: {tokenizer.mask_token}.")

Argument problems raise :class:`~recsys_tutorial.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .errors import ConfigError
from .forward import device_of
from .pretraining import NO_GENRES, masked_logits, movie_sentence
from .schema import GENRES_COL, ITEM_COL, TITLE_COL, YEAR_COL
from .text import top_tags

__all__ = ["fill_mask", "genre_cloze", "masked_word_accuracy"]


# --------------------------------------------------------------------------- questions


def _genre_list(value: object) -> list[str]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(g) for g in value if g]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [g for g in str(value).split("|") if g]


def genre_cloze(
    movies: pd.DataFrame,
    tokenizer: Any,
    *,
    seed: int = 0,
    tags: pd.DataFrame | None = None,
    max_tags: int = 3,
) -> tuple[list[str], list[str]]:
    """Fill-in-the-genre questions: ``(texts, answers)``, one per movie that has a genre the
    tokenizer keeps as a single token (``"Sci-Fi"`` and ``"IMAX"`` are split, so never asked).

    Each text is the movie's :func:`movie_sentence` with one of its genres (chosen at random
    with ``seed``) replaced by the mask token; the answer is that genre as the tokenizer writes
    it (e.g. ``"drama"`` for an uncased tokenizer).
    """
    rng = np.random.default_rng(seed)
    top = top_tags(tags, max_tags, ITEM_COL) if tags is not None else {}
    single: dict[str, str | None] = {}
    texts, answers = [], []
    for row in movies.itertuples(index=False):
        item = getattr(row, ITEM_COL)  # kept exactly: the tags' ids are the same objects
        genres = [g for g in _genre_list(getattr(row, GENRES_COL, None)) if g != NO_GENRES]
        for g in genres:
            if g not in single:
                pieces = tokenizer.tokenize(g)
                single[g] = pieces[0] if len(pieces) == 1 else None
        askable = [k for k, g in enumerate(genres) if single[g] is not None]
        if not askable:
            continue
        k = askable[int(rng.integers(len(askable)))]
        answers.append(single[genres[k]])
        shown = list(genres)
        shown[k] = tokenizer.mask_token
        year = getattr(row, YEAR_COL, None)
        texts.append(movie_sentence(getattr(row, TITLE_COL), year, shown, top.get(item, [])))
    return texts, answers


# --------------------------------------------------------------------------- answers


@torch.no_grad()
def _mask_probabilities(
    model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 64, bf16: bool = False,
    max_length: int = 128,
) -> torch.Tensor:
    """Softmax over the vocabulary at the (single) mask token of each text: ``[len(texts), vocab]``."""
    mask_id = tokenizer.mask_token_id
    if mask_id is None:
        raise ConfigError("the tokenizer has no mask token")
    was_training = model.training
    model.eval()
    device = device_of(model)
    out = []
    try:
        for start in range(0, len(texts), batch_size):
            chunk = [str(t) for t in texts[start : start + batch_size]]
            batch = tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            positions = batch["input_ids"] == mask_id
            counts = positions.sum(1)
            if (counts != 1).any():
                bad = int(torch.nonzero(counts != 1)[0, 0])
                raise ConfigError(
                    f"each text needs exactly one {tokenizer.mask_token} token (after truncation to "
                    f"{max_length} tokens); text {start + bad} has {int(counts[bad])}: {chunk[bad]!r}"
                )
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bool(bf16)):
                logits = masked_logits(model, batch, positions)
            out.append(torch.softmax(logits.float(), dim=-1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 0)


def fill_mask(model: nn.Module, tokenizer: Any, text: str, top_k: int = 5, *, bf16: bool = False) -> list[tuple[str, float]]:
    """The ``top_k`` most likely tokens for the one mask token in ``text``, most likely first:
    ``[(token, probability), ...]`` (probabilities over the whole vocabulary, so they sum to ≤ 1)."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ConfigError(f"top_k must be a positive integer, got {top_k!r}")
    probs = _mask_probabilities(model, tokenizer, [text], bf16=bf16)[0]
    values, ids = torch.topk(probs, min(int(top_k), probs.numel()))
    tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
    return [(str(t), float(v)) for t, v in zip(tokens, values.tolist(), strict=True)]


def masked_word_accuracy(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    answers: Sequence[str],
    *,
    top_k: int = 1,
    batch_size: int = 64,
    bf16: bool = False,
) -> float:
    """Share of ``texts`` (one mask token each) whose ``answers`` token is among the model's
    ``top_k`` guesses. Answers are single tokens as the tokenizer writes them (see :func:`genre_cloze`)."""
    if len(texts) != len(answers):
        raise ConfigError(f"{len(texts)} texts but {len(answers)} answers")
    if not texts:
        raise ConfigError("masked_word_accuracy: no texts")
    ids = tokenizer.convert_tokens_to_ids(list(answers))
    unknown = [a for a, i in zip(answers, ids, strict=True) if i is None or i == tokenizer.unk_token_id]
    if unknown:
        raise ConfigError(f"answers must be single tokens of the vocabulary; not: {sorted(set(unknown))[:5]}")
    probs = _mask_probabilities(model, tokenizer, texts, batch_size=batch_size, bf16=bf16)
    top = torch.topk(probs, min(int(top_k), probs.shape[1]), dim=1).indices
    hit = (top == torch.tensor(ids)[:, None]).any(1)
    return float(hit.float().mean())
