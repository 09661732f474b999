"""recsys_tutorial.resources: resident memory and training-step measurements in a child process."""

from __future__ import annotations

import os

import numpy as np
import pytest

from recsys_tutorial.errors import ConfigError, EvaluationError
from recsys_tutorial.resources import main, measure_in_subprocess, measure_training, rss_mb

N_ROWS, LENGTH = 4, 12


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, bert_config_factory):
    """A tiny random BERT regressor saved to a folder, and a batch file of 4 rows × 12 tokens."""
    import torch
    from transformers import BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny")
    config = bert_config_factory(num_labels=1, problem_type="regression")
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder / "model")
    gen = torch.Generator().manual_seed(0)
    batch = {
        "input_ids": torch.randint(1000, 2000, (N_ROWS, LENGTH), generator=gen),
        "attention_mask": torch.ones(N_ROWS, LENGTH, dtype=torch.long),
        "token_type_ids": torch.zeros(N_ROWS, LENGTH, dtype=torch.long),
        "labels": torch.randn(N_ROWS, generator=gen),
    }
    torch.save(batch, folder / "batch.pt")
    return {"model": str(folder / "model"), "batch_file": str(folder / "batch.pt")}


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_rss_mb_sees_a_new_allocation():
    before = rss_mb()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, every page written
    grown = rss_mb() - before
    assert before > 1.0
    assert 48.0 < grown < 96.0, grown
    del block


@pytest.mark.parametrize(
    ("micro_batch", "bf16", "checkpointing"), [(4, False, False), (2, True, True)]
)
def test_measure_training_in_process(tiny_run, micro_batch, bf16, checkpointing):
    out = measure_training(**tiny_run, steps=2, micro_batch=micro_batch, bf16=bf16,
                           checkpointing=checkpointing)
    assert set(out) == {"loaded_mb", "peak_mb", "samples_per_s", "samples"}
    assert out["samples"] == 2 * N_ROWS
    assert out["loaded_mb"] > 1.0
    assert out["peak_mb"] >= out["loaded_mb"]
    assert out["samples_per_s"] > 0


def test_measure_in_subprocess_returns_the_child_measurement(tiny_run):
    out = measure_in_subprocess(**tiny_run, steps=1, micro_batch=2, timeout=300)
    assert out["samples"] == N_ROWS
    assert out["peak_mb"] >= out["loaded_mb"] > 1.0
    assert out["samples_per_s"] > 0


def test_measure_in_subprocess_reports_the_child_error(tmp_path, tiny_run):
    with pytest.raises(EvaluationError, match="failed.*exit 1"):
        measure_in_subprocess(model=tiny_run["model"], batch_file=str(tmp_path / "missing.pt"),
                              steps=1, micro_batch=2, timeout=300)


def test_bad_arguments_raise_config_error(tiny_run, capsys):
    with pytest.raises(ConfigError, match="missing argument.*batch_file"):
        measure_in_subprocess(model="x", steps=1, micro_batch=1)
    with pytest.raises(ConfigError, match="steps must be a positive integer"):
        measure_in_subprocess(**tiny_run, steps=0, micro_batch=1)
    with pytest.raises(ConfigError, match="micro_batch"):
        measure_training(**tiny_run, steps=1, micro_batch=1.5)
    with pytest.raises(ConfigError, match="usage"):
        main([])
