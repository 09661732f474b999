"""Fine-tuning a language model to predict ratings: the training loop, written out (chapters 3-5).

:func:`train_loop` is the loop itself, short enough to read top to bottom — zero the
gradients, forward, loss, backward, clip, step the optimizer and the scheduler — with a comment
on why each step is there. :func:`train` sets it up (:func:`start_run`) and wraps it up
(:func:`finish_run`); the book-keeping between steps (AdaLoRA's rank budget, evaluation, early
stopping, checkpoints) lives in small helpers. ``transformers.Trainer`` does the same (the book
shows it too). The loop trains any model with a forward pass, through two hooks,
``forward(model, batch, targets)`` and ``loss_fn(outputs, targets)`` (:mod:`.forward`).

Runs are reproducible (same seed, same numbers on CPU) and resumable: with ``checkpoint_dir``,
every evaluation writes ``<checkpoint_dir>/last`` (:mod:`.train_state`) and a resumed run ends
with the same weights and metrics as an uninterrupted one; the best model goes to ``best``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from .adapters import is_adalora
from .config import seed_everything
from .errors import ConfigError, DataError
from .finetune import FINETUNE_DROPOUT, finetune_rating_model
from .forward import (
    LOSS_FUNCTIONS,
    Forward,
    LossFn,
    bf16_autocast,
    device_of,
    evaluate,
    model_forward,
    predict,
)
from .models import TargetScaler, save_checkpoint, state_tensors
from .train_config import (
    LOSSES,
    OPTIMIZERS,
    FineTuneResult,
    TrainConfig,
    TrainResult,
    make_optimizer,
)
from .train_state import BEST_DIR, LAST_DIR, RunState, restore_last, save_last

__all__ = [  # the public names, including those re-exported from the modules above
    "BEST_DIR", "FINETUNE_DROPOUT", "LAST_DIR", "LOSSES", "OPTIMIZERS", "FineTuneResult",
    "TrainConfig", "TrainResult", "TrainRun", "evaluate", "finetune_rating_model",
    "make_optimizer", "predict", "start_run", "train", "train_loop", "use_eager_attention",
]

#: ``callback(record) -> stop?``: gets each history record after the checkpoint is written.
Callback = Callable[[dict[str, Any]], bool | None]


@dataclass
class TrainRun:
    """Everything :func:`train_loop` and its helpers read and update; made by :func:`start_run`."""

    model: nn.Module  # the weights being trained (evaluated and saved)
    forward_model: nn.Module  # the same model, or its DistributedDataParallel wrapper
    train_loader: DataLoader
    val_loader: DataLoader | None
    scaler: TargetScaler  # ratings <-> standardised targets
    config: TrainConfig
    optimizer: torch.optim.Optimizer
    scheduler: Any  # torch LambdaLR: warm-up, then linear decay
    forward: Forward  # hook: (model, batch, targets) -> outputs
    loss_fn: LossFn  # hook: (outputs, targets) -> float32 loss
    state: RunState  # counters and history (saved in every checkpoint)
    device: torch.device
    trainable: list[nn.Parameter]  # what the gradient clipping looks at
    adalora: bool  # AdaLoRA needs update_and_allocate() after every step
    best: dict[str, torch.Tensor] | None = None  # weights of the best evaluation so far
    checkpoint_dir: Path | None = None  # where this process writes (None: nowhere)
    tokenizer: Any = None  # saved with the checkpoints
    callbacks: Sequence[Callback] = ()
    started: float = 0.0  # perf_counter() at the start (minus a resumed run's earlier time)
    step_started: float = 0.0  # perf_counter() when the current optimizer step began


def train(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    config: TrainConfig,
    *,
    scaler: TargetScaler,
    resume: bool = False,
    callbacks: Sequence[Callback] | None = None,
    forward: Forward | None = None,
    loss_fn: LossFn | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on ``train_loader`` (ratings in stars) with early stopping (ch.3-5).

    Targets are standardised with ``scaler``; validation RMSE/MAE are in stars. ``resume``
    continues from ``config.checkpoint_dir``/last. Each callback gets every history record
    (step, epoch, train_loss [standardised MSE], val_rmse, val_mae, lr) after the checkpoint is
    written; returning True stops the run. The best weights (by validation RMSE) are restored.
    ``forward`` and ``loss_fn`` are the hooks of :mod:`recsys_tutorial.forward` (defaults:
    :func:`~recsys_tutorial.forward.model_forward` and the loss ``config.loss`` names); any
    model works, but checkpoints (``checkpoint_dir``) need a Hugging Face model (its config).

    Raises :class:`ConfigError` (mismatched loss and scaler, a batch larger than the data,
    ``resume`` without ``checkpoint_dir``), :class:`DataError` (an empty loader) and
    :class:`~recsys_tutorial.errors.CheckpointError` (an unusable checkpoint to resume from).
    """
    run = start_run(model, train_loader, val_loader, config, scaler=scaler, resume=resume,
                    callbacks=callbacks, forward=forward, loss_fn=loss_fn)
    stopped = train_loop(run)
    return finish_run(run, stopped)


