"""Pretraining by masked language modelling (MLM), shown on the packaged MiniLM (chapter 2; FAQ Q1).

BERT-style models are pretrained by hiding about 15% of the tokens of a text and predicting
them from the rest {Devlin et al., 2019}. This module runs that objective at a small scale:

* :func:`load_masked_lm` loads a model with its masked-LM head (``AutoModelForMaskedLM``).
  The packaged all-MiniLM-L6-v2 ships **without** that head (it was trained further as a
  sentence encoder and only its encoder and pooler weights were kept), so transformers
  initialises the head at random and the model's first guesses for a ``[MASK]`` are nonsense.
  ``train_body=False`` (default) freezes the encoder, so only the head trains: the head's
  transform (dense + LayerNorm) and its output bias; the decoder matrix is tied to the word
  embeddings, which stay frozen. ``train_body=True`` trains everything: that is
  *domain-adaptive pretraining* (continue MLM on in-domain text before fine-tuning on the
  task, Gururangan et al., 2020) — see FAQ Q1 and :func:`save_encoder`.
* :func:`movie_sentences` turns the MovieLens catalogue into short sentences to train on.
* :func:`train_mlm` is a plain training loop (``DataCollatorForLanguageModeling`` masks the
  batches; logits are computed only at the masked positions, which is most of the saving on a
  CPU).

Reading the model's guesses (``fill_mask``, ``genre_cloze``, ``masked_word_accuracy``) lives
in :mod:`recsys_tutorial.mlm_eval`. Typical use::

    model, tokenizer = load_masked_lm()                         # head random, body frozen
    texts = movie_sentences(movies, tags)
    losses = train_mlm(model, tokenizer, texts, steps=200, batch_size=32, lr=2e-3, seed=42)
    fill_mask(model, tokenizer, f"Alien (1979). Genres: Horror, {tokenizer.mask_token}.")

Domain-adaptive pretraining, then rating fine-tuning (FAQ Q1)::

    model, tokenizer = load_masked_lm(train_body=True)
    train_mlm(model, tokenizer, texts, steps=500, batch_size=32, lr=5e-5, seed=42)
    save_encoder(model, tokenizer, "runs/dapt")                 # keeps the original pooler
    regressor, tokenizer = load_regressor("runs/dapt")          # then fine-tune as usual
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .config import check_learning_rate
from .errors import ConfigError, ModelLoadError
from .forward import device_of
from .models import load_error, quiet_transformers, resolve_model_path
from .schema import ITEM_COL
from .text import item_texts

__all__ = [
    "NO_GENRES",
    "load_masked_lm",
    "set_body_trainable",
    "movie_sentence",
    "movie_sentences",
    "train_mlm",
    "masked_logits",
    "save_encoder",
]

#: MovieLens' placeholder for a film without genres; left out of the sentences.
NO_GENRES = "(no genres listed)"


# --------------------------------------------------------------------------- loading


def load_masked_lm(
    name_or_path: str | os.PathLike[str] | None = None, *, train_body: bool = False
) -> tuple[nn.Module, Any]:
    """A model with its masked-LM head and its tokenizer (default: the packaged MiniLM).

    Weights missing from the checkpoint (the packaged MiniLM's whole MLM head) are initialised
    at random by transformers: seed first (:func:`~recsys_tutorial.config.seed_everything`) for
    repeatable runs. ``train_body=False`` leaves only the head's own parameters trainable (not
    the decoder matrix, which is tied to the frozen word embeddings); ``train_body=True`` makes
    everything trainable (domain-adaptive pretraining). Bad paths raise
    :class:`~recsys_tutorial.errors.ModelLoadError`.
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    quiet_transformers()
    name = resolve_model_path(name_or_path, need_weights=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForMaskedLM.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise load_error(name, exc) from exc
    if tokenizer.mask_token is None:
        raise ModelLoadError(
            f"{name}: the tokenizer has no mask token, so the model cannot do masked language "
            "modelling; use a BERT-style (encoder) model"
        )
    set_body_trainable(model, train_body)
    return model, tokenizer


def _body_prefix(model: nn.Module) -> str:
    return f"{getattr(model, 'base_model_prefix', '')}."


def set_body_trainable(model: nn.Module, train_body: bool) -> int:
    """Train the whole model (``True``) or only the MLM head (``False``); returns the number of
    trainable parameters. The word embeddings (tied to the head's decoder) count as body."""
    prefix = _body_prefix(model)
    embeddings = model.get_input_embeddings().weight
    for name, p in model.named_parameters():
        is_body = name.startswith(prefix) or p is embeddings
        p.requires_grad_(bool(train_body) or not is_body)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _body_frozen(model: nn.Module) -> bool:
    prefix = _body_prefix(model)
    return not any(p.requires_grad for n, p in model.named_parameters() if n.startswith(prefix))


# --------------------------------------------------------------------------- texts


def movie_sentence(title: str, year: int | None = None, genres: Sequence[str] = (), tags: Sequence[str] = ()) -> str:
    """One catalogue entry as a sentence: ``"Toy Story (1995). Genres: Adventure, Comedy. Tags: pixar."``

    Usable as an ``item_template`` of :func:`recsys_tutorial.text.item_texts`.
    """
    text = str(title).strip()
    if year is not None and not pd.isna(year):
        text += f" ({int(year)})"
    text += "."
    genres = [g for g in genres if g and g != NO_GENRES]
    if genres:
        text += " Genres: " + ", ".join(genres) + "."
    tags = [t for t in tags if t]
    if tags:
        text += " Tags: " + ", ".join(tags) + "."
    return text


def movie_sentences(movies: pd.DataFrame, tags: pd.DataFrame | None = None, *, max_tags: int = 3) -> list[str]:
    """A pretraining corpus from the catalogue: one :func:`movie_sentence` per row of ``movies``
    (in its order), with the item's ``max_tags`` most frequent user tags when ``tags`` is given."""
    texts = item_texts(movies, tags, max_tags=max_tags if tags is not None else 0, template=movie_sentence)
    return [texts[i] for i in movies[ITEM_COL].tolist()]  # ids kept exactly ("007", "A1")


# --------------------------------------------------------------------------- training


def _mlm_head(model: nn.Module) -> nn.Module | None:
    """The module mapping hidden states to vocabulary logits (BERT ``cls``, RoBERTa ``lm_head``)."""
    for attr in ("cls", "lm_head"):
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module):
            return head
    return None


