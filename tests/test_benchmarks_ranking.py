"""benchmarks/ranking_implicit.py: the quick profile end to end (a few seconds on 60 users).

Run as a subprocess: the results folder comes from the environment when the benchmark's
modules are imported."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("RECSYS_TUTORIAL_DATA") or ROOT.parent / "shared" / "data")


@pytest.mark.skipif(not (DATA / "ml-latest-small.zip").exists(),
                    reason=f"MovieLens archive not in {DATA}")
def test_quick_ranking_benchmark_writes_every_key_tuned_on_validation(tmp_path):
    pytest.importorskip("implicit", reason="the implicit extra is not installed")
    from benchmarks.ranking_implicit import GRIDS

    env = {**os.environ, "RECSYS_TUTORIAL_BENCH_RESULTS": str(tmp_path), "RECSYS_TUTORIAL_DATA": str(DATA),
           "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.ranking_implicit", "--profile", "quick",
                           "--threads", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((tmp_path / "ranking_implicit.json").read_text())
    methods = {"popularity", "ease", "ials", "bpr"}
    assert out["profile"] == "quick" and out["rated_users"] == 60 and out["threads"] == 1
    for split in ("S2", "S4"):
        ndcg = out[f"ndcg_at_10_{split}"]
        assert set(ndcg) == methods
        for method, (low, high) in out[f"ndcg_at_10_interval_{split}"].items():
            assert 0.0 <= low <= ndcg[method] <= high <= 1.0, (split, method)
            row = out[f"ranking_{split}"][method]
            assert row["ndcg@10"] == ndcg[method]
            for metric in ("precision@10", "recall@10", "hit_rate@10", "map@10", "coverage", "gini"):
                assert 0.0 <= row[metric] <= 1.0, (split, method, metric)
            assert row["users"] == out[f"setup_{split}"]["test_users_with_relevant"] > 0
        for model, params in out[f"chosen_{split}"].items():  # every choice comes from the grid
            assert all(value in GRIDS["quick"][model][name] for name, value in params.items())
            records = out[f"validation_{split}"][model]
            best = max(records, key=lambda r: r["ndcg@10"])
            assert {name: best[name] for name in params} == params
        assert out[f"setup_{split}"]["relevant_threshold"] == 4.0
    # S2 holds out each user's latest ratings: every test user has a past. S4 cuts one time
    # for everybody: some test users are new (popularity fallback), and they are still ranked
    assert out["setup_S2"]["test_users_new"] == 0 < out["setup_S4"]["test_users_new"]
    assert out["ndcg_at_10_warm_S2"] == out["ndcg_at_10_S2"]
    warm = out["ranking_warm_S4"]["ease"]["users"]
    assert warm == out["setup_S4"]["test_users_with_relevant"] - out["setup_S4"]["test_users_new"]
    assert out["ranking_S2"]["ease"]["ndcg@10"] > out["ranking_S2"]["popularity"]["ndcg@10"]
    assert "S2 popularity=" in proc.stdout
    # the headline keys land in summary.json: every method named, unbuilt ones None, not faked
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["profile"] == "quick"
    for split in ("S2", "S4"):
        ndcg = summary[f"ndcg_at_10_{split}"]
        assert set(ndcg) == methods | {"lm_ranker", "best_combination"}
        assert ndcg["lm_ranker"] is None and ndcg["best_combination"] is None
        assert {m: ndcg[m] for m in methods} == out[f"ndcg_at_10_{split}"]
        assert summary[f"ranking_{split}"] == out[f"ranking_{split}"]
