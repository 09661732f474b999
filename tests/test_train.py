import math

import numpy as np
import pytest
import torch

from recsys_tutorial.data import make_synthetic
from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.errors import CheckpointError, ConfigError
from recsys_tutorial.models import TargetScaler, apply_peft, load_checkpoint
from recsys_tutorial.text import make_pairs
from recsys_tutorial.train import TrainConfig, evaluate, predict, train

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


def test_config_validation():
    with pytest.raises(ConfigError, match="learning rate"):
        TrainConfig(lr="fast")
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=-1)
    with pytest.raises(ConfigError, match="grad_accum_steps"):
        TrainConfig(grad_accum_steps=0)
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="adam2")
    with pytest.raises(ConfigError, match="warmup_ratio"):
        TrainConfig(warmup_ratio=1.5)
    assert TrainConfig(lr="1e-4").lr == 1e-4


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


@pytest.mark.parametrize("peft_method", [None, "adalora"])
def test_finetune_rating_model_from_a_local_folder(pairs, tokenizer, make_tiny_bert, tmp_path, peft_method):
    from recsys_tutorial.train import finetune_rating_model

    folder = tmp_path / "tiny"
    make_tiny_bert().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    train_pairs, val_pairs = pairs
    out = finetune_rating_model(
        train_pairs.iloc[:96], val_pairs.iloc[:32], model_name=str(folder), profile="quick",
        config=TrainConfig(lr=1e-3, batch_size=16, progress=False), peft_method=peft_method,
    )
    assert out.result.history[-1]["step"] == 6
    assert out.scaler.mean == pytest.approx(float(train_pairs.rating.iloc[:96].mean()), rel=1e-5)
    assert out.result.best_val_rmse is not None
    with pytest.raises(ConfigError, match="either"):
        finetune_rating_model(train_pairs.iloc[:16], None, model_name=str(folder), freeze_strategy="head",
                              peft_method="lora", config=TrainConfig(progress=False))


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


def test_finetune_turns_dropout_off_by_default(pairs, tokenizer, make_tiny_bert, tmp_path):
    from recsys_tutorial.train import FINETUNE_DROPOUT, finetune_rating_model

    folder = tmp_path / "tiny"
    make_tiny_bert(dropout=0.1).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    train_pairs, _ = pairs
    out = finetune_rating_model(train_pairs.iloc[:32], None, model_name=str(folder), profile="quick",
                                config=TrainConfig(lr=1e-3, batch_size=16, max_steps=1, progress=False))
    assert FINETUNE_DROPOUT == 0.0 and out.model.config.hidden_dropout_prob == 0.0
    kept = finetune_rating_model(train_pairs.iloc[:32], None, model_name=str(folder), profile="quick", dropout=None,
                                 config=TrainConfig(lr=1e-3, batch_size=16, max_steps=1, progress=False))
    assert kept.model.config.hidden_dropout_prob == pytest.approx(0.1)
