"""Fine-tuning a language model to predict ratings: the training loop, written out (chapters 3-5).

The loop in :func:`train` is deliberately explicit — zero the gradients, forward, loss,
backward, accumulate, clip, step the optimizer and the scheduler, evaluate, stop early — with
a comment on why each step is there. ``transformers.Trainer`` does the same; the book shows it
too (the datasets here work with it: float labels, one output).

Runs are reproducible (same seed, same numbers on CPU) and resumable: with
``checkpoint_dir``, every evaluation writes ``<checkpoint_dir>/last`` (weights, optimizer,
scheduler, RNG and early-stopping state; safetensors + JSON) and a resumed run ends with the
same weights and metrics as an uninterrupted one. The final (best) model is saved to
``<checkpoint_dir>/best``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, SequentialSampler

from .config import Profile, check_learning_rate, get_device, get_profile, seed_everything
from .datasets import LengthBucketSampler, RatingTextDataset, make_loader
from .errors import CheckpointError, ConfigError, DataError
from .models import (
    TargetScaler,
    apply_peft,
    freeze,
    is_adalora,
    is_head_parameter,
    load_checkpoint_tensors,
    load_regressor,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
    state_tensors,
)

OPTIMIZERS = ("adamw", "sgd")
LOSSES = ("mse", "bce")
LAST_DIR = "last"
BEST_DIR = "best"


@dataclass
class TrainConfig:
    """Hyper-parameters of one fine-tuning run (ch.5). Steps are optimizer steps."""

    lr: float = 5e-5  # learning rate of the pretrained body
    head_lr: float | None = None  # learning rate of the new regression head (None: lr)
    weight_decay: float = 0.01  # AdamW decoupled decay (not on biases and norms)
    optimizer: str = "adamw"  # "adamw" or "sgd" (momentum 0.9)
    epochs: int = 1
    max_steps: int | None = None  # stop after this many optimizer steps
    batch_size: int = 32  # used by finetune_rating_model to build the loaders
    grad_accum_steps: int = 1  # micro-batches per optimizer step
    warmup_ratio: float = 0.1  # share of steps with a linearly rising learning rate
    max_grad_norm: float | None = 1.0  # gradient clipping (None: off)
    bf16: bool = False  # bfloat16 autocast (CPU with AVX-512 bf16, or CUDA)
    eval_every: int | None = None  # evaluate every N steps (None: after each epoch)
    patience: int | None = None  # evaluations without improvement before stopping
    seed: int = 42
    checkpoint_dir: str | None = None
    progress: bool = True
    loss: str = "mse"  # "mse" for ratings; "bce" (binary cross-entropy on logits) for 0/1 clicks (ch.6.3)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        self.lr = check_learning_rate(self.lr)
        if self.head_lr is not None:
            self.head_lr = check_learning_rate(self.head_lr)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("epochs", "batch_size", "grad_accum_steps"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("max_steps", "eval_every", "patience"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        _check_int("seed", self.seed, minimum=0)
        try:
            wd, warm = float(self.weight_decay), float(self.warmup_ratio)
        except (TypeError, ValueError):
            raise ConfigError("weight_decay and warmup_ratio must be numbers") from None
        if not (math.isfinite(wd) and wd >= 0):
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not (0.0 <= warm < 1.0):
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if self.max_grad_norm is not None and not (float(self.max_grad_norm) > 0):
            raise ConfigError(f"max_grad_norm must be positive or None, got {self.max_grad_norm!r}")
        self.weight_decay, self.warmup_ratio = wd, warm


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"TrainConfig.{name} must be an integer >= {minimum}, got {value!r}")


@dataclass
class TrainResult:
    """What a run did: one history record per evaluation, the best validation RMSE and speed."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_val_rmse: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    samples_per_second: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """The history as a DataFrame (for learning curves)."""
        return pd.DataFrame(self.history)


@dataclass
class FineTuneResult:
    """The output of :func:`finetune_rating_model`."""

    model: nn.Module
    tokenizer: Any
    scaler: TargetScaler
    result: TrainResult


# --------------------------------------------------------------------------- optimizer


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD over the trainable parameters (ch.5): no weight decay on biases and norms;
    the regression head may get its own learning rate (``head_lr``)."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim < 2 or "norm" in name.lower() or name.endswith("bias")
        groups.setdefault((is_head_parameter(name), no_decay), []).append(p)
    if not groups:
        raise ConfigError("the model has no trainable parameters; check freeze()/apply_peft()")
    param_groups = [
        {
            "params": params,
            "lr": (config.head_lr or config.lr) if head else config.lr,
            "weight_decay": 0.0 if no_decay else config.weight_decay,
        }
        for (head, no_decay), params in sorted(groups.items())
    ]
    if config.optimizer == "sgd":
        return torch.optim.SGD(param_groups, lr=config.lr, momentum=0.9)
    # why fused: one kernel updates every tensor; on a CPU this is ~7x faster than the
    # per-tensor loop (20 vs 135 ms a step for MiniLM), the same arithmetic
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for g in param_groups for p in g["params"])
    return torch.optim.AdamW(param_groups, lr=config.lr, fused=fused or None)


def _optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer state as (tensors for safetensors, the rest for JSON)."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optim/{pid}/{key}"] = value
            else:
                plain.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "state": plain, "ids": [int(i) for i in sd["state"]]}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {pid: dict(meta["state"].get(str(pid), {})) for pid in meta["ids"]}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, pid, name = key.split("/", 2)
            state.setdefault(int(pid), {})[name] = value
    groups = [dict(g) for g in meta["param_groups"]]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = s
    np_state = np.random.get_state()
    py_state = random.getstate()
    return tensors, {
        "numpy": [np_state[0], np_state[1].tolist(), *[float(x) if isinstance(x, float) else int(x) for x in np_state[2:]]],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }


def _restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng/torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
        if states:
            torch.cuda.set_rng_state_all(states)
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), int(n[2]), int(n[3]), float(n[4])))
    p = meta["python"]
    random.setstate((p[0], tuple(p[1]), p[2]))


# --------------------------------------------------------------------------- prediction


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _loader_order(loader: DataLoader) -> np.ndarray:
    """Dataset index of each prediction, in the order the loader yields them."""
    bs = loader.batch_sampler
    if isinstance(bs, LengthBucketSampler):
        if bs.shuffle:
            raise ConfigError("predict/evaluate need a loader made with shuffle=False")
        batches = bs.batches()
        return np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    if isinstance(getattr(loader, "sampler", None), SequentialSampler):
        return np.arange(len(loader.dataset))
    raise ConfigError("predict/evaluate need a loader in a known order: use make_loader(..., shuffle=False)")


def _autocast(device: torch.device, enabled: bool):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def predict(
    model: nn.Module, loader: DataLoader, scaler: TargetScaler, *, bf16: bool = False, progress: bool = False
) -> np.ndarray:
    """Predicted ratings (stars, clipped to the scale), in dataset order (ch.3)."""
    from tqdm.auto import tqdm

    order = _loader_order(loader)
    device = _device_of(model)
    was_training = model.training
    model.eval()  # why: dropout off, so predictions are deterministic
    outputs: list[torch.Tensor] = []
    try:
        for batch in tqdm(loader, desc="predict", disable=not progress, leave=False):
            batch = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "label_mask")}
            with _autocast(device, bf16):
                logits = model(**batch).logits
            outputs.append(logits.float().reshape(len(logits), -1)[:, 0].cpu())
    finally:
        model.train(was_training)
    raw = torch.cat(outputs).numpy() if outputs else np.array([], dtype=np.float32)
    ratings = scaler.to_rating(raw)
    result = np.empty(len(order), dtype=np.float64)
    result[order] = ratings
    return result


def evaluate(
    model: nn.Module, loader: DataLoader, scaler: TargetScaler, *, bf16: bool = False, progress: bool = False
) -> dict[str, float]:
    """RMSE and MAE (stars) of the model's predictions on the loader's dataset (ch.4)."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    truth = np.asarray(getattr(loader.dataset, "ratings", None), dtype=np.float64)
    if truth.ndim != 1 or len(truth) != len(loader.dataset):
        raise DataError("evaluate needs a RatingTextDataset (one rating per example)")
    if np.isnan(truth).any():
        raise DataError("the evaluation set has missing ratings; evaluate on rated pairs only")
    pred = predict(model, loader, scaler, bf16=bf16, progress=progress)
    result = {
        "rmse": float(math.sqrt(mean_squared_error(truth, pred))),
        "mae": float(mean_absolute_error(truth, pred)),
    }
    if scaler.link == "logit":  # probabilities of 0/1 labels: also the log loss
        from sklearn.metrics import log_loss

        result["log_loss"] = float(log_loss(truth, np.clip(pred, 1e-7, 1 - 1e-7), labels=[0, 1]))
    return result


