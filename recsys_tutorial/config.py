"""Execution profiles, device choice, seeding and the cache directory (chapter 5.1).

Two profiles decide every size a notebook uses: ``quick`` (tests and CI: seconds per
notebook) and ``full`` (the default for ``make book``: real results on a 2-core CPU).
Choose one with the environment variable ``RECSYS_TUTORIAL_PROFILE``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError

PROFILE_ENV = "RECSYS_TUTORIAL_PROFILE"
DATA_ENV = "RECSYS_TUTORIAL_DATA"
CACHE_ENV = "RECSYS_TUTORIAL_CACHE"
DEFAULT_PROFILE = "full"
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Profile:
    """Sizes used by the notebooks, CLI and benchmarks. Counts are numbers of ratings."""

    name: str
    train_samples: int  # ratings used to fine-tune a language model in one run
    eval_samples: int  # ratings used to evaluate it (validation or test sample)
    sweep_train_samples: int  # per run, in notebooks that train many variants
    sweep_eval_samples: int
    epochs: int  # epochs over train_samples
    max_steps: int | None  # hard cap on optimizer steps (None: no cap)
    batch_size: int
    max_length: int  # token budget of one (history, candidate) input
    history_items: int  # rated items shown in a user's history text
    mf_epochs: int  # epochs of matrix factorization
    ranking_users: int  # users evaluated in top-K experiments
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in ("name",) or value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(
                    f"profile field {field.name!r} must be an integer, got {value!r}"
                )
            if value < 0 or (value == 0 and field.name != "seed"):
                raise ConfigError(
                    f"profile field {field.name!r} must be positive, got {value}; "
                    "sizes are counts of ratings, epochs, steps or tokens"
                )

    def replace(self, **changes: object) -> Profile:
        """A copy with some fields changed (validated like the original)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown profile field(s) {unknown}; known: {sorted(known)}")
        return dataclasses.replace(self, **changes)


PROFILES: dict[str, Profile] = {
    # seconds per notebook: enough data to exercise every code path, not to learn much
    "quick": Profile(
        name="quick",
        train_samples=96,
        eval_samples=64,
        sweep_train_samples=48,
        sweep_eval_samples=32,
        epochs=1,
        max_steps=4,
        batch_size=16,
        max_length=48,
        history_items=4,
        mf_epochs=3,
        ranking_users=10,
    ),
    # real results on a 2-core CPU, the whole book in about half an hour
    "full": Profile(
        name="full",
        train_samples=8_000,
        eval_samples=2_000,
        sweep_train_samples=800,
        sweep_eval_samples=400,
        epochs=1,
        max_steps=None,
        batch_size=32,
        max_length=80,
        history_items=5,
        mf_epochs=25,
        ranking_users=150,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else the one named by ``RECSYS_TUTORIAL_PROFILE``, else ``full``."""
    chosen = name if name is not None else os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    chosen = str(chosen).strip().lower()
    if chosen not in PROFILES:
        raise ConfigError(
            f"unknown profile {chosen!r}; choose one of {sorted(PROFILES)} "
            f"(set {PROFILE_ENV} or pass --profile)"
        )
    return PROFILES[chosen]


def check_learning_rate(lr: object) -> float:
    """``lr`` as a positive, finite float, or a :class:`ConfigError` saying why not."""
    if isinstance(lr, bool):
        raise ConfigError(f"learning rate must be a number, got {lr!r}")
    try:
        value = float(lr)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"learning rate must be a number, got {lr!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be positive and finite, got {lr!r}")
    return value


def get_device(prefer: str | None = None):
    """The device to train on: ``prefer`` if given, else CUDA, then Apple MPS, then CPU."""
    import torch

    if prefer:
        try:
            return torch.device(prefer)
        except RuntimeError as exc:
            raise ConfigError(f"unknown device {prefer!r}: {exc}") from None
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and torch (all devices) so runs repeat exactly on CPU."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def cache_dir() -> Path:
    """Where downloads and derived files go: ``$RECSYS_TUTORIAL_CACHE`` or ``~/.cache/recsys_tutorial``."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "recsys_tutorial"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
