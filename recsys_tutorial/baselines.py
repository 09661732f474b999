"""Honest yardsticks: global mean, user + item biases, matrix factorization, popularity (chapter 3).

Every rating model (:class:`RatingModel` subclasses) has ``fit(train)`` and ``predict(frame)``
(a rating per row of ``frame``, clipped to the data's rating scale), and
``score_items(user_id, item_ids)`` for ranking. Users or items unseen in training fall back to
what is known (biases, then the global mean) instead of failing: that *is* the cold-start
behaviour the book measures.

**Scale.** Each rating model takes ``scale=None``; ``fit`` resolves ``scale_`` with
:func:`recsys_tutorial.schema.rating_scale` (the explicit ``scale``, else the training frame's
``attrs["rating_scale"]``, else the training ratings' ``[min, max]``) and ``predict`` clips to
it, so ratings from 1 to 10 are predicted on 1-10.

**Ids** of any hashable kind (int or str) are used exactly as given (``pd.factorize``, never
``int()``). **Implicit feedback** (no rating column) makes a rating model's ``fit`` raise
:class:`~recsys_tutorial.errors.SchemaError`; :class:`Popularity` ranks such events.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError, RatingValueError, SchemaError
from .schema import (
    ITEM_COL,
    RATING_COL,
    USER_COL,
    liked_threshold,
    rating_scale,
    require_ratings,
)

__all__ = [
    "RatingModel",
    "fit_minibatches",
    "GlobalMean",
    "BiasBaseline",
    "MatrixFactorization",
    "Popularity",
    "id_array",
    "index_of",
    "check_int",
    "check_real",
]


def id_array(ids: object) -> np.ndarray:
    """``ids`` (a list, array, Series or Index of ids, or one id) as a 1-D array, kinds kept.

    A Python list mixing kinds (``["007", 7]``) becomes an ``object`` array, so ``"7"`` and
    ``7`` stay different ids (``np.asarray`` would turn both into strings).
    """
    if isinstance(ids, (pd.Series, pd.Index)):
        return ids.to_numpy().reshape(-1)
    if isinstance(ids, np.ndarray):
        return ids.reshape(-1)
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        ids = [ids]
    values = list(ids)  # type: ignore[call-overload]
    out = np.empty(len(values), dtype=object)
    for k, value in enumerate(values):  # element by element: tuple ids stay whole
        out[k] = value
    return out


def check_int(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` (a Python or NumPy integer, not a bool) as an ``int`` >= ``minimum``.

    Raises :class:`ConfigError` naming ``name`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: object, *, minimum: float = 0.0) -> float:
    """``value`` (a Python or NumPy real, not a bool) as a finite ``float`` >= ``minimum``."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real or not np.isfinite(float(value)):
        raise ConfigError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    if float(value) < minimum:
        raise ConfigError(f"{name} must be >= {minimum:g}, got {value!r}")
    return float(value)


