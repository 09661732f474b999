"""Honest yardsticks: global mean, user + item biases, matrix factorization, popularity (chapter 3).

Every model has ``fit(train)`` and ``predict(frame)`` (a rating per row of ``frame``), and
``score_items(user_id, item_ids)`` for ranking. Users or items unseen in training fall back to
what is known (biases, then the global mean) instead of failing: that *is* the cold-start
behaviour the book measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import ITEM_COL, RATING_COL, RATING_SCALE, USER_COL


class _RatingModel:
    """Shared plumbing: column names, clipping, frame → array."""

    user_col: str = USER_COL
    item_col: str = ITEM_COL
    rating_col: str = RATING_COL
    scale: tuple[float, float] = RATING_SCALE

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted ratings (stars, clipped to the scale) for each row's (user, item)."""
        users = frame[self.user_col].to_numpy()
        items = frame[self.item_col].to_numpy()
        return np.clip(self._predict(users, items), *self.scale).astype(np.float64)

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Scores of ``item_ids`` for one user (higher = recommend first)."""
        items = np.asarray(item_ids)
        return self._predict(np.full(items.shape, user_id), items)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def fit_minibatches(model: _RatingModel, n_rows: int, batch_loss, params, *, epochs: int, lr: float,
                    batch_size: int, generator, val: pd.DataFrame | None = None, verbose: bool = False) -> list[dict]:
    """Adam over shuffled mini-batches of rating rows; ``batch_loss(idx) -> (mse, penalty)``.

    Returns one record per epoch (``train_mse``, and ``val_rmse`` when ``val`` is given).
    Shared by :class:`MatrixFactorization` and :class:`recsys_tutorial.hybrid.TextHybrid`.
    """
    import torch

    opt = torch.optim.Adam(params, lr=lr)
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


class GlobalMean(_RatingModel):
    """Predicts the mean training rating for everyone: the floor any model must beat."""

    def fit(self, train: pd.DataFrame) -> GlobalMean:
        self.mean_ = float(train[self.rating_col].mean())
        return self

    def _predict(self, users, items):
        return np.full(len(users), self.mean_)


@dataclass
class BiasBaseline(_RatingModel):
    """r̂ = μ + b_u + b_i, biases fitted by alternating regularized least squares.

    ``reg_user`` and ``reg_item`` shrink the bias of users/items with few ratings towards 0
    (they act like that many pseudo-ratings at the mean).
    """

    reg_user: float = 3.0
    reg_item: float = 5.0
    n_iter: int = 10

    def fit(self, train: pd.DataFrame) -> BiasBaseline:
        r = train[self.rating_col].to_numpy(dtype=np.float64)
        self.mean_ = float(r.mean())
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        i_codes, self.items_ = pd.factorize(train[self.item_col])
        bu = np.zeros(len(self.users_))
        bi = np.zeros(len(self.items_))
        nu = np.bincount(u_codes, minlength=len(bu))
        ni = np.bincount(i_codes, minlength=len(bi))
        for _ in range(self.n_iter):
            bi = np.bincount(i_codes, r - self.mean_ - bu[u_codes], len(bi)) / (ni + self.reg_item)
            bu = np.bincount(u_codes, r - self.mean_ - bi[i_codes], len(bu)) / (nu + self.reg_user)
        self.user_bias_ = pd.Series(bu, index=self.users_)
        self.item_bias_ = pd.Series(bi, index=self.items_)
        return self

    def _predict(self, users, items):
        bu = self.user_bias_.reindex(users).fillna(0.0).to_numpy()
        bi = self.item_bias_.reindex(items).fillna(0.0).to_numpy()
        return self.mean_ + bu + bi


@dataclass
class MatrixFactorization(_RatingModel):
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

    def fit(self, train: pd.DataFrame, val: pd.DataFrame | None = None) -> MatrixFactorization:
        import torch

        g = torch.Generator().manual_seed(self.seed)
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        i_codes, self.items_ = pd.factorize(train[self.item_col])
        self._user_index = pd.Series(np.arange(len(self.users_)), index=self.users_)
        self._item_index = pd.Series(np.arange(len(self.items_)), index=self.items_)
        r = torch.tensor(train[self.rating_col].to_numpy(dtype=np.float32))
        u = torch.tensor(u_codes, dtype=torch.long)
        i = torch.tensor(i_codes, dtype=torch.long)
        self.mean_ = float(r.mean())
        n_u, n_i, f = len(self.users_), len(self.items_), self.n_factors
        self.P = torch.nn.Parameter(torch.randn(n_u, f, generator=g) * 0.05)
        self.Q = torch.nn.Parameter(torch.randn(n_i, f, generator=g) * 0.05)
        self.bu = torch.nn.Parameter(torch.zeros(n_u))
        self.bi = torch.nn.Parameter(torch.zeros(n_i))

        def batch_loss(idx):
            ub, ib, rb = u[idx], i[idx], r[idx]
            pred = self.mean_ + self.bu[ub] + self.bi[ib] + (self.P[ub] * self.Q[ib]).sum(1)
            penalty = self.reg * torch.mean(
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

        ui = self._user_index.reindex(users).to_numpy()
        ii = self._item_index.reindex(items).to_numpy()
        known_u, known_i = ~np.isnan(ui), ~np.isnan(ii)
        ui = np.where(known_u, ui, 0).astype(np.int64)
        ii = np.where(known_i, ii, 0).astype(np.int64)
        with torch.no_grad():
            P = self.P[ui].numpy() * known_u[:, None]
            Q = self.Q[ii].numpy() * known_i[:, None]
            bu = self.bu[ui].numpy() * known_u
            bi = self.bi[ii].numpy() * known_i
        return self.mean_ + bu + bi + (P * Q).sum(1)

    def item_vectors(self, item_ids) -> np.ndarray:
        """Learned item factors (zeros for unknown items), e.g. for retrieval."""
        ii = self._item_index.reindex(np.asarray(item_ids)).to_numpy()
        known = ~np.isnan(ii)
        return self.Q.detach().numpy()[np.where(known, ii, 0).astype(np.int64)] * known[:, None]


class Popularity(_RatingModel):
    """Ranks items by how many training ratings ≥ ``threshold`` they got; not a rating model."""

    def __init__(self, threshold: float = 4.0) -> None:
        self.threshold = threshold

    def fit(self, train: pd.DataFrame) -> Popularity:
        liked = train[train[self.rating_col] >= self.threshold]
        self.counts_ = liked[self.item_col].value_counts()
        self.mean_ = float(train[self.rating_col].mean())
        return self

    def _predict(self, users, items):
        return self.counts_.reindex(items).fillna(0.0).to_numpy(dtype=np.float64)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:  # a popularity count is no rating
        raise TypeError("Popularity ranks items; it does not predict ratings. Use score_items().")
