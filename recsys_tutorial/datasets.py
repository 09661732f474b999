"""PyTorch datasets and loaders for the two formulations of rating prediction (chapters 3-5).

* :class:`RatingTextDataset` — the cross-encoder formulation (ch.3): the input is the pair
  (history text, candidate text), the target one rating. Pre-tokenized once; batches are
  padded dynamically by transformers' ``DataCollatorWithPadding`` and grouped by length with
  :class:`LengthBucketSampler` (ch.5: less padding, faster steps).
* :class:`RatingVectorDataset` — the source document's other formulation (ch.4): the input is
  the user's history text, the target a vector of ``k`` item ratings of which only the
  observed ones count, through :func:`masked_mse`.

Labels are ratings in rating units (float32); :func:`recsys_tutorial.train.train` standardises
them itself. For ``transformers.Trainer``, which knows nothing about the scaler, build the
dataset with ``scaler=`` so the labels are already standardised.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .errors import ConfigError, DataError

# --------------------------------------------------------------------------- (history, candidate) -> rating


class RatingTextDataset(Dataset):
    """Pre-tokenized (history, candidate) pairs with float32 rating labels (ch.3).

    ``truncation="only_first"`` cuts the history (the oldest entries are last, so they go first)
    and keeps the candidate whole; ``max_length`` is the token budget of one input.
    ``.lengths`` holds each input's token count, for :class:`LengthBucketSampler`.
    ``scaler`` (a :class:`~recsys_tutorial.models.TargetScaler`) standardises the labels; leave it
    ``None`` for :func:`~recsys_tutorial.train.train`, which standardises them itself.
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
        if max_length < 8:
            raise ConfigError(f"max_length must be at least 8 tokens, got {max_length}")
        n = len(histories)
        ratings_arr = np.full(n, np.nan, np.float32) if ratings is None else np.asarray(ratings, np.float32)
        if ratings_arr.shape != (n,):
            raise DataError(f"got {len(ratings_arr)} ratings for {n} text pairs; pass one rating per pair")
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
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
        if not (0 <= rank < num_replicas):
            raise ConfigError(f"rank must be in [0, num_replicas), got rank={rank}, num_replicas={num_replicas}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if chunk_batches <= 0:
            raise ConfigError(f"chunk_batches must be positive, got {chunk_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.chunk_batches = chunk_batches
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = int(epoch)

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


def make_loader(
    dataset: RatingTextDataset | RatingVectorDataset,
    batch_size: int,
    *,
    shuffle: bool,
    bucket: bool = True,
    seed: int = 0,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` with dynamic padding (``DataCollatorWithPadding``) (ch.5).

    ``bucket`` groups inputs of similar length; without it batches are random (``shuffle``) or
    in dataset order. Either way the order is a :class:`LengthBucketSampler`'s, resumable by
    epoch.
    """
    from transformers import DataCollatorWithPadding

    from .distributed import rank, world_size

    lengths = dataset.lengths if bucket else np.zeros(len(dataset), dtype=np.int64)
    # in a distributed run, training batches are global batches split across the processes
    replicas = world_size() if shuffle else 1
    sampler = LengthBucketSampler(lengths, batch_size, shuffle=shuffle, seed=seed,
                                  num_replicas=replicas, rank=rank() if replicas > 1 else 0)
    collator = DataCollatorWithPadding(dataset.tokenizer, return_tensors="pt")
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collator, num_workers=num_workers)


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
    users: Sequence[int],
    items: Sequence[int],
    *,
    user_col: str = "userId",
    item_col: str = "movieId",
    rating_col: str = "rating",
) -> np.ndarray:
    """A (len(users), len(items)) float32 array of ratings, NaN where unobserved (ch.4)."""
    u_index = {int(u): i for i, u in enumerate(users)}
    i_index = {int(i): j for j, i in enumerate(items)}
    out = np.full((len(u_index), len(i_index)), np.nan, np.float32)
    rows = ratings[user_col].map(u_index)
    cols = ratings[item_col].map(i_index)
    keep = rows.notna() & cols.notna()
    out[rows[keep].astype(int).to_numpy(), cols[keep].astype(int).to_numpy()] = ratings[rating_col][keep].to_numpy(
        np.float32
    )
    return out


class RatingVectorDataset(Dataset):
    """User history text -> vector of ``k`` item ratings with an observation mask (ch.4).

    ``targets`` is an ``(n_users, k)`` array with NaN for unobserved ratings (see
    :func:`rating_matrix`). Items yield input_ids, attention_mask, ``labels`` (k floats, 0 where
    unobserved) and ``label_mask`` (1 where observed); train with :func:`masked_mse`.
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
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
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
