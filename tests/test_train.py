import inspect
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from recsys_tutorial.adapters import apply_peft
from recsys_tutorial.data import make_synthetic
from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.errors import CheckpointError, ConfigError
from recsys_tutorial.models import TargetScaler, load_checkpoint
from recsys_tutorial.text import make_pairs
from recsys_tutorial.train import TrainConfig, evaluate, predict, train, train_loop

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pairs():
    data = make_synthetic(n_users=200, n_items=120, seed=0)
    all_pairs = make_pairs(data.ratings, data.ratings, data.movies, max_items=2)
    order = np.random.default_rng(0).permutation(len(all_pairs))
    return all_pairs.iloc[order[:2400]], all_pairs.iloc[order[2400:2800]]


def _loaders(pairs, tokenizer, n_train=None, n_val=None, batch_size=32):
    train_pairs, val_pairs = pairs
    train_pairs, val_pairs = train_pairs.iloc[:n_train], val_pairs.iloc[:n_val]
    tr = RatingTextDataset.from_pairs(train_pairs, tokenizer, max_length=48)
    va = RatingTextDataset.from_pairs(val_pairs, tokenizer, max_length=48)
    scaler = TargetScaler.fit(train_pairs.rating)
    return make_loader(tr, batch_size, shuffle=True, seed=1), make_loader(va, 64, shuffle=False), scaler


def test_training_learns_synthetic_preferences(pairs, tokenizer, make_tiny_bert):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 1280, 256)
    truth = val_loader.dataset.ratings
    baseline = math.sqrt(np.mean((truth - scaler.mean) ** 2))  # the global-mean predictor
    model = make_tiny_bert()
    config = TrainConfig(lr=5e-3, epochs=2, progress=False)
    result = train(model, train_loader, val_loader, config, scaler=scaler)
    print(f"tiny BERT val RMSE {result.best_val_rmse:.3f}, global mean {baseline:.3f}")
    assert result.best_val_rmse < 0.8 * baseline, (result.best_val_rmse, baseline)
    assert [h["step"] for h in result.history] == [40, 80]
    assert set(result.history[0]) == {"step", "epoch", "train_loss", "val_rmse", "val_mae", "lr"}
    assert result.samples_per_second > 0
    metrics = evaluate(model, val_loader, scaler)
    assert metrics["rmse"] == pytest.approx(result.best_val_rmse, abs=1e-6)
    preds = predict(model, val_loader, scaler)
    assert preds.min() >= 0.5 and preds.max() <= 5.0
    # predictions come back in dataset order although batches were sorted by length
    single = RatingTextDataset.from_pairs(pairs[1].iloc[[7]], tokenizer, max_length=48)
    alone = predict(model, make_loader(single, 1, shuffle=False), scaler)
    assert alone[0] == pytest.approx(preds[7], abs=1e-4)


def test_same_seed_same_metrics(pairs, tokenizer, make_tiny_bert):
    runs = []
    for _ in range(2):
        train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 320, 128)
        model = make_tiny_bert(seed=5)
        cfg = TrainConfig(lr=1e-3, epochs=1, seed=11, progress=False, grad_accum_steps=2)
        runs.append(train(model, train_loader, val_loader, cfg, scaler=scaler).history)
    assert runs[0] == runs[1]


def test_resume_gives_the_same_weights_and_metrics(pairs, tokenizer, make_tiny_bert, tmp_path):
    def run(checkpoint_dir, interrupt):
        train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 320, 128)
        cfg = TrainConfig(lr=2e-3, epochs=2, seed=3, progress=False, checkpoint_dir=str(checkpoint_dir))

        def crash_after_first_epoch(record):
            if interrupt and record["epoch"] == 1.0:
                raise KeyboardInterrupt  # the checkpoint of epoch 1 is already on disk

        model = make_tiny_bert(seed=1)
        try:
            result = train(model, train_loader, val_loader, cfg, scaler=scaler,
                           callbacks=[crash_after_first_epoch])
        except KeyboardInterrupt:
            model = make_tiny_bert(seed=99)  # a fresh process: other random weights
            result = train(model, train_loader, val_loader, cfg, scaler=scaler, resume=True)
        return model, result

    straight, r1 = run(tmp_path / "a", interrupt=False)
    resumed, r2 = run(tmp_path / "b", interrupt=True)
    assert [h["step"] for h in r2.history] == [10, 20]
    for h1, h2 in zip(r1.history, r2.history, strict=True):
        for key in ("step", "val_rmse", "val_mae", "lr", "train_loss"):
            assert h1[key] == pytest.approx(h2[key], rel=1e-6, abs=1e-9), key
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    best, _, scaler, extra = load_checkpoint(tmp_path / "b" / "best")
    assert extra["best_val_rmse"] == pytest.approx(r2.best_val_rmse)


