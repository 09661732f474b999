"""Tests for recsys_tutorial.pretraining: tiny random masked LMs with the packaged tokenizer (no download)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_tutorial.errors import ConfigError, ModelLoadError
from recsys_tutorial.pretraining import (
    load_masked_lm,
    movie_sentence,
    movie_sentences,
    save_encoder,
    set_body_trainable,
    train_mlm,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def movies():
    return pd.DataFrame(
        {
            "movieId": [1, 2, 3, 4],
            "title": ["Toy Story", "Heat", "Alien", "Untitled"],
            "year": [1995, 1995, 1979, None],
            "genres": [["Animation", "Comedy"], ["Action", "Crime"], ["Horror", "Sci-Fi"], ["(no genres listed)"]],
        }
    )


def _trainable(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_load_masked_lm_freezes_body_but_not_head(tiny_mlm_dir):
    model, tok = load_masked_lm(tiny_mlm_dir)
    assert tok.mask_token == "[MASK]"
    names = _trainable(model)
    assert names and all(n.startswith("cls.") for n in names), names
    # the decoder matrix is tied to the (frozen) word embeddings
    assert model.get_input_embeddings().weight.requires_grad is False
    assert "cls.predictions.bias" in names or "cls.predictions.decoder.bias" in names
    full, _ = load_masked_lm(tiny_mlm_dir, train_body=True)
    assert all(p.requires_grad for p in full.parameters())
    n_head = set_body_trainable(full, False)
    assert n_head == sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_load_masked_lm_bad_paths_raise(tmp_path):
    with pytest.raises(ModelLoadError):
        load_masked_lm(tmp_path / "no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError):
        load_masked_lm(tmp_path / "empty")
    with pytest.raises(ModelLoadError):
        load_masked_lm("")


def test_movie_sentences(movies):
    assert movie_sentence("Heat", 1995, ["Action", "Crime"], ["pacino"]) == (
        "Heat (1995). Genres: Action, Crime. Tags: pacino."
    )
    texts = movie_sentences(movies)
    assert texts[0] == "Toy Story (1995). Genres: Animation, Comedy."
    assert texts[3] == "Untitled."  # no year, '(no genres listed)' dropped
    tags = pd.DataFrame({"userId": [1, 2, 3], "movieId": [2, 2, 2], "tag": ["Pacino", "pacino", "heist"],
                         "timestamp": [0, 0, 0]})
    assert movie_sentences(movies, tags, max_tags=1)[1] == "Heat (1995). Genres: Action, Crime. Tags: pacino."
    texts = movie_sentences(movies.assign(movieId=["007", "A1", 3, 2**70]), tags=None)
    assert texts[1] == "Heat (1995). Genres: Action, Crime."  # ids of any kind, kept exactly


def test_train_mlm_loss_decreases_head_only_and_body(tiny_mlm_dir):
    corpus = ["the cat sat on the mat.", "a dog ran in the park.", "the cat ate the fish."] * 8
    for train_body, lr in ((False, 1e-2), (True, 3e-3)):
        torch.manual_seed(0)
        model, tok = load_masked_lm(tiny_mlm_dir, train_body=train_body)
        frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
        losses = train_mlm(model, tok, corpus, steps=40, batch_size=8, lr=lr, mlm_probability=0.3, seed=0)
        assert len(losses) == 40
        finite = [x for x in losses if math.isfinite(x)]
        assert np.mean(finite[-8:]) < np.mean(finite[:8]) - 0.5, (train_body, finite[:8], finite[-8:])
        for n, p in model.named_parameters():  # frozen parameters did not move
            if n in frozen:
                assert torch.equal(frozen[n], p.detach()), n


def test_train_mlm_is_repeatable_and_checks_arguments(tiny_mlm_dir):
    corpus = ["red green blue.", "one two three four."] * 4
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model, tok = load_masked_lm(tiny_mlm_dir)
        runs.append(train_mlm(model, tok, corpus, steps=5, batch_size=4, lr=1e-3, seed=3))
    assert runs[0] == pytest.approx(runs[1], nan_ok=True)
    with pytest.raises(ConfigError):
        train_mlm(model, tok, corpus, steps=0, batch_size=4, lr=1e-3, seed=0)
    with pytest.raises(ConfigError):
        train_mlm(model, tok, corpus, steps=2, batch_size=4, lr=-1.0, seed=0)
    with pytest.raises(ConfigError):
        train_mlm(model, tok, [], steps=2, batch_size=4, lr=1e-3, seed=0)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ConfigError):
        train_mlm(model, tok, corpus, steps=2, batch_size=4, lr=1e-3, seed=0)


def test_save_encoder_loads_as_regressor_with_pooler(tmp_path, tiny_mlm_dir, tokenizer, bert_config_factory):
    from transformers import BertModel

    from recsys_tutorial.models import load_regressor

    torch.manual_seed(1)
    source = BertModel(bert_config_factory(dropout=0.0, max_position_embeddings=128))  # with a pooler, like the packaged MiniLM
    source.save_pretrained(tmp_path / "source")
    model, tok = load_masked_lm(tiny_mlm_dir, train_body=True)
    train_mlm(model, tok, ["a b c d e f."] * 4, steps=2, batch_size=4, lr=1e-2, seed=0)
    out = save_encoder(model, tok, tmp_path / "dapt", source=tmp_path / "source")
    regressor, _ = load_regressor(out)
    enc = regressor.bert.state_dict()
    for k, v in model.base_model.state_dict().items():
        assert torch.allclose(enc[k], v), k
    assert torch.allclose(enc["pooler.dense.weight"], source.pooler.dense.weight)
    with pytest.raises(ModelLoadError):
        save_encoder(model, tok, tmp_path / "x", source=tmp_path / "missing")
