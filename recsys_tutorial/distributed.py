"""Scale-out with PyTorch's own DistributedDataParallel (chapter 5, "when one machine is not enough").

Start a run with ``torchrun --nproc_per_node=N -m recsys_tutorial.cli finetune ...``: torchrun
sets ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``; :func:`init_distributed` joins the process group
(nccl with one GPU per process, else gloo on the CPU). Each global batch is cut into one shard per process
(:class:`recsys_tutorial.datasets.LengthBucketSampler` with ``num_replicas``/``rank``), DDP
averages the gradients, so N processes take the same steps as one process on the same global
batch; only rank 0 writes files.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from .errors import ConfigError


def env_int(name: str, default: int) -> int:
    """The integer in environment variable ``name`` (``default`` when unset or empty).

    Raises :class:`ConfigError` naming the variable when it holds something else.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"environment variable {name}={text!r} is not an integer; torchrun sets it: "
            "unset it, or start the run with torchrun"
        ) from None


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0 (or a plain single-process run): the process that writes files and prints."""
    return rank() == 0


def init_distributed(backend: str | None = None) -> tuple[int, int]:
    """Join the process group torchrun describes in the environment; returns (rank, world size).

    A no-op (0, 1) when ``WORLD_SIZE`` is unset or 1. Raises :class:`ConfigError` when
    ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE`` or ``LOCAL_RANK`` is not an integer.
    """
    world = env_int("WORLD_SIZE", 1)
    if world <= 1 or not dist.is_available():
        return 0, 1
    if not dist.is_initialized():
        # why the count: nccl needs one GPU per process on a node; with fewer GPUs than processes
        # (say 2 processes on a 1-GPU laptop) gloo on the CPU still works
        local = env_int("LOCAL_WORLD_SIZE", world)
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        backend = backend or ("nccl" if gpus >= local else "gloo")
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(env_int("LOCAL_RANK", 0))
    return dist.get_rank(), dist.get_world_size()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def shutdown() -> None:
    """Leave the process group (call at the end of a distributed run)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
