"""The command line: help for every command, clear errors, atomic results, an end-to-end run."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from recsys_tutorial import cli
from recsys_tutorial.errors import ConfigError, UnknownUserError

DATA = Path(os.environ.get("RECSYS_TUTORIAL_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
needs_data = pytest.mark.skipif(not (DATA / "ml-latest-small.zip").exists(), reason=f"MovieLens archive not in {DATA}")


@pytest.mark.parametrize("command", ["finetune", "evaluate", "recommend"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--" in out and ("--out" in out or "--checkpoint" in out)


def test_missing_model_path_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(DATA))
    if not (DATA / "ml-latest-small.zip").exists():
        pytest.skip("MovieLens archive not found")
    code = cli.main(["finetune", "--profile", "quick", "--out", str(tmp_path / "run"),
                     "--model", str(tmp_path / "no-such-model"), "--quiet"])
    assert code == 2
    assert "no-such-model" in capsys.readouterr().err
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_results_file_is_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    cli._atomic_json(target, {"test_rmse": 0.9})

    def crash(obj, fh, **kw):
        fh.write('{"test_rm')
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        cli._atomic_json(target, {"test_rmse": 0.1})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"test_rmse": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


@needs_data
def test_finetune_evaluate_recommend_end_to_end(tmp_path, make_tiny_bert, tokenizer, capsys, monkeypatch):
    from recsys_tutorial import recommend

    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(DATA))
    model_dir = tmp_path / "tiny"
    make_tiny_bert().save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    out = tmp_path / "run"
    assert cli.main(["finetune", "--profile", "quick", "--out", str(out), "--model", str(model_dir),
                     "--quiet", "--no-bf16"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["baseline_rmse"]) == {"global_mean", "biases", "matrix_factorization"}
    assert 0.3 < metrics["test_rmse"] < 2.5 and 0.2 < metrics["test_mae"] < 2.0
    # the baselines see real MovieLens: biases beat the global mean on the same test rows
    assert metrics["baseline_rmse"]["biases"] < metrics["baseline_rmse"]["global_mean"]
    config = json.loads((out / "config.json").read_text())
    assert config["profile"]["name"] == "quick" and config["split"] == "random"
    assert config["dataset"] == "ml-latest-small"  # evaluate/recommend reload the same data
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(out / "checkpoint")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["dataset"] == "ml-latest-small"
    # the same checkpoint on the same rows: equal up to kernels that differ by batch layout
    assert evaluated["rmse"] == pytest.approx(metrics["test_rmse"], abs=1e-4)
    seen = {}

    class Recording(recommend.TextModelScorer):
        def __init__(self, *args, **kwargs):
            seen.update(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(recommend, "TextModelScorer", Recording)
    assert cli.main(["recommend", "--checkpoint", str(out / "checkpoint"), "--user", "1", "-k", "5",
                     "--candidates", "20"]) == 0
    assert seen["bf16"] is False  # the run's precision (was hard-coded to bf16)
    listing = capsys.readouterr().out
    assert listing.count("\n") >= 6 and "title" in listing


def test_user_argument_matches_the_data_id_kind():
    ints = pd.Series([5, 1, 1, 7], name="userId")
    user = cli.resolve_user_id("1", ints)
    assert user == 1 and type(user) is int  # "1" -> 1 where the ids are integers
    strings = pd.Series(["007", "zoë", "7a"], name="userId")
    assert cli.resolve_user_id("007", strings) == "007"  # kept exactly: no int()
    assert cli.resolve_user_id("zoë", strings) == "zoë"
    big = pd.Series([2**70, 3], dtype=object)
    assert cli.resolve_user_id(str(2**70), big) == 2**70
    for text, ids in (("7", strings), ("3", ints), ("abc", ints), ("1.0", ints)):
        with pytest.raises(UnknownUserError, match=f"user '{text}'"):
            cli.resolve_user_id(text, ids)


def test_run_dataset_prefers_the_flag_then_the_run(tmp_path):
    checkpoint = tmp_path / "run" / "checkpoint"
    checkpoint.mkdir(parents=True)
    assert cli.run_dataset(checkpoint, {}) == "ml-latest-small"  # runs from before --dataset
    (tmp_path / "run" / "config.json").write_text(json.dumps({"dataset": "ml-100k"}))
    assert cli.run_dataset(checkpoint, {}) == "ml-100k"
    assert cli.run_dataset(checkpoint, {"dataset": "ml-latest-small"}) == "ml-latest-small"
    assert cli.run_dataset(checkpoint, {"dataset": "ml-latest-small"}, "ml-100k") == "ml-100k"


def test_dataset_and_user_arguments(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["finetune", "--out", "o"]).dataset == "ml-latest-small"
    chosen = parser.parse_args(["finetune", "--out", "o", "--dataset", "ml-100k"])
    assert chosen.dataset == "ml-100k"
    assert parser.parse_args(["evaluate", "--checkpoint", "c"]).dataset is None
    args = parser.parse_args(["recommend", "--checkpoint", "c", "--user", "007",
                              "--dataset", "ml-100k"])
    assert args.user == "007" and args.dataset == "ml-100k"
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "--checkpoint", "c", "--dataset", "ml-1m"])
    capsys.readouterr()
    with pytest.raises(ConfigError, match="ml-1m.*--dataset"):
        cli.load_dataset("ml-1m")


def _bare_checkpoint(folder, **extra):
    """A checkpoint folder holding only its metadata: enough for recommend's first checks."""
    folder.mkdir(parents=True)
    (folder / "checkpoint.json").write_text(json.dumps({"format": 1, "extra": extra}))
    return folder


