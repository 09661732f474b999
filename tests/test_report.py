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


def test_padded_pads_cells_and_formats_small_learning_rates():
    pytest.importorskip("jinja2", reason="pandas' Styler needs jinja2")
    import pandas as pd

    frame = pd.DataFrame({"lr": [1e-5, 1e-2], "val_rmse": [0.8134, None]})
    html = report.padded(frame, {"lr": "{:.0e}", "val_rmse": "{:.3f}"}).to_html()
    assert "padding: 0 0.6em;" in html and "td" in html
    assert ">1e-05<" in html and ">1e-02<" in html  # not rounded to 0.0
    assert ">0.813<" in html and ">–<" in html  # the missing value shown as na_rep


def test_padded_keeps_an_existing_stylers_formats():
    pytest.importorskip("jinja2", reason="pandas' Styler needs jinja2")
    import pandas as pd

    styler = pd.DataFrame({"x": [0.81341, 0.86301]}).style.format("{:.4f}")
    html = report.padded(styler).to_html()
    assert ">0.8134<" in html and ">0.8630<" in html
    assert "padding: 0 0.6em;" in html


def test_padded_refuses_a_series():
    import pandas as pd

    from recsys_tutorial.errors import ConfigError

    with pytest.raises(ConfigError, match=r"to_frame\(\)"):
        report.padded(pd.Series([1.0, 2.0]))
