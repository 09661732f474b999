"""The parts of the text tower (:mod:`recsys_tutorial.text_tower`): batches, the network, the
catalogue's texts, ids in JSON, and reading a saved tower back (ch.8).

Batches: ratings grouped by item, and each batch's *unique* item texts tokenised once, sorted
by length. Why: the language model is the expensive part of a step, and ratings share items.
A batch of 512 ratings drawn at random holds about 440 different films, so sharing saves
little; a batch that keeps up to ``item_group`` ratings of one film together
(:class:`ItemGroupedBatchSampler`) holds several times fewer, so each step encodes several
times fewer texts for the same ratings.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset, Sampler

from .catalogue import id_array
from .errors import CheckpointError, ConfigError, ModelLoadError, SchemaError
from .schema import ITEM_COL, id_repr

__all__ = [
    "CatalogueTokens", "ItemGroupedBatchSampler", "RatingRows", "TowerCollator", "TowerHead",
    "TowerNet", "TowerOutput", "catalogue_texts", "content_key", "ids_from_json",
    "ids_to_json", "read_tower_checkpoint", "start_from_biases", "tower_forward",
]


def ids_to_json(ids: Sequence[Any] | np.ndarray, *, what: str) -> list[int | str]:
    """Ids as a JSON-able list that keeps each id's kind: integers (NumPy ones too, of any
    size) stay JSON numbers, strings stay JSON strings (``"007"`` is not ``7``).

    Raises :class:`CheckpointError` naming ``what`` and the first id of another kind (float,
    tuple, bool, ...): such ids can be trained on but not saved."""
    out: list[int | str] = []
    for value in np.asarray(ids, dtype=object).reshape(-1):
        if isinstance(value, str):
            out.append(str(value))
        elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            out.append(int(value))
        else:
            raise CheckpointError(
                f"{what}: id {id_repr(value)} is a {type(value).__name__}; only integer and "
                "string ids can be saved: convert the ids of your data to int or str"
            )
    return out


def ids_from_json(values: Sequence[Any], *, what: str) -> np.ndarray:
    """The ids :func:`ids_to_json` wrote, as an array: ``int64`` when every id is an integer
    that fits, else ``object`` holding Python ints and strs as saved.

    Raises :class:`CheckpointError` naming ``what`` for anything but a list of ints and strs."""
    if not isinstance(values, list):
        raise CheckpointError(f"{what}: expected a list of ids, got {type(values).__name__}")
    bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, (int, str))), None)
    if bad is not None:
        raise CheckpointError(f"{what}: {bad!r} is not an integer or string id; save again")
    return id_array(values) if values else np.array([], dtype=np.int64)


class CatalogueTokens:
    """Every catalogue text tokenised once: ``tokens`` (n_items × longest, int64, padded with the
    pad token) and ``lengths`` (n_items,). ``max_length`` truncates; the tokenizer must have a
    pad token (:func:`recsys_tutorial.models.load_tokenizer` ensures one)."""

    def __init__(self, texts: Sequence[str], tokenizer: Any, max_length: int) -> None:
        encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
        self.lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
        longest = int(self.lengths.max()) if len(encoded) else 1
        self.tokens = np.full((len(encoded), longest), tokenizer.pad_token_id, dtype=np.int64)
        for row, ids in enumerate(encoded):
            self.tokens[row, : len(ids)] = ids

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """``input_ids``/``attention_mask`` (len(rows) × longest of them) and ``text_lengths``
        of the catalogue rows ``rows``, in the order given (dynamic padding)."""
        lengths = self.lengths[rows]
        width = int(lengths.max()) if len(rows) else 1
        mask = np.arange(width)[None, :] < lengths[:, None]
        return {
            "input_ids": torch.from_numpy(self.tokens[rows, :width].copy()),
            "attention_mask": torch.from_numpy(mask.astype(np.int64)),
            "text_lengths": torch.from_numpy(lengths.copy()),
        }


@dataclass
class RatingRows(Dataset):
    """Rating rows as codes: ``users`` (index into the model's users, 0 when unknown),
    ``user_known`` (bool), ``items`` (index into the catalogue), ``item_known`` (rated in
    training), ``ratings`` (stars). Items yield their row number; :class:`TowerCollator`
    builds the batch. ``ratings`` is what :func:`recsys_tutorial.forward.evaluate` scores."""

    users: np.ndarray
    user_known: np.ndarray
    items: np.ndarray
    item_known: np.ndarray
    ratings: np.ndarray

    def __len__(self) -> int:
        return len(self.ratings)

    def __getitem__(self, index: int) -> int:
        return index

    def take(self, order: np.ndarray) -> RatingRows:
        """The same rows in another order (e.g. grouped by item for evaluation)."""
        return RatingRows(self.users[order], self.user_known[order], self.items[order],
                          self.item_known[order], self.ratings[order])


@dataclass
class TowerCollator:
    """Row numbers of a :class:`RatingRows` -> one batch of tensors (ch.8).

    The batch's unique items are tokenised once, sorted by token length (so the model can cut
    them into length buckets) and padded to the longest of them; ``item_pos`` maps each rating
    to its item's row among them. Keys: ``input_ids``, ``attention_mask``, ``text_lengths``
    (U unique texts), ``item_pos``, ``item``, ``item_known``, ``user``, ``user_known``
    and ``labels`` (B ratings, stars)."""

    rows: RatingRows
    catalogue: CatalogueTokens

    def __call__(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        items = self.rows.items[idx]
        unique, inverse = np.unique(items, return_inverse=True)
        by_length = np.argsort(self.catalogue.lengths[unique], kind="stable")
        position = np.empty(len(unique), dtype=np.int64)
        position[by_length] = np.arange(len(unique))
        batch = self.catalogue.batch(unique[by_length])
        batch.update(
            item_pos=torch.from_numpy(position[inverse.reshape(-1)]),
            item=torch.from_numpy(items),
            item_known=torch.from_numpy(self.rows.item_known[idx].astype(np.float32)),
            user=torch.from_numpy(self.rows.users[idx]),
            user_known=torch.from_numpy(self.rows.user_known[idx].astype(np.float32)),
            labels=torch.from_numpy(self.rows.ratings[idx].astype(np.float32)),
        )
        return batch


class ItemGroupedBatchSampler(Sampler[list[int]]):
    """Training batches that keep up to ``group`` ratings of one item together (ch.8).

    Each epoch: shuffle the rows, cut every item's ratings into runs of at most ``group``,
    shuffle the runs, concatenate, cut into batches of ``batch_size``. ``group=1`` is a plain
    shuffle. Every row appears once per epoch; the order depends only on ``(seed, epoch)``
    (:meth:`set_epoch`), so a run repeats exactly. Raises :class:`ConfigError` for sizes below 1.
    """

    def __init__(self, items: np.ndarray, batch_size: int, *, group: int = 32, seed: int = 0):
        for name, value in (("batch_size", batch_size), ("group", group)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        self.items = np.asarray(items, dtype=np.int64)
        self.batch_size, self.group, self.seed = int(batch_size), int(group), int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = int(epoch)

    def order(self) -> np.ndarray:
        """Every row once, in this epoch's order."""
        n = len(self.items)
        rng = np.random.default_rng([self.seed, self.epoch])
        perm = rng.permutation(n)
        if self.group == 1 or n == 0:
            return perm
        perm = perm[np.argsort(self.items[perm], kind="stable")]  # by item, random within
        sorted_items = self.items[perm]
        new_item = np.r_[True, sorted_items[1:] != sorted_items[:-1]]
        starts = np.flatnonzero(new_item)
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        run = np.cumsum(new_item | (rank % self.group == 0)) - 1  # run number of each row
        shuffled = rng.permutation(int(run[-1]) + 1)
        return perm[np.argsort(shuffled[run], kind="stable")]

    def __iter__(self) -> Iterator[list[int]]:
        order, bs = self.order(), self.batch_size
        for start in range(0, len(order), bs):
            yield order[start : start + bs].tolist()

    def __len__(self) -> int:
        return -(-len(self.items) // self.batch_size)


@dataclass
class TowerOutput:
    """What :class:`TowerNet` returns while training: predictions and the loss (MSE + L2)."""

    logits: torch.Tensor
    loss: torch.Tensor


class TowerHead(nn.Module):
    """The new parameters (standardised units): ``mean``, user and item biases and factors,
    ``text_bias`` (w) and ``text_factors`` (A) on the text vector. Named ``score`` inside
    :class:`TowerNet`, so :func:`recsys_tutorial.train_config.make_optimizer` gives them
    ``head_lr``."""

    def __init__(self, n_users: int, n_items: int, hidden: int, n_factors: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.mean = nn.Parameter(torch.zeros(()))
        self.user_bias = nn.Parameter(torch.zeros(n_users))
        self.item_bias = nn.Parameter(torch.zeros(n_items))
        self.user_factors = nn.Parameter(torch.randn(n_users, n_factors, generator=g) * 0.05)
        self.item_factors = nn.Parameter(torch.randn(n_items, n_factors, generator=g) * 0.05)
        self.text_bias = nn.Linear(hidden, 1, bias=False)
        self.text_factors = nn.Linear(hidden, n_factors, bias=False)
        with torch.no_grad():
            self.text_bias.weight.zero_()
            self.text_factors.weight.normal_(0.0, 0.01, generator=g)


class TowerNet(nn.Module):
    """The language model (``encoder``) and :class:`TowerHead` (``score``) as one module.

    ``forward`` takes a :class:`~recsys_tutorial.text_tower_parts.TowerCollator` batch and
    returns standardised predictions ``(B,)``, or a :class:`TowerOutput` when ``targets`` are
    given. ``texts_encoded`` counts the texts the encoder has seen (one per unique item of a
    batch)."""

    def __init__(self, encoder: nn.Module, head: TowerHead, *, drop_item_share: float = 0.3,
                 reg: float = 0.0, encode_chunk: int = 128) -> None:
        super().__init__()
        self.encoder, self.score = encoder, head
        self.drop_item_share, self.reg, self.encode_chunk = drop_item_share, reg, encode_chunk
        self.texts_encoded = 0

    def set_attn_implementation(self, implementation: str) -> None:
        """Switch the encoder's attention kernels (the training loop asks for "eager" on CPUs)."""
        self.encoder.set_attn_implementation(implementation)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               text_lengths: torch.Tensor) -> torch.Tensor:
        """Unit-length mean-pooled text vectors ``(U, hidden)``, float32, for texts sorted by
        length: each bucket of ``encode_chunk`` texts is padded only to its own longest."""
        pieces = []
        for start in range(0, len(input_ids), self.encode_chunk):
            stop = start + self.encode_chunk
            width = int(text_lengths[start:stop].max())
            mask = attention_mask[start:stop, :width]
            hidden = self.encoder(input_ids=input_ids[start:stop, :width],
                                  attention_mask=mask).last_hidden_state.float()
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            pieces.append(nn.functional.normalize(pooled, dim=-1))
        self.texts_encoded += len(input_ids)
        return torch.cat(pieces)

    def forward(self, input_ids, attention_mask, text_lengths, item_pos, item, item_known, user,
                user_known, targets=None):
        """Standardised predictions ``(B,)`` of a batch (keys as :class:`TowerCollator`'s);
        with ``targets`` ``(B,)`` a :class:`TowerOutput` whose loss is the MSE plus ``reg`` ×
        the mean squared norm of the user and (kept) item factors. While training, the item
        terms of a ``drop_item_share`` of the rows are dropped."""
        e = self.encode(input_ids, attention_mask, text_lengths)
        keep = item_known
        if self.training and self.drop_item_share > 0:
            # why: rows whose item looks unseen teach the text path to predict on its own
            keep = keep * (torch.rand(keep.shape, device=keep.device) >= self.drop_item_share)
        h = self.score
        text_bias = h.text_bias(e).float().squeeze(-1)[item_pos]
        p = h.user_factors[user] * user_known[:, None]
        q = keep[:, None] * h.item_factors[item] + h.text_factors(e).float()[item_pos]
        z = (h.mean + user_known * h.user_bias[user] + keep * h.item_bias[item] + text_bias
             + (p * q).sum(1))
        if targets is None:
            return z
        penalty = (p.pow(2).sum(1) + keep * h.item_factors[item].pow(2).sum(1)).mean()
        mse = nn.functional.mse_loss(z, targets.float())
        return TowerOutput(logits=z, loss=mse + self.reg * penalty)


def start_from_biases(head: TowerHead, train: pd.DataFrame, users: pd.Index, items: pd.Index,
                      scaler: Any, *, columns: Sequence[str]) -> None:
    """Set ``head``'s μ, b_u, b_i to a :class:`~recsys_tutorial.baselines.BiasBaseline` fitted on
    ``train`` (``columns``: user, item, rating), in the units ``scaler`` standardises to; items
    not in ``train`` start at 0. Why: training starts at the bias baseline, not at the mean."""
    from .baselines import BiasBaseline

    biases = BiasBaseline()
    biases.user_col, biases.item_col, biases.rating_col = columns
    biases.fit(train)
    bu = biases.user_bias_.reindex(users).to_numpy(np.float32) / scaler.std
    bi = biases.item_bias_.reindex(items).fillna(0.0).to_numpy(np.float32) / scaler.std
    with torch.no_grad():
        head.mean.fill_((biases.mean_ - scaler.mean) / scaler.std)
        head.user_bias.copy_(torch.from_numpy(bu))
        head.item_bias.copy_(torch.from_numpy(bi))


def tower_forward(model: nn.Module, batch: dict[str, torch.Tensor], targets=None):
    """The ``forward`` hook of :func:`recsys_tutorial.train.train` for :class:`TowerNet`."""
    return model(**batch, targets=targets)


def catalogue_texts(items: pd.DataFrame, *, item_col: str = ITEM_COL) -> tuple[np.ndarray, list]:
    """``(ids, texts)`` of a catalogue frame (title, optional year and genres), ids as given,
    texts "title (year) | first three genres" (:func:`~recsys_tutorial.experiment.short_item_text`).

    Raises :class:`SchemaError` for a frame without ``item_col`` or with a repeated id."""
    from .experiment import short_item_text
    from .text import item_texts

    if not isinstance(items, pd.DataFrame) or item_col not in items.columns:
        found = list(items.columns) if isinstance(items, pd.DataFrame) else type(items).__name__
        raise SchemaError(f"items: needs a catalogue frame with column {item_col!r} and titles; "
                          f"found {found}")
    repeated = items[item_col].duplicated().to_numpy()
    if repeated.any():
        raise SchemaError(f"items: id {id_repr(items[item_col].to_numpy()[repeated][0])} appears "
                          f"in more than one row; keep one row per item")
    texts = item_texts(items, template=short_item_text, item_col=item_col)
    return id_array(items[item_col]), list(texts.values())


def content_key(settings: Any, frames: Sequence[pd.DataFrame], columns: Sequence[str],
                items: pd.DataFrame, *, item_col: str = ITEM_COL) -> str:
    """A hash (20 hex digits) of JSON-able ``settings``, the values and kinds of ``columns`` of
    each frame (ids ``"7"`` and ``7`` differ) and the catalogue's ids and texts."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for frame in frames:
        digest.update(json.dumps([len(frame)] + [str(frame[c].dtype) for c in columns]).encode())
        hashed = pd.util.hash_pandas_object(frame[list(columns)], index=False)
        digest.update(hashed.to_numpy().tobytes())
        for col in columns:
            if frame[col].dtype == object:
                digest.update(" ".join(type(v).__name__ for v in frame[col]).encode())
    ids, texts = catalogue_texts(items, item_col=item_col)
    digest.update("\n".join(f"{id_repr(i)}\t{t}" for i, t in zip(ids, texts, strict=True)).encode())
    return digest.hexdigest()[:20]


def read_tower_checkpoint(directory: str | os.PathLike[str], model_type: str) -> dict[str, Any]:
    """The pieces of a saved text tower: ``meta`` (its ``text_tower`` record), ``encoder``,
    ``tokenizer``, ``scaler``, ``head`` (a loaded :class:`TowerHead`), ``item_vectors``,
    ``item_known``, ``users`` and ``items`` (ids as saved). Checksums are verified, nothing is
    unpickled. Raises :class:`CheckpointError` for another kind of checkpoint or damage."""
    from transformers import AutoConfig, AutoModel

    from .checkpoints import load_checkpoint_tensors, load_weights, read_checkpoint_meta
    from .models import load_tokenizer, quiet_transformers
    from .scaler import TargetScaler

    directory = Path(directory).expanduser()
    meta = read_checkpoint_meta(directory)
    extra = meta.get("extra") or {}
    if extra.get("model_type") != model_type or not isinstance(extra.get(model_type.replace(
            "-", "_")), dict):
        raise CheckpointError(f"{directory}: not a {model_type} checkpoint (model_type "
                              f"{extra.get('model_type')!r}); load it with load_checkpoint()")
    tower = extra[model_type.replace("-", "_")]
    quiet_transformers()
    try:
        encoder = AutoModel.from_config(AutoConfig.from_pretrained(str(directory)))
        tokenizer = load_tokenizer(str(directory))
    except (OSError, ValueError, KeyError, ModelLoadError) as exc:
        raise CheckpointError(f"{directory}: unreadable model config or tokenizer ({exc}); "
                              "save the text tower again") from exc
    load_weights(encoder, directory)
    tensors = load_checkpoint_tensors(directory)
    try:
        users = ids_from_json(tower["users"], what=f"{directory}: users")
        items = ids_from_json(tower["items"], what=f"{directory}: items")
        n_factors = int(tower["config"]["n_factors"])
        head = TowerHead(len(users), len(items), encoder.config.hidden_size, n_factors)
        head.load_state_dict({k[len("score."):]: v for k, v in tensors.items()
                              if k.startswith("score.")}, strict=True)
        return {"meta": tower, "encoder": encoder, "tokenizer": tokenizer, "head": head,
                "scaler": TargetScaler.from_dict(meta["scaler"]), "users": users, "items": items,
                "item_vectors": tensors["item_vectors"].numpy(),
                "item_known": tensors["item_known"].numpy() > 0.5}
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{directory}: incomplete or inconsistent text tower ({exc}); "
                              "save it again") from exc
