"""Checkpoints (chapter 5): a model, its tokenizer and target scaler in one folder.

A checkpoint is a folder: ``model.safetensors`` (weights), ``config.json`` (the architecture),
``checkpoint.json`` (scaler with its rating scale, peft config, extra state, weight checksum)
and the tokenizer's files. Nothing is ever unpickled, and every save is atomic: a crash leaves
the previous good checkpoint in place. :mod:`recsys_tutorial.models` re-exports this API.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import CheckpointError
from .scaler import TargetScaler

CHECKPOINT_FORMAT = 1
WEIGHTS_FILE = "model.safetensors"
EXTRA_TENSORS_FILE = "extra.safetensors"
CONFIG_FILE = "config.json"
META_FILE = "checkpoint.json"


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if hasattr(value, "value"):  # enums (peft's PeftType, TaskType)
        return value.value
    return str(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict as separate, contiguous CPU tensors (safetensors refuses
    shared memory)."""
    return {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()}


def _base_and_peft(model: nn.Module) -> tuple[nn.Module, dict[str, Any] | None]:
    if hasattr(model, "peft_config") and hasattr(model, "get_base_model"):
        cfg = model.peft_config["default"].to_dict()
        return model.get_base_model(), json.loads(json.dumps(cfg, default=_json_default))
    return model, None


def save_checkpoint(
    directory: str | os.PathLike[str],
    model: nn.Module,
    tokenizer: Any,
    scaler: TargetScaler,
    *,
    extra: dict[str, Any] | None = None,
    tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Save a model, its tokenizer and scaler to ``directory`` atomically (ch.5).

    Weights go to safetensors (peft models: adapters *and* the trained head), the rest to JSON;
    ``extra`` (JSON-able) and ``tensors`` (e.g. optimizer state) ride along. Everything is
    written into a temporary folder that then replaces ``directory``.
    """
    target = Path(directory).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    base, peft_cfg = _base_and_peft(model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        save_file(state_tensors(model), str(tmp / WEIGHTS_FILE))
        base.config.to_json_file(str(tmp / CONFIG_FILE))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp))
        if tensors:
            save_file(
                {k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()},
                str(tmp / EXTRA_TENSORS_FILE),
            )
        meta = {
            "format": CHECKPOINT_FORMAT,
            "architecture": type(base).__name__,
            "model_type": getattr(base.config, "model_type", None),
            "scaler": scaler.to_dict() if scaler is not None else None,
            "peft": peft_cfg,
            "extra": extra or {},
            "sha256": {WEIGHTS_FILE: _sha256(tmp / WEIGHTS_FILE)}
            | ({EXTRA_TENSORS_FILE: _sha256(tmp / EXTRA_TENSORS_FILE)} if tensors else {}),
        }
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1, default=_json_default)
            fh.flush()
            os.fsync(fh.fileno())
        # Swap folders: old -> backup, new -> target, then drop the backup.
        backup = None
        if target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rmdir(backup)
            os.replace(target, backup)
        os.replace(tmp, target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _read_meta(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        backups = (
            sorted(directory.parent.glob(f".{directory.name}.old-*"))
            if directory.parent.exists()
            else []
        )
        hint = (
            f"; an interrupted save left {backups[-1]}: rename it to {directory.name}"
            if backups
            else ""
        )
        raise CheckpointError(
            f"{directory}: no such checkpoint folder{hint}; train a model or fix the path"
        )
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise CheckpointError(
            f"{meta_path}: missing; {directory} is not a complete checkpoint (save it again)"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{meta_path}: truncated or corrupted JSON ({exc}); save the checkpoint again"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{meta_path}: not a recsys_tutorial checkpoint (format {CHECKPOINT_FORMAT})"
        )
    return meta


def _read_tensors(path: Path, expected_sha: str | None) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete: save it again")
    if expected_sha is not None and _sha256(path) != expected_sha:
        raise CheckpointError(
            f"{path}: checksum differs from the one recorded at save time: the file is truncated "
            "or corrupted; use another checkpoint or train again"
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: cannot be read as safetensors ({exc}); the file is damaged"
        ) from exc


def load_weights(model: nn.Module, directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint's weights into an existing ``model`` of the same architecture; returns
    the checkpoint's metadata. A shape or key mismatch raises :class:`CheckpointError`."""
    directory = Path(directory).expanduser()
    meta = _read_meta(directory)
    state = _read_tensors(directory / WEIGHTS_FILE, meta.get("sha256", {}).get(WEIGHTS_FILE))
    _load_state(model, state, directory / WEIGHTS_FILE)
    return meta


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        detail = (
            f"{len(missing)} missing (e.g. {missing[:2]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:2]}), {len(wrong)} of another shape (e.g. {wrong[:2]})"
        )
        raise CheckpointError(
            f"{path}: its weights are for a different architecture: {detail}; load it with "
            "load_checkpoint(), or into the same model (and the same peft method) it was saved from"
        )
    with torch.no_grad():
        model.load_state_dict(state, strict=True)


def load_checkpoint(
    directory: str | os.PathLike[str],
) -> tuple[nn.Module, Any, TargetScaler, dict[str, Any]]:
    """``(model, tokenizer, scaler, extra)`` from :func:`save_checkpoint` (ch.5).

    Rebuilds the architecture from config.json (and the peft wrapper, if any), checks the
    weights' checksum and shapes, and never unpickles anything.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from .models import ensure_pad_token, quiet_transformers  # here: models imports this module

    quiet_transformers()
    directory = Path(directory).expanduser()
    meta = _read_meta(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(
            f"{config_path}: missing; the checkpoint is incomplete: save it again"
        )
    try:
        config = AutoConfig.from_pretrained(str(directory))
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(
            f"{config_path}: unreadable model config ({exc}); save the checkpoint again"
        ) from exc
    state = _read_tensors(directory / WEIGHTS_FILE, meta.get("sha256", {}).get(WEIGHTS_FILE))
    model = AutoModelForSequenceClassification.from_config(config)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(
            f"{directory}: tokenizer files missing or unreadable ({exc}); save again"
        ) from exc
    ensure_pad_token(tokenizer, model)
    if meta.get("peft"):
        import peft

        try:
            peft_cfg = peft.get_peft_config(dict(meta["peft"]))
            peft_cfg.inference_mode = False
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", category=FutureWarning, message=".*checkpointing.*"
                )
                model = peft.get_peft_model(model, peft_cfg)
        except (ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(f"{directory / META_FILE}: unusable peft config ({exc})") from exc
    _load_state(model, state, directory / WEIGHTS_FILE)
    model.eval()
    scaler = TargetScaler.from_dict(meta["scaler"]) if meta.get("scaler") else None
    return model, tokenizer, scaler, meta.get("extra", {})


def load_checkpoint_tensors(directory: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The extra tensors saved with ``save_checkpoint(..., tensors=...)`` ({} if none)."""
    directory = Path(directory).expanduser()
    meta = _read_meta(directory)
    expected = meta.get("sha256", {}).get(EXTRA_TENSORS_FILE)
    if expected is None:
        return {}
    return _read_tensors(directory / EXTRA_TENSORS_FILE, expected)


def read_checkpoint_meta(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint's ``checkpoint.json`` (scaler, peft config, extra), validated."""
    return _read_meta(Path(directory).expanduser())
