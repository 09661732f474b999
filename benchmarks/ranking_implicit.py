"""Implicit-feedback rankers on MovieLens S2 and S4: popularity, EASE, iALS and BPR, top-10.

    python -m benchmarks.ranking_implicit [--profile quick|full] [--threads N]

Needs the optional extra: pip install "recsys-tutorial[implicit]". Writes
benchmarks/results/ranking_implicit.json and adds its headline keys to summary.json
(:func:`summary_keys`).

Protocol, for each split (S2: each user's latest 20%, ``split_ratings(..., "temporal")``; S4:
one global cut-off, ``global_temporal_split(test_size=0.2)``):

1. a validation slice is cut from the training side like the test from the whole
   (``train_val_split(train, 0.1, how="temporal" | "global-temporal")``);
2. each model's hyper-parameters are chosen on it by NDCG@10 (``tune_on_validation``),
   never on test;
3. each model is refitted on the whole training side with the chosen values and scored on
   test: every test user with a relevant item (rating >= 4 stars), every unseen film of the
   catalogue a candidate. Users unseen in training (S4's new users) get each model's
   popularity fallback.

Models learn from liked training events (rating >= 4). Every metric is at k = 10; NDCG has a
95% percentile-bootstrap interval over users.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from recsys_tutorial.baselines import Popularity
from recsys_tutorial.config import Profile, get_profile
from recsys_tutorial.experiment import split_ratings
from recsys_tutorial.ranking import BPR, EASE, ImplicitALS, evaluate_ranker, tune_on_validation
from recsys_tutorial.recommend import relevant_items
from recsys_tutorial.schema import USER_COL, liked_threshold
from recsys_tutorial.splits import global_temporal_split, train_val_split

from .common import machine, read_json, write_json

K = 10
MODELS = {"ease": EASE, "ials": ImplicitALS, "bpr": BPR}
GRIDS = {
    "full": {
        "ease": {"lam": [10.0, 20.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1000.0]},
        "ials": {"factors": [64, 128, 256], "regularization": [1.0, 5.0, 20.0, 50.0],
                 "alpha": [1.0, 2.0, 5.0, 10.0]},
        "bpr": {"factors": [64, 128], "learning_rate": [0.005, 0.01, 0.02],
                "regularization": [0.001, 0.01], "iterations": [50, 100]},
    },
    "quick": {
        "ease": {"lam": [50.0, 300.0]},
        "ials": {"factors": [16], "regularization": [1.0, 20.0], "alpha": [2.0]},
        "bpr": {"factors": [16], "learning_rate": [0.01], "regularization": [0.01],
                "iterations": [20, 50]},
    },
}
#: quick profile: the ratings of this many random users (all their test users are ranked)
QUICK_USERS = 60
SPLITS = {"S2": "temporal", "S4": "global-temporal"}
#: the methods summary.json lists per split; None where a method is not built yet
SUMMARY_METHODS = ("popularity", "ease", "ials", "bpr", "lm_ranker", "best_combination")


def split(ratings, name: str, seed: int):
    """``(train, test)`` of split ``name`` (``"S2"`` or ``"S4"``)."""
    if name == "S2":
        return split_ratings(ratings, "temporal", seed=seed)
    return global_temporal_split(ratings, test_size=0.2)


def run_split(name: str, ratings, catalogue, grids: dict, seed: int) -> dict:
    """Tune on validation, refit on train, evaluate on test; one split's results."""
    train, test = split(ratings, name, seed)
    fit, val = train_val_split(train, test_size=0.1, seed=seed, how=SPLITS[name])
    chosen, validation, fit_seconds = {}, {}, {}
    for model, grid in grids.items():
        start = time.perf_counter()
        best, table = tune_on_validation(lambda cls=MODELS[model], **p: cls(**p), grid, fit, val,
                                         seen=fit, k=K, items=catalogue,
                                         allow_unknown_users=True)
        chosen[model] = best
        keep = [*grid, f"ndcg@{K}", f"recall@{K}", "coverage", "fit_seconds"]
        validation[model] = table[keep].to_dict("records")
        fit_seconds[f"{model}_tuning"] = time.perf_counter() - start
        edge = [p for p, values in grid.items()
                if len(values) > 2 and best[p] in (min(values), max(values))]
        if edge:
            print(f"[ranking] {name} {model}: {edge} chosen at the edge of the grid", flush=True)
    models = {"popularity": Popularity(), **{m: MODELS[m](**chosen[m]) for m in grids}}
    known = set(train[USER_COL])
    test_users = [u for u, items in relevant_items(test).items() if items]
    warm = [u for u in test_users if u in known]
    ranking, ranking_warm = {}, {}
    for model, scorer in models.items():
        start = time.perf_counter()
        scorer.fit(train)
        fit_seconds[model] = time.perf_counter() - start
        ranking[model] = evaluate_ranker(scorer, test, seen=train, items=catalogue, k=K,
                                         interval=True, seed=seed, allow_unknown_users=True)
        # new users get every model's popularity fallback: the returning users tell models apart
        if len(warm) == len(test_users):
            ranking_warm[model] = ranking[model]
        elif warm:
            ranking_warm[model] = evaluate_ranker(scorer, test, seen=train, items=catalogue, k=K,
                                                  users=warm, interval=True, seed=seed)
        else:
            ranking_warm[model] = {f"ndcg@{K}": None, "users": 0}
        print(f"[ranking] {name} {model}: NDCG@{K} {ranking[model][f'ndcg@{K}']:.4f} "
              f"(returning users {ranking_warm[model][f'ndcg@{K}']}) {chosen.get(model, {})}",
              flush=True)
    return {
        "ranking": ranking,
        "ranking_warm": ranking_warm,
        "chosen": chosen,
        "validation": validation,
        "seconds": fit_seconds,
        "setup": {"train_ratings": len(train), "test_ratings": len(test),
                  "fit_ratings": len(fit), "validation_ratings": len(val),
                  "test_users_with_relevant": len(test_users),
                  "test_users_new": int(sum(u not in known for u in test_users)),
                  "catalogue_items": int(len(catalogue)),
                  "relevant_threshold": liked_threshold(test)},
    }


