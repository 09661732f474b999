"""Steps the chapters' experiments share: named splits, row samples, short item texts, scorers.

- :func:`split_ratings` — ``(train, test)`` by name: ``"random"`` (S1), ``"temporal"`` (S2),
  ``"cold-items"`` (S3) or ``"cold-users"``, dispatching to :mod:`recsys_tutorial.splits`;
- :func:`sample_rows` — ``n`` random rows without replacement (the samples a notebook trains
  and tests on);
- :func:`short_item_text` — the candidate text with a shortened title and at most three genres
  (chapters 8.1–8.3 train on short inputs);
- :func:`load_dataset`, :func:`prepare_experiment`, :func:`baseline_rmse` — the data, split,
  samples and baseline scores that the CLI and the benchmarks share;
- :class:`CachedScorer` and :class:`MaxScorer` — scorer wrappers for parameter sweeps over one
  expensive model and for reranking the union of several retrievers' candidates (chapter 8.3).

A *scorer* is any object with ``score_items(user_id, item_ids) -> np.ndarray`` (higher is
better), as in :mod:`recsys_tutorial.recommend`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .config import Profile
from .errors import ConfigError, RecommendError
from .text import item_text

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "load_dataset",
    "prepare_experiment",
    "baseline_rmse",
    "SPLITS",
    "DEFAULT_TEST_SIZE",
    "split_ratings",
    "sample_rows",
    "short_item_text",
    "CachedScorer",
    "MaxScorer",
]

#: MovieLens variants :func:`load_dataset` and the CLI's ``--dataset`` accept.
DATASETS = ("ml-latest-small", "ml-100k")
DEFAULT_DATASET = DATASETS[0]

#: Split names :func:`split_ratings` accepts (the CLI's ``--split`` choices).
SPLITS = ("random", "temporal", "cold-items", "cold-users")

#: Share held out by each split when ``test_size`` is not given: 20% of the ratings (random),
#: each user's latest 20% (temporal), 10% of the items or users (cold start), as the CLI uses.
DEFAULT_TEST_SIZE = {"random": 0.2, "temporal": 0.2, "cold-items": 0.1, "cold-users": 0.1}


def split_ratings(
    ratings: pd.DataFrame, how: str, *, seed: int, test_size: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)`` frames of ``ratings`` by the split named ``how``.

    ``"random"``: :func:`~recsys_tutorial.splits.random_split` (a share ``test_size`` of all
    ratings); ``"temporal"``: :func:`~recsys_tutorial.splits.temporal_split` (each user's latest
    share; ``seed`` is not used); ``"cold-items"`` / ``"cold-users"``:
    :func:`~recsys_tutorial.splits.cold_start_items_split` /
    :func:`~recsys_tutorial.splits.cold_start_users_split` (a share ``test_size`` of the items or
    users with all their ratings). ``test_size`` defaults to :data:`DEFAULT_TEST_SIZE` ``[how]``.

    Raises :class:`~recsys_tutorial.errors.ConfigError` for an unknown ``how``, and whatever
    the split raises for bad data (:class:`~recsys_tutorial.errors.SplitError`, ...).
    """
    from . import splits

    if how not in DEFAULT_TEST_SIZE:
        raise ConfigError(f"unknown split how={how!r}; choose one of {', '.join(SPLITS)}")
    size = DEFAULT_TEST_SIZE[how] if test_size is None else test_size
    if how == "random":
        return splits.random_split(ratings, test_size=size, seed=seed)
    if how == "temporal":
        return splits.temporal_split(ratings, test_size=size)
    if how == "cold-items":
        return splits.cold_start_items_split(ratings, test_size=size, seed=seed)
    return splits.cold_start_users_split(ratings, test_size=size, seed=seed)