@needs_data
@pytest.mark.parametrize("user", ["999999", "abc"])
def test_recommend_for_an_unknown_user_names_it(tmp_path, capsys, user):
    checkpoint = _bare_checkpoint(tmp_path / "checkpoint", dataset="ml-latest-small")
    code = cli.main(["recommend", "--checkpoint", str(checkpoint), "--user", user,
                     "--data", str(DATA)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"user '{user}'" in err and "--user" in err


needs_100k = pytest.mark.skipif(not (DATA / "ml-100k.zip").exists(),
                                reason=f"ml-100k.zip not in {DATA}")


@needs_100k
def test_ml_100k_loads_through_the_cli():
    data = cli.load_dataset("ml-100k", str(DATA))
    assert data.ratings["userId"].nunique() == 943 and len(data.ratings) == 100_000
    assert cli.resolve_user_id("1", data.ratings["userId"]) == 1


@needs_100k
def test_a_ml_100k_run_is_evaluated_and_served_on_ml_100k(
    tmp_path, make_tiny_bert, tokenizer, capsys, monkeypatch
):
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(DATA))
    model_dir = tmp_path / "tiny"
    make_tiny_bert().save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    out = tmp_path / "run"
    assert cli.main(["finetune", "--profile", "quick", "--out", str(out), "--model", str(model_dir),
                     "--quiet", "--no-bf16", "--dataset", "ml-100k", "--train-samples", "256"]) == 0
    assert json.loads((out / "config.json").read_text())["dataset"] == "ml-100k"
    metrics = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    # no --dataset: evaluate reloads the run's
    assert cli.main(["evaluate", "--checkpoint", str(out / "checkpoint")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["dataset"] == "ml-100k"
    assert evaluated["rmse"] == pytest.approx(metrics["test_rmse"], abs=1e-4)
    # user 943 is in ml-100k only (ml-latest-small has users 1-610)
    assert cli.main(["recommend", "--checkpoint", str(out / "checkpoint"), "--user", "943",
                     "-k", "3", "--candidates", "10"]) == 0
    assert "title" in capsys.readouterr().out
    assert cli.main(["recommend", "--checkpoint", str(out / "checkpoint"), "--user", "943",
                     "--dataset", "ml-latest-small"]) == 2
    assert "user '943'" in capsys.readouterr().err


@needs_data
def test_a_text_tower_run_is_evaluated_and_served(tmp_path, bert_config_factory, tokenizer,
                                                  capsys, monkeypatch):
    import torch
    from transformers import BertModel

    from recsys_tutorial.text_tower import MODEL_TYPE

    assert cli.TEXT_TOWER == MODEL_TYPE
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(DATA))
    model_dir = tmp_path / "tiny"
    torch.manual_seed(0)
    BertModel(bert_config_factory()).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    out = tmp_path / "run"
    assert cli.main(["finetune", "--model-type", "text-tower", "--profile", "quick", "--out",
                     str(out), "--model", str(model_dir), "--quiet", "--no-bf16",
                     "--split", "cold-items"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_type"] == "text-tower" and metrics["n_test"] == 64
    assert metrics["n_train"] > 50_000  # every training rating, not the profile's sample
    assert 0.3 < metrics["test_rmse"] < 2.0
    assert set(metrics["baseline_rmse"]) == {"global_mean", "biases", "matrix_factorization"}
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "text-tower" and config["text_tower"]["bf16"] is False
    assert cli.checkpoint_model_type(out / "checkpoint") == "text-tower"
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(out / "checkpoint")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["model_type"] == "text-tower" and evaluated["n_test"] == 64
    assert evaluated["rmse"] == pytest.approx(metrics["test_rmse"], abs=1e-9)  # cached vectors
    assert cli.main(["recommend", "--checkpoint", str(out / "checkpoint"), "--user", "1",
                     "-k", "5"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("\n") == 6 and "title" in listing  # a header and five films


def test_the_text_tower_takes_no_peft(tmp_path, capsys):
    assert cli.main(["finetune", "--model-type", "text-tower", "--peft", "lora", "--out",
                     str(tmp_path / "run"), "--profile", "quick"]) == 2
    assert "--peft applies to the cross-encoder" in capsys.readouterr().err
    assert cli.build_parser().parse_args(["finetune", "--out", "o"]).model_type == "cross-encoder"