def masked_logits(model: nn.Module, batch: dict[str, torch.Tensor], positions: torch.Tensor) -> torch.Tensor:
    """Vocabulary logits at the ``positions`` (a boolean ``[batch, tokens]`` mask), shape ``[n, vocab]``.

    Runs the encoder once and the head only where it is needed: the head's decoder is a
    ``hidden × vocabulary`` matrix (384 × 30,522 for MiniLM), far costlier per token than the
    encoder, and only ~15% of the tokens are masked. With a frozen body the encoder runs without
    gradients. Models without a recognised head fall back to the full forward pass.
    """
    inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    head = _mlm_head(model)
    if head is None:
        return model(**inputs).logits[positions]
    with torch.set_grad_enabled(torch.is_grad_enabled() and not _body_frozen(model)):
        hidden = model.base_model(**inputs).last_hidden_state
    return head(hidden[positions])


def train_mlm(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    mlm_probability: float = 0.15,
    seed: int = 42,
    max_length: int = 64,
    weight_decay: float = 0.0,
    warmup_steps: int = 0,
    bf16: bool = False,
) -> list[float]:
    """Masked-language-model training for ``steps`` optimizer steps; returns the loss per step.

    Batches of ``batch_size`` texts are drawn in a shuffled order (reshuffled each pass) and
    masked by transformers' ``DataCollatorForLanguageModeling`` (``mlm_probability`` of the
    tokens: 80% become the mask token, 10% a random token, 10% stay). The loss is the cross
    entropy at the masked positions. AdamW over the trainable parameters only (see
    :func:`load_masked_lm`), a linear warmup over ``warmup_steps`` then a constant rate,
    gradients clipped to norm 1. With the body frozen the encoder stays in eval mode (no
    dropout) and runs without gradients. ``bf16`` uses bfloat16 autocast.
    """
    from transformers import DataCollatorForLanguageModeling

    lr = check_learning_rate(lr)
    for name, value, minimum in (("steps", steps, 1), ("batch_size", batch_size, 1), ("max_length", max_length, 4)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if not 0.0 < float(mlm_probability) < 1.0:
        raise ConfigError(f"mlm_probability must be in (0, 1), got {mlm_probability!r}")
    texts = [str(t) for t in texts]
    if not texts:
        raise ConfigError("train_mlm: no texts to train on")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("train_mlm: the model has no trainable parameters (see set_body_trainable)")

    device = device_of(model)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=float(mlm_probability), seed=int(seed))
    # Tokenize once; the collator pads each batch to its longest text and masks it afresh.
    encoded = tokenizer(texts, truncation=True, max_length=int(max_length), return_special_tokens_mask=True)
    features = [{k: encoded[k][i] for k in encoded} for i in range(len(texts))]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=float(weight_decay))
    rng = np.random.default_rng(seed)
    frozen = _body_frozen(model)
    model.train()
    if frozen:
        model.base_model.eval()
    order: list[int] = []
    losses: list[float] = []
    for step in range(int(steps)):
        if len(order) < batch_size:
            order.extend(rng.permutation(len(texts)).tolist())
        idx, order = order[:batch_size], order[batch_size:]
        batch = collator([features[i] for i in idx])
        labels = batch.pop("labels").to(device)
        batch = {k: v.to(device) for k, v in batch.items()}
        positions = labels != -100
        if not positions.any():  # nothing was masked (tiny batch): skip, keep the step count
            losses.append(float("nan"))
            continue
        for group in optimizer.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else lr
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bool(bf16)):
            logits = masked_logits(model, batch, positions)
        loss = nn.functional.cross_entropy(logits.float(), labels[positions])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


