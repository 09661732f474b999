import json
import random

import numpy as np
import pytest
import torch

from recsys_tutorial.errors import CheckpointError
from recsys_tutorial.models import TargetScaler
from recsys_tutorial.train_config import TrainConfig, make_optimizer
from recsys_tutorial.train_state import (
    RunState,
    optimizer_state,
    restore_last,
    restore_optimizer,
    restore_rng,
    rng_state,
    save_last,
)


def _optimizer_and_schedule(model, steps=3):
    opt = make_optimizer(model, TrainConfig(lr=1e-2))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 - step / 10)
    for _ in range(steps):
        model.zero_grad()
        sum(p.square().sum() for p in model.parameters()).backward()
        opt.step()
        sched.step()
    return opt, sched


def test_run_state_counts_batches():
    state = RunState()
    state.record_batch(0, 2.0, 8)
    state.record_batch(1, 1.0, 5)
    counts = (state.loss_sum, state.loss_count, state.samples, state.batch_in_epoch)
    assert counts == (3.0, 2, 13, 2)


def test_optimizer_state_round_trip_through_json():
    model = torch.nn.Linear(3, 2)
    opt, _ = _optimizer_and_schedule(model)
    tensors, meta = optimizer_state(opt)
    meta = json.loads(json.dumps(meta))  # what a checkpoint stores
    fresh = make_optimizer(model, TrainConfig(lr=1e-2))
    restore_optimizer(fresh, tensors, meta)
    a, b = opt.state_dict(), fresh.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for pid in a["state"]:
        for key, value in a["state"][pid].items():
            torch.testing.assert_close(b["state"][pid][key], value)


def test_rng_state_round_trip_through_json():
    tensors, meta = rng_state()
    meta = json.loads(json.dumps(meta))
    first = (torch.rand(3), np.random.rand(3), random.random())
    restore_rng(tensors, meta)
    again = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2] == again[2]


def test_save_and_restore_last(tiny_bert, tmp_path):
    config = TrainConfig(lr=1e-2, seed=3)
    opt, sched = _optimizer_and_schedule(tiny_bert)
    state = RunState(epoch=1, batch_in_epoch=4, global_step=3, best_val_rmse=0.9, best_step=2)
    best = {k: torch.zeros_like(v) for k, v in tiny_bert.state_dict().items()}
    save_last(tmp_path, tiny_bert, None, TargetScaler(3.0, 1.0), opt, sched, state, best, config)

    model2 = type(tiny_bert)(tiny_bert.config)
    opt2, sched2 = _optimizer_and_schedule(model2, steps=0)
    state2, best2 = restore_last(tmp_path, model2, opt2, sched2, config)
    assert state2 == state
    assert sched2.last_epoch == 3 and set(best2) == set(best)
    assert all(float(v.abs().sum()) == 0 for v in best2.values())  # best differed from current
    restored = model2.state_dict()
    for name, value in tiny_bert.state_dict().items():
        torch.testing.assert_close(restored[name], value, msg=name)
    with pytest.raises(CheckpointError, match="saved with seed=3"):
        restore_last(tmp_path, model2, opt2, sched2, TrainConfig(lr=1e-2, seed=4))
