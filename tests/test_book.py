"""Tests on an executed, built copy of the book (staged by the Makefile).

Run after ``make notebooks-quick book-quick`` (or ``make book``)::

    RECSYS_TUTORIAL_BOOK_DIR=<stage dir> RECSYS_TUTORIAL_PROFILE=quick pytest tests/test_book.py

``<stage dir>`` holds ``_config.yml``, ``_toc.yml`` and ``book/`` with notebooks executed in
place (``pytest --nbmake --overwrite``) and the HTML under ``_build/html``. Without
``RECSYS_TUTORIAL_BOOK_DIR`` the whole module is skipped. The rendering tests (names
containing ``render``) open pages in headless Chromium and skip when it is not installed.

Adding a notebook's numbers
---------------------------
Every number a notebook records with ``recsys_tutorial.report.record(name, value)`` can be
bounded in ``BOUNDS``: ``BOUNDS[notebook stem][name]`` is either

* ``(low, high)``: the same bounds for every profile, or
* ``{"quick": (low, high), "full": (low, high)}``: per profile; a profile left out is not
  checked for that name.

``low`` or ``high`` may be ``None`` (unbounded on that side); both ends are inclusive.
Keep bounds loose (the quick profile trains on a few hundred ratings). A bounded name the
executed notebook did not record FAILS, so a notebook that stops recording is caught, and
every notebook listed in ``_toc.yml`` needs an entry with at least one bound.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

BOOK_DIR_ENV = "RECSYS_TUTORIAL_BOOK_DIR"
PROFILE_ENV = "RECSYS_TUTORIAL_PROFILE"

if not os.environ.get(BOOK_DIR_ENV):
    pytest.skip(
        f"{BOOK_DIR_ENV} is not set: these tests need an executed, built book "
        "(make notebooks-quick book-quick)",
        allow_module_level=True,
    )

import yaml  # noqa: E402  (jupyter-book depends on PyYAML)

from recsys_tutorial.report import recorded_values  # noqa: E402

BOOK_DIR = Path(os.environ[BOOK_DIR_ENV]).resolve()
PROFILE = os.environ.get(PROFILE_ENV, "full").strip().lower()
HTML_DIR = BOOK_DIR / "_build" / "html"
SCREENSHOT_DIR = BOOK_DIR / "screenshots"

Range = tuple[float | None, float | None]


def exact(size) -> dict[str, Range]:
    """Bounds equal to a size each profile defines, e.g. ``exact(lambda p: p.train_samples)``."""
    from recsys_tutorial.config import PROFILES

    return {name: (size(p), size(p)) for name, p in PROFILES.items()}

# --------------------------------------------------------------------------- bounds
# notebook stem -> recorded name -> (low, high) | {"quick": (low, high), "full": (low, high)}
BOUNDS: dict[str, dict[str, Range | dict[str, Range]]] = {
    "01_movielens": {
        # ml-latest-small is fixed (checked by SHA-256): these are exact up to rounding.
        "n_ratings": (100_836, 100_836),
        "n_users": (610, 610),
        "n_items": (9_724, 9_724),
        "n_catalogue": (9_742, 9_742),
        "density": (0.0165, 0.0175),
        "density_pct": (1.65, 1.75),
        "mean_rating": (3.49, 3.51),
        "std_rating": (1.0, 1.1),
        "share_ratings_4plus": (0.45, 0.50),
        "share_top10pct_items": (0.55, 0.70),
        "n_head": (970, 975),
        "items_rated_once": (3_000, 3_700),
        "max_item_ratings": (300, 350),
        "corner_density": (0.2, 0.9),
        "min_ratings_per_user": (20, 20),
        "median_ratings_per_user": (60, 80),
        "max_ratings_per_user": (2_500, 2_800),
        "first_year": (1996, 1996),
        "last_year": (2018, 2018),
        "n_genres": (19, 20),
        "top_genre_share": (0.35, 0.45),
    },
    "02_concepts": {
        "mlm_head_params": (179_130, 179_130),
        "mlm_total_params": (22_744_506, 22_744_506),
        "n_cloze": exact(lambda p: p.sweep_eval_samples),
        "genre_acc_before": (0.0, 0.1),  # random head
        "genre_acc_majority": (0.15, 0.4),
        "genre_acc_after": {"full": (0.05, 1.0)},  # before training: 0
        "genre_acc_after_top5": {"full": (0.3, 1.0)},
        "mlm_loss_start": (5.0, 15.0),
        "mlm_loss_end": {"quick": (1.0, 12.0), "full": (0.5, 6.0)},
        "regressor_params": (22_713_601, 22_713_601),
        "regression_head_params": (385, 385),
        "history_leaks": (0, 0),
        "cv_n_ratings": exact(lambda p: min(10 * p.train_samples, 100_836)),
        "cv_mean_rmse_mean": (0.95, 1.15),
        "cv_bias_rmse_mean": {"quick": (0.85, 1.1), "full": (0.85, 0.9)},
        "cv_mf_rmse_mean": {"quick": (0.85, 1.2), "full": (0.82, 0.95)},
        "cv_bias_rmse_std": {"quick": (0.0, 0.1), "full": (0.0, 0.02)},
        "cv_mf_rmse_std": {"quick": (0.0, 0.1), "full": (0.0, 0.02)},
    },
    "03_algorithm": {
        "n_train_pairs": exact(lambda p: p.sweep_train_samples),
        "n_test_rows": exact(lambda p: p.sweep_eval_samples),
        "mean_tokens": (20, 96),
        "n_parameters": (22_713_601, 22_713_601),
        "trainable_head": (385, 385),
        "trainable_top": (3_000_000, 4_500_000),
        "trainable_full": (22_713_601, 22_713_601),
        "val_rmse_mean": (0.9, 1.3),
        "val_rmse_bias": (0.5, 1.3),
        "train_seconds": {"quick": (0, 600), "full": (0, 1_200)},
        "samples_per_second": (0.1, None),
        "best_val_rmse": {"quick": (0.7, 1.6), "full": (0.75, 1.3)},
        "test_rmse_mean": (0.85, 1.25),
        "test_rmse_bias": (0.7, 1.1),
        "test_rmse_mf": (0.7, 1.2),
        "test_rmse_lm": {"quick": (0.7, 1.6), "full": (0.75, 1.3)},
        "lm_minus_bias": (-0.3, 0.8),
        "n_candidates": (50, 50),
        "user_hits_at_k": (0, 10),
        "k_list": (10, 10),
        "test_rmse_lm_no_history": {"quick": (0.7, 1.6), "full": (0.75, 1.4)},
        "test_rmse_item_bias_only": (0.7, 1.2),
        "pred_std_no_history": (0, 2),
        "lm_seconds_per_1000_items": (0.1, 600),
        "mf_seconds_per_1000_items": (0, 1),
        "catalogue_seconds_lm": (1, 6_000),
        "n_history_items": exact(lambda p: p.history_items),
        "share_history_full": (0.5, 1.0),
        "median_ratings_hidden": (10, 2_000),
        "n_train_part": (72_497, 72_497),  # the temporal split is fixed
    },
    "04_mathematics": {
        # gradient and optimizer checks: derived formulas vs autograd / torch.optim (rounding only)
        "n_feature_rows": exact(lambda p: p.sweep_train_samples),
        "feature_dim": (384, 384),
        "risk_at_mean": (0.6, 1.4),
        "grad_max_abs_diff": (0, 1e-5),
        "grad_max_abs_diff_f64": (0, 1e-12),
        "observed_share": (0.05, 1.0),
        "n_observed": (10, None),
        "masked_loss": (0.1, 5.0),
        "masked_loss_diff": (0, 1e-5),
        "masked_grad_max_abs_diff": (0, 1e-5),
        "masked_unobserved_effect": (0, 1e-6),
        "adam_steps": (5, 5),
        "adamw_max_abs_diff": (0, 1e-5),
        "l2_vs_decoupled_max_diff": (1e-4, None),
        "adamw_decay_rate_max_dev": (0, 1e-6),
        "l2_decay_slope": (-1.3, -0.6),
        "l2_decay_rate_range": (2, None),
        "curvature_ratio": (10, 40),
        "gd_path_theory_max_diff": (0, 1e-8),
        "slice_loss_start_gap": (0, None),
        "slice_loss_end_gap": (0, 1.0),
        "gd_steps_used": (40, 40),
    },
    "05_1_setup": {
        "torch_major": (2, None),
        "transformers_major": (4, None),
        "n_threads": (1, None),
        "bf16_matmul_speedup": (0.05, 50.0),
        "load_seconds": (0.0, 300.0),
        # the packaged all-MiniLM-L6-v2 (22,713,216) plus a 385-weight regression head
        "n_parameters": (22_700_000, 22_730_000),
        "n_parameters_millions": (22.6, 22.8),
        "n_backbone_parameters": (22_700_000, 22_730_000),
        "embedding_share": (0.4, 0.6),
        "example_tokens": (10, 64),
        "inference_seconds_per_batch": (0.0, 120.0),
        "inference_samples_per_second": (0.1, None),
        "train_samples_per_second_fp32": (0.05, None),
        "train_samples_per_second_bf16": (0.05, None),
        # section 7: ratios of two timings on the same batch (loose: a shared machine drifts)
        "speedup_eager": (0.3, 20.0),
        "speedup_eager_dropout_off": (0.3, 20.0),
        "adamw_loop_ms": (0.01, 60_000.0),
        "adamw_fused_ms": (0.01, 60_000.0),
    },
    # read from the benchmark JSON (the committed reference run unless `make bench` ran)
    "05_4_results": {
        "bench_minutes": (1.0, None),
        "rmse_global_mean_S1": (1.0, 1.1),
        "rmse_mf_tuned_S1": (0.8, 0.95),
        "best_rmse_S1": (0.7, 0.9),
        "best_rmse_S2": (0.7, 0.95),
        "best_rmse_S3": (0.7, 0.97),
        "rmse_finetuned_minilm_S3": (0.7, 1.2),
        "targets_total": (8, 8),
        "targets_met": (0, 8),
        "ndcg_popularity": (0.03, 0.15),
        "ndcg_best": (0.03, 0.3),
        "throughput_ratio": (1.0, None),
        "flops_fraction": (0.05, 1.0),
        "recommend_ndcg_ratio": (0.3, None),  # two-stage may beat exhaustive reranking (6 users)
        "curve_text_minus_mf_100pct": (-0.5, 0.5),
        "curve_biases_minus_best_factor_small": (-0.5, 0.5),
        "model_gemm_share_of_peak": (0.05, 1.5),
        "claims_total": (7, 7),
        "claims_holding": (0, 7),
        "curve_ratings_1pct": (807, 807),
        "curve_ratings_100pct": (80_669, 80_669),
    },
    "05_2_finetuning": {
        "n_train_ratings": exact(lambda p: p.train_samples),
        "n_test_ratings": exact(lambda p: p.eval_samples),
        "mean_tokens": (20.0, 96.0),
        "padding_share_bucketed": (0.0, 0.2),
        "padding_share_random": (0.02, 0.7),
        "train_seconds": (0.0, 3_600.0),
        "samples_per_second": (0.5, None),
        "best_val_rmse": {"quick": (0.6, 2.0), "full": (0.8, 1.1)},
        "test_rmse": {"quick": (0.6, 2.0), "full": (0.8, 1.05)},
        "test_mae": {"quick": (0.4, 1.8), "full": (0.6, 0.85)},
        "mean_test_rmse": {"quick": (0.7, 1.6), "full": (1.0, 1.15)},
        "bias_test_rmse": {"quick": (0.6, 1.5), "full": (0.85, 0.98)},
        "mf_test_rmse": {"quick": (0.6, 1.6), "full": (0.85, 1.0)},
        "mf_test_mae": (0.4, 1.2),
        "lm_minus_mf_rmse": {"quick": (-1.0, 1.2), "full": (-0.1, 0.2)},
        "lm_minus_bias_rmse": {"quick": (-1.0, 1.2), "full": (-0.1, 0.2)},
        "inference_samples_per_second": (0.5, None),
        "recommend_seconds": (0.0, 300.0),
        "top10_hits": (0, 10),
        "checkpoint_mb": (85.0, 100.0),
        "reload_max_abs_diff": (0.0, 1e-4),
        "notebook_seconds": (0.0, 3_600.0),
    },
    "05_2b_trainer": {
        "n_train_pairs": exact(lambda p: p.sweep_train_samples),
        "n_val_pairs": exact(lambda p: p.sweep_eval_samples),
        "trainer_seconds": (0.0, 3_600.0),
        "loop_seconds": (0.0, 3_600.0),
        "trainer_val_rmse": {"quick": (0.6, 2.0), "full": (0.8, 1.15)},
        "trainer_val_mae": (0.4, 1.8),
        "loop_val_rmse": {"quick": (0.6, 2.0), "full": (0.8, 1.15)},
        "trainer_minus_loop_rmse": {"quick": (-0.8, 0.8), "full": (-0.1, 0.1)},
        "mean_val_rmse": (0.7, 1.5),
    },
    "09_1_adaptation_lr": {
        "rmse_global_mean": (0.8, 1.3),
        "rmse_biases": (0.7, 1.2),
        "rmse_no_adaptation": {"quick": (0.5, 2.5), "full": (0.8, 1.3)},
        "rmse_adapted": {"quick": (0.5, 2.5), "full": (0.8, 1.3)},
        "dapt_gain": {"full": (-0.2, 0.2)},
        "lr_best": (1e-5, 1e-2),
        "rmse_lr_best": {"quick": (0.5, 2.5), "full": (0.8, 1.3)},
        "rmse_lr_worst": (0.5, 3.0),
        "rmse_lr_max_no_warmup": (0.5, 3.0),
        "rmse_lr_max_warmup": (0.5, 3.0),
        "val_rmse_mean": (0.5, 2.0),
        # the best rate is never worse than the mean by much (the sweep's own scale check)
        "best_lr_gain_over_mean": (-0.1, 1.0),
        "n_train_pairs": exact(lambda p: p.sweep_train_samples // 4),
        "n_test_pairs": exact(lambda p: p.sweep_eval_samples // 2),
    },
    "09_2_resources_overfitting": {
        "accum_max_diff_sgd": (0.0, 1e-4),
        "accum_allclose_sgd": (1, 1),
        "accum_max_diff_adamw": (0.0, 1e-3),
        "peak_mb_fp32": (300.0, 8_000.0),
        "mem_ratio_bf16": (0.1, 3.0),
        "mem_ratio_checkpointing": (0.05, 2.0),
        "mem_ratio_accumulation": (0.05, 2.0),
        "speed_ratio_bf16": (0.2, 5.0),
        "speed_ratio_checkpointing": (0.1, 3.0),
        "speed_ratio_accumulation": (0.1, 3.0),
        "rmse_none": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_dropout": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_weight_decay": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_early_stopping": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_augmentation": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_ensemble": {"quick": (0.5, 2.5), "full": (0.8, 1.4)},
        "rmse_biases": (0.7, 1.2),
    },
    "09_3_deployment": {
        "rmse_fp32": {"quick": (0.5, 2.5), "full": (0.8, 1.3)},
        "size_mb_fp32": (85.0, 100.0),
        "size_ratio_int8": (0.4, 0.8),
        "size_ratio_bf16_weights": (0.45, 0.55),
        "size_ratio_pruned": (0.99, 1.01),
        "linear_sparsity": (0.29, 0.31),
        "delta_rmse_int8": {"quick": (-0.5, 0.5), "full": (-0.1, 0.1)},
        "delta_rmse_bf16_weights": {"quick": (-0.5, 0.5), "full": (-0.05, 0.05)},
        "onnx_max_abs_diff": (0.0, 1e-3),
        "onnx_allclose": (1, 1),
        "p50_ms_single": (0.0, 5_000.0),
        "p95_ms_batch": (0.0, 20_000.0),
        "batch_gain": (0.05, 20.0),
    },
    "06_1_topk": {
        "n_eval_users": {"quick": (5, 20), "full": (150, 200)},
        "mean_relevant": (1.0, 60.0),
        "rmse_biases": (0.8, 1.2),
        "rmse_mf": {"quick": (0.8, 1.6), "full": (0.85, 1.05)},
        "ndcg_popularity": {"full": (0.04, 0.12)},
        "ndcg_biases": {"full": (0.0, 0.10)},
        "ndcg_mf": {"full": (0.0, 0.08)},
        "hit_rate_popularity": {"full": (0.2, 0.7)},
        "coverage_popularity": (0.0, 0.01),
        "coverage_mf": (0.0, 0.5),
        "head_share_popularity": {"quick": (0.3, 1.0), "full": (0.5, 1.0)},
        "gini_popularity": (0.9, 1.0),
        "ndcg_blend": {"full": (0.02, 0.15)},
        "best_alpha": (0.0, 4.0),
    },
    "06_2_video": {
        # the simulated log covers all ratings whatever the profile: exact up to the seed
        "n_views": (145_000, 156_000),
        "exposure_share": (0.32, 0.35),
        "completion_rate": (0.15, 0.30),
        "like_rate": (0.22, 0.35),
        "spearman_signal_all": (0.70, 0.80),
        "spearman_ceiling": (0.5, 0.95),
        "spearman_lm_explicit": {"full": (0.0, 0.8)},
        "spearman_lm_implicit": {"full": (-0.2, 0.8)},
        "spearman_bias_explicit": {"full": (0.1, 0.7)},
        "n_train_pairs": exact(lambda p: p.sweep_train_samples),
        "spearman_diff_users": {"quick": (1, 20), "full": (20, 200)},
        "ndcg5_diff_users": {"quick": (1, 20), "full": (20, 200)},
    },
    "06_3_ads": {
        "ctr": (0.33, 0.35),
        "logloss_constant": (0.5, 0.75),
        "logloss_oracle": (0.4, 0.65),
        "auc_oracle": (0.7, 0.95),
        "logloss_bce": {"quick": (0.4, 1.5), "full": (0.45, 0.72)},
        "auc_bce": {"full": (0.5, 0.9)},
        "logloss_mse": (0.3, 7.0),
        "logloss_rates": (0.4, 0.75),
    },
    "08_1_peft": {
        "rmse_global_mean": (0.8, 1.4),
        "rmse_biases_sample": (0.8, 1.5),
        "rmse_biases_all": (0.7, 1.1),
        **{f"rmse_{k}": {"quick": (0.5, 2.5), "full": (0.8, 1.3)}
           for k in ("full", "top", "head", "lora", "adalora", "ia3", "prompt")},
        "best_rmse": {"quick": (0.5, 2.5), "full": (0.8, 1.2)},
        "trainable_full": (22_000_000, 23_000_000),
        "trainable_top": (1_000_000, 5_000_000),
        "trainable_head": (300, 1_000),
        "trainable_lora": (70_000, 80_000),
        "trainable_adalora": (50_000, 250_000),
        "trainable_ia3": (5_000, 40_000),
        "trainable_prompt": (1_000, 10_000),
        "memory_full_mb": (250, 450),
        "memory_lora_mb": (80, 100),
        "lora_zero_init_diff": (0.0, 1e-6),
        "lora_max_abs_diff": (0.0, 1e-5),
        "lora_relative_update": (0.0, 1.0),
    },
    "08_2_continual_fewshot": {
        "old_mean_rating": (3.0, 4.0),
        "new_mean_rating": (3.0, 4.0),
        **{f"rmse_{p}_{s}": {"quick": (0.5, 2.5), "full": (0.8, 1.4)}
           for p in ("old", "new") for s in ("before", "after", "replay")},
        "forgetting": (-0.5, 0.5),
        "forgetting_replay": (-0.5, 0.5),
        "n_all_ratings": (60_000, 95_000),
        **{k: {"quick": (0.5, 2.5), "full": (0.8, 1.4)}
           for k in ("lm_warm_small", "lm_warm_large", "lm_cold_large", "mf_warm_large", "bias_warm_large")},
        "mf_warm_all": {"quick": (0.75, 1.15), "full": (0.75, 1.0)},
        "bias_warm_all": (0.75, 1.0),
        "mf_cold_all": (0.8, 1.2),
        "bias_cold_all": (0.6, 1.3),
        "mean_cold_all": (0.85, 1.3),
        "n_test_per_period": exact(lambda p: p.sweep_eval_samples // 2),
    },
    "08_3_explain_bias": {
        "example_prediction": (0.5, 5.0),
        "example_rating": (0.5, 5.0),
        "example_max_abs_contribution": (0.0, 2.0),
        "loo_mean_abs_contribution": (0.0, 2.0),
        "n_rank_users": (1, 200),
        "share_top1pct_pop": (0.5, 1.0),
        **{f"gini_{k}": (0.8, 1.0) for k in ("pop", "mf", "lm", "penalised")},
        **{f"coverage_{k}": (0.0, 0.3) for k in ("pop", "mf", "lm", "penalised")},
        "ndcg_pop": {"full": (0.01, 0.4)},
        "ndcg_cost": (-0.3, 0.3),
        "penalty_weight": (0.5, 0.5),
    },
    "05_5_own_data": {
        # a generated data set: counts are exact for each profile
        "ids_kept": (1, 1),
        "n_ratings": exact(lambda p: 60 * p.ranking_users),
        "n_readers": exact(lambda p: 2 * p.ranking_users),
        "n_test": exact(lambda p: 12 * p.ranking_users),
        "implicit_users": exact(lambda p: 2 * p.ranking_users),
        "lm_train_pairs": {"quick": (96, 96), "full": (6_600, 6_600)},
        "global_mean_prediction": (5.5, 6.5),  # on 1-10, not clipped to MovieLens' 5
        "min_prediction": (1.0, 10.0),
        "max_prediction": (5.01, 10.0),  # above MovieLens' top, inside the declared scale
        "rmse_mean": {"quick": (1.5, 3.0), "full": (1.9, 2.4)},
        "rmse_biases": {"quick": (1.2, 2.5), "full": (1.3, 1.8)},
        "rmse_lm": {"quick": (1.2, 3.0), "full": (1.3, 2.1)},
        "top_item_is_text": (1, 1),
        "dat_first_user_is_text": (1, 1),
        "ml100k_ratings": (100_000, 100_000),
        "u1_test": (20_000, 20_000),
        "exercise_zero_users": (3, 3),
        "ranking_users": {"quick": (5, 20), "full": (150, 300)},
    },
    # "02_concepts": {...}, "03_algorithm": {...}: add one entry per notebook, e.g.
    # "05_2_finetuning": {"test_rmse": {"quick": (0.5, 2.0), "full": (0.8, 0.98)}},
}


# Sentences that compare two recorded numbers: notebook stem -> [(profile or None for both,
# the sentence's claim, a test over the recorded values)]. A claim fails when the run stops
# supporting the sentence.
CLAIMS: dict[str, list[tuple[str | None, str, object]]] = {
    "05_5_own_data": [
        (None, "the biases beat the global mean",
         lambda v: v["rmse_biases"] < v["rmse_mean"]),
        ("full", "the language model is better than the global mean (interval below it)",
         lambda v: v["rmse_lm_high"] < v["rmse_mean_low"]),
        ("full", "the language model is worse than the biases, the intervals do not overlap",
         lambda v: v["rmse_lm_low"] > v["rmse_biases_high"]),
        ("full", "intervals about +-0.05 wide",
         lambda v: 0.02 < (v["rmse_biases_high"] - v["rmse_biases_low"]) / 2 < 0.08),
        ("full", "popularity has no edge over the biases",
         lambda v: v["ndcg_popularity"] <= v["ndcg_biases_high"]),
    ],
    # Sentences rewritten for issue 14 (the chapter text says what the full run shows).
    "03_algorithm": [
        ("full", "the language model is worse than the bias model",
         lambda v: v["test_rmse_lm"] > v["test_rmse_bias"]),
        ("full", "the language model is worse than matrix factorization",
         lambda v: v["test_rmse_lm"] > v["test_rmse_mf"]),
    ],
    "05_4_results": [  # read from the benchmark JSON: the same numbers in both profiles
        (None, "at 1%, 5% and 20% of the ratings the biases have the lowest RMSE of the three",
         lambda v: all(v[f"curve_rmse_biases_{p}"] < min(v[f"curve_rmse_mf_{p}"],
                                                         v[f"curve_rmse_text_hybrid_{p}"])
                       for p in ("1pct", "5pct", "20pct"))),
        (None, "with all ratings the text hybrid is the best of the three",
         lambda v: v["curve_rmse_text_hybrid_100pct"] < min(v["curve_rmse_mf_100pct"],
                                                            v["curve_rmse_biases_100pct"])),
        (None, "the text vectors make matrix factorization better from 5% on",
         lambda v: all(v[f"curve_text_minus_mf_{p}"] < 0 for p in ("5pct", "20pct", "100pct"))),
        (None, "the text vectors hurt matrix factorization at 1%",
         lambda v: v["curve_text_minus_mf_1pct"] > 0),
    ],
    "06_1_topk": [
        ("full", "the popularity blend recovers the ranking quality matrix factorization lost",
         lambda v: v["ndcg_blend"] > v["ndcg_mf"]),
    ],
    "06_2_video": [
        (None, "each per-user verdict follows its interval",
         lambda v: all(
             (v[f"{m}_verdict"] == "no measurable difference at this size")
             == (v[f"{m}_diff_low"] <= 0 <= v[f"{m}_diff_high"])
             for m in ("spearman", "ndcg5"))),
        ("full", "both language models stay below the ceiling of the observed score",
         lambda v: max(v["spearman_lm_explicit"], v["spearman_lm_implicit"])
         < v["spearman_ceiling"]),
    ],
    "08_2_continual_fewshot": [
        ("full", "no measurable forgetting: the old-period RMSE rises by less than 0.02",
         lambda v: v["forgetting"] < 0.02),
        ("full", "replay is no better than continuing without it on the old period",
         lambda v: v["rmse_old_replay"] > v["rmse_old_after"] - 0.02),
    ],
    "09_1_adaptation_lr": [
        ("full", "after adaptation the fill-in-the-genre accuracy stays close to zero (< 0.05)",
         lambda v: v["cloze_acc_adapted"] < 0.05),
        ("full", "adaptation makes no measurable difference (the paired interval contains 0)",
         lambda v: v["dapt_mse_gain_low"] <= 0 <= v["dapt_mse_gain_high"]),
        ("full", "both fine-tuned runs are worse than the biases",
         lambda v: min(v["rmse_no_adaptation"], v["rmse_adapted"]) > v["rmse_biases"]),
    ],
}


# --------------------------------------------------------------------------- the table of contents
def _toc_files() -> list[str]:
    """Every file of _toc.yml in order (root first), without extension."""
    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return [str(Path(f).with_suffix("")) if Path(f).suffix in (".md", ".ipynb") else f for f in files]


def _source(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = BOOK_DIR / f"{entry}{suffix}"
        if path.exists():
            return path
    return None


TOC = _toc_files()
NOTEBOOKS = [e for e in TOC if (BOOK_DIR / f"{e}.ipynb").exists()]
NOTEBOOK_STEMS = {Path(e).name: e for e in NOTEBOOKS}


def _load(entry: str) -> dict:
    return json.loads((BOOK_DIR / f"{entry}.ipynb").read_text(encoding="utf-8"))


def _cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# --------------------------------------------------------------------------- (a) executed notebooks
def test_toc_sources_exist():
    missing = [e for e in TOC if _source(e) is None]
    assert not missing, f"_toc.yml lists files missing from {BOOK_DIR}: {missing}"
    assert NOTEBOOKS, "no notebook in _toc.yml"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_executed_without_errors(entry):
    nb = _load(entry)
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{entry}: no code cells (still a placeholder?)"
    not_run = [i for i, c in enumerate(code_cells) if c.get("execution_count") is None and _cell_text(c).strip()]
    assert not not_run, f"{entry}: code cells {not_run} were not executed; run nbmake --overwrite on the staged copy"
    n_outputs = sum(len(c.get("outputs", [])) for c in code_cells)
    assert n_outputs > 0, f"{entry}: executed notebook has no outputs"
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(code_cells)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{entry}: error outputs: {errors}"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_structure(entry):
    """The structure CONTRIBUTING.md asks of every notebook."""
    cells = _load(entry)["cells"]
    assert cells and cells[0]["cell_type"] == "markdown" and _cell_text(cells[0]).lstrip().startswith("# "), (
        f"{entry}: the first cell must be a markdown title ('# ...')"
    )
    code = [_cell_text(c) for c in cells if c["cell_type"] == "code"]
    assert any("print_environment()" in src for src in code), f"{entry}: no setup cell calling print_environment()"
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{entry}: needs exactly one cell tagged 'parameters', found {len(params)}"
    assert "get_profile(" in _cell_text(params[0]), f"{entry}: the parameters cell must read sizes from get_profile()"
    markdown = "\n".join(_cell_text(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"^## 1\. ", markdown, re.M), f"{entry}: sections must be numbered ('## 1. ...')"
    assert re.search(r"^## Summary", markdown, re.M), f"{entry}: no '## Summary' section"
    assert re.search(r"^## Exercises", markdown, re.M), f"{entry}: no '## Exercises' section"
    assert "{exercise}" in markdown and "{solution}" in markdown, f"{entry}: exercises need {{exercise}} and {{solution}} blocks"


# --------------------------------------------------------------------------- (b) recorded numbers
def _range_for(spec: Range | dict[str, Range]) -> Range | None:
    if isinstance(spec, dict):
        return spec.get(PROFILE)
    return spec


def test_bounds_cover_every_notebook():
    unknown = sorted(set(BOUNDS) - set(NOTEBOOK_STEMS))
    assert not unknown, f"BOUNDS has entries for notebooks not in _toc.yml: {unknown}"
    uncovered = sorted(stem for stem in NOTEBOOK_STEMS if not BOUNDS.get(stem))
    assert not uncovered, f"add bounds for the numbers these notebooks record (BOUNDS in {__file__}): {uncovered}"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_records_numbers(entry):
    values = recorded_values(str(BOOK_DIR / f"{entry}.ipynb"))
    assert values, f"{entry}: records no numbers (recsys_tutorial.report.record)"


BOUND_CASES = [
    pytest.param(stem, name, spec, id=f"{stem}:{name}")
    for stem, names in BOUNDS.items()
    for name, spec in names.items()
]


@pytest.mark.parametrize(("stem", "name", "spec"), BOUND_CASES)
def test_recorded_value_within_bounds(stem, name, spec):
    bounds = _range_for(spec)
    if bounds is None:
        pytest.skip(f"no bound for profile {PROFILE!r}")
    assert stem in NOTEBOOK_STEMS, f"{stem} is not a notebook of _toc.yml in {BOOK_DIR}"
    values = recorded_values(str(BOOK_DIR / f"{NOTEBOOK_STEMS[stem]}.ipynb"))
    assert name in values, f"{stem}: {name!r} was not recorded (recorded: {sorted(values)})"
    value = values[name]
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{stem}: {name} = {value!r} is not a number"
    assert math.isfinite(value), f"{stem}: {name} = {value!r}"
    low, high = bounds
    assert (low is None or value >= low) and (high is None or value <= high), (
        f"{stem}: {name} = {value!r} outside [{low}, {high}] (profile {PROFILE})"
    )


CLAIM_CASES = [
    pytest.param(stem, profile, claim, check, id=f"{stem}:{claim}")
    for stem, claims in CLAIMS.items()
    for profile, claim, check in claims
]


@pytest.mark.parametrize(("stem", "profile", "claim", "check"), CLAIM_CASES)
def test_claim_holds(stem, profile, claim, check):
    if profile is not None and profile != PROFILE:
        pytest.skip(f"claim made for the {profile} profile")
    values = recorded_values(str(BOOK_DIR / f"{NOTEBOOK_STEMS[stem]}.ipynb"))
    assert check(values), f"{stem}: the text says {claim!r}, but the run recorded {values}"


# --------------------------------------------------------------------------- (c) HTML
@pytest.mark.parametrize("entry", TOC)
def test_html_page_exists(entry):
    page = HTML_DIR / f"{entry}.html"
    assert page.is_file() and page.stat().st_size > 0, f"{page} missing: was the book built?"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_plot_images_in_html(entry):
    """Every figure a notebook produced is in its page, and every <img> points to a file."""
    nb = _load(entry)
    n_figures = sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if any(k.startswith("image/") for k in o.get("data", {}))
        and "remove-output" not in c.get("metadata", {}).get("tags", [])
    )
    if Path(entry).name == "01_movielens":
        assert n_figures >= 5, f"{entry}: expected its plots, found {n_figures} image outputs"
    page = HTML_DIR / f"{entry}.html"
    html = page.read_text(encoding="utf-8")
    srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", html)
    local = [s for s in srcs if not s.startswith(("http:", "https:", "data:"))]
    assert len(srcs) >= n_figures, f"{entry}: {n_figures} figures in the notebook, {len(srcs)} <img> in the page"
    missing = [s for s in local if not (page.parent / s.split("?")[0]).is_file()]
    assert not missing, f"{entry}: images missing from the HTML build: {missing}"


# --------------------------------------------------------------------------- (d) rendering
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not HTML_DIR.is_dir():
        pytest.fail(f"{HTML_DIR} missing: build the book first")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(HTML_DIR)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the local HTTP server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    if exe is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    profile_dir = tempfile.mkdtemp(prefix="recsys-chromium-")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    base_args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile_dir}",
        "--virtual-time-budget=20000",
    ]

    def run(url: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base_args, *extra, url], capture_output=True, text=True, timeout=180, check=False
        )

    class Browser:
        def dom(self, url: str) -> str:
            result = run(url, "--dump-dom")
            assert result.returncode == 0 and result.stdout.strip(), (
                f"chromium --dump-dom {url} failed ({result.returncode}): {result.stderr[-2000:]}"
            )
            return result.stdout

        def screenshot(self, url: str, name: str, height: int = 2400) -> Path:
            out = SCREENSHOT_DIR / name
            result = run(url, f"--screenshot={out}", f"--window-size=1280,{height}")
            assert result.returncode == 0 and out.is_file() and out.stat().st_size > 10_000, (
                f"chromium --screenshot {url} failed ({result.returncode}): {result.stderr[-2000:]}"
            )
            return out

    yield Browser()
    shutil.rmtree(profile_dir, ignore_errors=True)


def _pages_with(pattern: str) -> list[str]:
    found = []
    for entry in TOC:
        page = HTML_DIR / f"{entry}.html"
        if page.is_file() and re.search(pattern, page.read_text(encoding="utf-8")):
            found.append(entry)
    return found


# Raw math markup as Sphinx writes it for MathJax: \( ... \) inline, \[ ... \] display.
MATH_PATTERN = r'class="math[ "]|\\\(|\\\['
MERMAID_PATTERN = r'class="mermaid[ "]'


def test_render_math_typeset(server, browser):
    pages = _pages_with(MATH_PATTERN)
    assert "book/01_background" in pages, "book/01_background should contain math"
    for entry in pages[:4]:
        dom = browser.dom(f"{server}/{entry}.html")
        assert "<mjx-container" in dom, f"{entry}: MathJax did not typeset the math (offline vendoring broken?)"
        assert re.search(r"<mjx-container[^>]*>\s*<svg", dom), f"{entry}: MathJax output is not SVG"
        assert not re.search(r'<g[^>]*data-mml-node="merror"', dom), f"{entry}: MathJax reported a TeX error"
    browser.screenshot(f"{server}/book/01_background.html", "01_background.png", height=3600)


def _mermaid_blocks(dom: str) -> list[str]:
    return re.findall(r'<pre[^>]*class="mermaid[^"]*"[^>]*>(.*?)</pre>', dom, re.S) + re.findall(
        r'<div[^>]*class="mermaid[^"]*"[^>]*>(.*?</svg>)', dom, re.S
    )


def test_render_mermaid_diagrams(server, browser):
    pages = _pages_with(MERMAID_PATTERN)
    assert "book/01_background" in pages, "book/01_background should contain a Mermaid diagram"
    for entry in pages:
        dom = browser.dom(f"{server}/{entry}.html")
        blocks = _mermaid_blocks(dom)
        assert blocks, f"{entry}: no .mermaid element in the rendered page"
        unrendered = [b[:80] for b in blocks if "<svg" not in b]
        assert not unrendered, f"{entry}: Mermaid did not render (offline vendoring broken?): {unrendered}"
        assert "Syntax error in text" not in dom, f"{entry}: Mermaid reported a syntax error"
        if entry != "book/01_background":  # its screenshot is taken by the math test
            browser.screenshot(f"{server}/{entry}.html", f"{Path(entry).name}.png", height=3600)


def test_render_plots_load(server, browser):
    """The chapters' figures are served and appear in the rendered page."""
    for entry in NOTEBOOKS:
        page = HTML_DIR / f"{entry}.html"
        srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", page.read_text(encoding="utf-8"))
        for src in srcs:
            if src.startswith(("http:", "https:", "data:")):
                continue
            url = urllib.parse.urljoin(f"{server}/{entry}.html", src)
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert resp.status == 200 and len(resp.read()) > 1000, f"{entry}: {src} not served"
    entry = NOTEBOOK_STEMS.get("01_movielens")
    assert entry, "01_movielens missing from _toc.yml"
    dom = browser.dom(f"{server}/{entry}.html")
    assert len(re.findall(r"<img[^>]*\ssrc=\"[^\"]*_images/", dom)) >= 5, f"{entry}: plots missing from the rendered page"
    browser.screenshot(f"{server}/{entry}.html", "01_movielens.png", height=4000)


