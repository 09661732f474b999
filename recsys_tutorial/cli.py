"""Command line: ``recsys-tutorial finetune | evaluate | recommend`` (chapter 5).

``recsys-tutorial finetune --profile quick --out runs/q`` fine-tunes the packaged MiniLM on
MovieLens and writes ``runs/q/config.json``, ``runs/q/metrics.json`` (the model's and the
baselines' test RMSE on the same rows) and ``runs/q/checkpoint/`` (safetensors + JSON).
``--dataset ml-100k`` uses MovieLens 100K instead of ml-latest-small; the run records the
dataset, so ``evaluate`` and ``recommend`` reload the same one unless told otherwise.
``--model-type text-tower`` trains the language model as the item tower of a collaborative
model instead (:mod:`recsys_tutorial.text_tower`) on every training rating; ``evaluate`` and
``recommend`` tell the two kinds of checkpoint apart by themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Hashable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .config import get_profile
from .errors import ConfigError, RecsysTutorialError, UnknownUserError
from .experiment import (
    DATASETS,
    DEFAULT_DATASET,
    SPLITS,
    baseline_rmse,
    load_dataset,
    prepare_experiment,
)
from .schema import USER_COL, id_repr

CROSS_ENCODER, TEXT_TOWER = "cross-encoder", "text-tower"
#: ``finetune --model-type`` choices.
MODEL_TYPES = (CROSS_ENCODER, TEXT_TOWER)
CROSS_ENCODER_LR = 5e-5

# --------------------------------------------------------------------------- arguments


def resolve_user_id(text: str, ids: pd.Series) -> Hashable:
    """The data's own user id that the command-line argument ``text`` names.

    Ids are matched exactly: a string id must equal ``text`` (``"007"`` is not ``"7"``); an
    integer id matches ``text`` read as an integer (``"1"`` -> ``1``). Returns the id as the
    data holds it (NumPy scalars as Python ones). Raises :class:`UnknownUserError` naming the
    user when no id matches.
    """
    values = pd.unique(ids.to_numpy(dtype=object))
    for value in values:
        if isinstance(value, str) and value == text:
            return value
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is not None:
        for value in values:
            is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if is_int and value == number:
                return value.item() if isinstance(value, np.generic) else value
    examples = ", ".join(id_repr(v) for v in values[:3])
    raise UnknownUserError(
        f"user {text!r} (--user) is not in the ratings ({len(values)} users, e.g. {examples}); "
        "pass a user id of the data"
    )


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
    if args.model_type == TEXT_TOWER:
        return finetune_text_tower(args)
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
    exp = prepare_experiment(profile, split=args.split, data_path=args.data, seed=args.seed,
                             dataset=args.dataset)
    config = TrainConfig(
        lr=args.lr or CROSS_ENCODER_LR,
        epochs=args.epochs or profile.epochs,
        max_steps=profile.max_steps,
        batch_size=profile.batch_size,
        bf16=args.bf16,
        seed=args.seed if args.seed is not None else profile.seed,
        progress=not args.quiet,
    )
    start = time.perf_counter()
    from .finetune import ModelSpec

    spec = ModelSpec(model_name=args.model, peft_method=args.peft, max_length=profile.max_length)
    ft = finetune_rating_model(exp["pairs"]["train"], exp["pairs"]["val"], spec=spec,
                               profile=profile, config=config)
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
               "history_items": profile.history_items, "seed": config.seed, "bf16": config.bf16,
               "dataset": args.dataset},
    )
    _atomic_json(out / "config.json", {
        "profile": asdict(profile), "train": asdict(config), "split": args.split,
        "dataset": args.dataset,
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


def finetune_text_tower(args: argparse.Namespace) -> int:
    """``finetune --model-type text-tower``: train :class:`~recsys_tutorial.text_tower.TextTower`
    on every rating of the split's training side (``--train-samples`` draws a sample), validate
    on the validation sample, write the same three outputs as the cross-encoder."""
    from .experiment import sample_rows
    from .metrics import mae, rmse
    from .text_tower import TextTower, profile_settings

    if args.peft:
        raise ConfigError("--peft applies to the cross-encoder; the text tower trains the whole "
                          "language model (drop --peft or use --model-type cross-encoder)")
    profile = get_profile(args.profile)
    out = Path(args.out)
    seed = args.seed if args.seed is not None else profile.seed
    exp = prepare_experiment(profile, split=args.split, data_path=args.data, seed=seed,
                             dataset=args.dataset)
    fit = exp["fit"]
    if args.train_samples:
        fit = sample_rows(fit, args.train_samples, seed)
    settings = {**profile_settings(profile), "model_name": args.model, "bf16": args.bf16,
                "seed": seed, "progress": not args.quiet}
    settings.update({k: v for k, v in (("lr", args.lr), ("epochs", args.epochs)) if v})
    start = time.perf_counter()
    model = TextTower(**settings).fit(fit, exp["targets"]["val"], items=exp["data"].movies)
    train_seconds = time.perf_counter() - start
    test = exp["targets"]["test"]
    pred = model.predict(test)
    baselines = baseline_rmse(exp["fit"], test, profile)
    model.save(out / "checkpoint", info={"profile": profile.name, "split": args.split,
                                          "seed": seed, "bf16": args.bf16,
                                          "dataset": args.dataset})
    _atomic_json(out / "config.json", {
        "model_type": TEXT_TOWER, "profile": asdict(profile), "text_tower": model.config.to_dict(),
        "split": args.split, "dataset": args.dataset,
        "model": args.model or "packaged all-MiniLM-L6-v2", "world_size": 1,
    })
    metrics = {
        "model_type": TEXT_TOWER, "test_rmse": rmse(test["rating"], pred),
        "test_mae": mae(test["rating"], pred), "baselines": baselines,
        "baseline_rmse": {k: v["rmse"] for k, v in baselines.items()},
        "best_val_rmse": model.result_.best_val_rmse, "n_train": len(fit), "n_test": len(test),
        "train_seconds": train_seconds, "samples_per_second": model.result_.samples_per_second,
        "history": model.history_,
    }
    _atomic_json(out / "metrics.json", metrics)
    print(f"test RMSE {metrics['test_rmse']:.4f}  MAE {metrics['test_mae']:.4f}  "
          f"({len(test)} ratings; text tower trained on {len(fit)})")
    for name, value in baselines.items():
        print(f"  {name:<22} RMSE {value['rmse']:.4f}")
    print(f"wrote {out / 'metrics.json'}, {out / 'config.json'}, {out / 'checkpoint'}")
    return 0


def checkpoint_model_type(checkpoint: str | os.PathLike[str]) -> str:
    """``"text-tower"`` or ``"cross-encoder"``: what ``finetune`` saved in ``checkpoint``
    (from its metadata; raises :class:`~recsys_tutorial.errors.CheckpointError` if unreadable)."""
    from .models import read_checkpoint_meta

    extra = read_checkpoint_meta(checkpoint).get("extra") or {}
    return TEXT_TOWER if extra.get("model_type") == TEXT_TOWER else CROSS_ENCODER


def evaluate_text_tower(args: argparse.Namespace) -> int:
    """``evaluate`` for a text-tower checkpoint: RMSE/MAE on the run's test rows."""
    from .metrics import mae, rmse
    from .models import read_checkpoint_meta
    from .text_tower import TextTower

    meta = read_checkpoint_meta(args.checkpoint).get("extra") or {}
    model = TextTower.load(args.checkpoint)
    profile = get_profile(args.profile or meta.get("profile"))
    dataset = run_dataset(args.checkpoint, meta, args.dataset)
    exp = prepare_experiment(profile, split=args.split or meta.get("split", "random"),
                             data_path=args.data, seed=meta.get("seed"), dataset=dataset)
    test = exp["targets"]["test"]
    pred = model.predict(test)
    result = {"rmse": rmse(test["rating"], pred), "mae": mae(test["rating"], pred),
              "n_test": len(test), "dataset": dataset, "model_type": TEXT_TOWER}
    print(json.dumps(result, indent=2))
    return 0