def sample_rows(
    frame: pd.DataFrame,
    n: int,
    seed_or_rng: int | np.random.Generator | np.random.RandomState,
    *,
    keep_order: bool = True,
) -> pd.DataFrame:
    """``min(n, len(frame))`` rows of ``frame`` drawn at random without replacement, index reset.

    The positions are ``rng.choice(len(frame), size=min(n, len(frame)), replace=False)``.
    ``seed_or_rng`` is a generator (``np.random.default_rng(seed)``: successive calls continue
    its stream, so one generator gives different samples of several frames) or an integer seed,
    which seeds ``np.random.RandomState`` as ``DataFrame.sample(random_state=seed)`` does: with
    ``keep_order=False`` the rows are then exactly ``frame.sample(min(n, len(frame)),
    random_state=seed)``. ``keep_order=True`` returns the rows in their order in ``frame``;
    ``False`` in the order drawn.

    Raises :class:`~recsys_tutorial.errors.ConfigError` if ``n`` is not a non-negative integer
    or ``seed_or_rng`` is neither an integer nor a NumPy generator.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ConfigError(f"n must be a non-negative integer (rows to sample), got {n!r}")
    rng = _as_rng(seed_or_rng)
    positions = rng.choice(len(frame), size=min(int(n), len(frame)), replace=False)
    if keep_order:
        positions = np.sort(positions)
    return frame.iloc[positions].reset_index(drop=True)


def _as_rng(seed_or_rng) -> np.random.Generator | np.random.RandomState:
    if isinstance(seed_or_rng, (np.random.Generator, np.random.RandomState)):
        return seed_or_rng
    if isinstance(seed_or_rng, bool) or not isinstance(seed_or_rng, numbers.Integral):
        raise ConfigError(
            "seed_or_rng must be an integer seed or a NumPy generator "
            f"(np.random.default_rng(seed)), got {type(seed_or_rng).__name__}"
        )
    return np.random.RandomState(int(seed_or_rng))


def short_item_text(
    title: str,
    year: int | None = None,
    genres: Iterable[str] = (),
    tags: Iterable[str] = (),
    *,
    max_title: int = 60,
    max_genres: int = 3,
) -> str:
    """:func:`~recsys_tutorial.text.item_text` of the title cut to ``max_title`` characters and
    the first ``max_genres`` genres: a shorter candidate text (chapters 8.1–8.3).

    Usable wherever an item template is (``make_pairs(..., item_template=short_item_text)``).
    ``short_item_text("Heat", 1995, ["Action", "Crime", "Thriller", "Drama"])`` is
    ``"Heat (1995) | Action, Crime, Thriller"``.
    """
    return item_text(str(title)[:max_title], year, list(genres)[:max_genres], tags)


class CachedScorer:
    """``scorer`` whose scores are remembered per (user, item): each pair is scored once.

    Use it around an expensive model when a sweep ranks the same candidates many times (a
    reranking weight, several two-stage pipelines sharing one reranker). Valid while the model
    does not change; call :meth:`clear` after it does. Scores are float64 in the order asked.
    """

    def __init__(self, scorer) -> None:
        self.scorer = scorer
        self._scores: dict[object, dict[object, float]] = {}

    def clear(self) -> None:
        """Forget every cached score."""
        self._scores.clear()

    def score_items(self, user_id, item_ids) -> np.ndarray:
        ids = np.asarray(item_ids).reshape(-1)
        keys = ids.tolist()
        known = self._scores.setdefault(user_id, {})
        first = {}  # each missing item once, at its first position (ids keep their dtype)
        for pos, key in enumerate(keys):
            if key not in known:
                first.setdefault(key, pos)
        if first:
            new = np.asarray(
                self.scorer.score_items(user_id, ids[list(first.values())]), dtype=np.float64
            )
            if new.shape != (len(first),):
                raise RecommendError(
                    f"the wrapped scorer returned {new.size} scores for {len(first)} items; "
                    "score_items must return one score per item"
                )
            known.update(zip(first, new.tolist(), strict=True))
        return np.array([known[key] for key in keys], dtype=np.float64)


class MaxScorer:
    """The highest score any of ``scorers`` gives each item.

    With :class:`~recsys_tutorial.recommend.TwoStage` scorers sharing one reranker (``-inf``
    outside their retrieved candidates), this reranks the *union* of the retrievers'
    candidates: ``MaxScorer([TwoStage(popularity, model, n), TwoStage(mf, model, n)])``.
    Raises :class:`~recsys_tutorial.errors.RecommendError` without scorers.
    """

    def __init__(self, scorers: Sequence) -> None:
        self.scorers = list(scorers)
        if not self.scorers:
            raise RecommendError("MaxScorer needs at least one scorer, got none")

    def score_items(self, user_id, item_ids) -> np.ndarray:
        ids = np.asarray(item_ids)
        scores = [np.asarray(s.score_items(user_id, ids), dtype=np.float64) for s in self.scorers]
        return np.maximum.reduce(scores)


# --------------------------------------------------------------------------- experiments


def load_dataset(dataset: str = DEFAULT_DATASET, data_path: str | None = None) -> Any:
    """MovieLens ``dataset`` (one of :data:`DATASETS`) as ``RatingsData``; ``data_path`` is the
    zip or its folder (default: ``$RECSYS_TUTORIAL_DATA``, the cache, a download).

    Raises :class:`ConfigError` for an unknown dataset name.
    """
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r} (--dataset); choose one of {DATASETS}")
    from .movielens import load_movielens

    return load_movielens(dataset, path=data_path)


def prepare_experiment(
    profile: Profile,
    *,
    split: str = "random",
    data_path: str | None = None,
    seed: int | None = None,
    dataset: str = DEFAULT_DATASET,
) -> dict:
    """Data, split, validation slice and text pairs sized by ``profile`` (CLI and benchmarks).

    Histories come from earlier ratings only: of ``fit`` for the training and validation
    pairs, of the whole training side for the test pairs (validation inputs are built like
    test inputs, one step earlier in the data).
    ``dataset`` names the MovieLens variant (:data:`DATASETS`).
    """
    from .splits import train_val_split
    from .text import make_pairs

    seed = profile.seed if seed is None else seed
    data = load_dataset(dataset, data_path)
    train, test = split_ratings(data.ratings, split, seed=seed)
    fit, val = train_val_split(train, test_size=0.1, seed=seed)
    targets = {
        "train": _at_most(fit, profile.train_samples, seed),
        "val": _at_most(val, profile.eval_samples, seed),
        "test": _at_most(test, profile.eval_samples, seed),
    }
    # why two contexts: validation inputs are built exactly as test inputs are. The model is
    # fitted on `fit`, so training and validation histories see `fit` only; test histories see
    # all of `train`, which the model and the validation slice came from.
    context = {"train": fit, "val": fit, "test": train}
    pairs = {
        name: make_pairs(t, context[name], data.movies, max_items=profile.history_items)
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


def _at_most(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``frame`` itself when it has at most ``n`` rows, else ``n`` rows drawn as pandas does."""
    return frame if len(frame) <= n else sample_rows(frame, n, seed, keep_order=False)