# --------------------------------------------------------------------------- the loop


@dataclass
class _RunState:
    """Everything a resumed run needs besides weights, optimizer, scheduler and RNG."""

    epoch: int = 0  # epochs fully done
    batch_in_epoch: int = 0  # micro-batches done in the current epoch
    global_step: int = 0  # optimizer steps done
    history: list[dict[str, Any]] = field(default_factory=list)
    best_val_rmse: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    done: bool = False
    samples: int = 0
    train_seconds: float = 0.0
    seconds: float = 0.0
    loss_sum: float = 0.0
    loss_count: int = 0


def _save_last(
    directory: Path, model: nn.Module, tokenizer: Any, scaler: TargetScaler, optimizer, scheduler,
    state: _RunState, best: dict[str, torch.Tensor] | None, config: TrainConfig,
) -> None:
    opt_tensors, opt_meta = _optimizer_state(optimizer)
    rng_tensors, rng_meta = _rng_state()
    tensors = {**opt_tensors, **rng_tensors}
    best_is_current = state.best_step == state.global_step
    if best is not None and not best_is_current:
        tensors.update({f"best/{k}": v for k, v in best.items()})
    extra = {
        "run": asdict(state),
        "optimizer": opt_meta,
        "scheduler": scheduler.state_dict(),
        "rng": rng_meta,
        "config": asdict(config),
        "best_is_current": best_is_current,
    }
    save_checkpoint(directory / LAST_DIR, model, tokenizer, scaler, extra=extra, tensors=tensors)