def test_resume_with_another_config_is_refused(pairs, tokenizer, make_tiny_bert, tmp_path):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 64, 64)
    cfg = TrainConfig(lr=1e-3, epochs=1, progress=False, checkpoint_dir=str(tmp_path))
    train(make_tiny_bert(), train_loader, val_loader, cfg, scaler=scaler)
    other = TrainConfig(lr=1e-3, epochs=1, seed=7, progress=False, checkpoint_dir=str(tmp_path))
    with pytest.raises(CheckpointError, match="seed"):
        train(make_tiny_bert(), train_loader, val_loader, other, scaler=scaler, resume=True)
    with pytest.raises(ConfigError, match="checkpoint_dir"):
        train(make_tiny_bert(), train_loader, val_loader, TrainConfig(progress=False), scaler=scaler, resume=True)


def test_early_stopping_restores_the_best_weights(pairs, tokenizer, make_tiny_bert):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 640, 128)
    model = make_tiny_bert()
    # a far too high learning rate makes validation error bounce: patience must stop the run
    cfg = TrainConfig(lr=0.5, optimizer="sgd", epochs=3, eval_every=2, patience=2, progress=False,
                      warmup_ratio=0.0)
    result = train(model, train_loader, val_loader, cfg, scaler=scaler)
    rmses = [h["val_rmse"] for h in result.history]
    assert result.best_val_rmse == min(rmses)
    assert result.stopped_early and len(rmses) < 30  # 3 epochs x 20 steps, eval every 2
    assert len(rmses) - 1 - int(np.argmin(rmses)) == 2  # stopped after `patience` bad evaluations
    assert evaluate(model, val_loader, scaler)["rmse"] == pytest.approx(result.best_val_rmse, abs=1e-6)


def test_max_steps_and_lora_training_with_head_lr(pairs, tokenizer, make_tiny_bert):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 320, 64)
    model = apply_peft(make_tiny_bert(), "lora")
    head_before = model.base_model.model.classifier.modules_to_save["default"].weight.clone()
    cfg = TrainConfig(lr=1e-3, head_lr=1e-2, epochs=5, max_steps=4, progress=False)
    result = train(model, train_loader, val_loader, cfg, scaler=scaler)
    assert result.history[-1]["step"] == 4
    head_after = model.base_model.model.classifier.modules_to_save["default"].weight
    assert not torch.equal(head_before, head_after)  # the head trained


def test_adalora_update_and_allocate_is_called(pairs, tokenizer, make_tiny_bert, monkeypatch):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 128, 64)
    model = apply_peft(make_tiny_bert(), "adalora", total_step=4)
    calls = []
    original = model.base_model.update_and_allocate
    monkeypatch.setattr(model.base_model, "update_and_allocate", lambda step: calls.append(step) or original(step))
    train(model, train_loader, val_loader, TrainConfig(lr=1e-3, epochs=1, progress=False), scaler=scaler)
    assert calls == [1, 2, 3, 4]


def test_model_and_dataset_work_with_transformers_trainer(pairs, tokenizer, make_tiny_bert, tmp_path):
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    train_pairs, _ = pairs
    scaler = TargetScaler.fit(train_pairs.rating)
    ds = RatingTextDataset.from_pairs(train_pairs.iloc[:64], tokenizer, max_length=48, scaler=scaler)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=16,
                             report_to=[], save_strategy="no", logging_strategy="no", use_cpu=True,
                             disable_tqdm=True)
    trainer = Trainer(model=make_tiny_bert(), args=args, train_dataset=ds,
                      data_collator=DataCollatorWithPadding(tokenizer))
    out = trainer.train()
    assert np.isfinite(out.training_loss)


