"""One forward pass of any model, and the predictions and losses made from it (ch.3-5).

The training loop (:func:`recsys_tutorial.train.train_loop`), :func:`predict` and
:func:`evaluate` never call a model directly: they go through two small hooks, so any
``nn.Module`` with a forward pass can be trained and scored by the same code.

* ``forward(model, batch, targets=None) -> outputs`` (:data:`Forward`; default
  :func:`model_forward`). ``batch`` is the loader's dict of tensors without ``labels``, on the
  model's device; ``targets`` holds the standardised labels, shape ``(B,)``, while training
  and is ``None`` when predicting. ``outputs`` is whatever the model returns: a tensor of
  predictions (``(B,)`` or ``(B, 1)``), or an object with ``.logits`` (Hugging Face).
* ``loss_fn(outputs, targets) -> loss`` (:data:`LossFn`; :func:`mse_loss` or
  :func:`bce_loss`): a float32 scalar to minimise.

A future model, say a two-tower model that embeds users and films separately, only needs a
``forward`` that maps its batch to one prediction per example.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, SequentialSampler

from .datasets import LengthBucketSampler
from .errors import ConfigError, DataError
from .models import TargetScaler

#: ``forward(model, batch, targets=None) -> outputs``: one forward pass (see the module text).
Forward = Callable[..., Any]
#: ``loss_fn(outputs, targets) -> loss``: a float32 scalar, the mean over the batch.
LossFn = Callable[[Any, torch.Tensor], torch.Tensor]


def takes_labels(model: nn.Module) -> bool:
    """True when ``model.forward`` has a ``labels`` parameter (Hugging Face and PEFT models)."""
    from torch.nn.parallel import DistributedDataParallel

    inner = model.module if isinstance(model, DistributedDataParallel) else model
    return "labels" in inspect.signature(inner.forward).parameters


def model_forward(
    model: nn.Module, batch: dict[str, torch.Tensor], targets: torch.Tensor | None = None
) -> Any:
    """The default ``forward`` hook: ``model(**batch)``.

    While training (``targets`` given), a model whose ``forward`` takes ``labels`` also gets
    ``labels=targets``: Hugging Face models then compute their own MSE, and PEFT adds its
    regularisers to it (AdaLoRA's orthogonality penalty), which :func:`mse_loss` uses.
    """
    if targets is not None and takes_labels(model):
        return model(**batch, labels=targets)
    return model(**batch)


def predictions(outputs: Any) -> torch.Tensor:
    """Model outputs -> one float32 prediction per example, shape ``(B,)``.

    ``outputs.logits`` (Hugging Face) or the tensor itself; of several outputs per example,
    the first.
    """
    values = getattr(outputs, "logits", outputs)
    if not isinstance(values, torch.Tensor):
        raise ConfigError(
            f"the model returned {type(outputs).__name__}: a forward hook must return a tensor "
            "of predictions or an object with .logits"
        )
    return values.float().reshape(len(values), -1)[:, 0]


def mse_loss(outputs: Any, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``(1/B) Σ (y - ŷ)²`` on standardised targets, in float32.

    When the model computed its own loss from ``labels`` (``outputs.loss``: the same MSE for a
    one-output Hugging Face regressor, plus any regulariser PEFT adds), that loss is used.
    """
    own = getattr(outputs, "loss", None)
    if isinstance(own, torch.Tensor):
        return own.float()
    return torch.nn.functional.mse_loss(predictions(outputs), targets.float())


def bce_loss(outputs: Any, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on the logit: the loss for 0/1 labels such as clicks (ch.6.3)."""
    logits = predictions(outputs)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.float())


#: Batch keys that are targets, not model inputs.
NOT_INPUTS = ("labels", "label_mask")
#: The loss function of each ``TrainConfig.loss``.
LOSS_FUNCTIONS: dict[str, LossFn] = {"mse": mse_loss, "bce": bce_loss}


def bf16_autocast(device: torch.device, enabled: bool) -> torch.autocast:
    """A context that runs matmuls in bfloat16 on ``device`` when ``enabled`` (ch.5)."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def device_of(model: nn.Module) -> torch.device:
    """The device of the model's first parameter."""
    return next(model.parameters()).device


def loader_order(loader: DataLoader) -> np.ndarray:
    """Dataset index of each prediction, in the order the loader yields them.

    Raises :class:`ConfigError` for a shuffling loader (its order is unknown).
    """
    bs = loader.batch_sampler
    if isinstance(bs, LengthBucketSampler):
        if bs.shuffle:
            raise ConfigError("predict/evaluate need a loader made with shuffle=False")
        batches = bs.batches()
        return np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    if isinstance(getattr(loader, "sampler", None), SequentialSampler):
        return np.arange(len(loader.dataset))
    raise ConfigError(
        "predict/evaluate need a loader in a known order: use make_loader(..., shuffle=False)"
    )


@torch.no_grad()
def predict(
    model: nn.Module,
    loader: DataLoader,
    scaler: TargetScaler,
    *,
    bf16: bool = False,
    progress: bool = False,
    forward: Forward | None = None,
) -> np.ndarray:
    """Predicted ratings, shape ``(len(loader.dataset),)``, in dataset order (ch.3).

    In the scaler's units (stars, clipped to its scale; probabilities for a binary scaler).
    ``forward`` is the hook of the module text (default :func:`model_forward`).
    """
    from tqdm.auto import tqdm

    forward = forward or model_forward
    order = loader_order(loader)
    device = device_of(model)
    was_training = model.training
    model.eval()  # why: dropout off, so predictions are deterministic
    outputs: list[torch.Tensor] = []
    try:
        for batch in tqdm(loader, desc="predict", disable=not progress, leave=False):
            inputs = {k: v.to(device) for k, v in batch.items() if k not in NOT_INPUTS}
            with bf16_autocast(device, bf16):
                outputs.append(predictions(forward(model, inputs)).cpu())
    finally:
        model.train(was_training)
    raw = torch.cat(outputs).numpy() if outputs else np.array([], dtype=np.float32)
    result = np.empty(len(order), dtype=np.float64)
    result[order] = scaler.to_rating(raw)
    return result


def evaluate(
    model: nn.Module,
    loader: DataLoader,
    scaler: TargetScaler,
    *,
    bf16: bool = False,
    progress: bool = False,
    forward: Forward | None = None,
) -> dict[str, float]:
    """``{"rmse", "mae"}`` (stars) of the model's predictions on the loader's dataset (ch.4);
    with a binary scaler also ``"log_loss"``.

    Raises :class:`DataError` unless the dataset has one finite rating per example.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    truth = np.asarray(getattr(loader.dataset, "ratings", None), dtype=np.float64)
    if truth.ndim != 1 or len(truth) != len(loader.dataset):
        raise DataError("evaluate needs a RatingTextDataset (one rating per example)")
    if np.isnan(truth).any():
        raise DataError("the evaluation set has missing ratings; evaluate on rated pairs only")
    pred = predict(model, loader, scaler, bf16=bf16, progress=progress, forward=forward)
    result = {
        "rmse": float(math.sqrt(mean_squared_error(truth, pred))),
        "mae": float(mean_absolute_error(truth, pred)),
    }
    if scaler.link == "logit":  # probabilities of 0/1 labels: also the log loss
        from sklearn.metrics import log_loss

        clipped = np.clip(pred, 1e-7, 1 - 1e-7)
        result["log_loss"] = float(log_loss(truth, clipped, labels=[0, 1]))
    return result
