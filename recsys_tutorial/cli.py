"""Command line: ``recsys-tutorial finetune | evaluate | recommend`` (chapter 5).

``recsys-tutorial finetune --profile quick --out runs/q`` fine-tunes the packaged MiniLM on
MovieLens and writes ``runs/q/config.json``, ``runs/q/metrics.json`` (the model's and the
baselines' test RMSE on the same rows) and ``runs/q/checkpoint/`` (safetensors + JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .config import Profile, get_profile
from .errors import RecsysTutorialError

SPLITS = ("random", "temporal", "cold-items", "cold-users")


# --------------------------------------------------------------------------- shared steps


def split_ratings(ratings: pd.DataFrame, how: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) by the named split: S1 random, S2 temporal, S3 cold items, or cold users."""
    from . import splits

    if how == "random":
        return splits.random_split(ratings, test_size=0.2, seed=seed)
    if how == "temporal":
        return splits.temporal_split(ratings, test_frac=0.2)
    if how == "cold-items":
        return splits.cold_start_items_split(ratings, frac=0.1, seed=seed)
    if how == "cold-users":
        return splits.cold_start_users_split(ratings, frac=0.1, seed=seed)
    raise RecsysTutorialError(f"unknown split {how!r}; choose one of {SPLITS}")


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= n else frame.sample(n=n, random_state=seed).reset_index(drop=True)


def prepare_experiment(profile: Profile, *, split: str = "random", data_path: str | None = None, seed: int | None = None) -> dict:
    """Data, split, validation slice and text pairs sized by ``profile`` (CLI and benchmarks).

    Histories of every target come from the training ratings only, strictly earlier in time.
    """
    from .data import load_movielens
    from .splits import train_val_split
    from .text import make_pairs

    seed = profile.seed if seed is None else seed
    data = load_movielens(path=data_path)
    train, test = split_ratings(data.ratings, split, seed)
    fit, val = train_val_split(train, val_size=0.1, seed=seed)
    targets = {
        "train": _sample(fit, profile.train_samples, seed),
        "val": _sample(val, profile.eval_samples, seed),
        "test": _sample(test, profile.eval_samples, seed),
    }
    pairs = {
        name: make_pairs(t, train, data.movies, max_items=profile.history_items)
        for name, t in targets.items()
    }
    return {"data": data, "train": train, "fit": fit, "test": test, "targets": targets, "pairs": pairs}


def baseline_rmse(fit: pd.DataFrame, test: pd.DataFrame, profile: Profile) -> dict[str, dict[str, float]]:
    """RMSE and MAE of the global mean, biases and MF on ``test`` (trained on ``fit``)."""
    from .baselines import BiasBaseline, GlobalMean, MatrixFactorization
    from .metrics import mae, rmse

    models = {
        "global_mean": GlobalMean(),
        "biases": BiasBaseline(),
        "matrix_factorization": MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed),
    }
    out = {}
    for name, model in models.items():
        pred = model.fit(fit).predict(test)
        out[name] = {"rmse": rmse(test["rating"], pred), "mae": mae(test["rating"], pred)}
    return out


