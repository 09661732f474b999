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

**Scale.** The closed forms above are written in MovieLens stars (0.5-5). Ratings on another
scale (e.g. 1-10) are first mapped linearly onto stars with :func:`to_stars` (the scale comes
from ``scale=``, else the frame's ``attrs["rating_scale"]``, else the ratings' range), so the
lowest rating behaves like half a star and the highest like five stars.

**Ids** of any kind (int or str, mixed) are kept exactly; users are visited in sorted order when
their ids are all numbers or all strings, else in order of appearance (mixed kinds are never
sorted). Outputs keep the input frame's ``attrs``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .errors import ConfigError, SchemaError
from .schema import (
    ITEM_COL,
    RATING_COL,
    RATING_SCALE,
    TIME_COL,
    USER_COL,
    check_scale,
    rating_scale,
    require_ratings,
)

#: Columns of a simulated viewing log, in order.
LOG_COLUMNS = (USER_COL, ITEM_COL, TIME_COL, RATING_COL, "watch_fraction", "completed", "liked", "exposure")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _check_ratings(ratings: pd.DataFrame, columns: tuple[str, ...], what: str = "ratings") -> None:
    if not isinstance(ratings, pd.DataFrame):
        raise SchemaError(f"{what} must be a pandas DataFrame, got {type(ratings).__name__}")
    if RATING_COL in columns:
        require_ratings(ratings, what=what)
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise SchemaError(f"{what}: missing column(s) {missing}; found {list(ratings.columns)}")


def _check_number(name: str, value: object) -> float:
    """``value`` (a Python or NumPy real, not a bool) as a finite float, or a ConfigError."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real or not np.isfinite(float(value)):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_prob(name: str, value: object, *, upper_open: bool = False) -> float:
    value = _check_number(name, value)
    if not (0.0 <= value <= 1.0) or (upper_open and value >= 1.0):
        raise ConfigError(f"{name} must be a probability in [0, 1{')' if upper_open else ']'}, got {value}")
    return value


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes of ids and the distinct ids: sorted when all numbers or all strings, else
    in order of appearance (mixed kinds are never sorted)."""
    plain = values.to_numpy()
    sortable = plain.dtype.kind in "iuf" or all(isinstance(v, str) for v in plain) or all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in plain
    )
    codes, uniques = pd.factorize(values, sort=sortable)
    return codes, uniques.tolist()


def to_stars(rating, scale: tuple[float, float] = RATING_SCALE) -> np.ndarray:
    """Ratings on ``scale`` mapped linearly onto MovieLens' 0.5-5 stars (float64).

    ``to_stars(10, (1, 10))`` is 5.0 and ``to_stars(1, (1, 10))`` 0.5; on the 0.5-5 scale the
    ratings come back unchanged.
    """
    low, high = check_scale(scale)
    r = np.asarray(rating, dtype=np.float64)
    if (low, high) == tuple(RATING_SCALE):
        return r
    s_low, s_high = RATING_SCALE
    return s_low + (r - low) * (s_high - s_low) / (high - low)


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
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """A simulated viewing log: one row per rating plus noisy exposures (see the module docstring).

    Columns: ``userId, movieId, timestamp, rating`` (the input's ratings, on its own scale; NaN
    for exposures), ``watch_fraction`` in [0, 1], ``completed`` and ``liked`` (0/1 integers),
    ``exposure`` (True for a film the user never rated). Rows are sorted by user and time.
    ``scale`` (default: from ``ratings``, see :func:`recsys_tutorial.schema.rating_scale`) maps
    the ratings onto stars first. Deterministic for a given ``seed``. Raises
    :class:`SchemaError` for a frame without ratings (implicit feedback is already a log).
    """
    _check_ratings(ratings, (USER_COL, ITEM_COL, RATING_COL, TIME_COL), "simulate_viewing_log")
    concentration = _check_number("concentration", concentration)
    if not concentration > 0:
        raise ConfigError(f"concentration must be positive, got {concentration}")
    interrupt_prob = _check_prob("interrupt_prob", interrupt_prob)
    completion_threshold = _check_prob("completion_threshold", completion_threshold, upper_open=True)
    like_slope = _check_number("like_slope", like_slope)
    like_midpoint = _check_number("like_midpoint", like_midpoint)
    exposure_rate = _check_number("exposure_rate", exposure_rate)
    if exposure_rate < 0:
        raise ConfigError(f"exposure_rate must be >= 0, got {exposure_rate}")
    rng = np.random.default_rng(_check_seed(seed))
    base = ratings[[USER_COL, ITEM_COL, TIME_COL, RATING_COL]].reset_index(drop=True)
    r = base[RATING_COL].to_numpy(np.float64)
    stars = to_stars(r, rating_scale(ratings, scale)) if len(base) else r
    n = len(base)

    # 1-2. watch fraction: Beta around μ(r), then random interruptions
    mu = np.clip(watch_mean(stars), 1e-3, 1 - 1e-3)
    w = rng.beta(concentration * mu, concentration * (1.0 - mu))
    cut = rng.random(n) < interrupt_prob
    w = np.where(cut, w * rng.random(n), w)
    # 4. likes
    liked = rng.random(n) < like_probability(stars, slope=like_slope, midpoint=like_midpoint)
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
        user_codes, users = _codes(base[USER_COL])
        for code, group in base.groupby(user_codes, sort=True):
            user = users[code]
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
    order = np.lexsort(
        (_codes(log[ITEM_COL])[0], log[TIME_COL].to_numpy(), _codes(log[USER_COL])[0])
    )  # by user, then time, then item
    log = log.iloc[order].reset_index(drop=True)[list(LOG_COLUMNS)]
    log.attrs = dict(ratings.attrs)
    return log


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
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """A copy of ``ratings`` with a click per row: ``p_click`` from :func:`click_probability`
    (defaults: about 0.01 at one star, 0.27 at 3.5, 0.78 at five) and ``click ~ Bernoulli(p_click)``
    (0/1 integers). The true ``p_click`` is kept so calibration can be compared with the truth.
    Ratings on another ``scale`` (default: from ``ratings``) are mapped onto stars first.
    Deterministic for a given ``seed``.
    """
    _check_ratings(ratings, (RATING_COL,), "simulate_clicks")
    intercept, slope, center = (_check_number(k, v) for k, v in
                                (("intercept", intercept), ("slope", slope), ("center", center)))
    rng = np.random.default_rng(_check_seed(seed))
    out = ratings.copy()
    r = out[RATING_COL].to_numpy(np.float64)
    stars = to_stars(r, rating_scale(ratings, scale)) if len(out) else r
    p = click_probability(stars, intercept=intercept, slope=slope, center=center)
    out["p_click"] = p
    out["click"] = (rng.random(len(out)) < p).astype(np.int64)
    return out
