import copy
import json

import numpy as np
import pytest

from recsys_tutorial.errors import ConfigError, ModelLoadError
from recsys_tutorial.models import (
    canonical_freeze_strategy,
    count_parameters,
    default_model_path,
    ensure_pad_token,
    freeze,
    load_error,
    load_regressor,
    load_tokenizer,
    resolve_model_path,
    use_right_padding,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(tokenizer, n=3):
    return tokenizer(["toy story 5.0; heat 4.0"] * n, ["alien (1979) | sci-fi"] * n, return_tensors="pt")


def test_packaged_minilm_loads_offline_and_runs(tokenizer):
    model, tok = load_regressor()
    trainable, total = count_parameters(model)
    assert total == pytest.approx(22_713_216, rel=0.001)  # 22.7M + a 385-parameter head
    assert trainable == total
    out = model(**_batch(tok, 2))
    assert out.logits.shape == (2, 1)
    assert model.config.problem_type == "regression"
    assert load_tokenizer().vocab_size == 30522
    assert load_tokenizer(default_model_path()).vocab_size == 30522


def test_missing_or_empty_model_path_raises(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model folder"):
        load_regressor(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_regressor(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError, match="no weights"):
        load_regressor(tmp_path)
    with pytest.raises(ModelLoadError):
        load_regressor("surely-not/a-real-model-id-xyz")  # offline: fails fast with advice


def test_freeze_strategies_bert_and_gpt2(tiny_bert, tiny_gpt2):
    for model in (tiny_bert, tiny_gpt2):
        total = count_parameters(model)[1]
        backbone = freeze(model, "backbone")
        lower = freeze(model, "lower", n_layers=1)
        none = freeze(model, "none")
        assert backbone < lower < none == total
    freeze(tiny_bert, "backbone")
    assert {n for n, p in tiny_bert.named_parameters() if p.requires_grad} == {
        "classifier.weight", "classifier.bias"
    }
    with pytest.raises(ConfigError, match="none.*backbone.*lower"):
        freeze(tiny_bert, "bottom")


def test_freeze_names_say_what_they_freeze_and_old_names_still_work(tiny_bert):
    # the issue: freeze(model, "full") froze nothing; "none" now says so, "full" stays an alias
    total = count_parameters(tiny_bert)[1]
    head = 32 + 1  # classifier: 32 weights and a bias
    per_block = sum(p.numel() for p in tiny_bert.bert.encoder.layer[1].parameters())
    pooler = sum(p.numel() for p in tiny_bert.bert.pooler.parameters())
    expected = {"none": total, "backbone": head, "lower": head + per_block + pooler}
    for old, new in (("full", "none"), ("head", "backbone"), ("top", "lower")):
        assert canonical_freeze_strategy(old) == new and canonical_freeze_strategy(new) == new
        counts = {freeze(tiny_bert, name, n_layers=1) for name in (old, new)}
        assert counts == {expected[new]}
    assert freeze(tiny_bert) == total  # the default freezes nothing
    assert freeze(tiny_bert, "lower", n_layers=np.int64(0)) == head + pooler  # NumPy integers work
    for bad in (3, -1, 1.5, True):
        with pytest.raises(ConfigError, match="n_layers"):
            freeze(tiny_bert, "lower", n_layers=bad)


def test_public_loading_helpers(tmp_path):
    assert resolve_model_path(None, need_weights=True) == default_model_path()
    assert resolve_model_path("org/model-id", need_weights=True) == "org/model-id"
    with pytest.raises(ModelLoadError, match="no such model folder"):
        resolve_model_path(str(tmp_path / "missing"), need_weights=False)
    err = load_error("org/model-id", OSError("not found"))
    assert isinstance(err, ModelLoadError)
    assert "org/model-id" in str(err) and "not found" in str(err)


def test_is_decoder_model_is_gone_and_peft_moved_to_adapters():
    import recsys_tutorial.models as models

    assert not hasattr(models, "is_decoder_model")
    for name in ("apply_peft", "is_adalora", "PEFT_METHODS"):  # now in recsys_tutorial.adapters
        assert not hasattr(models, name)


def test_tokenizers_the_package_loads_pad_on_the_right(tmp_path, tokenizer, tiny_gpt2):
    # several decoder tokenizers ship with padding_side="left"; the package's pad on the right
    left = copy.deepcopy(tokenizer)
    left.padding_side = "left"
    left.save_pretrained(tmp_path)
    tiny_gpt2.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["padding_side"] == "left"
    assert load_tokenizer(tmp_path).padding_side == "right"
    assert load_regressor(tmp_path)[1].padding_side == "right"
    received = copy.deepcopy(left)
    ensure_pad_token(received)
    assert received.padding_side == "right"
    again = copy.deepcopy(left)
    assert use_right_padding(again) is again and again.padding_side == "right"
    batch = again(["a", "a b c d"], padding=True)
    assert batch["attention_mask"][0][-1] == 0
    assert batch["input_ids"][0][0] == tokenizer.cls_token_id


def test_ensure_pad_token_gives_decoders_their_eos(tiny_gpt2, tokenizer):
    tok = copy.deepcopy(tokenizer)
    tok.pad_token = None
    tok.eos_token = "[SEP]"
    tiny_gpt2.config.pad_token_id = None
    ensure_pad_token(tok, tiny_gpt2)
    assert tok.pad_token == "[SEP]" and tiny_gpt2.config.pad_token_id == tokenizer.sep_token_id
