"""The language model as the item tower of a collaborative model, fine-tuned end to end (ch.8).

:class:`TextTower` predicts

    r̂(u, i) = μ + b_u + b_i + w·e_i + p_u·(q_i + A e_i)

where ``e_i`` is the language model's mean-pooled output over the item's short text
("title (year) | genres", about 15 tokens), *fine-tuned* together with everything else. As in
:class:`recsys_tutorial.hybrid.TextHybrid`, the item's own terms ``b_i`` and ``q_i`` are dropped
for a random share of training rows (``drop_item_share``), so the text path learns to stand
alone and carries items never rated in training (cold start); users unseen in training get
``μ`` and the item's terms.

Fast by construction: a batch keeps up to ``item_group`` ratings of one item together and
encodes each of its *unique* items once (:mod:`recsys_tutorial.text_tower_parts`), the texts
sorted by length and cut into buckets, bf16 autocast with plain attention on a CPU, fused
AdamW with one learning rate for the pretrained body and another for the new parameters, and
``μ``, ``b_u``, ``b_i`` start from a fitted :class:`~recsys_tutorial.baselines.BiasBaseline`.
Training runs through the package's one loop, :func:`recsys_tutorial.train.train`. Afterwards
the whole catalogue is encoded once (``item_vectors_``), so scoring a user against every item
is a matrix product (:meth:`TextTower.score_items`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .baselines import RatingModel, check_int, check_real, index_of
from .catalogue import id_array
from .config import Profile, check_learning_rate, get_profile
from .errors import CheckpointError, ConfigError, UnknownItemError
from .schema import id_repr, require_ratings
from .text_tower_parts import (
    CatalogueTokens,
    ItemGroupedBatchSampler,
    RatingRows,
    TowerCollator,
    TowerHead,
    TowerNet,
    catalogue_texts,
    content_key,
    read_tower_checkpoint,
    start_from_biases,
    tower_forward,
)

__all__ = ["MODEL_TYPE", "TextTower", "TextTowerConfig", "cached_text_tower", "profile_settings"]

#: ``model_type`` recorded in a text tower's checkpoint (the CLI tells the models apart by it).
MODEL_TYPE = "text-tower"


@dataclass(frozen=True)
class TextTowerConfig:
    """Hyper-parameters of a :class:`TextTower` (validated; NumPy scalars accepted).

    ``lr`` is the pretrained body's learning rate, ``head_lr`` the new parameters'; ``reg`` the
    L2 penalty on the user and item factors a batch touches (standardised units);
    ``item_group`` the most ratings of one item kept together in a batch (1: plain shuffle);
    ``encode_chunk`` the most texts per encoder call (length buckets); ``patience`` counts
    validation evaluations (every ``eval_every`` steps, else every epoch) without improvement.
    Raises :class:`ConfigError` naming the field for a value out of range.
    """

    model_name: str | None = None  # Hugging Face id or folder; None: the packaged MiniLM
    n_factors: int = 32
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 512
    item_group: int = 32
    lr: float = 1e-4
    head_lr: float = 5e-3
    reg: float = 0.05
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    max_grad_norm: float | None = 1.0
    drop_item_share: float = 0.3
    max_length: int = 32
    encode_chunk: int = 128
    eval_every: int | None = None
    patience: int | None = 2
    init_biases: bool = True
    bf16: bool = True
    seed: int = 42
    scale: tuple[float, float] | None = None
    device: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        from .schema import check_scale

        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        optional = ("max_steps", "eval_every", "patience", "max_grad_norm")  # None: off
        for name in ("n_factors", "epochs", "batch_size", "item_group", "max_length",
                     "encode_chunk", "seed", "max_steps", "eval_every", "patience"):
            if getattr(self, name) is not None or name not in optional:
                put(name, check_int(f"TextTowerConfig.{name}", getattr(self, name),
                                    minimum=0 if name == "seed" else 1))
        for name in ("lr", "head_lr"):
            put(name, check_learning_rate(getattr(self, name)))
        for name in ("reg", "weight_decay", "warmup_ratio", "drop_item_share", "max_grad_norm"):
            value = getattr(self, name)
            if value is not None or name not in optional:
                put(name, check_real(f"TextTowerConfig.{name}", value))
            if name in ("warmup_ratio", "drop_item_share") and value >= 1.0:
                raise ConfigError(f"TextTowerConfig.{name} must be in [0, 1), got {value!r}")
        if self.scale is not None:
            put("scale", check_scale(self.scale, name="TextTowerConfig.scale"))
        if self.model_name is not None:
            put("model_name", os.fspath(self.model_name))
        for name in ("init_biases", "bf16", "progress"):
            put(name, bool(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-able values (``scale`` as a list)."""
        out = dataclasses.asdict(self)
        out["scale"] = list(self.scale) if self.scale is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextTowerConfig:
        """The config :meth:`to_dict` wrote; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown TextTower setting(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        if values.get("scale") is not None:
            values["scale"] = tuple(values["scale"])
        return cls(**values)


def profile_settings(profile: Profile | str) -> dict[str, Any]:
    """The :class:`TextTowerConfig` sizes a profile implies: ``quick`` trains a few steps
    (seconds), ``full`` about ten minutes on MovieLens ml-latest-small on a 2-core CPU."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    if profile.name == "quick":
        return {"epochs": 1, "max_steps": profile.max_steps or 4, "batch_size": 128,
                "seed": profile.seed}
    return {"epochs": 4, "batch_size": 512, "seed": profile.seed}