def test_bce_loss_learns_clicks_and_returns_probabilities(pairs, tokenizer, make_tiny_bert):
    # clicks = rating >= 3.5 on the synthetic catalogue; BCE on logits, predictions in (0, 1)
    train_pairs, val_pairs = pairs
    train_pairs = train_pairs.iloc[:1280].assign(rating=lambda f: (f.rating >= 3.5).astype("float32"))
    val_pairs = val_pairs.iloc[:256].assign(rating=lambda f: (f.rating >= 3.5).astype("float32"))
    tr = RatingTextDataset.from_pairs(train_pairs, tokenizer, max_length=48)
    va = RatingTextDataset.from_pairs(val_pairs, tokenizer, max_length=48)
    scaler = TargetScaler.binary()
    model = make_tiny_bert()
    with pytest.raises(ConfigError, match="bce"):
        train(model, make_loader(tr, 32, shuffle=True), None, TrainConfig(progress=False), scaler=scaler)
    config = TrainConfig(lr=5e-3, epochs=4, progress=False, loss="bce")
    train(model, make_loader(tr, 32, shuffle=True, seed=1), None, config, scaler=scaler)
    val_loader = make_loader(va, 64, shuffle=False)
    probs = predict(model, val_loader, scaler)
    assert ((probs > 0) & (probs < 1)).all()
    base_rate = float(train_pairs.rating.mean())
    prior_log_loss = -(base_rate * math.log(base_rate) + (1 - base_rate) * math.log(1 - base_rate))
    metrics = evaluate(model, val_loader, scaler)
    assert metrics["log_loss"] < 0.93 * prior_log_loss, (metrics, prior_log_loss)
    assert TargetScaler.from_json(scaler.to_json()) == scaler


def test_batch_larger_than_the_data_is_refused(pairs, tokenizer, make_tiny_bert):
    train_loader, _, scaler = _loaders(pairs, tokenizer, n_train=10, n_val=10, batch_size=32)
    with pytest.raises(ConfigError, match="larger than the 10 training examples"):
        train(make_tiny_bert(), train_loader, None, TrainConfig(progress=False), scaler=scaler)


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_eager_attention_gives_the_same_outputs(which, tiny_bert, tiny_gpt2):
    from recsys_tutorial.train import use_eager_attention

    model = (tiny_bert if which == "bert" else tiny_gpt2).eval()
    ids = torch.randint(5, 90, (3, 12))
    mask = torch.ones_like(ids)
    mask[0, 8:] = 0  # a padded row: the mask must mean the same in both kernels
    with torch.no_grad():
        fused = model(input_ids=ids, attention_mask=mask).logits
        assert use_eager_attention(model)
        assert model.config._attn_implementation == "eager"
        eager = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(eager, fused, atol=1e-5, rtol=1e-5)


def test_cpu_bf16_training_switches_to_eager_attention_and_fused_adamw(pairs, tokenizer, make_tiny_bert):
    from recsys_tutorial.train import make_optimizer

    model = make_tiny_bert()
    config = TrainConfig(lr=1e-3, max_steps=2, batch_size=16, bf16=True, progress=False)
    assert make_optimizer(model, config).defaults["fused"] is True  # CPU parameters: one fused kernel
    train_loader, _, scaler = _loaders(pairs, tokenizer, n_train=64, batch_size=16)
    assert model.config._attn_implementation != "eager"
    train(model, train_loader, None, config, scaler=scaler)
    assert model.config._attn_implementation == "eager"


# --------------------------------------------------------------------------- any model, one loop


class LinearRegressor(nn.Module):
    """A model that is not a transformer: one weight per feature, returns a (B,) tensor."""

    def __init__(self, n_features: int = 3):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.zero_()

    def forward(self, x):
        return self.linear(x).squeeze(-1)


class Features(torch.utils.data.Dataset):
    """Examples {"x": 3 floats, "labels": rating}; ratings = 3 + x @ [1, -0.5, 0.25]."""

    def __init__(self, n: int, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 3, generator=gen)
        self.ratings = (3.0 + self.x @ torch.tensor([1.0, -0.5, 0.25])).numpy()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": float(self.ratings[i])}