# --------------------------------------------------------------------------- handing over to fine-tuning


def save_encoder(
    model: nn.Module,
    tokenizer: Any,
    directory: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
) -> Path:
    """Save the (pretrained further) encoder of a masked LM so that
    :func:`~recsys_tutorial.models.load_regressor` / ``load_backbone`` can load it (FAQ Q1).

    ``AutoModelForMaskedLM`` drops BERT's pooler, which the sequence-classification head reads;
    saved as is, the regressor would get a *random* pooler. So the encoder's weights are copied
    into the full ``AutoModel`` of ``source`` (default: the packaged MiniLM; the model the
    masked LM was loaded from), which keeps its pretrained pooler, and that is saved with the
    tokenizer.
    """
    from .models import default_model_path, load_backbone

    full = load_backbone(source)
    name = source or default_model_path()  # named in the messages below
    state = model.base_model.state_dict()
    own = full.state_dict()
    wrong = [k for k in state if k in own and tuple(own[k].shape) != tuple(state[k].shape)]
    if wrong or not set(state) & set(own):
        raise ModelLoadError(
            f"save_encoder: the masked LM's encoder does not fit {name} ({len(wrong)} tensors of "
            f"another shape, e.g. {wrong[:2]}); pass source= the model it was loaded from"
        )
    result = full.load_state_dict(state, strict=False)
    left = [k for k in result.missing_keys if not k.startswith("pooler.")]
    if left or result.unexpected_keys:
        raise ModelLoadError(
            f"save_encoder: weights do not match {name}: missing {left[:3]}, unexpected "
            f"{list(result.unexpected_keys)[:3]}; pass source= the model it was loaded from"
        )
    target = Path(directory).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    full.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target