def run(profile: Profile, *, data=None) -> dict:
    """Every split, every model; the dict written to ``ranking_implicit.json``.

    Keys: ``ndcg_at_10_S2`` / ``ndcg_at_10_S4`` (method -> NDCG@10), ``ndcg_at_10_interval_S2``
    / ``_S4`` (method -> [low, high]), ``ranking_S2`` / ``ranking_S4`` (method -> metric ->
    value), ``ranking_warm_S2`` / ``_S4`` (the same over test users with a training event:
    S4's new users all get the popularity fallback), ``ndcg_at_10_warm_S2`` / ``_S4``,
    ``chosen_S2`` / ``_S4`` (model -> hyper-parameters), ``validation_S2`` / ``_S4`` (model ->
    one record per grid point), ``seconds_S2`` / ``_S4``, ``setup_S2`` / ``_S4``.
    """
    if data is None:
        from recsys_tutorial.movielens import load_movielens

        data = load_movielens()
    ratings, catalogue = data.ratings, data.movies.movieId.to_numpy()
    if profile.name == "quick":
        users = ratings[USER_COL].unique()
        pick = np.random.default_rng(profile.seed).choice(users, size=min(QUICK_USERS, users.size),
                                                          replace=False)
        ratings = ratings[ratings[USER_COL].isin(pick)].reset_index(drop=True)
    grids = GRIDS["quick" if profile.name == "quick" else "full"]
    started = time.perf_counter()
    out: dict = {"profile": profile.name, "k": K, "grids": grids,
                 "rated_users": int(ratings[USER_COL].nunique())}
    for name in SPLITS:
        result = run_split(name, ratings, catalogue, grids, profile.seed)
        ranking = result["ranking"]
        out[f"ndcg_at_10_{name}"] = {m: r[f"ndcg@{K}"] for m, r in ranking.items()}
        out[f"ndcg_at_10_interval_{name}"] = {
            m: [r[f"ndcg@{K}_low"], r[f"ndcg@{K}_high"]] for m, r in ranking.items()}
        out[f"ranking_{name}"] = ranking
        out[f"ndcg_at_10_warm_{name}"] = {m: r[f"ndcg@{K}"] for m, r in result["ranking_warm"].items()}
        for key in ("ranking_warm", "chosen", "validation", "seconds", "setup"):
            out[f"{key}_{name}"] = result[key]
    out["wall_seconds"] = time.perf_counter() - started
    out["machine"] = machine()
    return out


def summary_keys(result: dict) -> dict:
    """The ranking keys of ``summary.json`` from a :func:`run` result.

    ``ndcg_at_10_S2`` / ``_S4``: method -> NDCG@10 for every name of :data:`SUMMARY_METHODS`
    (``None`` for a method this benchmark does not build: the language-model ranker and the
    combination with it); ``best_combination`` is ``None`` until a combination is built, never
    a single model renamed. ``ndcg_at_10_interval_S2`` / ``_S4``: method -> [low, high];
    ``ranking_S2`` / ``_S4``: method -> metric -> value (P@10, R@10, HR@10, MAP@10, NDCG@10
    with intervals, coverage, Gini)."""
    out: dict = {}
    for name in SPLITS:
        ndcg = result[f"ndcg_at_10_{name}"]
        out[f"ndcg_at_10_{name}"] = {m: ndcg.get(m) for m in SUMMARY_METHODS}
        out[f"ndcg_at_10_interval_{name}"] = result[f"ndcg_at_10_interval_{name}"]
        out[f"ranking_{name}"] = result[f"ranking_{name}"]
    return out


def update_summary(result: dict) -> dict:
    """Merge :func:`summary_keys` into ``summary.json`` of the same profile (a summary of
    another profile is replaced by these keys alone); return the summary written."""
    summary = read_json("summary.json") or {}
    if summary.get("profile") not in (None, result["profile"]):
        summary = {}
    summary.update(profile=result["profile"], **summary_keys(result))
    write_json("summary.json", summary)
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["quick", "full"], default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads for EASE's inverse (default: the library's choice)")
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
    result = run(profile)
    result["threads"] = args.threads
    path = write_json("ranking_implicit.json", result)
    update_summary(result)
    print(f"[ranking] wrote {path} in {result['wall_seconds'] / 60:.1f} min", flush=True)
    for name in SPLITS:
        print(name, "  ".join(f"{m}={v:.4f}" for m, v in result[f"ndcg_at_10_{name}"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