def test_train_loop_reads_top_to_bottom():
    source = inspect.getsource(train_loop)
    assert len(source.splitlines()) <= 60
    steps = ["zero_grad(", "run.forward(", "run.loss_fn(", ".backward()", "clip_grad_norm_(",
             "optimizer.step()", "scheduler.step()"]
    positions = [source.index(step) for step in steps]
    assert positions == sorted(positions), "the loop's steps are out of order"
    assert "nonlocal" not in inspect.getsource(inspect.getmodule(train))


def test_a_model_returning_a_tensor_trains_and_predicts():
    train_ds, val_ds = Features(256, seed=0), Features(64, seed=1)
    scaler = TargetScaler.fit(train_ds.ratings, scale=(-10, 15))
    model = LinearRegressor()
    config = TrainConfig(lr=0.1, optimizer="sgd", epochs=10, warmup_ratio=0.0, progress=False)
    result = train(model, DataLoader(train_ds, batch_size=32, shuffle=False),
                   DataLoader(val_ds, batch_size=64), config, scaler=scaler)
    weight = model.linear.weight.detach()[0] * scaler.std  # back in rating units
    torch.testing.assert_close(weight, torch.tensor([1.0, -0.5, 0.25]), atol=0.01, rtol=0)
    assert result.best_val_rmse < 0.02
    preds = predict(model, DataLoader(val_ds, batch_size=16), scaler)
    np.testing.assert_allclose(preds, val_ds.ratings, atol=0.05)


def test_outputs_with_logits_and_a_custom_forward_hook():
    class Wrapped(LinearRegressor):  # takes one positional tensor, answers like Hugging Face
        def forward(self, x):
            return SimpleNamespace(logits=super().forward(x)[:, None])

    calls = []

    def forward(model, batch, targets=None):
        calls.append(targets is None)
        return model(batch["x"])

    train_ds, val_ds = Features(64), Features(32, seed=1)
    scaler = TargetScaler.fit(train_ds.ratings, scale=(-10, 15))
    config = TrainConfig(lr=0.05, optimizer="sgd", epochs=2, warmup_ratio=0.0, progress=False)
    model = Wrapped()
    result = train(model, DataLoader(train_ds, batch_size=16), DataLoader(val_ds, batch_size=32),
                   config, scaler=scaler, forward=forward)
    assert calls.count(False) == 8 and calls.count(True) == 2  # 2 x 4 steps, one val batch each
    assert [h["step"] for h in result.history] == [4, 8]
    assert evaluate(model, DataLoader(val_ds, batch_size=32), scaler, forward=forward)["rmse"] == (
        pytest.approx(result.best_val_rmse))


def test_accumulation_with_a_partial_last_group_equals_one_large_batch():
    # 10 examples: batches of 4 with 2 accumulation steps are groups {4, 4} and {2} (partial:
    # its gradient must be the mean over 2 examples, not half of it); batches of 8 without
    # accumulation are {8} and {2}. Both runs must take the same two steps.
    data = Features(10)
    scaler = TargetScaler.fit(data.ratings, scale=(-10, 15))
    weights = []
    for batch_size, accum in ((4, 2), (8, 1)):
        model = LinearRegressor()
        config = TrainConfig(lr=0.1, optimizer="sgd", grad_accum_steps=accum, warmup_ratio=0.0,
                             max_grad_norm=None, progress=False)
        result = train(model, DataLoader(data, batch_size=batch_size), None, config, scaler=scaler)
        assert result.history[-1]["step"] == 2
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], atol=1e-6, rtol=1e-6)
    assert weights[0].abs().sum() > 0.1  # it moved


def test_numpy_integers_in_the_config_train_like_python_ones(pairs, tokenizer, make_tiny_bert):
    train_loader, val_loader, scaler = _loaders(pairs, tokenizer, 64, 32, batch_size=16)
    histories = []
    for kind in (int, np.int64):
        cfg = TrainConfig(lr=1e-3, epochs=kind(2), grad_accum_steps=kind(2), eval_every=kind(2),
                          seed=kind(3), progress=False)
        histories.append(train(make_tiny_bert(), train_loader, val_loader, cfg, scaler=scaler).history)
    assert [h["step"] for h in histories[0]] == [2, 4]
    assert histories[0] == histories[1]
