import numpy as np
import pytest
import torch

from recsys_tutorial.errors import ConfigError
from recsys_tutorial.train_config import TrainConfig, as_int, make_optimizer


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
    with pytest.raises(ConfigError, match="max_grad_norm"):
        TrainConfig(max_grad_norm=0)
    with pytest.raises(ConfigError, match="TrainConfig.epochs"):
        TrainConfig(epochs=2.0)  # a float is not a count
    with pytest.raises(ConfigError, match="TrainConfig.eval_every"):
        TrainConfig(eval_every=True)
    assert TrainConfig(lr="1e-4").lr == 1e-4


def test_numpy_scalars_are_stored_as_python_numbers():
    # the example: TrainConfig(batch_size=np.int64(8)) was accepted and kept as np.int64
    assert TrainConfig(batch_size=np.int64(8)).batch_size == 8
    assert type(TrainConfig(batch_size=np.int64(8)).batch_size) is int
    cfg = TrainConfig(
        lr=np.float32(0.5), head_lr=np.float64(1e-3), weight_decay=np.float32(0.25),
        epochs=np.int32(3), max_steps=np.uint8(7), grad_accum_steps=np.int64(2),
        warmup_ratio=np.float64(0.125), max_grad_norm=np.float32(2.0), eval_every=np.int16(4),
        patience=np.int64(2), seed=np.int64(0), bf16=np.bool_(False),
    )
    expected = {"lr": 0.5, "head_lr": 1e-3, "weight_decay": 0.25, "epochs": 3, "max_steps": 7,
                "grad_accum_steps": 2, "warmup_ratio": 0.125, "max_grad_norm": 2.0, "eval_every": 4,
                "patience": 2, "seed": 0, "bf16": False}
    for name, value in expected.items():
        got = getattr(cfg, name)
        assert got == value and type(got) is type(value), (name, got)


def test_as_int_names_the_argument():
    assert as_int(np.int64(5), name="n", minimum=1) == 5
    with pytest.raises(ConfigError, match=r"max_length must be an integer >= 1, got 0"):
        as_int(0, name="max_length", minimum=1)
    with pytest.raises(ConfigError, match="n_layers"):
        as_int("2", name="n_layers", minimum=0)


def test_make_optimizer_groups_decay_and_head_lr():
    model = torch.nn.ModuleDict({"body": torch.nn.Linear(4, 4),
                                 "classifier": torch.nn.Linear(4, 1)})
    opt = make_optimizer(model, TrainConfig(lr=1e-3, head_lr=1e-2, weight_decay=0.1))
    groups = {(g["lr"], g["weight_decay"]): sum(p.numel() for p in g["params"])
              for g in opt.param_groups}
    # body weight 16 (decay), body bias 4 (no decay), head weight 4 (decay), head bias 1 (no decay)
    assert groups == {(1e-3, 0.1): 16, (1e-3, 0.0): 4, (1e-2, 0.1): 4, (1e-2, 0.0): 1}
    model.requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameters"):
        make_optimizer(model, TrainConfig())