def _atomic_json(path: Path, payload: dict) -> None:
    """Write JSON to a temporary file, then rename: a crash leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, sort_keys=True, default=str)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- commands


def cmd_finetune(args: argparse.Namespace) -> int:
    from .datasets import RatingTextDataset, make_loader
    from .distributed import barrier, init_distributed, is_main_process, shutdown
    from .models import save_checkpoint
    from .train import TrainConfig, evaluate, finetune_rating_model

    # under torchrun: join the process group (gloo on CPU, nccl on GPU); otherwise a no-op
    _, world = init_distributed()
    try:
        return _finetune(args, world, RatingTextDataset, make_loader, save_checkpoint, TrainConfig, evaluate,
                         finetune_rating_model, is_main_process)
    finally:
        barrier()
        shutdown()


def _finetune(args, world, RatingTextDataset, make_loader, save_checkpoint, TrainConfig, evaluate,
              finetune_rating_model, is_main_process) -> int:
    profile = get_profile(args.profile)
    if args.train_samples:
        profile = profile.replace(train_samples=args.train_samples)
    out = Path(args.out)
    exp = prepare_experiment(profile, split=args.split, data_path=args.data, seed=args.seed)
    config = TrainConfig(
        lr=args.lr,
        epochs=args.epochs or profile.epochs,
        max_steps=profile.max_steps,
        batch_size=profile.batch_size,
        bf16=args.bf16,
        seed=args.seed if args.seed is not None else profile.seed,
        progress=not args.quiet,
    )
    start = time.perf_counter()
    ft = finetune_rating_model(
        exp["pairs"]["train"], exp["pairs"]["val"], model_name=args.model, profile=profile, config=config,
        peft_method=args.peft, max_length=profile.max_length,
    )
    train_seconds = time.perf_counter() - start
    test_loader = make_loader(
        RatingTextDataset.from_pairs(exp["pairs"]["test"], ft.tokenizer, max_length=profile.max_length),
        profile.batch_size, shuffle=False,
    )
    test = evaluate(ft.model, test_loader, ft.scaler, bf16=config.bf16)
    if not is_main_process():
        return 0  # only rank 0 writes files
    baselines = baseline_rmse(exp["fit"], exp["targets"]["test"], profile)
    save_checkpoint(
        out / "checkpoint", ft.model, ft.tokenizer, ft.scaler,
        extra={"profile": profile.name, "split": args.split, "max_length": profile.max_length,
               "history_items": profile.history_items, "seed": config.seed, "bf16": config.bf16},
    )
    _atomic_json(out / "config.json", {
        "profile": asdict(profile), "train": asdict(config), "split": args.split,
        "model": args.model or "packaged all-MiniLM-L6-v2", "peft": args.peft, "world_size": world,
    })
    metrics = {
        "test_rmse": test["rmse"], "test_mae": test["mae"],
        "baselines": baselines,
        "baseline_rmse": {k: v["rmse"] for k, v in baselines.items()},
        "best_val_rmse": ft.result.best_val_rmse,
        "n_train": len(exp["pairs"]["train"]), "n_test": len(exp["pairs"]["test"]),
        "train_seconds": train_seconds, "samples_per_second": ft.result.samples_per_second,
        "history": ft.result.history,
    }
    _atomic_json(out / "metrics.json", metrics)
    print(f"test RMSE {test['rmse']:.4f}  MAE {test['mae']:.4f}  ({len(exp['pairs']['test'])} ratings)")
    for name, value in baselines.items():
        print(f"  {name:<22} RMSE {value['rmse']:.4f}")
    print(f"wrote {out / 'metrics.json'}, {out / 'config.json'}, {out / 'checkpoint'}")
    return 0


def _load_for_scoring(checkpoint: str):
    from .models import load_checkpoint

    model, tokenizer, scaler, extra = load_checkpoint(checkpoint)
    meta = extra.get("extra", extra) if isinstance(extra, dict) else {}
    return model, tokenizer, scaler, meta


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .datasets import RatingTextDataset, make_loader
    from .train import evaluate

    model, tokenizer, scaler, meta = _load_for_scoring(args.checkpoint)
    profile = get_profile(args.profile or meta.get("profile"))
    split = args.split or meta.get("split", "random")
    exp = prepare_experiment(profile, split=split, data_path=args.data, seed=meta.get("seed"))
    max_length = int(meta.get("max_length", profile.max_length))
    loader = make_loader(RatingTextDataset.from_pairs(exp["pairs"]["test"], tokenizer, max_length=max_length),
                         profile.batch_size, shuffle=False)
    result = evaluate(model, loader, scaler, bf16=bool(meta.get("bf16", False)))
    result["n_test"] = len(exp["pairs"]["test"])
    print(json.dumps(result, indent=2))
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from .baselines import MatrixFactorization
    from .data import load_movielens
    from .recommend import TextModelScorer, TwoStage, recommend

    model, tokenizer, scaler, meta = _load_for_scoring(args.checkpoint)
    data = load_movielens(path=args.data)
    profile = get_profile(meta.get("profile"))
    retriever = MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed).fit(data.ratings)
    scorer = TextModelScorer(
        model, tokenizer, scaler, ratings=data.ratings, movies=data.movies, bf16=True,
        max_items=int(meta.get("history_items", profile.history_items)),
        max_length=int(meta.get("max_length", profile.max_length)),
    )
    top = recommend(TwoStage(retriever, scorer, n_candidates=args.candidates), args.user,
                    seen=data.ratings, items=data.movies, k=args.k)
    print(top.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recsys-tutorial", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ft = sub.add_parser("finetune", help="fine-tune a language model on MovieLens and write metrics")
    ft.add_argument("--profile", choices=["quick", "full"], default=None,
                    help="sizes to use (default: $RECSYS_TUTORIAL_PROFILE or full)")
    ft.add_argument("--out", required=True, help="output folder for config.json, metrics.json, checkpoint/")
    ft.add_argument("--model", default=None, help="Hugging Face id or local folder (default: packaged MiniLM)")
    ft.add_argument("--split", choices=SPLITS, default="random", help="how to split train/test (default: random)")
    ft.add_argument("--data", default=None, help="MovieLens zip or folder (default: $RECSYS_TUTORIAL_DATA, cache, download)")
    ft.add_argument("--lr", type=float, default=5e-5, help="learning rate (default 5e-5)")
    ft.add_argument("--epochs", type=int, default=None, help="epochs (default: the profile's)")
    ft.add_argument("--train-samples", type=int, default=None, help="training ratings (default: the profile's)")
    ft.add_argument("--peft", choices=["lora", "adalora", "ia3", "prefix", "prompt"], default=None,
                    help="parameter-efficient method instead of full fine-tuning")
    ft.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                    help="bfloat16 autocast (default on; --no-bf16 for fp32)")
    ft.add_argument("--seed", type=int, default=None, help="random seed (default: the profile's, 42)")
    ft.add_argument("--quiet", action="store_true", help="no progress bars")
    ft.set_defaults(func=cmd_finetune)

    ev = sub.add_parser("evaluate", help="test RMSE/MAE of a saved checkpoint")
    ev.add_argument("--checkpoint", required=True, help="folder written by finetune (OUT/checkpoint)")
    ev.add_argument("--profile", choices=["quick", "full"], default=None, help="sizes (default: the checkpoint's)")
    ev.add_argument("--split", choices=SPLITS, default=None, help="split (default: the checkpoint's)")
    ev.add_argument("--data", default=None, help="MovieLens zip or folder")
    ev.set_defaults(func=cmd_evaluate)

    rc = sub.add_parser("recommend", help="top-K movies for a user (MF retrieval, language-model reranking)")
    rc.add_argument("--checkpoint", required=True, help="folder written by finetune (OUT/checkpoint)")
    rc.add_argument("--user", type=int, required=True, help="MovieLens userId")
    rc.add_argument("-k", type=int, default=10, help="list length (default 10)")
    rc.add_argument("--candidates", type=int, default=100, help="items retrieved before reranking (default 100)")
    rc.add_argument("--data", default=None, help="MovieLens zip or folder")
    rc.set_defaults(func=cmd_recommend)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RecsysTutorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
