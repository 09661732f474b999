"""Checkpoints: atomic saves, exact round trips (weights, tokenizer, scaler with its scale),
clear errors for corrupted, truncated or foreign folders."""

import json

import numpy as np
import pytest
import torch

from recsys_tutorial.adapters import apply_peft
from recsys_tutorial.checkpoints import (
    load_checkpoint,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
)
from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.errors import CheckpointError
from recsys_tutorial.models import count_parameters
from recsys_tutorial.scaler import TargetScaler

pytestmark = pytest.mark.usefixtures("one_thread")


def _loader(tokenizer):
    ds = RatingTextDataset(
        ["toy story 5.0; heat 4.0", "jaws 1.0", "up 3.5; rocky 2.0; heat 4.0"],
        ["alien", "matrix (1999) | action", "rocky"],
        [4.0, 2.0, 3.0],
        tokenizer,
    )
    return make_loader(ds, 2, shuffle=False)


def predict(model, loader, scaler):
    """Ratings in dataset order (the loader is not bucketed by length here: 3 items)."""
    model.eval()
    out = []
    with torch.no_grad():
        for batch in loader:
            batch = {k: v for k, v in batch.items() if k != "labels"}
            out.append(scaler.inverse_transform(model(**batch).logits.squeeze(-1)))
    order = np.concatenate(list(loader.batch_sampler))
    pred = np.empty(len(order))
    pred[order] = torch.cat(out).numpy()
    return pred


def test_models_module_re_exports_the_checkpoint_api():
    from recsys_tutorial import checkpoints, models

    for name in (
        "save_checkpoint",
        "load_checkpoint",
        "load_weights",
        "read_checkpoint_meta",
        "load_checkpoint_tensors",
        "state_tensors",
        "WEIGHTS_FILE",
        "META_FILE",
    ):
        assert getattr(models, name) is getattr(checkpoints, name)


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
    loaded.eval()
    np.testing.assert_allclose(predict(loaded, loader, scaler), before, rtol=1e-6)
    assert count_parameters(loaded)[0] == count_parameters(model)[0]


def test_corrupted_truncated_and_foreign_checkpoints(
    tmp_path, tiny_bert, tiny_gpt2, tokenizer, make_tiny_bert
):
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


def test_a_crash_while_saving_leaves_the_previous_checkpoint(
    tmp_path, tiny_bert, tokenizer, monkeypatch
):
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


def test_a_one_to_ten_scaler_survives_save_and_load(tmp_path, tiny_bert, tokenizer):
    # the example: ratings on a 1-10 scale keep their scale through a checkpoint
    scaler = TargetScaler.fit([6.0, 7.0, 8.0, 9.0, 10.0], scale=(1, 10))
    assert (scaler.low, scaler.high) == (1.0, 10.0) and scaler.mean == 8.0
    save_checkpoint(tmp_path / "ten", tiny_bert, tokenizer, scaler)
    assert read_checkpoint_meta(tmp_path / "ten")["scaler"] == {
        "mean": 8.0,
        "std": pytest.approx(2.0**0.5),
        "low": 1.0,
        "high": 10.0,
        "link": "identity",
    }
    _, _, loaded, _ = load_checkpoint(tmp_path / "ten")
    assert loaded == scaler and loaded.scale == (1.0, 10.0)
    # predictions map back onto 1-10, not 0.5-5: 3 standard deviations above the mean clip to 10
    np.testing.assert_allclose(
        loaded.inverse_transform(np.array([0.0, -1.0, 3.0])), [8.0, 8.0 - 2.0**0.5, 10.0]
    )


def test_loaded_tokenizer_pads_on_the_right(tmp_path, tiny_gpt2, tokenizer):
    import copy

    left = copy.deepcopy(tokenizer)
    left.padding_side = "left"
    save_checkpoint(tmp_path / "g", tiny_gpt2, left, TargetScaler(3.0, 1.0))
    assert (
        json.loads((tmp_path / "g" / "tokenizer_config.json").read_text())["padding_side"] == "left"
    )
    _, tok, _, _ = load_checkpoint(tmp_path / "g")
    assert tok.padding_side == "right"