# --------------------------------------------------------------------------- (e) presentation
# A code cell shows a value when its last statement is a bare expression (IPython's
# execute_result). Rule: an execute_result whose mime bundle is ONLY text/plain (the repr of a
# number, string, dict, list, ...: what `record(...)` or a stray variable at the end of a cell
# prints) is a stray output unless the cell carries the tag "display". Rich results (DataFrame
# and Styler HTML, images) are displays by construction and pass; tag those cells "display"
# anyway to say so. End a cell with `;` (or assign the value) to show nothing.
def _plain_repr_results(cell: dict) -> list[str]:
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") != "execute_result":
            continue
        data = out.get("data", {})
        if set(data) <= {"text/plain"}:
            text = data.get("text/plain", "")
            found.append("".join(text) if isinstance(text, list) else str(text))
    return found


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_no_stray_outputs(entry):
    stray = []
    for i, cell in enumerate(_load(entry)["cells"]):
        if cell["cell_type"] != "code" or "display" in cell.get("metadata", {}).get("tags", []):
            continue
        for text in _plain_repr_results(cell):
            last = _cell_text(cell).rstrip().splitlines()[-1] if _cell_text(cell).strip() else ""
            stray.append(f"cell {i} (last line {last.strip()[:60]!r}) shows {text[:40]!r}")
    assert not stray, (
        f"{entry}: code cells print a stray value (end the cell with ';', assign the value, or tag "
        f"the cell 'display' if the value is meant to be shown): {stray}"
    )


