"""benchmarks/: `make bench` end to end in the quick profile (no language model), and the
book timings that arrive after a run. Run as subprocesses: the output folders come from the
environment when the module is imported."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, tmp_path, **env):
    full_env = {**os.environ, "RECSYS_TUTORIAL_BENCH_RESULTS": str(tmp_path / "results"),
                "RECSYS_TUTORIAL_STAGE": str(tmp_path / "stage"), "MPLBACKEND": "Agg", **env}
    return subprocess.run([sys.executable, "-m", "benchmarks.run", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=900)


def test_quick_bench_writes_the_summary_keys_and_beats_the_mean(tmp_path):
    proc = _run(["--profile", "quick", "--skip", "lm,lora,speed,recommend,curve"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    for key in ("rmse", "ndcg_at_10_S2_rating_models", "throughput_ratio", "flops_fraction_of_peak", "recommend_p50_ms",
                "recommend_ndcg_ratio", "book_full_minutes", "notebooks_quick_minutes", "machine"):
        assert key in summary, key
    assert set(summary["rmse"]) == {"S1", "S2", "S3"}
    assert summary["throughput_ratio"] is None and summary["recommend_p50_ms"] is None  # skipped, not faked
    for split, methods in summary["rmse"].items():
        # 64 test rows per split in the quick profile: loose, but biases must beat the global mean
        assert methods["biases"] < methods["global_mean"], split
        assert 0.4 < methods["mf_tuned"] < 1.4, split
        for method, (low, high) in summary["rmse_interval"][split].items():
            assert low <= methods[method] <= high, (split, method)
    assert 0.0 <= summary["ndcg_at_10_S2_rating_models"]["popularity"] <= 1.0
    assert (tmp_path / "results" / "rmse_by_split.png").stat().st_size > 10_000
    assert oct((tmp_path / "results" / "summary.json").stat().st_mode & 0o777) == "0o644"
    # a run that skips every part rebuilds the summary from the earlier results, losing nothing
    again = _run(["--profile", "quick", "--skip", "accuracy,lm,lora,speed,recommend,curve,ranking"], tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    rebuilt = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert rebuilt["rmse"] == summary["rmse"]
    assert rebuilt["ndcg_at_10_S2_rating_models"] == summary["ndcg_at_10_S2_rating_models"]
    assert rebuilt["bench_minutes_by_part"] == summary["bench_minutes_by_part"]


def test_book_timings_are_copied_into_an_existing_summary(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "stage").mkdir()
    assert _run(["--book-timings"], tmp_path).returncode == 1  # no summary yet: says so, changes nothing
    (tmp_path / "results" / "summary.json").write_text(json.dumps({"rmse": {}, "book_full_minutes": None}))
    (tmp_path / "stage" / "book_timing.json").write_text(json.dumps(
        {"book_full_minutes": 21.5, "notebooks_quick_minutes": 3.9, "book_full_minutes_machine": {"cores": 2}}))
    proc = _run(["--book-timings"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["book_full_minutes"] == 21.5 and summary["notebooks_quick_minutes"] == 3.9
    assert summary["book_full_minutes_machine"] == {"cores": 2} and summary["rmse"] == {}


def test_language_model_validation_inputs_are_built_like_its_test_inputs():
    """Every blend member predicts the validation slice from `fit` alone and the test rows
    from `train`; the language model's history texts must follow the same protocol."""
    import pandas as pd

    from benchmarks.accuracy import lm_member_pairs

    titles = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
    movies = pd.DataFrame({"movieId": range(1, 7), "title": titles, "year": [1990] * 6,
                           "genres": [["Drama"]] * 6})
    rows = [(1, 1, 4.0, 1), (1, 2, 3.0, 2), (1, 3, 5.0, 3), (1, 4, 2.0, 4), (1, 5, 4.5, 5),
            (2, 2, 4.0, 1), (2, 3, 1.0, 2), (2, 5, 3.5, 3)]
    ratings = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    fit = ratings[ratings.timestamp <= 2 + (ratings.userId == 1)]  # each user's earlier part
    val = ratings.drop(fit.index)  # user 1: Delta, Echo; user 2: Echo
    train = ratings
    test = pd.DataFrame({"userId": [1, 2], "movieId": [6, 6], "rating": [3.0, 4.0],
                         "timestamp": [9, 9]})
    pairs = lm_member_pairs({"train": fit, "val": val, "test": test}, fit, train, movies,
                            history_items=10)
    held_out = set(movies.set_index("movieId").loc[val.movieId.unique(), "title"])
    assert held_out == {"Delta", "Echo"}
    for name in ("train", "val"):  # nothing of the validation slice in their histories
        for history in pairs[name]["history"]:
            assert not any(title in history for title in held_out), (name, history)
    # user 1's Echo is predicted from Alpha, Bravo, Charlie only (not Delta, rated just before)
    echo = pairs["val"][(pairs["val"].userId == 1) & (pairs["val"].movieId == 5)]
    assert all(t in echo["history"].iloc[0] for t in ("Alpha", "Bravo", "Charlie"))
    # the test rows see everything before them, the validation slice included
    assert "Delta" in pairs["test"]["history"].iloc[0] and "Echo" in pairs["test"]["history"].iloc[1]
