"""Matplotlib figures the chapters share.

Each function draws on ``ax`` (or a new one) and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .data import ITEM_COL, RATING_COL, USER_COL


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    return ax


def learning_curves(
    history: Sequence[Mapping],
    *,
    x: str = "step",
    ax=None,
    baselines: Mapping[str, float] | None = None,
    target_std: float | None = None,
):
    """Validation RMSE (stars) and the training loss against ``x`` (chapters 3, 5.2, 9.2).

    ``history`` is a sequence of rows with ``x``, ``train_loss`` (MSE of standardised
    targets) and ``val_rmse`` (stars); ``baselines`` maps a name to an RMSE in stars, drawn
    as a dashed line. Each axis has one unit: the validation RMSE and the baselines go on
    ``ax`` (stars). The training loss goes on a second y-axis on the right (standardised
    MSE), unless ``target_std`` (the standard deviation of the training ratings in stars,
    ``TargetScaler.std``) is given: then it is converted to a training RMSE in stars,
    ``target_std * sqrt(train_loss)``, and drawn on ``ax`` too. Returns ``ax``; the second
    axis, if any, is ``ax.loss_axis``.
    """
    ax = _axes(ax)
    frame = pd.DataFrame(list(history))
    handles = []
    if "train_loss" in frame and frame["train_loss"].notna().any():
        t = frame.dropna(subset=["train_loss"])
        if target_std is not None:
            stars = float(target_std) * np.sqrt(t["train_loss"].to_numpy(dtype=float))
            handles += ax.plot(t[x], stars, label="training RMSE (stars)", color="tab:gray",
                               alpha=0.7)
        else:
            loss_ax = ax.twinx()
            handles += loss_ax.plot(t[x], t["train_loss"], color="tab:gray", alpha=0.7,
                                    label="training loss (standardised MSE, right axis)")
            loss_ax.set_ylabel("training loss (standardised MSE)")
            ax.loss_axis = loss_ax
    if "val_rmse" in frame and frame["val_rmse"].notna().any():
        v = frame.dropna(subset=["val_rmse"])
        handles += ax.plot(v[x], v["val_rmse"], marker="o", label="validation RMSE (stars)",
                           color="tab:blue")
    for i, (name, value) in enumerate((baselines or {}).items()):
        handles.append(ax.axhline(value, linestyle="--", color=f"C{i + 2}",
                                  label=f"{name} ({value:.3f})"))
    ax.set_xlabel(x)
    ax.set_ylabel("RMSE (stars)")
    if handles:
        ax.legend(handles=handles, fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def rating_distribution(ratings: pd.DataFrame, *, rating_col: str = RATING_COL, ax=None):
    """Share of ratings at each value of the scale (chapter 1)."""
    ax = _axes(ax)
    shares = ratings[rating_col].value_counts(normalize=True).sort_index()
    ax.bar(shares.index.astype(float), shares.to_numpy(), width=0.4, color="tab:blue")
    ax.set_xlabel("rating (stars)")
    ax.set_ylabel("share of ratings")
    ax.set_xticks(shares.index.astype(float))
    return ax


def long_tail(ratings: pd.DataFrame, *, item_col: str = ITEM_COL, ax=None):
    """Ratings per item, items sorted by popularity, log scale (chapter 1)."""
    ax = _axes(ax)
    counts = np.sort(ratings[item_col].value_counts().to_numpy())[::-1]
    ax.plot(np.arange(1, counts.size + 1), counts, color="tab:red")
    ax.set_yscale("log")
    ax.set_xlabel("item rank by popularity")
    ax.set_ylabel("ratings per item (log)")
    ax.grid(alpha=0.3)
    return ax


def ratings_per_user(ratings: pd.DataFrame, *, user_col: str = USER_COL, ax=None):
    """Histogram of the number of ratings per user, log-spaced bins (chapter 1)."""
    ax = _axes(ax)
    counts = ratings[user_col].value_counts().to_numpy()
    bins = np.logspace(np.log10(max(1, counts.min())), np.log10(counts.max() + 1), 30)
    ax.hist(counts, bins=bins, color="tab:green")
    ax.set_xscale("log")
    ax.set_xlabel("ratings per user (log)")
    ax.set_ylabel("users")
    return ax


def metric_bars(
    values: Mapping[str, float],
    *,
    metric: str = "RMSE",
    ax=None,
    highlight: str | None = None,
    lower_is_better: bool = True,
):
    """One bar per method with its value written on it (chapters 5, 6, 8)."""
    ax = _axes(ax)
    names = list(values)
    vals = np.array([values[n] for n in names], dtype=float)
    colors = ["tab:orange" if n == highlight else "tab:blue" for n in names]
    bars = ax.barh(names, vals, color=colors)
    for bar, v in zip(bars, vals, strict=True):
        y = bar.get_y() + bar.get_height() / 2
        ax.text(bar.get_width(), y, f" {v:.3f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric} ({'lower' if lower_is_better else 'higher'} is better)")
    finite = vals[np.isfinite(vals)]
    if finite.size:
        lo = finite.min()
        left = max(0.0, lo - (finite.max() - lo) * 0.6 - 0.02) if lower_is_better else 0.0
        ax.set_xlim(left, finite.max() * 1.08)
    return ax


def series_plot(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str,
    ax=None,
    logx: bool = False,
    ylabel: str | None = None,
):
    """One line per value of ``hue`` (e.g. RMSE against training-set size per method)."""
    ax = _axes(ax)
    for name, g in frame.groupby(hue, sort=False):
        g = g.sort_values(x)
        ax.plot(g[x], g[y], marker="o", label=str(name))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or y)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def rmse_by_split(
    rmse: Mapping[str, Mapping[str, float]],
    *,
    axes=None,
    target: Mapping[str, float] | None = None,
):
    """One panel per split of test RMSE per method, best in orange (results chapter, 5.4).

    ``rmse`` is ``{split: {method: RMSE}}`` as in ``benchmarks/results/summary.json``;
    ``target``, if given, draws each split's target as a dashed line. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        height = 0.4 * max(map(len, rmse.values())) + 1.5
        _, axes = plt.subplots(1, len(rmse), figsize=(5 * len(rmse), height), squeeze=False)
        axes = axes[0]
    for ax, (split, methods) in zip(axes, rmse.items(), strict=True):
        ordered = dict(sorted(methods.items(), key=lambda kv: kv[1]))
        metric_bars(ordered, ax=ax, highlight=next(iter(ordered)))
        if target and split in target:
            ax.axvline(target[split], color="k", ls="--", lw=1, label=f"target {target[split]:.3f}")
            ax.legend(fontsize=8, loc="upper right")  # best (shortest) bars are on top
        ax.set_title(split)
    return axes