def train_loop(run: TrainRun) -> bool:
    """The training loop, top to bottom (ch.3-5); True when stopped (max_steps, patience, a
    callback) rather than at the end of the last epoch.

    For every micro-batch: forward, loss, backward; every ``grad_accum_steps`` micro-batches
    (fewer for the last group of an epoch): clip, optimizer step, scheduler step. Works for any
    model: ``run.forward`` maps a batch to outputs, ``run.loss_fn`` outputs to a loss.
    """
    model, config, state = run.model, run.config, run.state
    accum, n_batches = config.grad_accum_steps, len(run.train_loader)
    model.train()  # why: dropout on while training
    stop = state.done  # a resumed run that had already finished trains no further
    for epoch in range(state.epoch, config.epochs):
        if stop:
            break
        for i, batch in unseen_batches(run, epoch):
            if i % accum == 0:
                # why: backward() adds to the gradients; every optimizer step starts from zero
                run.optimizer.zero_grad(set_to_none=True)
            batch = {k: v.to(run.device) for k, v in batch.items()}
            # why standardise: the head starts near 0, so targets of mean 0, std 1 train faster
            targets = run.scaler.transform(batch.pop("labels").float())
            # forward — why autocast: bf16 training steps are ~1.4x faster on CPUs
            # with AVX-512 bf16
            with bf16_autocast(run.device, config.bf16):
                outputs = run.forward(run.forward_model, batch, targets)
            # loss — MSE for ratings (BCE for clicks), in float32 for a stable backward pass
            loss = run.loss_fn(outputs, targets)
            # backward — why divide: the micro-batches of a group must give the mean gradient
            # of one large batch, not the sum; the last group of an epoch may be shorter
            group_start = i - i % accum
            group_size = min(accum, n_batches - group_start)
            (loss / group_size).backward()
            state.record_batch(i, float(loss.detach()), len(targets))
            if i + 1 < group_start + group_size:
                continue  # why: keep adding gradients until the group is complete
            if config.max_grad_norm is not None:
                # why clip: one batch of unusual users must not throw the pretrained weights far
                torch.nn.utils.clip_grad_norm_(run.trainable, config.max_grad_norm)
            run.optimizer.step()  # why: move the weights against the gradient
            run.scheduler.step()  # why: the learning rate follows warm-up, then linear decay
            stop = after_step(run, epoch)  # AdaLoRA's budget, evaluation, early stopping
            if stop:
                break
        if not stop:
            stop = end_epoch(run, epoch)  # count the epoch; evaluate if eval_every is None
    return stop


# --------------------------------------------------------------------------- set-up