class RatingModel:
    """Shared plumbing of the rating models: column names, the rating scale, clipping.

    Subclasses call :meth:`_start_fit` first in ``fit`` (checks the rating column, resolves
    ``scale_`` and ``mean_``) and implement ``_predict(users, items) -> ndarray``.
    """

    user_col: str = USER_COL
    item_col: str = ITEM_COL
    rating_col: str = RATING_COL
    #: Rating scale ``(low, high)`` to clip predictions to; ``None``: from the training data.
    scale: tuple[float, float] | None = None

    def _start_fit(self, train: pd.DataFrame) -> np.ndarray:
        """Check ``train`` has ratings, set ``scale_`` and ``mean_``; return ratings (float64)."""
        name = type(self).__name__
        require_ratings(train, rating_col=self.rating_col, what=f"{name}.fit")
        for col in (self.user_col, self.item_col):
            if col not in train.columns:
                raise SchemaError(
                    f"{name}.fit: missing column {col!r}; found {list(train.columns)}. "
                    "Set user_col=/item_col= on the model if yours are named differently."
                )
        if len(train) == 0:
            raise DataError(f"{name}.fit: the training frame is empty; there is nothing to learn")
        ratings = pd.to_numeric(train[self.rating_col], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(ratings).all():
            row = int(np.flatnonzero(~np.isfinite(ratings))[0])
            raise RatingValueError(
                f"{name}.fit: column {self.rating_col!r} holds a missing or non-numeric rating at "
                f"row {row} ({train[self.rating_col].iloc[row]!r}); drop or fix it first"
            )
        self.scale_ = rating_scale(train, self.scale, rating_col=self.rating_col)
        self.mean_ = float(ratings.mean())
        return ratings

    def _check_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise ConfigError(f"{type(self).__name__} is not fitted yet: call fit(train) first")

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted ratings (float64, one per row of ``frame``), clipped to ``scale_``.

        Raises :class:`SchemaError` when ``frame`` lacks the user or item column.
        """
        self._check_fitted()
        missing = [c for c in (self.user_col, self.item_col) if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"{type(self).__name__}.predict: missing column(s) {missing}; "
                f"found {list(frame.columns)}"
            )
        users = frame[self.user_col].to_numpy()
        items = frame[self.item_col].to_numpy()
        return np.clip(self._predict(users, items), *self.scale_).astype(np.float64)

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Scores of ``item_ids`` for one user (float64, higher = recommend first; not clipped)."""
        self._check_fitted()
        items = id_array(item_ids)
        users = np.empty(len(items), dtype=object)
        users.fill(user_id)
        return np.asarray(self._predict(users, items), dtype=np.float64)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def fit_minibatches(model: RatingModel, n_rows: int, batch_loss, params, *, epochs: int, lr: float,
                    batch_size: int, generator, val: pd.DataFrame | None = None, verbose: bool = False) -> list[dict]:
    """Adam over shuffled mini-batches of rating rows; ``batch_loss(idx) -> (mse, penalty)``.

    Returns one record per epoch (``train_mse``, and ``val_rmse`` when ``val`` is given).
    Shared by :class:`MatrixFactorization` and :class:`recsys_tutorial.hybrid.TextHybrid`.
    """
    import torch

    epochs = check_int("epochs", epochs, minimum=0)
    batch_size = check_int("batch_size", batch_size)
    opt = torch.optim.Adam(params, lr=float(lr))
    history: list[dict] = []
    for epoch in range(epochs):
        order = torch.randperm(n_rows, generator=generator)
        total = 0.0
        for start in range(0, n_rows, batch_size):
            idx = order[start : start + batch_size]
            mse, penalty = batch_loss(idx)
            opt.zero_grad()
            (mse + penalty).backward()
            opt.step()
            total += float(mse.detach()) * len(idx)
        entry = {"epoch": epoch + 1, "train_mse": total / n_rows}
        if val is not None:
            from .metrics import rmse

            entry["val_rmse"] = rmse(val[model.rating_col], model.predict(val))
        history.append(entry)
        if verbose:
            print(entry)
    return history


def index_of(index: pd.Index, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in the unique ``index`` (0 where unknown) and the known mask."""
    pos = index.get_indexer(ids)
    known = pos >= 0
    return np.where(known, pos, 0).astype(np.int64), known


class GlobalMean(RatingModel):
    """Predicts the mean training rating for everyone: the floor any model must beat."""

    def __init__(self, scale: tuple[float, float] | None = None) -> None:
        self.scale = scale

    def fit(self, train: pd.DataFrame) -> GlobalMean:
        """Learn ``mean_`` and ``scale_`` from ``train`` (needs a rating column)."""
        self._start_fit(train)
        return self

    def _predict(self, users, items):
        return np.full(len(users), self.mean_)


@dataclass
class BiasBaseline(RatingModel):
    """r̂ = μ + b_u + b_i, biases fitted by alternating regularized least squares.

    ``reg_user`` and ``reg_item`` shrink the bias of users/items with few ratings towards 0
    (they act like that many pseudo-ratings at the mean).
    """

    reg_user: float = 3.0
    reg_item: float = 5.0
    n_iter: int = 10
    scale: tuple[float, float] | None = None

    def fit(self, train: pd.DataFrame) -> BiasBaseline:
        """Fit ``user_bias_`` and ``item_bias_`` (Series indexed by the ids as given)."""
        reg_user = check_real("reg_user", self.reg_user)
        reg_item = check_real("reg_item", self.reg_item)
        n_iter = check_int("n_iter", self.n_iter, minimum=0)
        r = self._start_fit(train)
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        i_codes, self.items_ = pd.factorize(train[self.item_col])
        bu = np.zeros(len(self.users_))
        bi = np.zeros(len(self.items_))
        nu = np.bincount(u_codes, minlength=len(bu))
        ni = np.bincount(i_codes, minlength=len(bi))
        for _ in range(n_iter):
            bi = np.bincount(i_codes, r - self.mean_ - bu[u_codes], len(bi)) / (ni + reg_item)
            bu = np.bincount(u_codes, r - self.mean_ - bi[i_codes], len(bu)) / (nu + reg_user)
        self.user_bias_ = pd.Series(bu, index=self.users_)
        self.item_bias_ = pd.Series(bi, index=self.items_)
        return self

    def _predict(self, users, items):
        ui, known_u = index_of(self.user_bias_.index, users)
        ii, known_i = index_of(self.item_bias_.index, items)
        bu = self.user_bias_.to_numpy()[ui] * known_u
        bi = self.item_bias_.to_numpy()[ii] * known_i
        return self.mean_ + bu + bi


@dataclass
class MatrixFactorization(RatingModel):
    """Biased matrix factorization r̂ = μ + b_u + b_i + p_u·q_i (Koren et al., 2009), in PyTorch.

    Trained with Adam on mini-batches of ratings, L2 penalty ``reg`` on the parameters each
    batch touches. Unknown users or items get zero vectors and zero bias.
    """

    n_factors: int = 64
    epochs: int = 30
    lr: float = 0.01
    reg: float = 0.1
    batch_size: int = 2048
    seed: int = 42
    verbose: bool = False
    scale: tuple[float, float] | None = None

    def fit(self, train: pd.DataFrame, val: pd.DataFrame | None = None) -> MatrixFactorization:
        """Train on ``train`` (needs ratings); ``val`` adds ``val_rmse`` to ``history_``."""
        import torch

        f = check_int("n_factors", self.n_factors)
        seed = check_int("seed", self.seed, minimum=0)
        reg = check_real("reg", self.reg)
        ratings = self._start_fit(train)
        if val is not None:
            require_ratings(val, rating_col=self.rating_col, what="MatrixFactorization.fit(val)")
        g = torch.Generator().manual_seed(seed)
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        i_codes, self.items_ = pd.factorize(train[self.item_col])
        r = torch.tensor(ratings.astype(np.float32))
        u = torch.tensor(u_codes, dtype=torch.long)
        i = torch.tensor(i_codes, dtype=torch.long)
        n_u, n_i = len(self.users_), len(self.items_)
        self.P = torch.nn.Parameter(torch.randn(n_u, f, generator=g) * 0.05)
        self.Q = torch.nn.Parameter(torch.randn(n_i, f, generator=g) * 0.05)
        self.bu = torch.nn.Parameter(torch.zeros(n_u))
        self.bi = torch.nn.Parameter(torch.zeros(n_i))

        def batch_loss(idx):
            ub, ib, rb = u[idx], i[idx], r[idx]
            pred = self.mean_ + self.bu[ub] + self.bi[ib] + (self.P[ub] * self.Q[ib]).sum(1)
            penalty = reg * torch.mean(
                (self.P[ub] ** 2).sum(1) + (self.Q[ib] ** 2).sum(1) + self.bu[ub] ** 2 + self.bi[ib] ** 2
            )
            return torch.mean((pred - rb) ** 2), penalty

        self.history_ = fit_minibatches(
            self, len(r), batch_loss, [self.P, self.Q, self.bu, self.bi], epochs=self.epochs, lr=self.lr,
            batch_size=self.batch_size, generator=g, val=val, verbose=self.verbose,
        )
        return self

    def _predict(self, users, items):
        import torch

        ui, known_u = index_of(self.users_, users)
        ii, known_i = index_of(self.items_, items)
        with torch.no_grad():
            P = self.P[ui].numpy() * known_u[:, None]
            Q = self.Q[ii].numpy() * known_i[:, None]
            bu = self.bu[ui].numpy() * known_u
            bi = self.bi[ii].numpy() * known_i
        return self.mean_ + bu + bi + (P * Q).sum(1)

    def item_vectors(self, item_ids) -> np.ndarray:
        """Learned item factors (n_items × n_factors, float32; zeros for unknown items)."""
        self._check_fitted()
        ii, known = index_of(self.items_, id_array(item_ids))
        return self.Q.detach().numpy()[ii] * known[:, None]




class Popularity(RatingModel):
    """Ranks items by how many training events they got; a ranking model, not a rating model.

    With a rating column, only ratings ``>= threshold`` count. ``threshold=None`` (default)
    puts it :data:`LIKED_SHARE` of the way up the rating scale: ``scale`` if given, else the
    frame's ``attrs["rating_scale"]``, else MovieLens' 0.5-5 (so 4.0 there and 8.0 on 1-10; the
    observed ratings are not used, so a few ratings cannot move what "liked" means).
    Implicit feedback (no rating column) counts every event. ``predict`` raises
    :class:`ConfigError`: use ``score_items``.
    """

    def __init__(
        self, threshold: float | None = None, scale: tuple[float, float] | None = None
    ) -> None:
        self.threshold = threshold
        self.scale = scale

    def fit(self, train: pd.DataFrame) -> Popularity:
        """Count events per item into ``counts_`` (a Series indexed by item id, most first)."""
        if not isinstance(train, pd.DataFrame):
            raise SchemaError(
                f"Popularity.fit: expected a pandas DataFrame, got {type(train).__name__}"
            )
        if self.item_col not in train.columns:
            raise SchemaError(
                f"Popularity.fit: missing column {self.item_col!r}; found {list(train.columns)}. "
                "Set item_col= on the model if yours is named differently."
            )
        if self.rating_col in train.columns:
            self.threshold_ = liked_threshold(train, self.threshold, scale=self.scale)
            liked = train[pd.to_numeric(train[self.rating_col], errors="coerce") >= self.threshold_]
        else:  # implicit feedback: every event counts
            self.threshold_ = None
            liked = train
        self.counts_ = liked[self.item_col].value_counts(sort=True)
        self.scale_ = None
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_"):
            raise ConfigError("Popularity is not fitted yet: call fit(train) first")

    def _predict(self, users, items):
        pos, known = index_of(self.counts_.index, items)
        return self.counts_.to_numpy(np.float64)[pos] * known

    def predict(self, frame: pd.DataFrame) -> np.ndarray:  # a popularity count is no rating
        """Always raises :class:`ConfigError`: Popularity ranks items, use :meth:`score_items`."""
        raise ConfigError(
            "Popularity ranks items; it does not predict ratings. "
            "Use score_items(user_id, item_ids) to rank, "
            "or a rating model (BiasBaseline) to predict."
        )
