"""Plots draw what they are given (checked on the drawn artists, not only that they ran)."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from recsys_tutorial import plots  # noqa: E402

RATINGS = pd.DataFrame({"userId": [1, 1, 2, 3], "movieId": [1, 2, 1, 1], "rating": [4.0, 4.0, 3.0, 5.0]})


def test_learning_curves_plot_the_history():
    history = [{"step": 1, "train_loss": 1.0, "val_rmse": None}, {"step": 2, "train_loss": 0.5, "val_rmse": 0.9}]
    ax = plots.learning_curves(history, baselines={"mean": 1.0})
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("validation" in lab for lab in labels) and "mean (1.000)" in labels
    val = [line for line in ax.get_lines() if "validation" in line.get_label()][0]
    np.testing.assert_allclose(val.get_ydata(), [0.9])


def test_rating_distribution_shares_sum_to_one():
    ax = plots.rating_distribution(RATINGS)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(1.0)
    assert max(heights) == pytest.approx(0.5)  # two of four ratings are 4.0


def test_long_tail_is_sorted_descending():
    ax = plots.long_tail(RATINGS)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [3, 1])


def test_metric_bars_one_bar_per_method():
    ax = plots.metric_bars({"mean": 1.04, "MF": 0.86}, highlight="MF")
    assert [p.get_width() for p in ax.patches] == pytest.approx([1.04, 0.86])
    assert len(ax.texts) == 2


def test_series_plot_lines_per_hue():
    frame = pd.DataFrame({"n": [1, 2, 1, 2], "rmse": [1.0, 0.9, 1.1, 0.8], "method": ["a", "a", "b", "b"]})
    ax = plots.series_plot(frame, x="n", y="rmse", hue="method", logx=True)
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_xscale() == "log"


def test_rmse_by_split_sorts_methods_highlights_best_and_draws_targets():
    axes = plots.rmse_by_split({"S1": {"mean": 1.05, "mf": 0.86, "hybrid": 0.85}, "S3": {"mean": 1.04, "ridge": 0.90}},
                               target={"S1": 0.84})
    assert [a.get_title() for a in axes] == ["S1", "S3"]
    assert [p.get_width() for p in axes[0].patches] == pytest.approx([0.85, 0.86, 1.05])  # best first
    assert [p.get_facecolor() for p in axes[0].patches][0] != axes[0].patches[1].get_facecolor()
    assert axes[0].get_lines()[0].get_xdata()[0] == pytest.approx(0.84)  # the target line
    assert not axes[1].get_lines()  # no target given for S3


def test_learning_curves_keep_one_unit_per_axis():
    history = [{"step": 1, "train_loss": 1.0, "val_rmse": None}, {"step": 2, "train_loss": 0.25, "val_rmse": 0.9}]
    ax = plots.learning_curves(history, baselines={"mean": 1.0})
    assert ax.get_ylabel() == "RMSE (stars)"
    assert not any("loss" in line.get_label() for line in ax.get_lines())  # not on the stars axis
    loss_line = ax.loss_axis.get_lines()[0]
    np.testing.assert_allclose(loss_line.get_ydata(), [1.0, 0.25])
    assert "standardised MSE" in ax.loss_axis.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("training loss" in t for t in legend) and "mean (1.000)" in legend


def test_learning_curves_convert_the_loss_to_stars_with_the_target_std():
    history = [{"step": 1, "train_loss": 1.0, "val_rmse": 1.1}, {"step": 2, "train_loss": 0.25, "val_rmse": 0.9}]
    ax = plots.learning_curves(history, target_std=2.0)
    train = [line for line in ax.get_lines() if "training RMSE" in line.get_label()][0]
    np.testing.assert_allclose(train.get_ydata(), [2.0, 1.0])  # 2 * sqrt(1), 2 * sqrt(0.25)
    assert not hasattr(ax, "loss_axis")
