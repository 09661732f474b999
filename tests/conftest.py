"""Shared pytest fixtures.

Tiny language models for the text/datasets/models/train tests: random weights, built in the
test (no download), using the packaged MiniLM's tokenizer (vocabulary 30,522).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tokenizer():
    """The packaged all-MiniLM-L6-v2 tokenizer (BERT WordPiece, pad token [PAD])."""
    from recsys_tutorial.models import load_tokenizer

    return load_tokenizer()


def tiny_bert_config(tokenizer, dropout: float = 0.1, **overrides):
    """A 2-layer, 32-wide BERT configuration on the packaged MiniLM's vocabulary (no download)."""
    from transformers import BertConfig

    settings = dict(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def bert_config_factory(tokenizer):
    """``bert_config_factory(dropout=..., **overrides)`` -> a tiny BertConfig."""
    return lambda **kw: tiny_bert_config(tokenizer, **kw)


def _tiny_bert(tokenizer, seed: int = 0, dropout: float = 0.1):
    import torch
    from transformers import BertForSequenceClassification

    from recsys_tutorial.models import quiet_transformers

    quiet_transformers()
    config = tiny_bert_config(tokenizer, dropout, num_labels=1, problem_type="regression")
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


def _tiny_gpt2(tokenizer, seed: int = 0):
    import torch
    from transformers import GPT2Config, GPT2ForSequenceClassification

    from recsys_tutorial.models import quiet_transformers

    quiet_transformers()
    config = GPT2Config(
        vocab_size=tokenizer.vocab_size,
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=256,
        num_labels=1,
        problem_type="regression",
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    torch.manual_seed(seed)
    return GPT2ForSequenceClassification(config)


@pytest.fixture
def make_tiny_bert(tokenizer):
    """Factory: ``make_tiny_bert(seed=0, dropout=0.1)`` -> a fresh tiny BERT regressor
    (hidden 32, 2 layers, 2 heads, intermediate 64, ~1M parameters, mostly embeddings)."""
    return lambda seed=0, dropout=0.1: _tiny_bert(tokenizer, seed, dropout)


@pytest.fixture
def tiny_bert(tokenizer):
    """A tiny random BERT regressor (num_labels=1, problem_type='regression')."""
    return _tiny_bert(tokenizer)


@pytest.fixture
def tiny_gpt2(tokenizer):
    """A tiny random GPT-2 regressor that pads with the MiniLM tokenizer's [PAD]."""
    return _tiny_gpt2(tokenizer)


@pytest.fixture
def one_thread():
    """Run a test on one torch thread: on a shared 2-core machine, tiny models run several
    times faster than with two threads fighting over busy cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_mlm_dir(tmp_path, tokenizer, bert_config_factory):
    """A saved tiny random BertForMaskedLM (with its head) and the packaged tokenizer."""
    import torch
    from transformers import BertForMaskedLM

    from recsys_tutorial.models import quiet_transformers

    quiet_transformers()
    torch.manual_seed(0)
    model = BertForMaskedLM(bert_config_factory(dropout=0.0, max_position_embeddings=128))
    model.save_pretrained(tmp_path / "mlm")
    tokenizer.save_pretrained(tmp_path / "mlm")
    return tmp_path / "mlm"