def _load_for_scoring(checkpoint: str):
    from .models import load_checkpoint

    model, tokenizer, scaler, extra = load_checkpoint(checkpoint)
    meta = extra.get("extra", extra) if isinstance(extra, dict) else {}
    return model, tokenizer, scaler, meta


def run_dataset(checkpoint: str | os.PathLike[str], meta: dict, chosen: str | None = None) -> str:
    """The dataset to score a checkpoint on: ``chosen`` (``--dataset``), else the one the run
    recorded (checkpoint metadata, then the run's ``config.json`` beside the checkpoint),
    else :data:`DEFAULT_DATASET` (runs from before ``--dataset`` existed)."""
    if chosen:
        return chosen
    if meta.get("dataset"):
        return str(meta["dataset"])
    run_config = Path(checkpoint).expanduser().parent / "config.json"
    try:
        recorded = json.loads(run_config.read_text(encoding="utf-8")).get("dataset")
    except (OSError, ValueError, AttributeError):
        recorded = None
    return str(recorded) if recorded else DEFAULT_DATASET


def cmd_evaluate(args: argparse.Namespace) -> int:
    if checkpoint_model_type(args.checkpoint) == TEXT_TOWER:
        return evaluate_text_tower(args)
    from .datasets import RatingTextDataset, make_loader
    from .train import evaluate

    model, tokenizer, scaler, meta = _load_for_scoring(args.checkpoint)
    profile = get_profile(args.profile or meta.get("profile"))
    split = args.split or meta.get("split", "random")
    dataset = run_dataset(args.checkpoint, meta, args.dataset)
    exp = prepare_experiment(profile, split=split, data_path=args.data, seed=meta.get("seed"),
                             dataset=dataset)
    max_length = int(meta.get("max_length", profile.max_length))
    loader = make_loader(RatingTextDataset.from_pairs(exp["pairs"]["test"], tokenizer, max_length=max_length),
                         profile.batch_size, shuffle=False)
    result = evaluate(model, loader, scaler, bf16=bool(meta.get("bf16", False)))
    result["n_test"] = len(exp["pairs"]["test"])
    result["dataset"] = dataset
    print(json.dumps(result, indent=2))
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from .baselines import MatrixFactorization
    from .models import read_checkpoint_meta
    from .recommend import TextModelScorer, TwoStage, recommend

    # cheap checks first: the checkpoint's metadata, the data and the user, then the weights
    meta = read_checkpoint_meta(args.checkpoint).get("extra") or {}
    data = load_dataset(run_dataset(args.checkpoint, meta, args.dataset), args.data)
    user = resolve_user_id(args.user, data.ratings[USER_COL])
    if meta.get("model_type") == TEXT_TOWER:  # every item scored: one matrix product
        from .text_tower import TextTower

        tower = TextTower.load(args.checkpoint)
        top = recommend(tower, user, seen=data.ratings, items=data.movies, k=args.k,
                        allow_unknown_users=True)
        print(top.to_string(index=False))
        return 0
    model, tokenizer, scaler, meta = _load_for_scoring(args.checkpoint)
    profile = get_profile(meta.get("profile"))
    retriever = MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed).fit(data.ratings)
    scorer = TextModelScorer(
        model, tokenizer, scaler, ratings=data.ratings, movies=data.movies,
        bf16=bool(meta.get("bf16", False)),
        max_items=int(meta.get("history_items", profile.history_items)),
        max_length=int(meta.get("max_length", profile.max_length)),
    )
    top = recommend(TwoStage(retriever, scorer, n_candidates=args.candidates), user,
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
    ft.add_argument("--dataset", choices=DATASETS, default=DEFAULT_DATASET,
                    help=f"MovieLens variant (default {DEFAULT_DATASET})")
    ft.add_argument("--data", default=None, help="MovieLens zip or folder (default: $RECSYS_TUTORIAL_DATA, cache, download)")
    ft.add_argument("--model-type", choices=MODEL_TYPES, default=CROSS_ENCODER,
                    help="cross-encoder (history + candidate -> rating) or text-tower (the "
                         "language model as the item tower of a collaborative model)")
    ft.add_argument("--lr", type=float, default=None,
                    help="learning rate of the language model (default 5e-5 cross-encoder, "
                         "1e-4 text tower)")
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
    ev.add_argument("--dataset", choices=DATASETS, default=None,
                    help="MovieLens variant (default: the run's)")
    ev.add_argument("--data", default=None, help="MovieLens zip or folder")
    ev.set_defaults(func=cmd_evaluate)

    rc = sub.add_parser("recommend", help="top-K movies for a user (MF retrieval, language-model reranking)")
    rc.add_argument("--checkpoint", required=True, help="folder written by finetune (OUT/checkpoint)")
    rc.add_argument("--user", required=True,
                    help="user id as in the data (read as an integer where its ids are integers)")
    rc.add_argument("-k", type=int, default=10, help="list length (default 10)")
    rc.add_argument("--candidates", type=int, default=100, help="items retrieved before reranking (default 100)")
    rc.add_argument("--dataset", choices=DATASETS, default=None,
                    help="MovieLens variant (default: the run's)")
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
