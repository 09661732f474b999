"""DistributedDataParallel on 2 CPU processes (gloo) equals one process on the same global batch."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from safetensors.torch import load_file

from recsys_tutorial.datasets import LengthBucketSampler
from recsys_tutorial.distributed import env_int, init_distributed, is_main_process, world_size
from recsys_tutorial.errors import ConfigError

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    from safetensors.torch import save_file
    torch.set_num_threads(1)
    from recsys_tutorial.data import make_synthetic
    from recsys_tutorial.datasets import RatingTextDataset, make_loader
    from recsys_tutorial.distributed import init_distributed, shutdown
    from recsys_tutorial.models import TargetScaler, load_regressor
    from recsys_tutorial.text import make_pairs
    from recsys_tutorial.train import TrainConfig, train

    model_dir, out = sys.argv[1], sys.argv[2]
    rank, world = init_distributed()
    data = make_synthetic(n_users=20, n_items=30, seed=0, ratings_per_user=4)
    pairs = make_pairs(data.ratings, data.ratings, data.movies, max_items=2).iloc[:64]
    model, tok = load_regressor(model_dir, dropout=0.0)
    ds = RatingTextDataset.from_pairs(pairs, tok, max_length=32)
    loader = make_loader(ds, 8, shuffle=True, seed=3)
    result = train(model, loader, None, TrainConfig(lr=1e-3, max_steps=6, progress=False, warmup_ratio=0.0),
                   scaler=TargetScaler.fit(pairs.rating))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/rank{rank}_of{world}.safetensors")
    with open(f"{out}/rank{rank}_of{world}.json", "w") as fh:
        json.dump({"loss": result.history[-1]["train_loss"], "batches": len(loader)}, fh)
    shutdown()
    """
)


@pytest.fixture
def tiny_model_dir(tmp_path, make_tiny_bert, tokenizer):
    path = tmp_path / "tiny"
    make_tiny_bert(dropout=0.0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_sampler_shards_every_global_batch():
    full = LengthBucketSampler(list(range(40)), 8, shuffle=True, seed=1)
    shards = [LengthBucketSampler(list(range(40)), 8, shuffle=True, seed=1, num_replicas=2, rank=r) for r in (0, 1)]
    for whole, a, b in zip(full, *shards, strict=True):
        assert sorted(a + b) == sorted(whole) and len(a) == len(b) == 4


def test_single_process_defaults():
    assert init_distributed() == (0, 1) and is_main_process() and world_size() == 1


def test_a_malformed_world_size_is_a_config_error(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ConfigError, match="WORLD_SIZE='two'"):
        init_distributed()
    monkeypatch.setenv("WORLD_SIZE", " 1 ")
    assert init_distributed() == (0, 1)
    monkeypatch.delenv("WORLD_SIZE")
    assert env_int("WORLD_SIZE", 1) == 1


def test_two_cpu_processes_match_one_process(tiny_model_dir, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    subprocess.run([sys.executable, str(script), str(tiny_model_dir), str(tmp_path)], check=True, env=env, timeout=300)
    subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
         str(script), str(tiny_model_dir), str(tmp_path)],
        check=True, env=env, timeout=300,
    )
    single = load_file(tmp_path / "rank0_of1.safetensors")
    r0, r1 = (load_file(tmp_path / f"rank{r}_of2.safetensors") for r in (0, 1))
    for name in single:
        assert (r0[name] == r1[name]).all(), f"replicas diverged at {name}"  # identical, not just close
        assert (r0[name] - single[name]).abs().max() < 1e-4, name
    loss_single = json.loads((tmp_path / "rank0_of1.json").read_text())["loss"]
    losses = [json.loads((tmp_path / f"rank{r}_of2.json").read_text())["loss"] for r in (0, 1)]
    # each process logs the mean loss of its half-batches; their mean is the global batch's loss
    assert abs(sum(losses) / 2 - loss_single) < 1e-4 * max(1.0, abs(loss_single))
    initial = load_file(tiny_model_dir / "model.safetensors")
    assert max(float((single[n] - initial[n]).abs().max()) for n in initial if n in single) > 1e-4  # it trained
