"""Training throughput against the usual recipe, and achieved FLOP/s against the matmul peak.

Both comparisons are measured side by side in one run, so the ratios hold even when the
absolute speed of a shared machine drifts.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from recsys_tutorial.config import Profile
from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.models import TargetScaler, load_regressor
from recsys_tutorial.train import FINETUNE_DROPOUT, TrainConfig, make_optimizer, train


def _pairs(profile: Profile, n: int):
    from recsys_tutorial.experiment import prepare_experiment

    exp = prepare_experiment(profile.replace(train_samples=n), split="random")
    return exp["pairs"]["train"]


def _usual_loader(dataset: RatingTextDataset, batch_size: int):
    """The common recipe: every input padded to 128 tokens, random order, batch 16."""
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding

    collate = DataCollatorWithPadding(dataset.tokenizer, padding="max_length", max_length=128, return_tensors="pt")
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=collate,
                      generator=torch.Generator().manual_seed(0))


def throughput(profile: Profile, *, steps: int) -> dict:
    """Samples/s of the usual recipe vs the package's (bucketing, dynamic padding, bf16 with plain
    attention, fused AdamW, dropout off, short prompts), each through the package's own train()."""
    usual_bs, ours_bs = 16, profile.batch_size
    pairs = _pairs(profile, max(usual_bs, ours_bs) * (steps + 2))
    scaler = TargetScaler.fit(pairs.rating)
    out = {}
    for name, batch_size, max_length, bf16, usual in (
        ("usual_pad128_b16_fp32", usual_bs, 128, False, True),
        ("package_bucketed_bf16", ours_bs, profile.max_length, True, False),
    ):
        # the usual recipe keeps the checkpoint's dropout (0.1); the package's fine-tuning turns it off
        model, tok = load_regressor(dropout=None if usual else FINETUNE_DROPOUT)
        ds = RatingTextDataset.from_pairs(pairs, tok, max_length=max_length)
        loader = _usual_loader(ds, batch_size) if usual else make_loader(ds, batch_size, shuffle=True, seed=0)
        config = TrainConfig(max_steps=steps, batch_size=batch_size, bf16=bf16, progress=False, warmup_ratio=0.0)
        result = train(model, loader, None, config, scaler=scaler)
        out[name] = {"samples_per_second": result.samples_per_second, "batch_size": batch_size,
                     "max_length": max_length, "bf16": bf16, "steps": steps,
                     "mean_tokens": float(np.mean(ds.lengths))}
    out["throughput_ratio"] = (out["package_bucketed_bf16"]["samples_per_second"]
                               / out["usual_pad128_b16_fp32"]["samples_per_second"])
    return out


def gemm_rate(m: int, k: int, n: int, repeats: int = 10) -> float:
    """Best measured fp32 rate (FLOP/s) of one (m×k)·(k×n) matrix product."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * m * k * n / (time.perf_counter() - start))
    return best


def matmul_peak(sizes=(2048, 4096), repeats: int = 5) -> float:
    """Best measured fp32 matmul rate (FLOP/s) on this machine, now: square products."""
    return max(gemm_rate(n, n, n, repeats=repeats) for n in sizes)


def flops_fraction(*, batch_size: int = 32, seq_len: int = 64, repeats: int = 5) -> dict:
    """FLOPs of one fp32 training step (FlopCounterMode) / its time, as a share of the matmul peak.

    The step is the package's: dropout off, fused AdamW from ``make_optimizer``. Also reported: the
    rate of the model's own largest product (tokens × 384 · 384 × 1536), a tighter ceiling than
    the big square products that set the peak."""
    from torch.utils.flop_counter import FlopCounterMode

    model, tok = load_regressor(dropout=FINETUNE_DROPOUT)
    model.train()
    opt = make_optimizer(model, TrainConfig(lr=1e-5))
    ids = torch.randint(1000, 20000, (batch_size, seq_len))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.randn(batch_size)}

    def step():
        opt.zero_grad()
        model(**batch).loss.backward()
        opt.step()

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    flops = counter.get_total_flops()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = matmul_peak()
    hidden, inner = model.config.hidden_size, model.config.intermediate_size
    model_gemm = gemm_rate(batch_size * seq_len, hidden, inner)
    step_time = float(np.median(times))
    achieved = flops / step_time
    return {"flops_per_step": flops, "step_seconds_median": step_time, "achieved_flops_per_s": achieved,
            "matmul_peak_flops_per_s": peak, "flops_fraction_of_peak": achieved / peak,
            "model_shape_gemm_flops_per_s": model_gemm, "flops_fraction_of_model_shape_gemm": achieved / model_gemm,
            "batch_size": batch_size, "seq_len": seq_len, "dtype": "float32"}