class TextTower(RatingModel):
    """The text tower (see the module text): ``TextTower(**settings)`` or
    ``TextTower(TextTowerConfig(...))``; settings as :class:`TextTowerConfig`.

    ``fit(train, val=None, *, items)``, ``predict(frame)`` (ratings clipped to the data's
    scale), ``score_items(user_id, item_ids)``, ``save(directory)`` / ``TextTower.load``.
    Ids of users and items are kept exactly as given. Raises :class:`ConfigError` for an
    unknown setting."""

    def __init__(self, config: TextTowerConfig | None = None, **settings: Any) -> None:
        if config is not None and settings:
            raise ConfigError("pass a TextTowerConfig or keyword settings, not both")
        self.config = config if config is not None else TextTowerConfig.from_dict(settings)

    @property
    def scale(self) -> tuple[float, float] | None:  # what RatingModel clips to, if given
        return self.config.scale

    # ------------------------------------------------------------------ training

    def fit(self, train: pd.DataFrame, val: pd.DataFrame | None = None, *,
            items: pd.DataFrame, callbacks: Sequence | None = None) -> TextTower:
        """Fine-tune on every rating of ``train``; ``val`` (optional) drives early stopping and
        the best weights kept. ``items`` is the catalogue (``item_col``, title, year, genres);
        every training item must be in it. ``callbacks`` go to the training loop.

        Raises :class:`~recsys_tutorial.errors.SchemaError` (no rating column, a bad
        catalogue), :class:`UnknownItemError` (an item of ``train``/``val`` not in ``items``)."""
        from torch.utils.data import DataLoader

        from .config import get_device, seed_everything
        from .models import TargetScaler, load_backbone, load_tokenizer
        from .train import TrainConfig
        from .train import train as train_loop

        cfg = self.config
        ratings = self._start_fit(train)
        if val is not None:
            require_ratings(val, rating_col=self.rating_col, what="TextTower.fit(val)")
        ids, self.texts_ = catalogue_texts(items, item_col=self.item_col)
        self.items_ = pd.Index(ids)
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        rows = self._rows(train, known_items=None, u_codes=u_codes)
        self.item_known_ = np.zeros(len(self.items_), dtype=bool)
        self.item_known_[rows.items] = True
        rows.item_known = self.item_known_[rows.items]
        self.scaler_ = TargetScaler.fit(ratings, scale=self.scale_)
        seed_everything(cfg.seed)
        self.tokenizer_ = load_tokenizer(cfg.model_name)
        encoder = load_backbone(cfg.model_name)
        head = TowerHead(len(self.users_), len(self.items_), encoder.config.hidden_size,
                         cfg.n_factors, seed=cfg.seed)
        if cfg.init_biases:
            start_from_biases(head, train, self.users_, self.items_, self.scaler_,
                              columns=(self.user_col, self.item_col, self.rating_col))
        self.net_ = TowerNet(encoder, head, drop_item_share=cfg.drop_item_share, reg=cfg.reg,
                             encode_chunk=cfg.encode_chunk).to(get_device(cfg.device))
        self.tokens_ = CatalogueTokens(self.texts_, self.tokenizer_, cfg.max_length)
        batch_size = min(cfg.batch_size, len(rows))
        sampler = ItemGroupedBatchSampler(rows.items, batch_size, group=cfg.item_group,
                                          seed=cfg.seed)
        train_loader = DataLoader(rows, batch_sampler=sampler,
                                  collate_fn=TowerCollator(rows, self.tokens_))
        val_loader = None
        if val is not None and len(val):
            val_rows = self._rows(val, known_items=self.item_known_)
            val_rows = val_rows.take(np.argsort(val_rows.items, kind="stable"))  # share items
            val_loader = DataLoader(val_rows, batch_size=cfg.batch_size, shuffle=False,
                                    collate_fn=TowerCollator(val_rows, self.tokens_))
        config = TrainConfig(
            lr=cfg.lr, head_lr=cfg.head_lr, weight_decay=cfg.weight_decay, epochs=cfg.epochs,
            max_steps=cfg.max_steps, batch_size=batch_size, warmup_ratio=cfg.warmup_ratio,
            max_grad_norm=cfg.max_grad_norm, bf16=cfg.bf16, eval_every=cfg.eval_every,
            patience=cfg.patience, seed=cfg.seed, checkpoint_dir=None, progress=cfg.progress,
        )
        self.item_vectors_ = np.zeros((len(self.items_), encoder.config.hidden_size), np.float32)
        self.result_ = train_loop(self.net_, train_loader, val_loader, config,
                                  scaler=self.scaler_, forward=tower_forward, callbacks=callbacks)
        self.history_ = self.result_.history
        self.refresh_item_vectors()
        return self

    def _rows(self, frame: pd.DataFrame, *, known_items: np.ndarray | None, u_codes=None):
        """``frame``'s ratings as :class:`~recsys_tutorial.text_tower_parts.RatingRows` codes."""
        items = frame[self.item_col].to_numpy()
        i_codes, i_known = index_of(self.items_, items)
        if not i_known.all():
            missing = pd.unique(np.asarray(items, dtype=object)[~i_known])
            raise UnknownItemError(
                f"{len(missing)} item(s) are not in the catalogue (items=), e.g. "
                f"{', '.join(id_repr(m) for m in missing[:5])}; pass the whole catalogue")
        if u_codes is None:
            u_codes, u_known = index_of(self.users_, frame[self.user_col].to_numpy())
        else:
            u_known = np.ones(len(frame), dtype=bool)
        ratings = pd.to_numeric(frame[self.rating_col]).to_numpy(np.float32)
        item_known = known_items[i_codes] if known_items is not None else np.ones(len(frame), bool)
        return RatingRows(np.asarray(u_codes, np.int64), u_known, i_codes, item_known, ratings)

    # ------------------------------------------------------------------ item vectors, scoring

    def refresh_item_vectors(self, item_ids=None) -> None:
        """Encode ``item_ids`` (default: the whole catalogue) with the current language model
        into ``item_vectors_`` and update the cached item terms. ``fit`` calls it once at the
        end; call it inside a training callback before scoring items mid-training.

        Raises :class:`UnknownItemError` for an id outside the catalogue."""
        from .forward import bf16_autocast, device_of

        rows = (np.arange(len(self.items_)) if item_ids is None
                else self._item_rows(id_array(item_ids)))
        tokens = self._tokens()
        net, device = self.net_, device_of(self.net_)
        order = rows[np.argsort(tokens.lengths[rows], kind="stable")]  # less padding
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad(), bf16_autocast(device, self.config.bf16):
                for start in range(0, len(order), 256):
                    chunk = order[start : start + 256]
                    batch = {k: v.to(device) for k, v in tokens.batch(chunk).items()}
                    self.item_vectors_[chunk] = net.encode(**batch).cpu().numpy()
        finally:
            net.train(was_training)
        self._sync()

    def _tokens(self) -> CatalogueTokens:
        if getattr(self, "tokens_", None) is None:
            self.tokens_ = CatalogueTokens(self.texts_, self.tokenizer_, self.config.max_length)
        return self.tokens_

    def _sync(self) -> None:
        """Cache the head as float64 arrays: μ, user biases and factors, and each catalogue
        item's offset (b_i if rated in training, + w·e_i) and factor (q_i if rated, + A e_i)."""
        h = self.net_.score
        known = torch.from_numpy(self.item_known_.astype(np.float32))
        with torch.no_grad():
            e = torch.from_numpy(self.item_vectors_).to(h.mean.device)
            offsets = known * h.item_bias.cpu() + h.text_bias(e).squeeze(-1).cpu()
            factors = known[:, None] * h.item_factors.cpu() + h.text_factors(e).cpu()
            self.mu_ = float(h.mean)
            self.user_bias_ = h.user_bias.cpu().numpy().astype(np.float64)
            self.user_factors_ = h.user_factors.cpu().numpy().astype(np.float64)
        self.item_offsets_ = offsets.numpy().astype(np.float64)
        self.item_factors_ = factors.numpy().astype(np.float64)

    def _item_rows(self, items: np.ndarray) -> np.ndarray:
        rows, known = index_of(self.items_, items)
        if not known.all():
            missing = pd.unique(np.asarray(items, dtype=object)[~known])[:5]
            raise UnknownItemError(
                f"item(s) {', '.join(id_repr(m) for m in missing)} are not in the catalogue the "
                "text tower was fitted with; fit it with a catalogue (items=) that holds them")
        return rows

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        ii = self._item_rows(items)
        ui, known_u = index_of(self.users_, users)
        z = (self.mu_ + known_u * self.user_bias_[ui] + self.item_offsets_[ii]
             + known_u * (self.user_factors_[ui] * self.item_factors_[ii]).sum(1))
        return self.scaler_.inverse_transform(z, clip=False)

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Predicted ratings (float64, unclipped) of ``item_ids`` for ``user_id``: one matrix
        product over the cached item vectors. Unknown users get μ + the item's terms."""
        self._check_fitted()
        ii = self._item_rows(id_array(item_ids))
        ui, known = index_of(self.users_, np.array([user_id], dtype=object))
        z = self.mu_ + self.item_offsets_[ii]
        if known[0]:
            z = z + self.user_bias_[ui[0]] + self.item_factors_[ii] @ self.user_factors_[ui[0]]
        return self.scaler_.inverse_transform(z, clip=False)

    # ------------------------------------------------------------------ saving

    def save(self, directory: str | os.PathLike[str], *, info: dict | None = None) -> Path:
        """Write a checkpoint folder atomically: the language model and tokenizer, the head and
        item vectors (safetensors, with checksums) and ids, texts, settings (JSON; int and str
        ids keep their kind). ``info`` (JSON-able) is stored beside, e.g. the run's profile.

        Raises :class:`CheckpointError` for ids that are neither int nor str."""
        from .checkpoints import save_checkpoint
        from .text_tower_parts import ids_to_json

        self._check_fitted()
        tensors = {f"score.{k}": v for k, v in self.net_.score.state_dict().items()}
        tensors["item_vectors"] = torch.from_numpy(self.item_vectors_)
        tensors["item_known"] = torch.from_numpy(self.item_known_.astype(np.float32))
        tower = {
            "config": self.config.to_dict(),
            "users": ids_to_json(self.users_.to_numpy(), what="TextTower.save: user ids"),
            "items": ids_to_json(self.items_.to_numpy(), what="TextTower.save: item ids"),
            "texts": list(self.texts_), "scale": list(self.scale_), "mean": self.mean_,
            "columns": [self.user_col, self.item_col, self.rating_col],
            "best_val_rmse": getattr(getattr(self, "result_", None), "best_val_rmse", None),
        }
        extra = {**(info or {}), "model_type": MODEL_TYPE, "text_tower": tower}
        return save_checkpoint(directory, self.net_.encoder, self.tokenizer_, self.scaler_,
                               extra=extra, tensors=tensors)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TextTower:
        """A text tower :meth:`save` wrote, ready to predict (no catalogue re-encoding).

        Raises :class:`CheckpointError` for a folder that is not a text tower's, or damaged."""
        parts = read_tower_checkpoint(directory, MODEL_TYPE)
        tower = parts["meta"]
        try:
            model = cls(TextTowerConfig.from_dict(tower["config"]))
            model.user_col, model.item_col, model.rating_col = tower["columns"]
            model.scale_, model.mean_ = tuple(tower["scale"]), float(tower["mean"])
            model.texts_ = list(tower["texts"])
        except (ConfigError, KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{directory}: unusable text tower settings ({exc})") from exc
        model.users_, model.items_ = pd.Index(parts["users"]), pd.Index(parts["items"])
        model.tokenizer_, model.scaler_, model.tokens_ = parts["tokenizer"], parts["scaler"], None
        model.item_vectors_, model.item_known_ = parts["item_vectors"], parts["item_known"]
        model.net_ = TowerNet(parts["encoder"], parts["head"],
                              encode_chunk=model.config.encode_chunk)
        model.net_.eval()
        model._sync()
        return model


def cached_text_tower(train: pd.DataFrame, items: pd.DataFrame, *, profile: Profile | str,
                      key: str = MODEL_TYPE, cache: str | os.PathLike[str] | None = None,
                      val: pd.DataFrame | None = None, **settings: Any) -> TextTower:
    """A text tower trained on ``train`` (and ``val``), loaded from ``cache`` (default
    ``config.cache_dir()``) when it was trained before, else trained and saved there, so
    several chapters share one checkpoint.

    The folder is ``<cache>/text_tower/<key>-<hash>``, the hash over the profile's name, the
    settings (:func:`profile_settings` updated by ``settings``) and the content of ``train``,
    ``val`` and the catalogue's texts. A damaged cached checkpoint is trained again."""
    from .config import cache_dir

    profile = get_profile(profile) if isinstance(profile, str) else profile
    config = TextTowerConfig.from_dict({**profile_settings(profile), **settings})
    model = TextTower(config)
    cols = [model.user_col, model.item_col, model.rating_col]
    frames = [train] if val is None else [train, val]
    digest = content_key([profile.name, config.to_dict()], frames, cols, items,
                         item_col=model.item_col)
    folder = Path(cache if cache is not None else cache_dir()) / "text_tower" / f"{key}-{digest}"
    if folder.exists():
        try:
            return TextTower.load(folder)
        except CheckpointError:
            pass  # damaged or interrupted: train again and replace it
    model.fit(train, val, items=items)
    model.save(folder, info={"profile": profile.name, "key": key})
    return model
