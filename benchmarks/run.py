"""`make bench`: every benchmark, JSON under benchmarks/results/ and the figures the book shows.

    python -m benchmarks.run [--profile quick|full] [--skip lm,lora,speed,recommend,curve]

Writes accuracy.json, ranking.json, speed.json, recommend.json, size_curve.json and
summary.json (the keys the issue tracker checks), plus PNG figures.
"""

from __future__ import annotations

import argparse
import time

from recsys_tutorial.config import get_profile, seed_everything
from recsys_tutorial.movielens import load_movielens

from . import accuracy, ranking_implicit, recommend_latency, speed
from .common import RESULTS, STAGE, machine, read_json, timer, write_json


def size_curve(data, ids, vectors, profile, fractions=(0.01, 0.05, 0.2, 1.0)) -> list[dict]:
    """Test RMSE on S1 against the share of its training ratings, for MF, biases and the text hybrid."""
    from recsys_tutorial.baselines import BiasBaseline, MatrixFactorization
    from recsys_tutorial.experiment import split_ratings
    from recsys_tutorial.hybrid import TextHybrid
    from recsys_tutorial.metrics import rmse

    train, test = split_ratings(data.ratings, "random", seed=profile.seed)
    if profile.name == "quick":
        test = test.sample(n=profile.eval_samples, random_state=0)
    rows = []
    for frac in fractions:
        part = train.sample(frac=frac, random_state=profile.seed)
        models = {
            "biases": BiasBaseline(),
            "mf": MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed),
            "text_hybrid": TextHybrid(item_ids=ids, item_vectors=vectors, epochs=profile.mf_epochs, seed=profile.seed),
        }
        for name, model in models.items():
            rows.append({"fraction": frac, "train_ratings": len(part), "method": name,
                         "rmse": rmse(test.rating, model.fit(part).predict(test))})
    return rows


