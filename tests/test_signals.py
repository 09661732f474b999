"""Simulated implicit signals: determinism, ranges, relation with ratings, the score formula."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import ConfigError, SchemaError
from recsys_tutorial.signals import (
    LOG_COLUMNS,
    click_probability,
    implicit_preference,
    like_probability,
    simulate_clicks,
    simulate_viewing_log,
    watch_mean,
)


@pytest.fixture(scope="module")
def ratings():
    rng = np.random.default_rng(0)
    n_users, n_items, per_user = 40, 120, 30
    rows = []
    for u in range(n_users):
        items = rng.choice(n_items, per_user, replace=False)
        for t, i in enumerate(items):
            rows.append((u + 1, int(i) + 1, float(rng.choice(np.arange(1, 11)) / 2), 1_000 + 10 * t))
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


def test_log_is_deterministic_by_seed(ratings):
    a = simulate_viewing_log(ratings, seed=3)
    b = simulate_viewing_log(ratings, seed=3)
    c = simulate_viewing_log(ratings, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["watch_fraction"].equals(c["watch_fraction"])


def test_log_columns_and_ranges(ratings):
    log = simulate_viewing_log(ratings, seed=0, exposure_rate=0.5)
    assert tuple(log.columns) == LOG_COLUMNS
    assert log["watch_fraction"].between(0, 1).all()
    assert set(log["completed"].unique()) <= {0, 1} and set(log["liked"].unique()) <= {0, 1}
    assert (log["completed"] == (log["watch_fraction"] > 0.9)).all()
    rated = log[~log["exposure"]]
    exposed = log[log["exposure"]]
    assert len(rated) == len(ratings)  # every rating is one viewing
    assert exposed["rating"].isna().all() and rated["rating"].notna().all()
    assert (exposed["liked"] == 0).all()
    # exposures are films the user did not rate, about exposure_rate per rating
    pairs = set(zip(ratings["userId"], ratings["movieId"], strict=True))
    assert not any(p in pairs for p in zip(exposed["userId"], exposed["movieId"], strict=True))
    assert abs(len(exposed) / len(ratings) - 0.5) < 0.05
    assert not log.duplicated(["userId", "movieId"]).any()
    assert simulate_viewing_log(ratings, exposure_rate=0.0)["exposure"].sum() == 0


def test_signals_rise_with_rating(ratings):
    log = simulate_viewing_log(ratings, seed=1)
    rated = log[~log["exposure"]].copy()
    rated["score"] = implicit_preference(rated)
    by_rating = rated.groupby("rating")[["watch_fraction", "liked", "completed", "score"]].mean()
    low, high = by_rating.loc[by_rating.index <= 2].mean(), by_rating.loc[by_rating.index >= 4.5].mean()
    assert (high > low).all()
    rho = spearmanr(rated["rating"], rated["score"]).statistic
    assert 0.4 < rho < 0.95  # related, but noisy
    # exposures look like abandons: far below the rated viewings
    assert log[log["exposure"]]["watch_fraction"].mean() < 0.2 < rated["watch_fraction"].mean()


def test_closed_forms():
    assert watch_mean(0.5) == pytest.approx(0.15) and watch_mean(5.0) == pytest.approx(0.95)
    assert like_probability(4.25) == pytest.approx(0.5)
    assert like_probability(5.0) == pytest.approx(1 / (1 + np.exp(-2.5 * 0.75)))
    p = click_probability(np.array([1.0, 3.5, 5.0]))
    assert np.all(np.diff(p) > 0) and p[1] == pytest.approx(1 / (1 + np.e))


def test_implicit_preference_by_hand():
    log = pd.DataFrame({"completed": [1, 0, 0, 1], "watch_fraction": [1.0, 0.5, 0.0, 0.95], "liked": [1, 1, 0, 0]})
    score = implicit_preference(log)
    # 0.4*completed + 0.4*watch_fraction + 0.2*liked
    np.testing.assert_allclose(score, [1.0, 0.4, 0.0, 0.78])
    # weights are normalised: (2, 2, 1) is the default
    np.testing.assert_allclose(implicit_preference(log, weights=(2, 2, 1)), score)
    np.testing.assert_allclose(implicit_preference(log, weights=(0, 1, 0)), log["watch_fraction"])
    with pytest.raises(ConfigError):
        implicit_preference(log, weights=(1, -1, 1))
    with pytest.raises(SchemaError):
        implicit_preference(log.drop(columns="liked"))


def test_bad_arguments(ratings):
    with pytest.raises(SchemaError):
        simulate_viewing_log(ratings.drop(columns="timestamp"))
    with pytest.raises(ConfigError):
        simulate_viewing_log(ratings, interrupt_prob=1.5)
    with pytest.raises(ConfigError):
        simulate_viewing_log(ratings, concentration=0)


def test_clicks(ratings):
    a = simulate_clicks(ratings, seed=5)
    pd.testing.assert_frame_equal(a, simulate_clicks(ratings, seed=5))
    assert set(a["click"].unique()) <= {0, 1}
    np.testing.assert_allclose(a["p_click"], click_probability(ratings["rating"]))
    assert a.groupby(a["rating"] >= 4)["click"].mean().is_monotonic_increasing
    assert len(a) == len(ratings) and "click" not in ratings.columns


def test_works_on_synthetic_data():
    data = make_synthetic(30, 40, seed=0)
    log = simulate_viewing_log(data.ratings, seed=0)
    assert len(log) >= len(data.ratings)
