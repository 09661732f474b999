"""Tests for recsys_tutorial.adapters: peft set-up on tiny random BERT and GPT-2 regressors."""

import numpy as np
import pytest

from recsys_tutorial.adapters import PEFT_METHODS, apply_peft, is_adalora
from recsys_tutorial.errors import ConfigError
from recsys_tutorial.models import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(tokenizer, n=3):
    return tokenizer(["toy story 5.0; heat 4.0"] * n, ["alien (1979) | sci-fi"] * n, return_tensors="pt")


@pytest.mark.parametrize("method", ["lora", "adalora", "ia3", "prompt"])
def test_apply_peft_bert(tiny_bert, tokenizer, method):
    total_before = count_parameters(tiny_bert)[1]
    kw = {"total_step": 10} if method == "adalora" else {}
    model = apply_peft(tiny_bert, method, **kw)
    trainable, _ = count_parameters(model)
    assert trainable < total_before / 10
    head = [n for n, p in model.named_parameters() if p.requires_grad and "classifier" in n]
    assert head, "the regression head must train (modules_to_save)"
    out = model(**_batch(tokenizer))
    assert out.logits.shape == (3, 1)


def test_apply_peft_errors(tiny_bert):
    with pytest.raises(ConfigError, match="total_step"):
        apply_peft(tiny_bert, "adalora")
    with pytest.raises(ConfigError, match="past_key_values|prompt"):
        apply_peft(tiny_bert, "prefix")
    with pytest.raises(ConfigError):
        apply_peft(tiny_bert, "qlora")


def test_apply_lora_gpt2(tiny_gpt2, tokenizer):
    total = count_parameters(tiny_gpt2)[1]
    model = apply_peft(tiny_gpt2, "lora")
    assert count_parameters(model)[0] < total / 10
    batch = tokenizer(["toy story 5.0", "heat 4.0; jaws 1.0; alien 4.5"], ["alien", "up"],
                      return_tensors="pt", padding=True, return_token_type_ids=False)
    assert model(**batch).logits.shape == (2, 1)


def test_apply_peft_accepts_numpy_numbers(tiny_bert):
    model = apply_peft(tiny_bert, "lora", r=np.int64(4), alpha=np.int64(8), dropout=np.float64(0.0))
    cfg = model.peft_config["default"]
    assert (cfg.r, cfg.lora_alpha, cfg.lora_dropout) == (4, 8, 0.0) and type(cfg.r) is int


def test_is_adalora_tells_adalora_from_other_models(make_tiny_bert):
    assert PEFT_METHODS == ("lora", "adalora", "ia3", "prefix", "prompt")
    assert not is_adalora(make_tiny_bert())
    assert not is_adalora(apply_peft(make_tiny_bert(), "lora"))
    assert is_adalora(apply_peft(make_tiny_bert(), "adalora", total_step=4))


def test_apply_peft_sizes_must_be_numbers(tiny_bert):
    with pytest.raises(ConfigError, match="r, alpha and num_virtual_tokens must be integers"):
        apply_peft(tiny_bert, "lora", r="eight")
