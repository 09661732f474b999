"""Time-to-quality of the text tower (:class:`recsys_tutorial.text_tower.TextTower`) on S3.

MovieLens ml-latest-small, split S3 (cold items: 10% of the films with all their ratings held
out), every S3 training rating, the packaged MiniLM fine-tuned end to end. Test RMSE on the whole
S3 test set at a few training times, with the global mean and the biases on the same rows.
Training time counts the set-up (loading the model, tokenising the catalogue) and the steps,
not the test evaluations in between.

    python -m benchmarks.text_tower_curve [--profile quick|full] [--minutes 10]

writes ``text_tower_curve.json`` under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from recsys_tutorial.baselines import BiasBaseline, GlobalMean
from recsys_tutorial.config import Profile, get_profile
from recsys_tutorial.experiment import split_ratings
from recsys_tutorial.metrics import mae, rmse
from recsys_tutorial.text_tower import TextTower, profile_settings

from .common import machine, write_json

#: Training ratings per second assumed when planning the learning-rate schedule (one thread of
#: a shared 2-core CPU, batches of 512 ratings, up to 32 ratings of a film together); a faster
#: machine ends sooner, a slower one is stopped at ``minutes`` before the rate reaches 0.
RATINGS_PER_SECOND = 1200.0


def run(profile: Profile | str, minutes: float = 10.0, *, points: tuple[float, ...] | None = None,
        data=None, ratings_per_second: float = RATINGS_PER_SECOND, eval_every: int = 5,
        threads: int | None = None, **settings) -> dict:
    """Train for about ``minutes`` and return the curve: ``{"points": [{"minutes", "step",
    "epoch", "ratings_seen", "rmse", "mae"}, ...], "reference": {global_mean, biases},
    "final": {...}, "settings", "samples_per_second", ...}``.

    ``points`` are training times in minutes (default: 1, 2, 4, 6, 8, 10 scaled to
    ``minutes``); the learning rate decays to 0 at the planned step count
    (``minutes`` × ``ratings_per_second``). The quick profile trains on a sample (seconds).
    ``threads`` sets torch's thread count (one thread is steadier on a machine shared with
    other jobs: two threads slow down many times over when a core is taken).
    """
    import torch

    from recsys_tutorial.movielens import load_movielens

    if threads:
        torch.set_num_threads(threads)

    profile = get_profile(profile) if isinstance(profile, str) else profile
    data = data if data is not None else load_movielens("ml-latest-small")
    train, test = split_ratings(data.ratings, "cold-items", seed=profile.seed)
    if profile.name == "quick":
        train = train.sample(n=min(len(train), 2_000), random_state=profile.seed)
        test = test.sample(n=min(len(test), profile.eval_samples), random_state=profile.seed)
    reference = {}
    for name, baseline in (("global_mean", GlobalMean()), ("biases", BiasBaseline())):
        pred = baseline.fit(train).predict(test)
        reference[name] = {"rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred)}
    config = {**profile_settings(profile), "epochs": 1000, "eval_every": eval_every,
              "patience": None, **settings}
    planned = max(1, math.ceil(minutes * 60 * ratings_per_second / config["batch_size"]))
    config["max_steps"] = min(config.get("max_steps") or planned, planned)
    marks = sorted(points or tuple(minutes * f for f in (0.1, 0.2, 0.4, 0.6, 0.8, 1.0)))
    model = TextTower(**config)
    test_items = pd.unique(test.movieId)
    curve: list[dict] = []
    clock = {"start": time.perf_counter(), "evaluating": 0.0}

    def score(record: dict, elapsed: float) -> None:
        began = time.perf_counter()
        model.refresh_item_vectors(test_items)  # the current language model's vectors
        pred = model.predict(test)
        curve.append({"minutes": elapsed / 60, "step": record["step"], "epoch": record["epoch"],
                      "ratings_seen": record["step"] * config["batch_size"],
                      "rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred)})
        print(f"[tower] {elapsed / 60:5.2f} min step {record['step']:5d} "
              f"epoch {record['epoch']:.2f} test RMSE {curve[-1]['rmse']:.4f}", flush=True)
        clock["evaluating"] += time.perf_counter() - began

    def callback(record: dict) -> bool:
        elapsed = time.perf_counter() - clock["start"] - clock["evaluating"]
        last = record["step"] >= config["max_steps"]
        if not curve or last or (marks and elapsed >= marks[0] * 60):
            score(record, elapsed)
            while marks and elapsed >= marks[0] * 60:
                marks.pop(0)
        return elapsed >= minutes * 60

    model.fit(train, items=data.movies, callbacks=[callback])
    trained = time.perf_counter() - clock["start"] - clock["evaluating"]
    pred = model.predict(test)
    final = {"minutes_with_catalogue": trained / 60, "steps": model.result_.history[-1]["step"],
             "epoch": model.result_.history[-1]["epoch"], "rmse": rmse(test.rating, pred),
             "mae": mae(test.rating, pred)}
    texts_per_step = model.net_.texts_encoded / max(1, final["steps"])
    return {
        "profile": profile.name, "split": "S3 cold-items", "train_ratings": len(train),
        "test_ratings": len(test), "test_items": len(test_items),
        "settings": model.config.to_dict(),
        "planned_steps": config["max_steps"], "points": curve, "final": final,
        "reference": reference, "samples_per_second": model.result_.samples_per_second,
        "texts_encoded_per_step": texts_per_step, "best_rmse": min(p["rmse"] for p in curve),
        "machine": machine(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["quick", "full"], default=None)
    parser.add_argument("--minutes", type=float, default=None,
                        help="training minutes (default 10, quick 0.3)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    minutes = args.minutes or (0.3 if profile.name == "quick" else 10.0)
    result = run(profile, minutes, threads=args.threads)
    path = write_json("text_tower_curve.json", result)
    print(f"[tower] best test RMSE {result['best_rmse']:.4f}; biases "
          f"{result['reference']['biases']['rmse']:.4f}; wrote {path}", flush=True)
    return 0 if np.isfinite(result["best_rmse"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
