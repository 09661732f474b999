import json

import numpy as np
import pytest
import torch

from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.errors import CheckpointError, ConfigError, ModelLoadError
from recsys_tutorial.models import (
    TargetScaler,
    apply_peft,
    count_parameters,
    default_model_path,
    freeze,
    load_checkpoint,
    load_regressor,
    load_tokenizer,
    save_checkpoint,
)
from recsys_tutorial.train import predict

pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(tokenizer, n=3):
    return tokenizer(["toy story 5.0; heat 4.0"] * n, ["alien (1979) | sci-fi"] * n, return_tensors="pt")


def _loader(tokenizer):
    ds = RatingTextDataset(["toy story 5.0; heat 4.0", "jaws 1.0", "up 3.5; rocky 2.0; heat 4.0"],
                           ["alien", "matrix (1999) | action", "rocky"], [4.0, 2.0, 3.0], tokenizer)
    return make_loader(ds, 2, shuffle=False)


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


def test_target_scaler_round_trip():
    scaler = TargetScaler.fit([1.0, 3.0, 5.0])
    assert scaler.mean == pytest.approx(3.0)
    z = scaler.transform(np.array([1.0, 5.0]))
    np.testing.assert_allclose(scaler.to_rating(z), [1.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(scaler.to_rating(np.array([10.0, -10.0])), [5.0, 0.5])
    t = scaler.to_rating(torch.tensor([0.0]))
    assert isinstance(t, torch.Tensor) and t.item() == pytest.approx(3.0)
    assert TargetScaler.from_json(scaler.to_json()) == scaler
    with pytest.raises(ConfigError):
        TargetScaler(3.0, 0.0)


def test_freeze_strategies_bert_and_gpt2(tiny_bert, tiny_gpt2):
    for model in (tiny_bert, tiny_gpt2):
        total = count_parameters(model)[1]
        head = freeze(model, "head")
        top = freeze(model, "top", n_layers=1)
        full = freeze(model, "full")
        assert head < top < full == total
        head_names = {n for n, p in model.named_parameters() if p.requires_grad}
        assert head_names  # sanity
    freeze(tiny_bert, "head")
    assert {n for n, p in tiny_bert.named_parameters() if p.requires_grad} == {
        "classifier.weight", "classifier.bias"
    }
    with pytest.raises(ConfigError):
        freeze(tiny_bert, "bottom")


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


def test_save_load_round_trip_plain(tmp_path, tiny_bert, tokenizer):
    scaler = TargetScaler(3.5, 1.1)
    loader = _loader(tokenizer)
    before = predict(tiny_bert, loader, scaler)
    save_checkpoint(tmp_path / "ckpt", tiny_bert, tokenizer, scaler, extra={"note": "hi"})
    model, tok, scaler2, extra = load_checkpoint(tmp_path / "ckpt")
    assert scaler2 == scaler and extra == {"note": "hi"}
    np.testing.assert_array_equal(predict(model, loader, scaler2), before)
    assert tok("heat")["input_ids"] == tokenizer("heat")["input_ids"]
    # saving again replaces the folder atomically (no temporary folders left behind)
    save_checkpoint(tmp_path / "ckpt", tiny_bert, tokenizer, scaler)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_save_load_round_trip_lora_keeps_head(tmp_path, tiny_bert, tokenizer):
    model = apply_peft(tiny_bert, "lora")
    with torch.no_grad():  # pretend training moved the head and the adapters
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.5)
    scaler = TargetScaler(3.5, 1.1)
    loader = _loader(tokenizer)
    before = predict(model, loader, scaler)
    save_checkpoint(tmp_path / "lora", model, tokenizer, scaler)
    loaded, _, _, _ = load_checkpoint(tmp_path / "lora")
    np.testing.assert_allclose(predict(loaded, loader, scaler), before, rtol=1e-6)
    assert count_parameters(loaded)[0] == count_parameters(model)[0]


def test_corrupted_truncated_and_foreign_checkpoints(tmp_path, tiny_bert, tiny_gpt2, tokenizer, make_tiny_bert):
    scaler = TargetScaler(3.0, 1.0)
    path = save_checkpoint(tmp_path / "c", tiny_bert, tokenizer, scaler)
    weights = path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # flip one byte
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(path)
    weights.write_bytes(bytes(data[: len(data) // 2]))  # truncate
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(path)
    weights.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(path)
    (path / "checkpoint.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="checkpoint.json"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nowhere")
    # weights of another architecture: a GPT-2 checkpoint loaded into a BERT
    from recsys_tutorial.models import load_weights

    gpt = save_checkpoint(tmp_path / "g", tiny_gpt2, tokenizer, scaler)
    with pytest.raises(CheckpointError, match="different architecture"):
        load_weights(make_tiny_bert(), gpt)
    # same config file, other shapes (a checkpoint edited or mixed up)
    bert = save_checkpoint(tmp_path / "b", tiny_bert, tokenizer, scaler)
    cfg = json.loads((bert / "config.json").read_text())
    cfg["intermediate_size"] = 128
    (bert / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="different architecture"):
        load_checkpoint(bert)


def test_a_crash_while_saving_leaves_the_previous_checkpoint(tmp_path, tiny_bert, tokenizer, monkeypatch):
    import json as json_module

    scaler = TargetScaler(3.5, 1.1)
    loader = _loader(tokenizer)
    before = predict(tiny_bert, loader, scaler)
    save_checkpoint(tmp_path / "ckpt", tiny_bert, tokenizer, scaler, extra={"run": 1})
    with torch.no_grad():  # the model changes, then the process "dies" half-way through saving
        for p in tiny_bert.parameters():
            p.add_(1.0)

    def crash(obj, fh, **kw):
        fh.write('{"format": 1, "trunc')
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(json_module, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "ckpt", tiny_bert, tokenizer, scaler, extra={"run": 2})
    monkeypatch.undo()
    model, _, scaler2, extra = load_checkpoint(tmp_path / "ckpt")
    assert extra == {"run": 1}
    np.testing.assert_array_equal(predict(model, loader, scaler2), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no half-written folder left