# Math in Markdown: $$...$$ (display) and $...$ (inline), outside code. A doubled backslash
# before a letter ("\\eta") is a TeX line break followed by the letters "eta", which is how
# "$\\eta\\theta$" rendered as "etatheta". "\\\text" (a line break, then \text) is allowed.
DOUBLED_BACKSLASH = re.compile(r"(?<!\\)\\\\[A-Za-z]")
FENCED_CODE = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$([^$]+?)\$")  # may span lines, as in MyST


def _markdown_math(text: str) -> list[str]:
    text = INLINE_CODE.sub("", FENCED_CODE.sub("", text))
    display = DISPLAY_MATH.findall(text)
    return display + INLINE_MATH.findall(DISPLAY_MATH.sub("", text))


def _markdown_sources(entry: str) -> list[str]:
    path = _source(entry)
    if path is None:
        return []
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    return [_cell_text(c) for c in _load(entry)["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("entry", TOC)
def test_markdown_math_has_no_doubled_backslashes(entry):
    bad = [
        math.strip()[:60]
        for text in _markdown_sources(entry)
        for math in _markdown_math(text)
        if DOUBLED_BACKSLASH.search(math)
    ]
    assert not bad, f"{entry}: doubled backslashes in Markdown math (write \\eta, not \\\\eta): {bad}"


def test_markdown_math_scan_finds_doubled_backslashes():
    """The scan above on hand-made text: it must flag the escaped form and pass the right one."""
    assert any(DOUBLED_BACKSLASH.search(m) for m in _markdown_math("rate $\\\\eta\\\\theta$ here"))
    assert not any(DOUBLED_BACKSLASH.search(m) for m in _markdown_math("rate $\\eta\\theta$ here"))
    assert not _markdown_math("code `$\\\\eta$` is not math")
    aligned = "$$\na \\\\\n\\\\\\text{b}\n$$"
    assert _markdown_math(aligned) and not DOUBLED_BACKSLASH.search(_markdown_math(aligned)[0])


# In the built HTML, Sphinx writes math for MathJax inside containers (<span class="math ...">
# \(...\)</span>, <div class="math ...">\[...\]</div>). TeX outside them (and outside code and
# scripts) was not recognised as math and shows as raw text; a doubled backslash inside them
# renders as a line break plus letters.
HTML_SKIP = re.compile(r"<(script|style|pre|code|textarea)\b.*?</\1>", re.S | re.I)
HTML_MATH = re.compile(r'<(span|div) class="math[^"]*"[^>]*>(.*?)</\1>', re.S)
RAW_TEX = re.compile(
    r"\$\\|\\(?:frac|tfrac|sqrt|eta|theta|lambda|alpha|beta|epsilon|sigma|hat|sum|prod|"
    r"mathbb|mathcal|mathrm|operatorname|nabla|partial|propto|cdot|lVert|big|top)\b"
)


def _unrendered_tex(html: str) -> tuple[list[str], list[str]]:
    html = HTML_SKIP.sub("", html)
    doubled = [m[1][:60] for m in HTML_MATH.findall(html) if DOUBLED_BACKSLASH.search(m[1])]
    text = HTML_MATH.sub("", html)
    raw = [text[max(0, m.start() - 30) : m.end() + 30] for m in RAW_TEX.finditer(text)]
    return doubled, raw


def test_unrendered_tex_scan_on_hand_made_html():
    good = '<p>rate <span class="math notranslate nohighlight">\\(\\eta\\theta\\)</span></p>'
    assert _unrendered_tex(good) == ([], [])
    assert _unrendered_tex(good.replace("\\eta\\theta", "\\\\eta\\\\theta"))[0]
    assert _unrendered_tex("<p>the rate $\\eta$ and \\frac{1}{2}</p>")[1]
    assert _unrendered_tex('<pre>ax.set_xlabel("$\\\\sqrt{v}$")</pre>') == ([], [])


@pytest.mark.parametrize("entry", TOC)
def test_html_has_no_unrendered_tex(entry):
    page = HTML_DIR / f"{entry}.html"
    if not page.is_file():
        pytest.fail(f"{page} missing: was the book built?")
    doubled, raw = _unrendered_tex(page.read_text(encoding="utf-8"))
    assert not doubled, f"{entry}: math with doubled backslashes (renders as letters): {doubled}"
    assert not raw, f"{entry}: TeX outside MathJax's math containers (not rendered): {raw}"
