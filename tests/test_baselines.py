"""Baselines: hand-checked biases, MF that learns, cold-start fallbacks."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.baselines import BiasBaseline, GlobalMean, MatrixFactorization, Popularity
from recsys_tutorial.data import make_synthetic
from recsys_tutorial.metrics import rmse
from recsys_tutorial.splits import random_split


def _frame(rows):
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating"]).assign(timestamp=0)


def test_global_mean():
    train = _frame([(1, 1, 4.0), (2, 1, 2.0), (2, 2, 3.0)])
    model = GlobalMean().fit(train)
    assert model.predict(_frame([(9, 9, 0)])) == pytest.approx([3.0])


def test_biases_without_regularization_match_hand_computation():
    # one user, two items: with reg = 0 and a single user, item biases absorb everything
    train = _frame([(1, 1, 5.0), (1, 2, 3.0)])
    model = BiasBaseline(reg_user=0.0, reg_item=0.0, n_iter=20).fit(train)
    np.testing.assert_allclose(model.predict(train), [5.0, 3.0], atol=1e-9)
    # an unknown item falls back to mean + user bias; an unknown user to mean + item bias
    unknown = model.predict(_frame([(1, 99, 0), (99, 1, 0), (98, 98, 0)]))
    assert unknown[2] == pytest.approx(4.0)
    assert unknown[0] == pytest.approx(4.0 + model.user_bias_[1])
    assert unknown[1] == pytest.approx(4.0 + model.item_bias_[1])


def test_bias_regularization_shrinks_towards_zero():
    train = _frame([(1, 1, 5.0), (2, 1, 5.0), (3, 2, 1.0), (1, 2, 3.0)])
    loose = BiasBaseline(reg_user=0.0, reg_item=0.0).fit(train)
    tight = BiasBaseline(reg_user=100.0, reg_item=100.0).fit(train)
    assert np.abs(tight.item_bias_).max() < np.abs(loose.item_bias_).max() / 10


@pytest.fixture(scope="module")
def synthetic_split():
    data = make_synthetic(n_users=150, n_items=80, seed=3, ratings_per_user=30)
    return random_split(data.ratings, test_size=0.2, seed=0)


def test_biases_and_mf_beat_the_global_mean_on_synthetic_data(synthetic_split):
    train, test = synthetic_split
    base = rmse(test.rating, GlobalMean().fit(train).predict(test))
    bias = rmse(test.rating, BiasBaseline().fit(train).predict(test))
    mf = MatrixFactorization(n_factors=8, epochs=40, lr=0.02, reg=0.02, seed=0).fit(train)
    mf_rmse = rmse(test.rating, mf.predict(test))
    assert bias < 0.9 * base
    assert mf_rmse < bias  # user taste is a dot product: only MF can model it
    assert mf.history_[-1]["train_mse"] < mf.history_[0]["train_mse"]


def test_mf_is_deterministic_and_handles_unknown_ids(synthetic_split):
    train, test = synthetic_split
    a = MatrixFactorization(n_factors=4, epochs=2, seed=1).fit(train).predict(test)
    b = MatrixFactorization(n_factors=4, epochs=2, seed=1).fit(train).predict(test)
    np.testing.assert_array_equal(a, b)
    mf = MatrixFactorization(n_factors=4, epochs=2, seed=1).fit(train)
    cold = mf.predict(_frame([(10_000, 10_000, 0)]))
    assert cold == pytest.approx([mf.mean_], abs=1e-6)
    assert (a >= 0.5).all() and (a <= 5.0).all()


def test_popularity_ranks_by_liked_counts():
    train = _frame([(1, 1, 5.0), (2, 1, 4.0), (3, 2, 4.5), (1, 3, 1.0), (2, 3, 2.0), (3, 3, 1.0)])
    pop = Popularity().fit(train)
    np.testing.assert_array_equal(pop.score_items(1, [1, 2, 3, 4]), [2, 1, 0, 0])
    with pytest.raises(TypeError, match="score_items"):
        pop.predict(train)
