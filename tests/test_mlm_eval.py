"""Tests for recsys_tutorial.mlm_eval: a tiny random masked LM with the packaged tokenizer."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from recsys_tutorial.errors import ConfigError
from recsys_tutorial.mlm_eval import fill_mask, genre_cloze, masked_word_accuracy
from recsys_tutorial.pretraining import load_masked_lm, train_mlm

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def movies():
    return pd.DataFrame(
        {
            "movieId": [1, 2, 3, 4],
            "title": ["Toy Story", "Heat", "Alien", "Untitled"],
            "year": [1995, 1995, 1979, None],
            "genres": [["Animation", "Comedy"], ["Action", "Crime"], ["Horror", "Sci-Fi"],
                       ["(no genres listed)"]],
        }
    )


def test_genre_cloze_asks_single_token_genres(movies, tokenizer):
    q, a = genre_cloze(movies, tokenizer, seed=0)
    # Alien's Sci-Fi is split into three tokens, so only Horror can be asked; Untitled has none.
    assert len(q) == len(a) == 3
    assert all(text.count("[MASK]") == 1 for text in q)
    assert a[2] == "horror" and q[2] == "Alien (1979). Genres: [MASK], Sci-Fi."
    assert genre_cloze(movies, tokenizer, seed=0) == (q, a)  # repeatable


def test_genre_cloze_keeps_ids_of_any_kind_for_the_tags(movies, tokenizer):
    # string ids used to be cast with int(): "A1" failed and "007" lost its tags
    named = movies.assign(movieId=["007", "A1", 3, 2**70])
    tags = pd.DataFrame({"userId": [1, 2], "movieId": ["A1", 2**70], "tag": ["Pacino", "lost"],
                         "timestamp": [0, 0]})
    q, a = genre_cloze(named, tokenizer, seed=0, tags=tags, max_tags=1)
    assert len(q) == 3 and q[1].endswith(" Tags: pacino.")
    assert a == genre_cloze(movies, tokenizer, seed=0)[1]


def test_fill_mask_sorted_probabilities(tiny_mlm_dir):
    model, tok = load_masked_lm(tiny_mlm_dir)
    guesses = fill_mask(model, tok, "the cat sat on the [MASK].", top_k=5)
    assert len(guesses) == 5
    probs = [p for _, p in guesses]
    assert all(isinstance(t, str) for t, _ in guesses)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0 + 1e-6
    with pytest.raises(ConfigError):
        fill_mask(model, tok, "no mask here", top_k=5)
    with pytest.raises(ConfigError):
        fill_mask(model, tok, "[MASK] and [MASK]", top_k=5)
    with pytest.raises(ConfigError):
        fill_mask(model, tok, "the [MASK].", top_k=0)


def test_masked_word_accuracy_learns_a_fixed_answer(tiny_mlm_dir):
    corpus = ["my favourite colour is blue."] * 16
    questions = ["my favourite colour is [MASK]."] * 4
    torch.manual_seed(0)
    model, tok = load_masked_lm(tiny_mlm_dir)
    before = masked_word_accuracy(model, tok, questions, ["blue"] * 4)
    train_mlm(model, tok, corpus, steps=60, batch_size=8, lr=2e-2, mlm_probability=0.4, seed=0)
    after = masked_word_accuracy(model, tok, questions, ["blue"] * 4, top_k=5)
    assert 0.0 <= before <= 1.0 and after == 1.0
    with pytest.raises(ConfigError):
        masked_word_accuracy(model, tok, questions, ["blue"])
    with pytest.raises(ConfigError):
        masked_word_accuracy(model, tok, questions[:1], ["sci-fi"])
