"""Implicit signals simulated from explicit ratings: a viewing log and clicks (chapter 6).

MovieLens holds stars, but a video service logs *behaviour*: how much of a film was watched,
whether it was finished, whether the viewer pressed "like", and many starts that were
abandoned. No public dataset pairs the two for the same people, so this module *simulates* a
viewing log from the ratings with a simple, documented generative process. Every draw comes
from one ``numpy.random.Generator`` seeded by ``seed``: the same inputs give the same log.

Generative process of :func:`simulate_viewing_log` (``r`` = the rating in stars):

1. **Watch fraction** of a rated film: ``w ~ Beta(κ·μ(r), κ·(1 − μ(r)))`` with mean
   ``μ(r) = 0.15 + 0.8 · (r − 0.5) / 4.5`` (0.15 for half a star, 0.95 for five stars) and
   concentration ``κ = concentration`` (default 6; lower is noisier).
2. **Interruptions**: with probability ``interrupt_prob`` a viewing is cut short whatever the
   rating (the phone rang): ``w ← w · U(0, 1)``.
3. **Completion**: ``completed = w > completion_threshold`` (default 0.9).
4. **Like**: ``liked ~ Bernoulli(sigmoid(like_slope · (r − like_midpoint)))`` (defaults 2.5 and
   4.25: about 0.87 at five stars, 0.35 at four, 0.04 at three).
5. **Exposures**: per user, ``round(exposure_rate · n_ratings)`` films the user never rated are
   started too (autoplay, a curious click), drawn in proportion to their popularity among all
   ratings; their watch fraction is ``Beta(0.6, 6)`` (mostly abandoned in the first minutes),
   they are never liked and have no rating (NaN). Their timestamp is drawn uniformly within the
   user's rating period.

:func:`implicit_preference` turns a log into one preference score per row, and
:func:`simulate_clicks` draws click labels for the ad-targeting chapter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import ITEM_COL, RATING_COL, TIME_COL, USER_COL
from .errors import ConfigError, SchemaError

#: Columns of a simulated viewing log, in order.
LOG_COLUMNS = (USER_COL, ITEM_COL, TIME_COL, RATING_COL, "watch_fraction", "completed", "liked", "exposure")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _check_ratings(ratings: pd.DataFrame, columns: tuple[str, ...]) -> None:
    if not isinstance(ratings, pd.DataFrame):
        raise SchemaError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}")
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise SchemaError(f"ratings: missing column(s) {missing}; found {list(ratings.columns)}")


def _check_prob(name: str, value: float, *, upper_open: bool = False) -> float:
    value = float(value)
    if not (0.0 <= value <= 1.0) or (upper_open and value >= 1.0):
        raise ConfigError(f"{name} must be a probability in [0, 1{')' if upper_open else ']'}, got {value}")
    return value


def watch_mean(rating) -> np.ndarray:
    """Mean watch fraction of a rated film, ``μ(r) = 0.15 + 0.8 · (r − 0.5) / 4.5`` (step 1)."""
    r = np.asarray(rating, dtype=np.float64)
    return 0.15 + 0.8 * (r - 0.5) / 4.5


def like_probability(rating, *, slope: float = 2.5, midpoint: float = 4.25) -> np.ndarray:
    """Probability of a like, ``sigmoid(slope · (r − midpoint))`` (step 4)."""
    r = np.asarray(rating, dtype=np.float64)
    return _sigmoid(slope * (r - midpoint))


def simulate_viewing_log(
    ratings: pd.DataFrame,
    *,
    seed: int = 42,
    concentration: float = 6.0,
    interrupt_prob: float = 0.1,
    completion_threshold: float = 0.9,
    like_slope: float = 2.5,
    like_midpoint: float = 4.25,
    exposure_rate: float = 0.5,
) -> pd.DataFrame:
    """A simulated viewing log: one row per rating plus noisy exposures (see the module docstring).

    Columns: ``userId, movieId, timestamp, rating`` (NaN for exposures), ``watch_fraction`` in
    [0, 1], ``completed`` and ``liked`` (0/1 integers), ``exposure`` (True for a film the user
    never rated). Rows are sorted by user and time. Deterministic for a given ``seed``.
    """
    _check_ratings(ratings, (USER_COL, ITEM_COL, RATING_COL, TIME_COL))
    if not concentration > 0:
        raise ConfigError(f"concentration must be positive, got {concentration}")
    interrupt_prob = _check_prob("interrupt_prob", interrupt_prob)
    completion_threshold = _check_prob("completion_threshold", completion_threshold, upper_open=True)
    if exposure_rate < 0:
        raise ConfigError(f"exposure_rate must be >= 0, got {exposure_rate}")
    rng = np.random.default_rng(seed)
    base = ratings[[USER_COL, ITEM_COL, TIME_COL, RATING_COL]].reset_index(drop=True)
    r = base[RATING_COL].to_numpy(np.float64)
    n = len(base)

    # 1-2. watch fraction: Beta around μ(r), then random interruptions
    mu = np.clip(watch_mean(r), 1e-3, 1 - 1e-3)
    w = rng.beta(concentration * mu, concentration * (1.0 - mu))
    cut = rng.random(n) < interrupt_prob
    w = np.where(cut, w * rng.random(n), w)
    # 4. likes
    liked = rng.random(n) < like_probability(r, slope=like_slope, midpoint=like_midpoint)
    rated = pd.DataFrame(
        {
            USER_COL: base[USER_COL].to_numpy(),
            ITEM_COL: base[ITEM_COL].to_numpy(),
            TIME_COL: base[TIME_COL].to_numpy(),
            RATING_COL: r,
            "watch_fraction": w,
            "liked": liked.astype(np.int64),
            "exposure": False,
        }
    )

    # 5. exposures: unrated films, popular ones more often, mostly abandoned early
    frames = [rated]
    if exposure_rate > 0 and n > 0:
        counts = base[ITEM_COL].value_counts()
        pool, weights = counts.index.to_numpy(), counts.to_numpy(np.float64)
        weights = weights / weights.sum()
        rows = []
        for user, group in base.groupby(USER_COL, sort=True):
            k = int(round(exposure_rate * len(group)))
            k = min(k, len(pool) - group[ITEM_COL].nunique())
            if k <= 0:
                continue
            seen = set(group[ITEM_COL].tolist())
            draw = rng.choice(pool, size=min(len(pool), 3 * k + 10), replace=False, p=weights)
            items = [i for i in draw if i not in seen][:k]
            t0, t1 = float(group[TIME_COL].min()), float(group[TIME_COL].max())
            times = np.floor(t0 + rng.random(len(items)) * (t1 - t0 + 1)).astype(np.int64)
            rows.append(pd.DataFrame({USER_COL: user, ITEM_COL: items, TIME_COL: times}))
        if rows:
            exp = pd.concat(rows, ignore_index=True)
            exp[RATING_COL] = np.nan
            exp["watch_fraction"] = rng.beta(0.6, 6.0, len(exp))
            exp["liked"] = 0
            exp["exposure"] = True
            frames.append(exp)
    log = pd.concat(frames, ignore_index=True)
    log[ITEM_COL] = log[ITEM_COL].astype(base[ITEM_COL].dtype)
    log[TIME_COL] = log[TIME_COL].astype(np.int64)
    log["watch_fraction"] = log["watch_fraction"].clip(0.0, 1.0)
    # 3. completion
    log["completed"] = (log["watch_fraction"] > completion_threshold).astype(np.int64)
    log = log.sort_values([USER_COL, TIME_COL, ITEM_COL], kind="stable").reset_index(drop=True)
    return log[list(LOG_COLUMNS)]


#: Default weights of :func:`implicit_preference`: completion, watch fraction, like.
PREFERENCE_WEIGHTS = (0.4, 0.4, 0.2)


def implicit_preference(
    log: pd.DataFrame, *, weights: tuple[float, float, float] = PREFERENCE_WEIGHTS
) -> pd.Series:
    """One preference score per log row, in [0, 1]:

    ``score = w_c · completed + w_w · watch_fraction + w_l · liked`` with ``weights =
    (w_c, w_w, w_l)`` (non-negative, normalised to sum to 1; default 0.4, 0.4, 0.2). A film
    finished and liked scores 1, one abandoned at once and not liked about 0. The rating is
    never used: this is what a video service can compute.
    """
    _check_ratings(log, ("completed", "watch_fraction", "liked"))
    wts = np.asarray(weights, dtype=np.float64)
    if wts.shape != (3,) or (wts < 0).any() or wts.sum() <= 0 or not np.isfinite(wts).all():
        raise ConfigError(f"weights must be three non-negative numbers with a positive sum, got {weights!r}")
    wts = wts / wts.sum()
    score = (
        wts[0] * log["completed"].to_numpy(np.float64)
        + wts[1] * log["watch_fraction"].to_numpy(np.float64)
        + wts[2] * log["liked"].to_numpy(np.float64)
    )
    return pd.Series(np.clip(score, 0.0, 1.0), index=log.index, name="preference")


def click_probability(rating, *, intercept: float = -1.0, slope: float = 1.5, center: float = 3.5) -> np.ndarray:
    """The click model of :func:`simulate_clicks`: ``sigmoid(intercept + slope · (r − center))``."""
    r = np.asarray(rating, dtype=np.float64)
    return _sigmoid(intercept + slope * (r - center))


def simulate_clicks(
    ratings: pd.DataFrame,
    *,
    seed: int = 42,
    intercept: float = -1.0,
    slope: float = 1.5,
    center: float = 3.5,
) -> pd.DataFrame:
    """A copy of ``ratings`` with a click per row: ``p_click`` from :func:`click_probability`
    (defaults: about 0.01 at one star, 0.27 at 3.5, 0.78 at five) and ``click ~ Bernoulli(p_click)``
    (0/1 integers). The true ``p_click`` is kept so calibration can be compared with the truth.
    Deterministic for a given ``seed``.
    """
    _check_ratings(ratings, (RATING_COL,))
    rng = np.random.default_rng(seed)
    out = ratings.copy()
    p = click_probability(out[RATING_COL].to_numpy(np.float64), intercept=intercept, slope=slope, center=center)
    out["p_click"] = p
    out["click"] = (rng.random(len(out)) < p).astype(np.int64)
    return out
