"""Parameter-efficient fine-tuning (chapter 8): wrap a regressor with ``peft`` adapters.

:func:`apply_peft` puts LoRA, AdaLoRA, IA3, prefix or prompt tuning around a model from
:func:`recsys_tutorial.models.load_regressor`: the pretrained body stays frozen, the few new
adapter weights and the regression head train. :func:`is_adalora` tells the training loop that
the model needs AdaLoRA's per-step rank update. Freezing whole blocks instead is
:func:`recsys_tutorial.models.freeze`.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from torch import nn

from .errors import ConfigError

__all__ = ["PEFT_METHODS", "apply_peft", "is_adalora"]

#: The methods :func:`apply_peft` knows.
PEFT_METHODS = ("lora", "adalora", "ia3", "prefix", "prompt")

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
    steps of the whole run). Extra keyword arguments go to the peft config. Numbers may be
    NumPy scalars. Raises :class:`~recsys_tutorial.errors.ConfigError` for a method not in
    :data:`PEFT_METHODS`, non-numeric sizes, AdaLoRA without ``total_step``, prefix tuning on a
    model whose forward takes no ``past_key_values``, or targets peft cannot find.
    """
    import peft

    if method not in PEFT_METHODS:
        raise ConfigError(f"peft method must be one of {PEFT_METHODS}, got {method!r}")
    try:
        r, alpha, virtual = int(r), int(alpha), int(num_virtual_tokens)
        dropout = float(dropout)
    except (TypeError, ValueError):
        raise ConfigError(
            f"apply_peft: r, alpha and num_virtual_tokens must be integers and dropout a number, "
            f"got r={r!r}, alpha={alpha!r}, num_virtual_tokens={num_virtual_tokens!r}, "
            f"dropout={dropout!r}"
        ) from None
    num_virtual_tokens = virtual
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