def start_run(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    config: TrainConfig,
    *,
    scaler: TargetScaler,
    resume: bool = False,
    callbacks: Sequence[Callback] | None = None,
    forward: Forward | None = None,
    loss_fn: LossFn | None = None,
) -> TrainRun:
    """The set-up of :func:`train` (same arguments and errors): checks, seed, optimizer,
    learning-rate schedule, the state of a resumed run, fast kernels and the DDP wrapper."""
    from transformers import get_linear_schedule_with_warmup

    from .distributed import is_main_process

    check_train_inputs(train_loader, config, scaler, resume)
    if not resume:
        seed_everything(config.seed)  # why: dropout and data order repeat exactly for a given seed
    optimizer = make_optimizer(model, config)
    total = math.ceil(len(train_loader) / config.grad_accum_steps) * config.epochs
    total = min(total, config.max_steps or total)
    # why warm-up: it protects the pretrained weights from the random head's large early
    # gradients; the linear decay lets the run settle at the end
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(config.warmup_ratio * total),
                                                total)
    directory = Path(config.checkpoint_dir).expanduser() if config.checkpoint_dir else None
    state, best = RunState(), None
    if resume:
        state, best = restore_last(directory, model, optimizer, scheduler, config)
    device = device_of(model)
    if config.bf16 and device.type == "cpu":
        # why: on a CPU, PyTorch's fused (SDPA) attention has a slow bf16 backward; plain matmuls
        # use the bf16 units (AMX/AVX-512) and train ~1.5x faster (benchmarks/speed.py)
        use_eager_attention(model)
    return TrainRun(
        model=model, forward_model=wrap_for_ddp(model, device), train_loader=train_loader,
        val_loader=val_loader, scaler=scaler, config=config, optimizer=optimizer,
        scheduler=scheduler, forward=forward or model_forward,
        loss_fn=loss_fn or LOSS_FUNCTIONS[config.loss], state=state, device=device,
        trainable=[p for p in model.parameters() if p.requires_grad], adalora=is_adalora(model),
        best=best, checkpoint_dir=directory if is_main_process() else None,  # rank 0 writes
        tokenizer=getattr(train_loader.dataset, "tokenizer", None), callbacks=callbacks or (),
        started=time.perf_counter() - state.seconds,
    )


def check_train_inputs(
    train_loader: DataLoader, config: TrainConfig, scaler: TargetScaler, resume: bool
) -> None:
    """The :class:`ConfigError`/:class:`DataError` checks of :func:`train`."""
    if (config.loss == "bce") != (scaler.link == "logit"):
        raise ConfigError("loss='bce' needs TargetScaler.binary() (logits -> probabilities), "
                          "and that scaler needs loss='bce'")
    if getattr(train_loader.dataset, "scaler", None) is not None:
        raise ConfigError("build the training dataset without scaler=: "
                          "train() standardises the labels itself")
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