def _restore_last(
    directory: Path, model: nn.Module, optimizer, scheduler, config: TrainConfig
) -> tuple[_RunState, dict[str, torch.Tensor] | None]:
    last = directory / LAST_DIR
    meta = read_checkpoint_meta(last)
    extra = meta.get("extra", {})
    saved_cfg = extra.get("config", {})
    for key in ("seed", "epochs", "max_steps", "grad_accum_steps", "lr", "optimizer"):
        if saved_cfg.get(key) != getattr(config, key):
            raise CheckpointError(
                f"{last}: saved with {key}={saved_cfg.get(key)!r}, resumed with {getattr(config, key)!r}; "
                "resume with the same TrainConfig, or start afresh with resume=False"
            )
    load_weights(model, last)
    tensors = load_checkpoint_tensors(last)
    try:
        _restore_optimizer(optimizer, tensors, extra["optimizer"])
        scheduler.load_state_dict(dict(extra["scheduler"]))
        _restore_rng(tensors, extra["rng"])
        state = _RunState(**extra["run"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{last}: training state unusable ({exc}); start afresh with resume=False") from exc
    if extra.get("best_is_current"):
        best = state_tensors(model)
    else:
        best = {k[len("best/"):]: v for k, v in tensors.items() if k.startswith("best/")} or None
    return state, best


def train(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    config: TrainConfig,
    *,
    scaler: TargetScaler,
    resume: bool = False,
    callbacks: Sequence[Callable[[dict[str, Any]], bool | None]] | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on ``train_loader`` (ratings in stars) with early stopping (ch.3-5).

    Targets are standardised with ``scaler``; validation RMSE/MAE are in stars. ``resume``
    continues from ``config.checkpoint_dir``/last. Each callback gets every history record
    (step, epoch, train_loss [standardised MSE], val_rmse, val_mae, lr) after the checkpoint is
    written; returning True stops the run. The best weights (by validation RMSE) are restored.
    """
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    if (config.loss == "bce") != (scaler.link == "logit"):
        raise ConfigError(
            "loss='bce' needs TargetScaler.binary() (logits -> probabilities), and that scaler needs loss='bce'"
        )
    if getattr(train_loader.dataset, "scaler", None) is not None:
        raise ConfigError(
            "build the training dataset without scaler=: train() standardises the labels itself"
        )
    if len(train_loader) == 0:
        raise DataError("the training loader is empty; pass some training pairs")
    batch_size = getattr(train_loader.batch_sampler, "batch_size", None) or train_loader.batch_size
    n_examples = len(train_loader.dataset)
    if batch_size is not None and batch_size > n_examples:
        raise ConfigError(
            f"batch size {batch_size} is larger than the {n_examples} training examples; "
            f"use a batch size of at most {n_examples} or more training data"
        )
    if resume and not config.checkpoint_dir:
        raise ConfigError("resume=True needs config.checkpoint_dir (where the run saved its state)")
    ckpt_dir = Path(config.checkpoint_dir).expanduser() if config.checkpoint_dir else None
    tokenizer = getattr(train_loader.dataset, "tokenizer", None)
    device = _device_of(model)
    accum = config.grad_accum_steps
    n_batches = len(train_loader)
    steps_per_epoch = math.ceil(n_batches / accum)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)

    if not resume:
        seed_everything(config.seed)  # why: dropout and data order repeat exactly for a given seed
    optimizer = make_optimizer(model, config)
    # why: warm-up protects the pretrained weights from the random head's large early gradients;
    # the linear decay lets the run settle at the end.
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(math.ceil(config.warmup_ratio * total_steps)), total_steps
    )
    state, best = _RunState(), None
    if resume:
        state, best = _restore_last(ckpt_dir, model, optimizer, scheduler, config)
    adalora = is_adalora(model)
    if config.bf16 and device.type == "cpu":
        # why: on a CPU, PyTorch's fused (SDPA) attention has a slow bf16 backward; plain matmuls
        # use the bf16 units (AMX/AVX-512) and train ~1.5x faster (benchmarks/speed.py)
        use_eager_attention(model)
    start_time = time.perf_counter() - state.seconds
    # why DDP: with several processes (torchrun), gradients are averaged across them after each
    # backward, so every replica takes the same step as one process on the whole global batch
    from .distributed import is_distributed, is_main_process

    forward_model = model
    if is_distributed():
        from torch.nn.parallel import DistributedDataParallel

        forward_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    writes = ckpt_dir is not None and is_main_process()

    def evaluate_and_record(epoch_label: float) -> bool:
        """Evaluate, update early stopping, checkpoint, run callbacks; True = stop training."""
        nonlocal best
        metrics = evaluate(model, val_loader, scaler, bf16=config.bf16) if val_loader is not None else {}
        model.train()  # why: evaluate() switched dropout off; training needs it back on
        record = {
            "step": state.global_step,
            "epoch": epoch_label,
            "train_loss": state.loss_sum / max(1, state.loss_count),
            "val_rmse": metrics.get("rmse"),
            "val_mae": metrics.get("mae"),
            "lr": scheduler.get_last_lr()[0],
        }
        state.history.append(record)
        state.loss_sum, state.loss_count = 0.0, 0
        stop = False
        rmse = metrics.get("rmse")
        if rmse is not None:
            # why (early stopping): validation error, not training loss, tells when the model
            # starts to memorise; keep the best weights and stop after `patience` bad evaluations.
            if state.best_val_rmse is None or rmse < state.best_val_rmse:
                state.best_val_rmse, state.best_step, state.bad_evals = rmse, state.global_step, 0
                best = state_tensors(model)
            else:
                state.bad_evals += 1
                if config.patience is not None and state.bad_evals >= config.patience:
                    state.stopped_early = stop = True
        if config.max_steps is not None and state.global_step >= config.max_steps:
            stop = True
        state.done = stop
        state.seconds = time.perf_counter() - start_time
        if writes:
            _save_last(ckpt_dir, model, tokenizer, scaler, optimizer, scheduler, state, best, config)
        for callback in callbacks or ():
            if callback(dict(record)):
                stop = True
        return stop

    model.train()  # why: dropout on while training
    stop = state.done
    for epoch in range(state.epoch, config.epochs):
        if stop:
            break
        sampler = getattr(train_loader, "batch_sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)  # why: a new but reproducible data order every epoch
        optimizer.zero_grad(set_to_none=True)  # why: gradients add up; start each step from zero
        bar = tqdm(total=n_batches, initial=state.batch_in_epoch, desc=f"epoch {epoch + 1}/{config.epochs}",
                   disable=not config.progress, leave=False)
        step_started = time.perf_counter()
        for i, batch in enumerate(train_loader):
            if i < state.batch_in_epoch:
                continue  # why: resumed mid-epoch; these batches were already trained on
            batch = {k: v.to(device) for k, v in batch.items()}
            # why: the head starts near 0, so standardised targets (mean 0, std 1) train faster
            targets = scaler.transform(batch.pop("labels").float())
            # forward — why autocast: bfloat16 matmuls are ~1.4x faster on CPUs with AVX-512 bf16
            with _autocast(device, config.bf16):
                if config.loss == "bce":
                    outputs = forward_model(**batch)
                else:
                    outputs = forward_model(**batch, labels=targets)
            if config.loss == "bce":
                # loss — binary cross-entropy on the logit: the right loss for 0/1 clicks (ch.6.3)
                logits = outputs.logits.float().reshape(len(targets), -1)[:, 0]
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.float())
            else:
                # loss — MSE (1/B) Σ (y - ŷ)² computed by the model for num_labels=1 (AdaLoRA adds
                # its orthogonality regulariser to it), in float32 for a stable backward pass
                loss = outputs.loss.float()
            group_start = (i // accum) * accum
            group_size = min(accum, n_batches - group_start)
            # backward — why divide: accumulating `group_size` micro-batches must give the mean
            # gradient of one large batch, not the sum
            (loss / group_size).backward()
            state.loss_sum += float(loss.detach())
            state.loss_count += 1
            state.samples += int(targets.shape[0])
            state.batch_in_epoch = i + 1
            bar.update(1)
            if i + 1 < group_start + group_size:
                continue  # why (accumulation): keep adding gradients until the group is complete
            if config.max_grad_norm is not None:
                # why: one batch of unusual users must not throw the pretrained weights far away
                torch.nn.utils.clip_grad_norm_(
                    [p for p in model.parameters() if p.requires_grad], config.max_grad_norm
                )
            optimizer.step()  # why: move the weights against the gradient
            scheduler.step()  # why: the learning rate follows warm-up then linear decay, per step
            state.global_step += 1
            if adalora:
                # why: AdaLoRA re-allocates ranks from its importance scores; without this call it
                # silently behaves like LoRA
                model.base_model.update_and_allocate(state.global_step)
            optimizer.zero_grad(set_to_none=True)  # why: the next step starts from zero gradients
            bar.set_postfix(loss=f"{loss.item():.3f}")
            state.train_seconds += time.perf_counter() - step_started
            last_step = config.max_steps is not None and state.global_step >= config.max_steps
            periodic = config.eval_every is not None and state.global_step % config.eval_every == 0
            if periodic or last_step:
                stop = evaluate_and_record(round(epoch + state.batch_in_epoch / n_batches, 4))
            step_started = time.perf_counter()
            if stop:
                break
        bar.close()
        if stop:
            break
        state.epoch, state.batch_in_epoch = epoch + 1, 0
        if config.eval_every is None:
            stop = evaluate_and_record(float(epoch + 1))
    if not stop and (not state.history or state.history[-1]["step"] != state.global_step):
        evaluate_and_record(float(state.epoch))  # why: always end with an evaluation of the last weights

    if best is not None and state.best_step != state.global_step:
        with torch.no_grad():
            model.load_state_dict(best)  # why: return the weights with the lowest validation RMSE
    model.eval()
    seconds = time.perf_counter() - start_time
    if writes:
        save_checkpoint(ckpt_dir / BEST_DIR, model, tokenizer, scaler,
                        extra={"best_val_rmse": state.best_val_rmse, "best_step": state.best_step})
    return TrainResult(
        history=list(state.history),
        best_val_rmse=state.best_val_rmse,
        best_step=state.best_step,
        stopped_early=state.stopped_early,
        seconds=seconds,
        samples_per_second=state.samples / state.train_seconds if state.train_seconds > 0 else 0.0,
    )


def use_eager_attention(model: nn.Module) -> bool:
    """Switch a transformers model to plain ("eager") attention; False if it cannot (ch.5).

    Outputs are the same as with fused attention; only the kernels differ."""
    for candidate in (model, getattr(model, "base_model", None), getattr(model, "module", None)):
        setter = getattr(candidate, "set_attn_implementation", None)
        if setter is not None:
            try:
                setter("eager")
                return True
            except (ValueError, NotImplementedError, AttributeError):
                return False
    return False


# --------------------------------------------------------------------------- convenience

#: Dropout used by :func:`finetune_rating_model` unless told otherwise. Off: for a regression head
#: it mostly adds noise to the prediction, and on a CPU its random masks cost as much as a third of
#: a bf16 training step (benchmarks/speed.py; chapter 9.2 measures dropout as a regulariser).
FINETUNE_DROPOUT: float = 0.0



def finetune_rating_model(
    train_pairs: pd.DataFrame,
    val_pairs: pd.DataFrame | None,
    *,
    model_name: str | None = None,
    profile: str | Profile | None = None,
    config: TrainConfig | None = None,
    freeze_strategy: str = "full",
    n_layers: int = 2,
    peft_method: str | None = None,
    peft_kwargs: dict[str, Any] | None = None,
    max_length: int | None = None,
    bucket: bool = True,
    device: str | None = None,
    resume: bool = False,
    callbacks: Sequence[Callable[[dict[str, Any]], bool | None]] | None = None,
    dropout: float | None = FINETUNE_DROPOUT,
    scaler: TargetScaler | None = None,
) -> FineTuneResult:
    """Load a model, tokenize the pairs (from :func:`recsys_tutorial.text.make_pairs`) and train
    (ch.3-5, used by the notebooks and the CLI). Sizes default to the profile's.

    ``dropout`` overrides the model's dropout probabilities (default :data:`FINETUNE_DROPOUT`, 0:
    off; ``None`` keeps the checkpoint's own, 0.1 for BERT); ``scaler`` replaces the one fitted
    on the training ratings (e.g. ``TargetScaler(mean, std, low=0.0, high=1.0)`` for targets
    outside the star scale)."""
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    if config is None:
        config = TrainConfig(epochs=prof.epochs, max_steps=prof.max_steps, batch_size=prof.batch_size, seed=prof.seed)
    if peft_method is not None and freeze_strategy != "full":
        raise ConfigError("choose either a freeze strategy or a peft method: peft freezes the body itself")
    max_length = max_length or prof.max_length
    ratings = train_pairs["rating"].to_numpy(np.float64)
    if len(ratings) == 0 or np.isnan(ratings).any():
        raise DataError("train_pairs must hold at least one rated pair and no missing ratings")
    if config.loss == "bce":
        if not np.isin(ratings, (0.0, 1.0)).all():
            raise DataError("loss='bce' needs 0/1 labels in the rating column (e.g. clicks)")
        scaler = scaler or TargetScaler.binary()
    else:
        scaler = scaler or TargetScaler.fit(ratings)
    seed_everything(config.seed)  # why: the new head's random init repeats too
    model, tokenizer = load_regressor(model_name, dropout=dropout)
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
    if peft_method is not None:
        kwargs = dict(peft_kwargs or {})
        if peft_method == "adalora":
            steps = math.ceil(len(train_loader) / config.grad_accum_steps) * config.epochs
            kwargs.setdefault("total_step", min(steps, config.max_steps or steps))
        model = apply_peft(model, peft_method, **kwargs)
    else:
        freeze(model, freeze_strategy, n_layers)
    result = train(model, train_loader, val_loader, config, scaler=scaler, resume=resume, callbacks=callbacks)
    return FineTuneResult(model=model, tokenizer=tokenizer, scaler=scaler, result=result)
