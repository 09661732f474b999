"""What an interrupted fine-tuning run needs to continue exactly (ch.5): save and restore.

:func:`save_last` writes ``<checkpoint_dir>/last``: the weights, the optimizer's and the
scheduler's state, the random number generators' states (torch, CUDA, NumPy, Python), the
loop's counters (:class:`RunState`) and the best weights so far. Tensors go to safetensors,
everything else to JSON (no pickle: loading a checkpoint cannot run code).
:func:`restore_last` puts all of it back, so a resumed run ends with the same weights and
metrics as an uninterrupted one (tested in ``tests/test_train.py``).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import CheckpointError
from .models import (
    TargetScaler,
    load_checkpoint_tensors,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
    state_tensors,
)

#: Sub-folder of ``checkpoint_dir`` with the state of the latest evaluation (for ``resume=True``).
LAST_DIR = "last"
#: Sub-folder of ``checkpoint_dir`` with the final (best) model.
BEST_DIR = "best"
#: Settings a resumed run must share with the run that wrote the checkpoint.
RESUME_KEYS = ("seed", "epochs", "max_steps", "grad_accum_steps", "lr", "optimizer")


@dataclass
class RunState:
    """The loop's counters: everything a resumed run needs besides weights, optimizer,
    scheduler and random states. Saved as JSON in every ``last`` checkpoint."""

    epoch: int = 0  # epochs fully done
    batch_in_epoch: int = 0  # micro-batches done in the current epoch
    global_step: int = 0  # optimizer steps done
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per evaluation
    best_val_rmse: float | None = None
    best_step: int | None = None
    bad_evals: int = 0  # evaluations since the best one (early stopping)
    stopped_early: bool = False
    done: bool = False  # the run had finished when this state was saved
    samples: int = 0  # training examples seen (for samples/second)
    train_seconds: float = 0.0  # time spent in training steps (not evaluating)
    seconds: float = 0.0  # wall time of the whole run so far
    loss_sum: float = 0.0  # training loss summed since the last evaluation ...
    loss_count: int = 0  # ... over this many micro-batches

    def record_batch(self, index: int, loss: float, n_examples: int) -> None:
        """Count micro-batch ``index`` (0-based, in the epoch) with its ``loss`` as done."""
        self.loss_sum += loss
        self.loss_count += 1
        self.samples += n_examples
        self.batch_in_epoch = index + 1


def optimizer_state(
    optimizer: torch.optim.Optimizer,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The optimizer's state as ``(tensors for safetensors, the rest for JSON)``."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optim/{pid}/{key}"] = value
            else:
                plain.setdefault(str(pid), {})[key] = value
    ids = [int(i) for i in sd["state"]]
    return tensors, {"param_groups": sd["param_groups"], "state": plain, "ids": ids}


def restore_optimizer(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    """Load what :func:`optimizer_state` returned back into ``optimizer``."""
    state: dict[int, dict[str, Any]] = {
        pid: dict(meta["state"].get(str(pid), {})) for pid in meta["ids"]
    }
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, pid, name = key.split("/", 2)
            state.setdefault(int(pid), {})[name] = value
    groups = [dict(g) for g in meta["param_groups"]]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])  # JSON turned the tuple into a list
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The states of torch's (and CUDA's), NumPy's and Python's random number generators."""
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = s
    np_state = np.random.get_state()
    py_state = random.getstate()
    numpy_rest = [float(x) if isinstance(x, float) else int(x) for x in np_state[2:]]
    return tensors, {
        "numpy": [np_state[0], np_state[1].tolist(), *numpy_rest],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Put back the generator states :func:`rng_state` returned."""
    torch.set_rng_state(tensors["rng/torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
        if states:
            torch.cuda.set_rng_state_all(states)
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), int(n[2]), int(n[3]), float(n[4])))
    p = meta["python"]
    random.setstate((p[0], tuple(p[1]), p[2]))


def save_last(
    directory: Path,
    model: nn.Module,
    tokenizer: Any,
    scaler: TargetScaler,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: RunState,
    best: dict[str, torch.Tensor] | None,
    config: Any,
) -> Path:
    """Write ``directory/last``: weights, optimizer, scheduler, RNG, ``state`` and ``best``.

    ``config`` is the run's ``TrainConfig`` (a dataclass; saved to check a resumed run).
    The best weights are stored only when they differ from the current ones.
    """
    opt_tensors, opt_meta = optimizer_state(optimizer)
    rng_tensors, rng_meta = rng_state()
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
    return save_checkpoint(
        directory / LAST_DIR, model, tokenizer, scaler, extra=extra, tensors=tensors
    )


def restore_last(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: Any,
) -> tuple[RunState, dict[str, torch.Tensor] | None]:
    """Load ``directory/last`` into ``model``, ``optimizer``, ``scheduler`` and the RNGs.

    Returns the saved :class:`RunState` and the best weights so far (``None``: no evaluation
    yet). Raises :class:`~recsys_tutorial.errors.CheckpointError` when the checkpoint is
    missing or damaged, or was written with other :data:`RESUME_KEYS` than ``config``'s.
    """
    last = directory / LAST_DIR
    meta = read_checkpoint_meta(last)
    extra = meta.get("extra", {})
    saved_cfg = extra.get("config", {})
    for key in RESUME_KEYS:
        if saved_cfg.get(key) != getattr(config, key):
            raise CheckpointError(
                f"{last}: saved with {key}={saved_cfg.get(key)!r}, resumed with "
                f"{getattr(config, key)!r}; resume with the same TrainConfig, or start afresh "
                "with resume=False"
            )
    load_weights(model, last)
    tensors = load_checkpoint_tensors(last)
    try:
        restore_optimizer(optimizer, tensors, extra["optimizer"])
        scheduler.load_state_dict(dict(extra["scheduler"]))
        restore_rng(tensors, extra["rng"])
        state = RunState(**extra["run"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(
            f"{last}: training state unusable ({exc}); start afresh with resume=False"
        ) from exc
    if extra.get("best_is_current"):
        return state, state_tensors(model)
    best = {k[len("best/"):]: v for k, v in tensors.items() if k.startswith("best/")}
    return state, best or None
