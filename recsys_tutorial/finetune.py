"""Fine-tuning in one call (ch.3-5): load a model, tokenize the pairs, build the loaders, train.

:func:`finetune_rating_model` is what the notebooks and the CLI use; the loop itself is
:func:`recsys_tutorial.train.train_loop`. Its arguments come in two objects: a
:class:`ModelSpec` says *what* trains (which model, frozen how far or wrapped in which peft
adapter, its dropout and token budget), a :class:`~recsys_tutorial.train_config.TrainConfig`
says *how* (learning rate, batch size, epochs, steps, seed)::

    spec = ModelSpec(peft_method="lora", peft_kwargs={"r": 8}, max_length=96)
    config = TrainConfig(lr=1e-3, batch_size=32, max_steps=200, bf16=True)
    fitted = finetune_rating_model(train_pairs, val_pairs, spec=spec, config=config)

``finetune_rating_model`` and ``FINETUNE_DROPOUT`` are re-exported by
:mod:`recsys_tutorial.train`.
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .adapters import PEFT_METHODS, apply_peft
from .config import Profile, get_device, get_profile, seed_everything
from .datasets import RatingTextDataset, make_loader
from .errors import ConfigError, DataError, SchemaError
from .models import TargetScaler, canonical_freeze_strategy, freeze, load_regressor
from .schema import IMPLICIT_ATTR, RATING_COL, rating_scale, require_ratings
from .train_config import FineTuneResult, TrainConfig, as_float, as_int

#: Dropout used by :func:`finetune_rating_model` unless told otherwise. Off: for a regression head
#: it mostly adds noise to the prediction, and on a CPU its random masks cost as much as a third of
#: a bf16 training step (benchmarks/speed.py; chapter 9.2 measures dropout as a regulariser).
FINETUNE_DROPOUT: float = 0.0

__all__ = ["FINETUNE_DROPOUT", "LEGACY_SPEC_ARGUMENTS", "ModelSpec", "finetune_rating_model",
           "run_sizes", "spec_from_arguments", "training_ratings"]

#: Keyword arguments :func:`finetune_rating_model` took before :class:`ModelSpec`; still
#: accepted, with a :class:`DeprecationWarning`, and moved into the spec.
LEGACY_SPEC_ARGUMENTS = ("model_name", "freeze_strategy", "n_layers", "peft_method", "peft_kwargs",
                         "max_length", "dropout")


def training_ratings(train_pairs: pd.DataFrame, loss: str = "mse") -> np.ndarray:
    """``train_pairs[RATING_COL]`` as float64, checked for :func:`finetune_rating_model`.

    Raises :class:`~recsys_tutorial.errors.SchemaError` without a rating column (implicit
    feedback) and :class:`DataError` for no ratings, missing ones, or labels other than 0/1
    with ``loss="bce"``.
    """
    require_ratings(train_pairs, what="finetune_rating_model (train_pairs)")
    if train_pairs.attrs.get(IMPLICIT_ATTR):
        raise SchemaError(
            "finetune_rating_model (train_pairs): these pairs come from implicit feedback "
            "(clicks, plays, purchases), so there is no rating to predict. Fine-tune on rated "
            "pairs, or turn events into 0/1 labels (a click and a shown-but-not-clicked item) "
            "and train with TrainConfig(loss='bce') as chapter 6.3 does"
        )
    ratings = train_pairs[RATING_COL].to_numpy(np.float64)
    if len(ratings) == 0 or np.isnan(ratings).any():
        raise DataError("train_pairs must hold at least one rated pair and no missing ratings")
    if loss == "bce" and not np.isin(ratings, (0.0, 1.0)).all():
        raise DataError("loss='bce' needs 0/1 labels in the rating column (e.g. clicks)")
    return ratings


@dataclass(frozen=True)
class ModelSpec:
    """What :func:`finetune_rating_model` trains: the model and which of its parts learn.

    * ``model_name``: a Hugging Face id or a local folder (``None``: the packaged MiniLM);
    * ``freeze_strategy``: ``"none"`` (train everything), ``"backbone"`` (only the head) or
      ``"lower"`` (the top ``n_layers`` blocks and the head); the older names ``"full"``,
      ``"head"`` and ``"top"`` are accepted and stored by their new names (see
      :func:`recsys_tutorial.models.freeze`);
    * ``peft_method``: one of :data:`recsys_tutorial.adapters.PEFT_METHODS`, with
      ``peft_kwargs`` for :func:`recsys_tutorial.adapters.apply_peft` (a mapping or
      ``(name, value)`` pairs, stored as a tuple of pairs: the spec stays immutable; read
      them back as a dict with :attr:`peft_options`). A peft method needs
      ``freeze_strategy="none"``: peft freezes the body itself;
    * ``dropout``: every dropout probability of the model, in ``[0, 1)`` (default
      :data:`FINETUNE_DROPOUT`, off; ``None`` keeps the checkpoint's own);
    * ``max_length``: tokens per (history, candidate) input (``None``: the profile's).

    Integers may be NumPy integers (stored as ``int``). Raises
    :class:`~recsys_tutorial.errors.ConfigError` naming the field for an unknown freeze
    strategy or peft method, both at once, ``n_layers < 0``, ``max_length < 1`` or a dropout
    outside ``[0, 1)``.
    """

    model_name: str | None = None
    freeze_strategy: str = "none"
    n_layers: int = 2
    peft_method: str | None = None
    peft_kwargs: tuple[tuple[str, Any], ...] | None = field(default=None, hash=False)
    dropout: float | None = FINETUNE_DROPOUT
    max_length: int | None = None

    def __post_init__(self) -> None:
        name = self.model_name
        if name is not None and not isinstance(name, (str, os.PathLike)):
            raise ConfigError(
                f"ModelSpec.model_name must be a Hugging Face id, a folder or None, got {name!r}"
            )
        self._set("model_name", None if name is None else os.fspath(name))
        try:
            self._set("freeze_strategy", canonical_freeze_strategy(self.freeze_strategy))
        except ConfigError as exc:
            raise ConfigError(f"ModelSpec.freeze_strategy: {exc}") from None
        self._set("n_layers", as_int(self.n_layers, name="ModelSpec.n_layers", minimum=0))
        if self.peft_method is not None and self.peft_method not in PEFT_METHODS:
            raise ConfigError(
                f"ModelSpec.peft_method must be one of {PEFT_METHODS} or None, "
                f"got {self.peft_method!r}"
            )
        if self.peft_method is not None and self.freeze_strategy != "none":
            raise ConfigError(
                "ModelSpec: choose either a freeze strategy or a peft method, not both "
                f"(got freeze_strategy={self.freeze_strategy!r}, peft_method="
                f"{self.peft_method!r}): peft freezes the body itself"
            )
        self._set("peft_kwargs", _pairs(self.peft_kwargs))
        if self.dropout is not None:
            dropout = as_float(self.dropout, name="ModelSpec.dropout")
            if not 0.0 <= dropout < 1.0:
                raise ConfigError(f"ModelSpec.dropout must be in [0, 1) or None, got {dropout!r}")
            self._set("dropout", dropout)
        if self.max_length is not None:
            self._set("max_length", as_int(self.max_length, name="ModelSpec.max_length", minimum=1))

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)  # frozen: __post_init__ normalises in place

    @property
    def peft_options(self) -> dict[str, Any]:
        """``peft_kwargs`` as a fresh dict (empty when there are none)."""
        return dict(self.peft_kwargs or ())


def _pairs(options: object) -> tuple[tuple[str, Any], ...] | None:
    """``options`` (a mapping or ``(name, value)`` pairs) as a tuple of pairs, or None."""
    if options is None:
        return None
    try:
        items = list(options.items() if isinstance(options, Mapping) else options)
        pairs = tuple((key, value) for key, value in items)
    except (TypeError, ValueError):
        raise ConfigError(
            "ModelSpec.peft_kwargs must be a mapping such as {'r': 8, 'alpha': 16} or "
            f"(name, value) pairs, got {options!r}"
        ) from None
    bad = [key for key, _ in pairs if not isinstance(key, str)]
    if bad:
        raise ConfigError(f"ModelSpec.peft_kwargs: names must be strings, got {bad!r}")
    return pairs


def spec_from_arguments(spec: ModelSpec | None, legacy: Mapping[str, Any]) -> ModelSpec:
    """The :class:`ModelSpec` of a :func:`finetune_rating_model` call: ``spec``, or one built
    from the old keyword arguments (with a :class:`DeprecationWarning`), or the default.

    Raises :class:`ConfigError` for a keyword that is not one of
    :data:`LEGACY_SPEC_ARGUMENTS` (naming it, and where it belongs if it is a
    :class:`TrainConfig` field) and for ``spec`` given together with old keywords.
    """
    unknown = [name for name in legacy if name not in LEGACY_SPEC_ARGUMENTS]
    if unknown:
        raise ConfigError(f"finetune_rating_model: {_unknown_message(unknown[0])}")
    if spec is not None and not isinstance(spec, ModelSpec):
        raise ConfigError(f"spec must be a ModelSpec or None, got {type(spec).__name__}")
    if not legacy:
        return spec if spec is not None else ModelSpec()
    names = ", ".join(f"{name}=" for name in legacy)
    moved = ", ".join(f"{name}=..." for name in legacy)
    if spec is not None:
        raise ConfigError(
            f"finetune_rating_model: got spec= and the old keyword(s) {names}; "
            f"put them in the spec: spec=ModelSpec({moved})"
        )
    warnings.warn(
        f"finetune_rating_model: the keyword(s) {names} are deprecated; "
        f"pass spec=ModelSpec({moved}) instead",
        DeprecationWarning,
        stacklevel=3,
    )
    return ModelSpec(**legacy)


def _unknown_message(name: str) -> str:
    config_fields = [f.name for f in fields(TrainConfig)]
    if name in config_fields:
        return f"{name}= is a training setting; pass config=TrainConfig({name}=...)"
    known = [*LEGACY_SPEC_ARGUMENTS, *config_fields, "spec", "config", "profile", "scaler",
             "scale", "bucket", "device", "resume", "callbacks"]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}=?)" if close else ""
    return (
        f"unknown keyword argument {name}={hint}. Model settings go in spec=ModelSpec(...) "
        f"({', '.join(LEGACY_SPEC_ARGUMENTS)}), training settings in config=TrainConfig(...)"
    )


def run_sizes(
    spec: ModelSpec, config: TrainConfig | None, profile: str | Profile | None
) -> tuple[TrainConfig, int]:
    """``(config, max_length)`` of a run, each from one place: ``config``, else a
    :class:`TrainConfig` with the profile's epochs, step cap, batch size and seed;
    ``spec.max_length``, else the profile's. The profile is read only when needed."""
    if config is not None and spec.max_length is not None:
        return config, spec.max_length
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    if config is None:
        config = TrainConfig(epochs=prof.epochs, max_steps=prof.max_steps,
                             batch_size=prof.batch_size, seed=prof.seed)
    return config, spec.max_length if spec.max_length is not None else prof.max_length


def finetune_rating_model(
    train_pairs: pd.DataFrame,
    val_pairs: pd.DataFrame | None,
    *,
    spec: ModelSpec | None = None,
    config: TrainConfig | None = None,
    profile: str | Profile | None = None,
    scaler: TargetScaler | None = None,
    scale: tuple[float, float] | None = None,
    bucket: bool = True,
    device: str | None = None,
    resume: bool = False,
    callbacks: Sequence[Callable[[dict[str, Any]], bool | None]] | None = None,
    **legacy: Any,
) -> FineTuneResult:
    """Load a model, tokenize the pairs (from :func:`recsys_tutorial.text.make_pairs`) and train
    (ch.3-5, used by the notebooks and the CLI); returns model, tokenizer, scaler and result.

    ``spec`` (:class:`ModelSpec`, default ``ModelSpec()``: the packaged MiniLM, all of it
    training, dropout off) says what trains; ``config`` (:class:`TrainConfig`) how. Each size
    comes from one place: the token budget from ``spec.max_length``, else the profile's; the
    batch size, epochs, step cap and seed from ``config``, else (``config=None``) the
    profile's. ``profile`` is a :class:`~recsys_tutorial.config.Profile` or its name (default:
    ``RECSYS_TUTORIAL_PROFILE``). A batch larger than the training pairs shrinks to them.

    ``scaler`` replaces the one fitted on the training ratings (e.g. ``TargetScaler(mean,
    std, low=0.0, high=1.0)`` for targets outside the star scale); ``scale=(low, high)`` is
    the rating scale predictions are clipped to (default: the pairs' own,
    :func:`recsys_tutorial.schema.rating_scale`: their ``attrs``, else the training ratings'
    range). ``resume`` and ``callbacks`` go to :func:`recsys_tutorial.train.train`.

    The old keywords (``model_name``, ``freeze_strategy``, ``n_layers``, ``peft_method``,
    ``peft_kwargs``, ``max_length``, ``dropout``) still work, with a
    :class:`DeprecationWarning`, and build the spec. Raises :class:`ConfigError` for any other
    keyword (naming it), :class:`~recsys_tutorial.errors.SchemaError` for pairs without a
    rating column (implicit feedback) and the errors of :func:`~recsys_tutorial.train.train`.
    """
    spec = spec_from_arguments(spec, legacy)
    config, max_length = run_sizes(spec, config, profile)
    if val_pairs is not None and len(val_pairs):
        require_ratings(val_pairs, what="finetune_rating_model (val_pairs)")
    ratings = training_ratings(train_pairs, config.loss)
    if scaler is None and config.loss == "bce":
        scaler = TargetScaler.binary()  # 0/1 labels: logits in, probabilities out
    elif scaler is None:  # why scale: predictions are clipped to the data's own rating scale
        scaler = TargetScaler.fit(ratings, scale=rating_scale(train_pairs, scale))
    seed_everything(config.seed)  # why: the new head's random init repeats too
    model, tokenizer = load_regressor(spec.model_name, dropout=spec.dropout)
    model.to(get_device(device))
    train_ds = RatingTextDataset.from_pairs(train_pairs, tokenizer, max_length=max_length)
    # why min: a few-label experiment may have fewer ratings than one batch; train() itself refuses
    # a batch larger than its data, the convenience function shrinks the batch to the data instead
    batch_size = min(config.batch_size, len(train_ds))
    train_loader = make_loader(train_ds, batch_size, shuffle=True, bucket=bucket, seed=config.seed)
    val_loader = None
    if val_pairs is not None and len(val_pairs):
        val_ds = RatingTextDataset.from_pairs(val_pairs, tokenizer, max_length=max_length)
        val_loader = make_loader(val_ds, config.batch_size, shuffle=False, bucket=bucket)
    if spec.peft_method is not None:
        options = spec.peft_options
        if spec.peft_method == "adalora":
            steps = math.ceil(len(train_loader) / config.grad_accum_steps) * config.epochs
            options.setdefault("total_step", min(steps, config.max_steps or steps))
        model = apply_peft(model, spec.peft_method, **options)
    else:
        freeze(model, spec.freeze_strategy, spec.n_layers)
    from .train import train  # here, not at the top: recsys_tutorial.train re-exports this module

    result = train(model, train_loader, val_loader, config, scaler=scaler, resume=resume,
                   callbacks=callbacks)
    return FineTuneResult(model=model, tokenizer=tokenizer, scaler=scaler, result=result)
