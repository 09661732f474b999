"""report: the environment printout and recorded numbers that the book tests read back."""

import json

import pytest

from recsys_tutorial import report


def test_print_environment_lists_versions_device_and_profile(capsys, monkeypatch):
    monkeypatch.setenv("RECSYS_TUTORIAL_PROFILE", "quick")
    info = report.print_environment()
    out = capsys.readouterr().out
    from recsys_tutorial.config import get_device

    assert info["device"].split(" ")[0] == str(get_device()) and info["profile"] == "quick"
    assert "torch" in out and "transformers" in out


def test_record_round_trips_through_a_notebook_file(tmp_path, capsys):
    pytest.importorskip("IPython", reason="the book extra (IPython, myst-nb) is not installed")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    outputs = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: outputs.append(
        {"output_type": "display_data", "data": data, "metadata": metadata or {}}
    )
    try:
        assert report.record("test_rmse", 0.875) == 0.875
        report.record("label", "MiniLM")
    finally:
        InteractiveShell.clear_instance()
    nb = {"cells": [{"cell_type": "code", "outputs": outputs}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    values = report.recorded_values(str(path))
    assert values["test_rmse"] == 0.875
    assert values["label"] == "MiniLM"
    assert report.RECORDED["test_rmse"] == 0.875
