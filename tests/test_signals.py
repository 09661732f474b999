"""Simulated implicit signals: determinism, ranges, relation with ratings, the score formula."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import ConfigError, SchemaError
from recsys_tutorial.schema import with_scale
from recsys_tutorial.signals import (
    LOG_COLUMNS,
    click_probability,
    implicit_preference,
    like_probability,
    simulate_clicks,
    simulate_viewing_log,
    to_stars,
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


# --------------------------------------------------------------------------- any scale, any ids


def test_to_stars_maps_any_scale_onto_half_to_five():
    np.testing.assert_allclose(to_stars([1, 5.5, 10], (1, 10)), [0.5, 2.75, 5.0])
    np.testing.assert_array_equal(to_stars([0.5, 3.5, 5.0]), [0.5, 3.5, 5.0])
    with pytest.raises(ConfigError):
        to_stars(3, (5, 1))


def test_a_1_to_10_scale_simulates_like_the_same_stars(ratings):
    ten = with_scale(ratings.assign(rating=1 + (ratings["rating"] - 0.5) * 2), (1, 10))
    log10 = simulate_viewing_log(ten, seed=2)
    log5 = simulate_viewing_log(ratings, seed=2)
    signals = ["watch_fraction", "completed", "liked", "exposure"]
    pd.testing.assert_frame_equal(log10[signals], log5[signals])
    assert log10["rating"].max() == 10.0 and log10.attrs["rating_scale"] == (1.0, 10.0)
    clicks10, clicks5 = simulate_clicks(ten, seed=1), simulate_clicks(ratings, seed=1)
    np.testing.assert_allclose(clicks10["p_click"], clicks5["p_click"])


def test_viewing_log_keeps_ids_of_any_kind(ratings):
    odd = {1: "A1", 2: "007", 3: 7, 4: 2**70, 5: "Zoë"}
    mixed = ratings[ratings["userId"] <= 5].assign(
        userId=lambda f: pd.Series([odd[u] for u in f["userId"]], index=f.index, dtype=object)
    )
    log = simulate_viewing_log(mixed, seed=0)
    assert set(map(repr, log["userId"])) == set(map(repr, odd.values()))
    # rows grouped by user in order of appearance (mixed kinds are never sorted), time within
    assert list(pd.unique(log["userId"])) == list(odd.values())
    by_user = log.groupby(log["userId"].map(repr))
    assert all(g["timestamp"].is_monotonic_increasing for _, g in by_user)


def test_numpy_scalars_and_implicit_frames(ratings):
    pd.testing.assert_frame_equal(
        simulate_viewing_log(ratings, seed=np.int64(4), exposure_rate=np.float64(0.5)),
        simulate_viewing_log(ratings, seed=4, exposure_rate=0.5),
    )
    with pytest.raises(ConfigError, match="interrupt_prob"):
        simulate_viewing_log(ratings, interrupt_prob="0.1")
    with pytest.raises(ConfigError, match="seed"):
        simulate_clicks(ratings, seed=1.5)
    events = ratings.drop(columns="rating")
    events.attrs["implicit_feedback"] = True
    with pytest.raises(SchemaError, match="needs ratings"):
        simulate_viewing_log(events)
    with pytest.raises(SchemaError, match="needs ratings"):
        simulate_clicks(events)
