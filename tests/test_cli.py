"""The command line: help for every command, clear errors, atomic results, an end-to-end run."""

import json
import os
from pathlib import Path

import pytest

from recsys_tutorial import cli

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
    monkeypatch.setenv("RECSYS_TUTORIAL_DATA", str(DATA))
    model_dir = tmp_path / "tiny"
    make_tiny_bert().save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    out = tmp_path / "run"
    assert cli.main(["finetune", "--profile", "quick", "--out", str(out), "--model", str(model_dir), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["baseline_rmse"]) == {"global_mean", "biases", "matrix_factorization"}
    assert 0.3 < metrics["test_rmse"] < 2.5 and 0.2 < metrics["test_mae"] < 2.0
    # the baselines see real MovieLens: biases beat the global mean on the same test rows
    assert metrics["baseline_rmse"]["biases"] < metrics["baseline_rmse"]["global_mean"]
    config = json.loads((out / "config.json").read_text())
    assert config["profile"]["name"] == "quick" and config["split"] == "random"
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(out / "checkpoint")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    # the same checkpoint on the same rows: equal up to bf16 kernels that differ by batch layout on a GPU
    assert evaluated["rmse"] == pytest.approx(metrics["test_rmse"], abs=1e-4)
    assert cli.main(["recommend", "--checkpoint", str(out / "checkpoint"), "--user", "1", "-k", "5",
                     "--candidates", "20"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("\n") >= 6 and "title" in listing