def wrap_for_ddp(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in a DistributedDataParallel wrapper inside a torchrun process group, else
    ``model`` itself (:mod:`recsys_tutorial.distributed`).

    Why DDP: with several processes, gradients are averaged across them after each backward,
    so every replica takes the same step as one process on the whole global batch."""
    from .distributed import is_distributed

    if not is_distributed():
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


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


# --------------------------------------------------------------------------- between steps


def unseen_batches(run: TrainRun, epoch: int) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
    """``(index in the epoch, batch)`` for the micro-batches of ``epoch`` not trained on yet.

    Why skip: a resumed run restarts mid-epoch; the sampler yields the same order for the same
    ``(seed, epoch)``, so the batches before ``state.batch_in_epoch`` are exactly those it has
    already trained on. Shows a progress bar (``config.progress``)."""
    from tqdm.auto import tqdm

    sampler = getattr(run.train_loader, "batch_sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)  # why: a new but reproducible data order every epoch
    done, state = run.state.batch_in_epoch, run.state
    bar = tqdm(total=len(run.train_loader), initial=done, leave=False,
               desc=f"epoch {epoch + 1}/{run.config.epochs}", disable=not run.config.progress)
    run.step_started = time.perf_counter()
    try:
        for i, batch in enumerate(run.train_loader):
            if i >= done:
                yield i, batch
                bar.update(1)
                if state.loss_count:
                    bar.set_postfix(loss=f"{state.loss_sum / state.loss_count:.3f}")
    finally:
        bar.close()


def after_step(run: TrainRun, epoch: int) -> bool:
    """Book-keeping after an optimizer step: count it, update AdaLoRA's rank budget, time it,
    evaluate when due (every ``eval_every`` steps and at ``max_steps``). True = stop."""
    state, config = run.state, run.config
    state.global_step += 1
    if run.adalora:
        # why: AdaLoRA re-allocates ranks from importance scores it reads off the gradients
        # (still there until the next zero_grad); without this call it behaves like LoRA
        run.model.base_model.update_and_allocate(state.global_step)
    state.train_seconds += time.perf_counter() - run.step_started
    last_step = config.max_steps is not None and state.global_step >= config.max_steps
    periodic = config.eval_every is not None and state.global_step % config.eval_every == 0
    stop = False
    if periodic or last_step:
        progress = state.batch_in_epoch / len(run.train_loader)
        stop = evaluate_and_record(run, round(epoch + progress, 4))
    run.step_started = time.perf_counter()
    return stop


def end_epoch(run: TrainRun, epoch: int) -> bool:
    """Count ``epoch`` as done; evaluate when ``eval_every`` is None. True = stop."""
    run.state.epoch, run.state.batch_in_epoch = epoch + 1, 0
    if run.config.eval_every is None:
        return evaluate_and_record(run, float(epoch + 1))
    return False


def evaluate_and_record(run: TrainRun, epoch: float) -> bool:
    """Evaluate, append a history record, update early stopping, write ``last`` (with a
    ``checkpoint_dir``) and run the callbacks. True = stop training."""
    state, config = run.state, run.config
    metrics: dict[str, float] = {}
    if run.val_loader is not None:
        metrics = evaluate(run.model, run.val_loader, run.scaler, bf16=config.bf16,
                           forward=run.forward)
    run.model.train()  # why: evaluate() switched dropout off; training needs it back on
    record = {
        "step": state.global_step,
        "epoch": epoch,
        "train_loss": state.loss_sum / max(1, state.loss_count),
        "val_rmse": metrics.get("rmse"),
        "val_mae": metrics.get("mae"),
        "lr": run.scheduler.get_last_lr()[0],
    }
    state.history.append(record)
    state.loss_sum, state.loss_count = 0.0, 0
    stop = early_stopping(run, metrics.get("rmse"))
    if config.max_steps is not None and state.global_step >= config.max_steps:
        stop = True
    state.done, state.seconds = stop, time.perf_counter() - run.started
    if run.checkpoint_dir is not None:
        save_last(run.checkpoint_dir, run.model, run.tokenizer, run.scaler, run.optimizer,
                  run.scheduler, state, run.best, config)
    for callback in run.callbacks:  # after the checkpoint: a callback may end the process
        if callback(dict(record)):
            stop = True
    return stop


def early_stopping(run: TrainRun, rmse: float | None) -> bool:
    """Keep the weights of the lowest validation RMSE; True after ``patience`` evaluations
    without improvement.

    Why: validation error, not training loss, tells when the model starts to memorise."""
    state = run.state
    if rmse is None:
        return False
    if state.best_val_rmse is None or rmse < state.best_val_rmse:
        state.best_val_rmse, state.best_step, state.bad_evals = rmse, state.global_step, 0
        run.best = state_tensors(run.model)
        return False
    state.bad_evals += 1
    if run.config.patience is not None and state.bad_evals >= run.config.patience:
        state.stopped_early = True
        return True
    return False


def finish_run(run: TrainRun, stopped: bool) -> TrainResult:
    """After the loop: a last evaluation, the best weights back, ``best`` saved; the result."""
    state = run.state
    if not stopped and (not state.history or state.history[-1]["step"] != state.global_step):
        evaluate_and_record(run, float(state.epoch))  # why: always end with the last weights'
    if run.best is not None and state.best_step != state.global_step:
        with torch.no_grad():
            run.model.load_state_dict(run.best)  # why: return the lowest validation RMSE's weights
    run.optimizer.zero_grad(set_to_none=True)  # why: the gradients' memory is not needed any more
    run.model.eval()
    seconds = time.perf_counter() - run.started
    if run.checkpoint_dir is not None:
        save_checkpoint(run.checkpoint_dir / BEST_DIR, run.model, run.tokenizer, run.scaler,
                        extra={"best_val_rmse": state.best_val_rmse, "best_step": state.best_step})
    return TrainResult(
        history=list(state.history),
        best_val_rmse=state.best_val_rmse,
        best_step=state.best_step,
        stopped_early=state.stopped_early,
        seconds=seconds,
        samples_per_second=state.samples / state.train_seconds if state.train_seconds > 0 else 0.0,
    )
