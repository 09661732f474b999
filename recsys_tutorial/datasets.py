"""PyTorch datasets and loaders for the two formulations of rating prediction (chapters 3-5).

* :class:`RatingTextDataset` — the cross-encoder formulation (ch.3): the input is the pair
  (history text, candidate text), the target one rating. Pre-tokenized once; batches are
  padded dynamically, always on the right (:class:`RightPaddingCollator`: a pair's prediction
  does not depend on its batch neighbours), and grouped by length with
  :class:`LengthBucketSampler` (ch.5: less padding, faster steps).
* :class:`RatingVectorDataset` — the other formulation, one user per example (ch.4): the input is
  the user's history text, the target a vector of ``k`` item ratings of which only the
  observed ones count, through :func:`masked_mse`.

Labels are ratings in rating units (float32); :func:`recsys_tutorial.train.train` standardises
them itself. For ``transformers.Trainer``, which knows nothing about the scaler, build the
dataset with ``scaler=`` so the labels are already standardised.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .errors import ConfigError, DataError
from .models import use_right_padding
from .schema import ITEM_COL, RATING_COL, USER_COL, id_repr


def _count(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (Python or NumPy integer), else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)

# --------------------------------------------------------------------------- (history, candidate) -> rating


class RatingTextDataset(Dataset):
    """Pre-tokenized (history, candidate) pairs with float32 rating labels (ch.3).

    ``truncation="only_first"`` cuts the history (the oldest entries are last, so they go first)
    and keeps the candidate whole; ``max_length`` is the token budget of one input.
    ``.lengths`` holds each input's token count, for :class:`LengthBucketSampler`.
    ``scaler`` (a :class:`~recsys_tutorial.models.TargetScaler`) standardises the labels; leave it
    ``None`` for :func:`~recsys_tutorial.train.train`, which standardises them itself.
    The tokenizer is set to pad on the right (:func:`~recsys_tutorial.models.use_right_padding`).
    Raises :class:`DataError` when the lists do not pair up, :class:`ConfigError` for a
    ``max_length`` below 8 or not an integer (NumPy integers work).
    """

    def __init__(
        self,
        histories: Sequence[str],
        candidates: Sequence[str],
        ratings: Sequence[float] | np.ndarray | None,
        tokenizer: Any,
        *,
        max_length: int = 96,
        scaler: Any | None = None,
    ) -> None:
        histories, candidates = [str(h) for h in histories], [str(c) for c in candidates]
        if len(histories) != len(candidates):
            raise DataError(
                f"got {len(histories)} histories but {len(candidates)} candidates; "
                "they must pair up one to one"
            )
        max_length = _count(max_length, "max_length (tokens)", minimum=8)
        n = len(histories)
        ratings_arr = np.full(n, np.nan, np.float32) if ratings is None else np.asarray(ratings, np.float32)
        if ratings_arr.shape != (n,):
            raise DataError(f"got {len(ratings_arr)} ratings for {n} text pairs; pass one rating per pair")
        self.tokenizer = use_right_padding(tokenizer)
        self.max_length = max_length
        self.ratings = ratings_arr
        self.scaler = scaler
        self.labels = (
            np.asarray(scaler.transform(ratings_arr), np.float32) if scaler is not None else ratings_arr
        )
        self.encodings = self._tokenize(histories, candidates)
        self.lengths = np.array([len(ids) for ids in self.encodings["input_ids"]], dtype=np.int64)

    def _tokenize(self, histories: list[str], candidates: list[str]) -> dict[str, list[list[int]]]:
        if not histories:
            return {"input_ids": [], "attention_mask": []}
        # Pairs whose candidate (plus special tokens and a little history) would not fit cannot keep
        # the candidate whole: cut both texts for those ("longest_first"), only the history otherwise.
        # (The fast tokenizer raises instead of falling back when "only_first" cannot fit.)
        cand_len = [len(ids) for ids in self.tokenizer(candidates, add_special_tokens=False)["input_ids"]]
        special = self.tokenizer.num_special_tokens_to_add(pair=True)
        too_long = {i for i, n in enumerate(cand_len) if n + special + 1 > self.max_length}
        fine = [i for i in range(len(histories)) if i not in too_long]
        enc: dict[str, list] = {}
        for idx, strategy in ((fine, "only_first"), (sorted(too_long), "longest_first")):
            if not idx:
                continue
            part = self.tokenizer([histories[i] for i in idx], [candidates[i] for i in idx],
                                  truncation=strategy, max_length=self.max_length)
            for key, values in part.items():
                enc.setdefault(key, [None] * len(histories))
                for j, i in enumerate(idx):
                    enc[key][i] = values[j]
        keep = ("input_ids", "attention_mask", "token_type_ids")
        return {k: [list(v) for v in enc[k]] for k in keep if k in enc}

    @classmethod
    def from_pairs(
        cls, pairs: pd.DataFrame, tokenizer: Any, *, max_length: int = 96, scaler: Any | None = None
    ) -> RatingTextDataset:
        """From a :func:`recsys_tutorial.text.make_pairs` frame (history, candidate, rating)."""
        missing = [c for c in ("history", "candidate") if c not in pairs.columns]
        if missing:
            raise DataError(f"pairs: missing column(s) {missing}; build them with text.make_pairs")
        ratings = pairs["rating"].to_numpy(np.float32) if "rating" in pairs.columns else None
        return cls(
            pairs["history"].tolist(), pairs["candidate"].tolist(), ratings, tokenizer,
            max_length=max_length, scaler=scaler,
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {k: v[index] for k, v in self.encodings.items()}
        item["labels"] = float(self.labels[index])
        return item


# --------------------------------------------------------------------------- batching


class LengthBucketSampler(Sampler[list[int]]):
    """Batches of similar length (ch.5): a batch sampler for ``DataLoader(batch_sampler=...)``.

    With ``shuffle``: permute all indices, sort each chunk of ``chunk_batches`` batches by length,
    cut it into batches, shuffle the batch order. The order depends only on ``(seed, epoch)``
    (call :meth:`set_epoch` each epoch), so an interrupted run can be resumed exactly. Without
    ``shuffle``: all indices sorted by length (least padding; good for evaluation). Every index
    appears exactly once per epoch.

    With ``num_replicas`` > 1 (distributed training) every process sees the same global batches
    and yields only its shard ``batch[rank::num_replicas]`` of each.
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        chunk_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        num_replicas = _count(num_replicas, "num_replicas", minimum=1)
        rank = _count(rank, "rank", minimum=0)
        if rank >= num_replicas:
            raise ConfigError(f"rank must be in [0, num_replicas), got rank={rank}, num_replicas={num_replicas}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = _count(batch_size, "batch_size", minimum=1)
        self.shuffle = bool(shuffle)
        self.seed = _count(seed, "seed", minimum=0)
        self.chunk_batches = _count(chunk_batches, "chunk_batches", minimum=1)
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = _count(epoch, "epoch", minimum=0)

    def batches(self) -> list[np.ndarray]:
        """The batches of the current epoch, in order."""
        n, bs = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[i : i + bs] for i in range(0, n, bs)]
        rng = np.random.default_rng([self.seed, self.epoch])
        perm = rng.permutation(n)
        chunk = bs * self.chunk_batches
        out: list[np.ndarray] = []
        for s in range(0, n, chunk):
            idx = perm[s : s + chunk]
            idx = idx[np.argsort(self.lengths[idx], kind="stable")]
            out.extend(idx[i : i + bs] for i in range(0, len(idx), bs))
        return [out[i] for i in rng.permutation(len(out))]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.batches():
            yield batch[self.rank :: self.num_replicas].tolist()

    def __len__(self) -> int:
        n, bs, chunk = len(self.lengths), self.batch_size, self.batch_size * self.chunk_batches
        if not self.shuffle:
            return -(-n // bs)
        full, rest = divmod(n, chunk)
        return full * self.chunk_batches + -(-rest // bs)


_TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids", "special_tokens_mask")


@dataclass
class RightPaddingCollator:
    """Pads a list of dataset items into a batch of tensors, on the right whatever the
    tokenizer's ``padding_side`` says.

    Token columns (``input_ids``, ``attention_mask``, ``token_type_ids``,
    ``special_tokens_mask``) become ``(batch, longest)`` int64 tensors padded with
    ``pad_token_id``, ``pad_token_type_id`` and 0; ``labels`` and ``label_mask`` become float32
    tensors (``(batch,)`` or ``(batch, k)``); other keys are stacked as given. Right padding keeps
    each text at positions ``0..n-1``, so its prediction does not depend on its neighbours.
    """

    pad_token_id: int
    pad_token_type_id: int = 0

    @classmethod
    def for_tokenizer(cls, tokenizer: Any) -> RightPaddingCollator:
        """The collator for ``tokenizer``'s pad ids; :class:`ConfigError` if it has no pad token."""
        pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None:
            raise ConfigError(
                "the tokenizer has no pad token, so batches cannot be padded; call "
                "recsys_tutorial.models.ensure_pad_token(tokenizer, model) first"
            )
        return cls(int(pad), int(getattr(tokenizer, "pad_token_type_id", 0) or 0))

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if not features:
            raise DataError("cannot collate an empty batch")
        width = max(len(f["input_ids"]) for f in features)
        fill = {"input_ids": self.pad_token_id, "token_type_ids": self.pad_token_type_id}
        batch: dict[str, torch.Tensor] = {}
        for key in features[0]:
            values = [f[key] for f in features]
            if key in _TOKEN_KEYS:
                pad = fill.get(key, 0)
                rows = [list(v) + [pad] * (width - len(v)) for v in values]
                batch[key] = torch.tensor(rows, dtype=torch.long)
            elif key in ("labels", "label_mask"):
                batch[key] = torch.tensor(np.asarray(values, dtype=np.float32))
            else:
                batch[key] = torch.tensor(np.asarray(values))
        return batch


def make_loader(
    dataset: RatingTextDataset | RatingVectorDataset,
    batch_size: int,
    *,
    shuffle: bool,
    bucket: bool = True,
    seed: int = 0,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` with dynamic right padding (:class:`RightPaddingCollator`) (ch.5).

    ``bucket`` groups inputs of similar length; without it batches are random (``shuffle``) or
    in dataset order. Either way the order is a :class:`LengthBucketSampler`'s, resumable by
    epoch. ``batch_size``, ``seed`` and ``num_workers`` may be Python or NumPy integers;
    :class:`ConfigError` otherwise, or when the tokenizer has no pad token.
    """
    from .distributed import rank, world_size

    lengths = dataset.lengths if bucket else np.zeros(len(dataset), dtype=np.int64)
    # in a distributed run, training batches are global batches split across the processes
    replicas = world_size() if shuffle else 1
    sampler = LengthBucketSampler(lengths, batch_size, shuffle=shuffle, seed=seed,
                                  num_replicas=replicas, rank=rank() if replicas > 1 else 0)
    collator = RightPaddingCollator.for_tokenizer(dataset.tokenizer)
    workers = _count(num_workers, "num_workers", minimum=0)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collator, num_workers=workers)


# --------------------------------------------------------------------------- history -> vector of ratings


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the observed entries only (ch.4):
    ``L = (1/|Ω|) Σ_{i∈Ω} (r_i − r̂_i)²`` with Ω = entries where ``mask`` is 1.

    Unobserved targets may hold anything (even NaN). No observed entry gives 0.
    """
    if pred.shape != target.shape or pred.shape != mask.shape:
        raise DataError(
            f"pred {tuple(pred.shape)}, target {tuple(target.shape)} and mask {tuple(mask.shape)} "
            "must have the same shape"
        )
    observed = mask.to(torch.bool)
    diff = torch.where(observed, target.to(pred.dtype) - pred, torch.zeros_like(pred))
    return (diff * diff).sum() / observed.sum().clamp(min=1)


def rating_matrix(
    ratings: pd.DataFrame,
    users: Sequence[Hashable],
    items: Sequence[Hashable],
    *,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
) -> np.ndarray:
    """A ``(len(users), len(items))`` float32 array of ratings, NaN where unobserved (ch.4).

    Row ``i`` is ``users[i]``, column ``j`` is ``items[j]``. Ids are matched exactly as given
    (``1`` and ``"1"`` differ; ``"007"`` stays ``"007"``); ratings of other users or items are
    left out. Raises :class:`DataError` for a repeated id in ``users``/``items``, or when no
    rating matches because the ids are of another kind than the column's (int vs str).
    """
    rows = _positions(ratings[user_col], users, "users", user_col)
    cols = _positions(ratings[item_col], items, "items", item_col)
    out = np.full((len(users), len(items)), np.nan, np.float32)
    keep = (rows >= 0) & (cols >= 0)
    out[rows[keep], cols[keep]] = ratings[rating_col].to_numpy(np.float32)[keep]
    return out


def _positions(column: pd.Series, ids: Sequence[Hashable], what: str, col: str) -> np.ndarray:
    """Position of each of ``column``'s ids in ``ids`` (-1 if absent), matching ids exactly."""
    index = pd.Index(list(ids), dtype=object)
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(
            f"rating_matrix: {what} lists id {id_repr(dup)} more than once; pass each id once"
        )
    found = index.get_indexer(pd.Index(column.to_numpy(dtype=object), dtype=object))
    if len(index) and len(column) and (found < 0).all():
        kinds, theirs = {_kind(v) for v in index[:20]}, {_kind(v) for v in column.iloc[:20]}
        if kinds.isdisjoint(theirs):
            raise DataError(
                f"rating_matrix: no {col!r} value matches {what} (ids are {sorted(kinds)}, "
                f"the column holds {sorted(theirs)}); ids are matched as given: pass ids of the "
                "column's kind"
            )
    return found


def _kind(value: Any) -> str:
    """``"int"``, ``"float"`` or ``"str"`` (Python and NumPy alike), else the type's name."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "str" if isinstance(value, (str, np.str_)) else type(value).__name__


class RatingVectorDataset(Dataset):
    """User history text -> vector of ``k`` item ratings with an observation mask (ch.4).

    ``targets`` is an ``(n_users, k)`` array with NaN for unobserved ratings (see
    :func:`rating_matrix`). Items yield input_ids, attention_mask, ``labels`` (k floats, 0 where
    unobserved) and ``label_mask`` (1 where observed); train with :func:`masked_mse`.
    The tokenizer is set to pad on the right. ``max_length`` may be a NumPy integer.
    """

    def __init__(
        self,
        histories: Sequence[str],
        targets: np.ndarray,
        tokenizer: Any,
        *,
        max_length: int = 96,
    ) -> None:
        targets = np.asarray(targets, dtype=np.float32)
        if targets.ndim != 2 or targets.shape[0] != len(histories):
            raise DataError(
                f"targets must be (n_users, k) with one row per history; got shape {targets.shape} "
                f"for {len(histories)} histories"
            )
        self.tokenizer = use_right_padding(tokenizer)
        self.max_length = _count(max_length, "max_length (tokens)", minimum=2)
        self.mask = (~np.isnan(targets)).astype(np.float32)
        self.labels = np.nan_to_num(targets, nan=0.0)
        enc = tokenizer([str(h) for h in histories], truncation=True, max_length=self.max_length)
        keep = ("input_ids", "attention_mask", "token_type_ids")
        self.encodings = {k: [list(v) for v in enc[k]] for k in keep if k in enc}
        self.lengths = np.array([len(ids) for ids in self.encodings["input_ids"]], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {k: v[index] for k, v in self.encodings.items()}
        item["labels"] = self.labels[index].tolist()
        item["label_mask"] = self.mask[index].tolist()
        return item
