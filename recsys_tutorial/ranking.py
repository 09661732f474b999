"""Rankers for implicit feedback: EASE, iALS and BPR on "liked" events (ranking chapter).

Each model learns from a user × item matrix ``X`` of 0/1 *liked* events
(:func:`liked_matrix`): with a rating column, the ratings ``>= threshold``
(:func:`recsys_tutorial.schema.liked_threshold`: 4 stars on MovieLens' 0.5-5 scale, 8 on
1-10); without one (implicit feedback: clicks, plays, purchases) every event. A user who liked
an item twice still has a single 1.

* :class:`EASE` — Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019:
  an item × item weight matrix in closed form, written out in NumPy;
* :class:`ImplicitALS` — implicit alternating least squares (Hu, Koren & Volinsky, ICDM 2008)
  and :class:`BPR` — Bayesian personalized ranking (Rendle et al., UAI 2009), both trained
  by the `implicit <https://github.com/benfred/implicit>`_ library (the optional extra:
  ``pip install "recsys-tutorial[implicit]"``; without it they raise ConfigError).

Every model has ``fit(train)``, ``score_items(user_id, item_ids)`` (the Scorer protocol of
:mod:`recsys_tutorial.recommend`) and ``score_users(user_ids, item_ids=None)`` for a whole
score matrix at once. Ids of any hashable kind are kept exactly as given. Rules they share:

* **an item unseen in training** (or never liked) scores 0: for EASE that is the exact
  value of the full closed form; for iALS/BPR it is the score of a zero item vector;
* **a user with no liked event in training** (unknown, or only low ratings) is ranked by
  popularity: the item's number of liked events. ``recommend(..., allow_unknown_users=False)``
  still refuses unknown users before any scorer is asked.

Evaluation and tuning on a validation slice: :mod:`recsys_tutorial.ranking_eval`
(re-exported here). The benchmark comparing them on MovieLens S2 and S4 needs the extra too:
``pip install "recsys-tutorial[implicit]"``, then ``python -m benchmarks.ranking_implicit``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy import sparse

from .catalogue import id_array
from .errors import ConfigError, DataError, SchemaError
from .ranking_eval import (
    evaluate_ranker,
    recommend_lists,
    score_matrix,
    seen_matrix,
    top_k_lists,
    top_k_matrix,
    tune_on_validation,
)
from .schema import ITEM_COL, RATING_COL, USER_COL, liked_threshold

__all__ = [
    "IMPLICIT_INSTALL_HINT",
    "liked_matrix",
    "LikedEventsRanker",
    "EASE",
    "ImplicitALS",
    "BPR",
    "evaluate_ranker",
    "recommend_lists",
    "score_matrix",
    "seen_matrix",
    "top_k_lists",
    "top_k_matrix",
    "tune_on_validation",
]

IMPLICIT_INSTALL_HINT = 'pip install "recsys-tutorial[implicit]"'


def liked_matrix(
    train: pd.DataFrame,
    threshold: float | None = None,
    *,
    scale: tuple[float, float] | None = None,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
) -> tuple[sparse.csr_matrix, pd.Index, pd.Index]:
    """``(X, users, items)``: the 0/1 matrix of liked events of ``train``.

    ``X`` is a ``len(users) × len(items)`` CSR matrix of float32 ones; ``users`` and ``items``
    are every user and item of ``train`` (liked or not), in order of first appearance, ids as
    given. Liked: ``rating >= liked_threshold(train, threshold, scale=scale)`` when ``train``
    has ``rating_col``, every event otherwise (a missing or non-numeric rating is not liked).

    Raises :class:`SchemaError` for a non-frame or a missing user/item column and
    :class:`DataError` when nothing in ``train`` is liked.
    """
    if not isinstance(train, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of events, got {type(train).__name__}")
    missing = [c for c in (user_col, item_col) if c not in train.columns]
    if missing:
        raise SchemaError(
            f"training frame: missing column(s) {missing}; found {list(train.columns)}; "
            "pass user_col=/item_col= to the model if yours are named differently"
        )
    u_codes, users = pd.factorize(train[user_col])
    i_codes, items = pd.factorize(train[item_col])
    if rating_col in train.columns:
        cut = liked_threshold(train, threshold, scale=scale)
        liked = (pd.to_numeric(train[rating_col], errors="coerce") >= cut).to_numpy()
    else:
        cut, liked = None, np.ones(len(train), dtype=bool)
    if not liked.any():
        raise DataError(
            f"no liked event in the training frame ({len(train)} rows"
            + (f", none rated >= {cut:g}" if cut is not None else "")
            + "); lower threshold= or check the rating column"
        )
    ones = np.ones(int(liked.sum()), dtype=np.float32)
    x = sparse.csr_matrix(
        (ones, (u_codes[liked], i_codes[liked])), shape=(len(users), len(items)), dtype=np.float32
    )
    x.sum_duplicates()
    x.data[:] = 1.0  # an item liked twice is still one liked item
    return x, pd.Index(users), pd.Index(items)


def _positive(name: str, value: object, *, integer: bool = False, zero: bool = False) -> float:
    """``value`` if it is a finite number > 0 (>= 0 with ``zero``), else a ConfigError."""
    kind = numbers.Integral if integer else numbers.Real
    what = "integer" if integer else "number"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a {what} {'>= 0' if zero else '> 0'}, got {value!r}")
    if not np.isfinite(float(value)) or value < 0 or (value == 0 and not zero):
        raise ConfigError(f"{name} must be finite and {'>= 0' if zero else '> 0'}, got {value!r}")
    return float(value)


def _seed(value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {value!r}")
    return int(value)


class LikedEventsRanker:
    """Shared plumbing: the liked-events matrix, id look-ups, the popularity fallback.

    Subclasses implement ``_fit_matrix(X)`` and ``_scores(rows, cols)``: scores (float32,
    ``len(rows) × len(cols)``) of training-user rows ``rows`` for training-item columns
    ``cols`` (positions in ``users_`` / ``items_``).
    """

    user_col: str = USER_COL
    item_col: str = ITEM_COL
    rating_col: str = RATING_COL

    def __init__(self, threshold: float | None = None, scale: tuple[float, float] | None = None):
        self.threshold = threshold
        self.scale = scale

    def fit(self, train: pd.DataFrame) -> LikedEventsRanker:
        """Learn from the liked events of ``train`` (see :func:`liked_matrix`); returns self.

        Sets ``users_``, ``items_`` (pd.Index, ids as given), ``popularity_`` (liked events
        per item, float32) and the model's own fitted attributes. Raises SchemaError /
        DataError as :func:`liked_matrix` does, ConfigError for bad hyper-parameters.
        """
        self._check_params()
        x, users, items = liked_matrix(
            train, self.threshold, scale=self.scale, user_col=self.user_col,
            item_col=self.item_col, rating_col=self.rating_col,
        )
        self._fit_matrix(x)
        self.x_, self.users_, self.items_ = x, users, items
        self.popularity_ = np.asarray(x.sum(axis=0), dtype=np.float32).ravel()
        self.has_likes_ = np.diff(x.indptr) > 0
        return self

    def score_items(self, user_id, item_ids) -> np.ndarray:
        """Scores (float64, higher = recommend first) of ``item_ids`` for one user."""
        return self.score_users([user_id], item_ids)[0].astype(np.float64)

    def score_users(self, user_ids, item_ids=None) -> np.ndarray:
        """Score matrix (float32, ``len(user_ids) × len(item_ids)``) for many users at once.

        ``item_ids`` defaults to ``items_`` (every training item). Items unknown to the model
        score 0; users without a liked training event get ``popularity_``.
        """
        if not hasattr(self, "items_"):
            raise ConfigError(f"{type(self).__name__} is not fitted yet: call fit(train) first")
        users = id_array(user_ids)
        items = self.items_.to_numpy() if item_ids is None else id_array(item_ids)
        rows = self.users_.get_indexer(users)
        cols = self.items_.get_indexer(items)
        known_col = cols >= 0
        out = np.zeros((users.size, items.size), dtype=np.float32)
        known_row = rows >= 0
        known_row[known_row] = self.has_likes_[rows[known_row]]
        if known_row.any():
            block = self._scores(rows[known_row], cols[known_col])
            out[np.ix_(known_row, known_col)] = block
        if (~known_row).any():
            out[np.ix_(~known_row, known_col)] = self.popularity_[cols[known_col]]
        return out

    def _check_params(self) -> None:
        raise NotImplementedError

    def _fit_matrix(self, x: sparse.csr_matrix) -> None:
        raise NotImplementedError

    def _scores(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class EASE(LikedEventsRanker):
    """EASE (Steck, WWW 2019): scores ``x_u · B`` with the closed-form item × item weights

    ``P = (XᵀX + λI)⁻¹``, ``B = I − P · diag(1 / diag(P))``, so ``diag(B) = 0`` (an item may
    not explain itself). ``lam`` (λ > 0) is the L2 penalty: larger λ, smoother weights.

    Only the items liked at least once enter the inverse (the Gram matrix of the others is
    zero, so their rows and columns of ``B`` are exactly 0): ``B_`` is ``n × n`` float32 over
    ``active_items_``. Cost: one float32 inverse of that size (about 7 s for the 5,300 liked
    films of MovieLens' S2 on 2 cores) and ``4·n²`` bytes for each of ``P`` and ``B``.
    """

    def __init__(self, lam: float = 300.0, threshold: float | None = None,
                 scale: tuple[float, float] | None = None) -> None:
        super().__init__(threshold, scale)
        self.lam = lam

    def _check_params(self) -> None:
        _positive("lam", self.lam)

    def _fit_matrix(self, x: sparse.csr_matrix) -> None:
        active = np.flatnonzero(np.diff(x.tocsc().indptr) > 0)
        xa = x[:, active]
        gram = (xa.T @ xa).toarray().astype(np.float32)
        gram[np.diag_indices_from(gram)] += np.float32(self.lam)
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))  # column j divided by -P_jj
        b[np.diag_indices_from(b)] = 0.0
        self.B_ = b.astype(np.float32, copy=False)
        self.active_ = active
        pos = np.full(x.shape[1], -1, dtype=np.int64)
        pos[active] = np.arange(active.size)
        self.active_pos_ = pos

    @property
    def active_items_(self) -> pd.Index:
        """Items with at least one liked event: the rows and columns of ``B_``."""
        return self.items_[self.active_]

    def _scores(self, rows, cols):
        pos = self.active_pos_[cols]
        out = np.zeros((rows.size, cols.size), dtype=np.float32)
        hit = pos >= 0
        xa = self.x_[rows][:, self.active_]
        out[:, hit] = xa @ self.B_[:, pos[hit]]
        return out


def _implicit_module(what: str, name: str):
    """``implicit.cpu.<name>`` or a ConfigError with the install hint."""
    import importlib

    try:
        return importlib.import_module(f"implicit.cpu.{name}")
    except ImportError:
        raise ConfigError(
            f"{what} is trained by the 'implicit' library, which is not installed; "
            f"install it with: {IMPLICIT_INSTALL_HINT}"
        ) from None


class _FactorRanker(LikedEventsRanker):
    """A factor model trained by ``implicit``: scores are ``user_factors_ @ item_factors_.T``."""

    def _train(self, make, x: sparse.csr_matrix) -> None:
        from threadpoolctl import threadpool_limits

        # implicit warns (and slows down) when BLAS runs its own threads inside its loops
        with threadpool_limits(limits=1, user_api="blas"):
            model = make()
            model.fit(x, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def _scores(self, rows, cols):
        return self.user_factors_[rows] @ self.item_factors_[cols].T


class ImplicitALS(_FactorRanker):
    """Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) trained by ``implicit`` 0.7 on CPU.

    ``implicit`` weighs an observed (liked) entry with confidence ``alpha · x_ui = alpha`` and
    every other entry with 1 (Hu et al.'s ``1 + α'·r`` with ``α' = alpha − 1`` for 0/1 data),
    and solves ``factors``-dimensional user and item vectors by ``iterations`` alternating
    least-squares sweeps with L2 penalty ``regularization``. ``seed`` is the library's
    ``random_state``; ``num_threads=1`` (default) gives the same factors on every run, 0 uses
    every core. Raises ConfigError when ``implicit`` is missing.
    """

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 10.0,
                 iterations: int = 15, seed: int = 42, num_threads: int = 1,
                 threshold: float | None = None, scale: tuple[float, float] | None = None) -> None:
        super().__init__(threshold, scale)
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed, self.num_threads = iterations, seed, num_threads

    def _check_params(self) -> None:
        _positive("factors", self.factors, integer=True)
        _positive("iterations", self.iterations, integer=True)
        _positive("alpha", self.alpha)
        _positive("regularization", self.regularization, zero=True)
        _seed(self.seed)
        _implicit_module("ImplicitALS", "als")

    def _fit_matrix(self, x):
        als = _implicit_module("ImplicitALS", "als")
        self._train(lambda: als.AlternatingLeastSquares(
            factors=int(self.factors), regularization=float(self.regularization),
            alpha=float(self.alpha), iterations=int(self.iterations),
            random_state=int(self.seed), num_threads=int(self.num_threads),
        ), x)


class BPR(_FactorRanker):
    """Bayesian personalized ranking (Rendle et al., UAI 2009) trained by ``implicit`` 0.7.

    Stochastic gradient ascent on ``log σ(x_u·y_i − x_u·y_j)`` over (user, liked item, other
    item) triples, ``iterations`` passes, step ``learning_rate``, L2 penalty
    ``regularization``; ``implicit`` adds an item bias as one more factor. ``seed`` is its
    ``random_state``; with ``num_threads=1`` (default) a run is reproducible (more threads
    update the factors without locks). Raises ConfigError when ``implicit`` is missing.
    """

    def __init__(self, factors: int = 64, learning_rate: float = 0.01,
                 regularization: float = 0.01, iterations: int = 100, seed: int = 42,
                 num_threads: int = 1, threshold: float | None = None,
                 scale: tuple[float, float] | None = None) -> None:
        super().__init__(threshold, scale)
        self.factors, self.learning_rate, self.regularization = factors, learning_rate, regularization
        self.iterations, self.seed, self.num_threads = iterations, seed, num_threads

    def _check_params(self) -> None:
        _positive("factors", self.factors, integer=True)
        _positive("iterations", self.iterations, integer=True)
        _positive("learning_rate", self.learning_rate)
        _positive("regularization", self.regularization, zero=True)
        _seed(self.seed)
        _implicit_module("BPR", "bpr")

    def _fit_matrix(self, x):
        bpr = _implicit_module("BPR", "bpr")
        self._train(lambda: bpr.BayesianPersonalizedRanking(
            factors=int(self.factors), learning_rate=float(self.learning_rate),
            regularization=float(self.regularization), iterations=int(self.iterations),
            random_state=int(self.seed), num_threads=int(self.num_threads),
        ), x)
