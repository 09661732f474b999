"""Memory and speed of training steps, each measured in a fresh process (FAQ 9.2).

Peak memory is only comparable between runs that start from the same state, so every variant
(fp32, bf16 autocast, gradient checkpointing, gradient accumulation) runs in its own Python
process: :func:`measure_in_subprocess` starts ``python -m recsys_tutorial.resources '<json>'``,
whose :func:`main` calls :func:`measure_training` and prints one JSON line.

The batch is a file written with ``torch.save`` holding ``input_ids``, ``attention_mask``,
``token_type_ids`` (long, ``(n, length)``) and ``labels`` (float, ``(n,)``); the model is a folder
``AutoModelForSequenceClassification`` loads (the packaged MiniLM:
:func:`recsys_tutorial.models.default_model_path`). Training runs on the CPU.
"""

from __future__ import annotations

import json
import numbers
import os
import subprocess
import sys
import threading
import time

from .errors import ConfigError, EvaluationError

__all__ = ["rss_mb", "measure_training", "measure_in_subprocess", "main"]

#: Seconds between two readings of the resident size while training runs.
SAMPLE_INTERVAL_S = 0.002


def rss_mb() -> float:
    """Current resident memory of this process in MiB (Linux ``/proc/self/statm``).

    Where ``/proc`` is missing (macOS, Windows) it falls back to the peak so far
    (``getrusage``), which only grows.
    """
    import resource

    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check_config(steps, micro_batch) -> None:
    for name, value in (("steps", steps), ("micro_batch", micro_batch)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def measure_training(
    model: str,
    batch_file: str,
    *,
    steps: int,
    micro_batch: int,
    bf16: bool = False,
    checkpointing: bool = False,
    lr: float = 1e-5,
    seed: int = 0,
) -> dict[str, float]:
    """Train ``model`` on the batch in ``batch_file`` for one warm-up and ``steps`` timed steps.

    Each step goes through the batch in micro-batches of ``micro_batch`` rows, accumulating
    gradients (loss scaled by the micro-batch's share), then takes one AdamW step; ``bf16``
    turns on CPU bfloat16 autocast, ``checkpointing`` gradient checkpointing. A thread reads
    :func:`rss_mb` every 2 ms. Returns ``loaded_mb`` (resident MiB after loading the model and
    batch), ``peak_mb`` (highest reading while training, at least ``loaded_mb``),
    ``samples_per_s`` (rows trained per second over the timed steps) and ``samples``.

    Measure in a fresh process (:func:`measure_in_subprocess`): in a process that already
    trained, memory freed earlier hides part of the peak.
    """
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging

    _check_config(steps, micro_batch)
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    torch.manual_seed(seed)
    batch = torch.load(batch_file, weights_only=True)
    net = AutoModelForSequenceClassification.from_pretrained(
        model, num_labels=1, problem_type="regression"
    )
    if checkpointing:  # renamed activation checkpointing in recent transformers
        enable = getattr(net, "activation_checkpointing_enable", None)
        (enable or net.gradient_checkpointing_enable)()
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr)
    n = batch["input_ids"].shape[0]

    def step() -> None:
        for start in range(0, n, micro_batch):
            part = {k: v[start : start + micro_batch] for k, v in batch.items()}
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = net(**part).loss.float()
            (loss * part["labels"].shape[0] / n).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    loaded = rss_mb()
    peak, running = [loaded], threading.Event()
    running.set()

    def watch() -> None:
        while running.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(SAMPLE_INTERVAL_S)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        step()  # warm-up: allocates the optimizer state
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = time.perf_counter() - start
    finally:
        running.clear()
        watcher.join()
    peak[0] = max(peak[0], rss_mb())
    return {
        "loaded_mb": loaded,
        "peak_mb": max(peak[0], loaded),
        "samples_per_s": steps * n / seconds,
        "samples": float(steps * n),
    }


def measure_in_subprocess(*, timeout: float | None = None, **config) -> dict[str, float]:
    """:func:`measure_training` (keyword arguments ``config``) run in a new Python process.

    The child inherits the environment (with ``TOKENIZERS_PARALLELISM=false``) and this
    interpreter. Raises :class:`~recsys_tutorial.errors.ConfigError` for missing or invalid
    arguments before starting it, :class:`~recsys_tutorial.errors.EvaluationError` (with the
    end of the child's error output) if the child fails or prints no result.
    """
    missing = [k for k in ("model", "batch_file", "steps", "micro_batch") if k not in config]
    if missing:
        raise ConfigError(f"measure_in_subprocess: missing argument(s) {missing}")
    _check_config(config["steps"], config["micro_batch"])
    command = [sys.executable, "-m", "recsys_tutorial.resources", json.dumps(config)]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise EvaluationError(f"the measuring process ran over {timeout} s; lower steps") from exc
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise EvaluationError(
            f"the measuring process failed (exit {out.returncode}) for {config}: "
            f"{out.stderr.strip()[-2000:]}"
        )
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> None:
    """Entry point of the child: ``python -m recsys_tutorial.resources '<json config>'``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise ConfigError("usage: python -m recsys_tutorial.resources '<json config>'")
    print(json.dumps(measure_training(**json.loads(args[0]))), flush=True)


if __name__ == "__main__":
    main()