def figures(acc: dict, curve: list[dict] | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from recsys_tutorial.plots import rmse_by_split, series_plot

    axes = rmse_by_split({split: {m: v["rmse"] for m, v in methods.items()} for split, methods in acc.items()})
    fig = axes[0].figure
    fig.tight_layout()
    fig.savefig(RESULTS / "rmse_by_split.png", dpi=110)
    if curve:
        fig, ax = plt.subplots(figsize=(6, 4))
        series_plot(pd.DataFrame(curve), x="train_ratings", y="rmse", hue="method", ax=ax, logx=True,
                    ylabel="test RMSE (S1)")
        fig.tight_layout()
        fig.savefig(RESULTS / "rmse_vs_train_size.png", dpi=110)


def refresh_book_timings(results=RESULTS) -> int:
    """Put the timings that `make book` and `make notebooks-quick` wrote (_stage/book_timing.json)
    into an existing summary.json; the book runs after the benchmark, so its time arrives later."""
    summary, book = read_json("summary.json", results=results), read_json("book_timing.json", results=STAGE) or {}
    if summary is None:
        print(f"[bench] no {results}/summary.json: run the benchmark first")
        return 1
    for key in ("book_full_minutes", "notebooks_quick_minutes"):
        summary[key] = book.get(key, summary.get(key))
        summary[f"{key}_machine"] = book.get(f"{key}_machine")
    write_json("summary.json", summary, results=results)
    print(f"[bench] summary.json: book {summary['book_full_minutes']} min, quick notebooks "
          f"{summary['notebooks_quick_minutes']} min")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["quick", "full"], default=None)
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to skip: accuracy,lm,lora,speed,recommend,curve,ranking")
    parser.add_argument("--splits", default="S1,S2,S3",
                        help="accuracy splits to (re)run; others are kept from an existing accuracy.json")
    parser.add_argument("--book-timings", action="store_true",
                        help="only copy the latest make book / make test timings into summary.json")
    args = parser.parse_args(argv)
    if args.book_timings:
        return refresh_book_timings()
    profile = get_profile(args.profile)
    skip = {s for s in args.skip.split(",") if s}
    seed_everything(profile.seed)
    started = time.perf_counter()
    data = load_movielens()
    ids, vectors = accuracy.catalogue_vectors(data)
    keep: dict = {}
    wanted = [s for s in args.splits.split(",") if s]
    unknown = sorted(set(wanted) - set(accuracy.SPLITS))
    if unknown:
        parser.error(f"unknown splits {unknown}; choose from {list(accuracy.SPLITS)}")
    earlier_summary = read_json("summary.json") or {}
    minutes: dict = dict(earlier_summary.get("bench_minutes_by_part", {})) \
        if earlier_summary.get("profile") == profile.name else {}
    seconds: dict = {}
    previous = read_json("accuracy.json") or {}
    # a partial rerun keeps the other splits of the same profile
    acc = dict(previous.get("splits", {})) if previous.get("profile") == profile.name else {}
    rerun = [] if "accuracy" in skip else [s for s in accuracy.SPLITS if s in wanted]
    acc = {s: acc[s] for s in accuracy.SPLITS if s in acc and s not in rerun}
    for split in rerun:
        print(f"[bench] accuracy {split}", flush=True)
        with timer(seconds, f"accuracy_{split}"):
            acc[split] = accuracy.run_split(split, data, ids, vectors, profile, with_lm="lm" not in skip,
                                            with_lora="lora" not in skip and split == "S1",
                                            keep=keep if split == "S2" else None)
        acc = {s: acc[s] for s in accuracy.SPLITS if s in acc}  # S1, S2, S3 order
        write_json("accuracy.json", {"profile": profile.name, "machine": machine(), "splits": acc})
    ranking = None
    if "ranking" not in skip:
        print("[bench] ranking S2", flush=True)
        with timer(seconds, "ranking"):
            ranking = accuracy.ranking_s2(data, ids, vectors, profile)
        write_json("ranking.json", {"profile": profile.name, "machine": machine(), **ranking})
    curve = None
    if "curve" not in skip:
        print("[bench] size curve", flush=True)
        with timer(seconds, "curve"):
            curve = size_curve(data, ids, vectors, profile)
        write_json("size_curve.json", {"profile": profile.name, "rows": curve})
    spd = None
    if "speed" not in skip:
        print("[bench] speed", flush=True)
        steps = 4 if profile.name == "quick" else 20
        with timer(seconds, "speed"):
            spd = {"profile": profile.name, "throughput": speed.throughput(profile, steps=steps),
                   "flops": speed.flops_fraction(), "machine": machine()}
        write_json("speed.json", spd)
    rec = None
    if "recommend" not in skip and "lm" in keep:
        print("[bench] recommend latency", flush=True)
        with timer(seconds, "recommend"):
            rec = recommend_latency.run(data, ids, vectors, keep["lm"], profile)
        write_json("recommend.json", {"profile": profile.name, "machine": machine(), **rec})
    # parts skipped in this run keep their results from an earlier run of the same profile
    def earlier(name):
        found = read_json(name)
        return found if found and found.get("profile", profile.name) == profile.name else None

    ranking = ranking or earlier("ranking.json")
    curve = curve or (earlier("size_curve.json") or {}).get("rows")
    spd = spd or earlier("speed.json")
    rec = rec or earlier("recommend.json")
    if acc:
        figures(acc, curve)
    minutes.update({part: sec / 60 for part, sec in seconds.items()})
    book = read_json("book_timing.json", results=STAGE) or {}
    summary = {
        "profile": profile.name,
        "rmse": {s: {m: v["rmse"] for m, v in methods.items()} for s, methods in acc.items()},
        "mae": {s: {m: v["mae"] for m, v in methods.items()} for s, methods in acc.items()},
        # 95% bootstrap interval of each test RMSE over the split's test ratings
        "rmse_interval": {s: {m: [v["rmse_low"], v["rmse_high"]] for m, v in methods.items()
                              if "rmse_low" in v} for s, methods in acc.items()},
        # the rating models' top-10 (chapter 6.1's first section); the implicit-feedback
        # rankers' keys (ndcg_at_10_S2 / _S4, ranking_S2 / _S4) come from ranking_implicit
        "ndcg_at_10_S2_rating_models": ranking["ndcg_at_10"] if ranking else None,
        "throughput_ratio": spd["throughput"]["throughput_ratio"] if spd else None,
        "flops_fraction_of_peak": spd["flops"]["flops_fraction_of_peak"] if spd else None,
        "recommend_p50_ms": rec["recommend_p50_ms"] if rec else None,
        "recommend_ndcg_ratio": rec["recommend_ndcg_ratio"] if rec else None,
        "book_full_minutes": book.get("book_full_minutes"),
        "notebooks_quick_minutes": book.get("notebooks_quick_minutes"),
        # minutes per part, parts kept from an earlier run included; their sum is a whole run's time
        "bench_minutes_by_part": minutes,
        "bench_minutes": sum(minutes.values()),
        "this_run_minutes": (time.perf_counter() - started) / 60,
        "recorded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
    }
    implicit = earlier("ranking_implicit.json")
    if implicit:  # keep the rankers' keys of an earlier run of this profile
        summary.update(ranking_implicit.summary_keys(implicit))
    write_json("summary.json", summary)
    print(f"[bench] wrote {RESULTS}/summary.json in {summary['this_run_minutes']:.1f} min", flush=True)
    for split, methods in summary["rmse"].items():
        print(split, "  ".join(f"{m}={v:.4f}" for m, v in sorted(methods.items(), key=lambda kv: kv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
