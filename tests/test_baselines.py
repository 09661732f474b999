"""Baselines: hand-checked biases, MF that learns, cold-start fallbacks."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.baselines import (
    BiasBaseline,
    GlobalMean,
    MatrixFactorization,
    Popularity,
    RatingModel,
)
from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import ConfigError, RecsysTutorialError, SchemaError
from recsys_tutorial.metrics import rmse
from recsys_tutorial.schema import with_scale
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
    with pytest.raises(ConfigError, match="score_items"):
        pop.predict(train)


# --------------------------------------------------------------------------- any scale, any ids


def _scaled(rows, scale=(1, 10)):
    return with_scale(_frame(rows), scale)


ONE_TO_TEN = [(1, 1, 6.0), (1, 2, 8.0), (2, 1, 9.0), (2, 3, 10.0), (3, 2, 10.0)]  # mean 8.6


def test_global_mean_on_a_1_to_10_scale_predicts_the_training_mean():
    train = _scaled(ONE_TO_TEN)
    model = GlobalMean().fit(train)
    assert model.scale_ == (1.0, 10.0)
    np.testing.assert_allclose(model.predict(_frame([(1, 1, 0), (9, 9, 0)])), [8.6, 8.6])


def test_bias_baseline_exceeds_5_and_never_exceeds_10():
    train = _scaled([(1, 1, 10.0), (1, 2, 10.0), (2, 1, 10.0), (2, 2, 6.0), (3, 3, 6.0)])
    model = BiasBaseline(reg_user=0.0, reg_item=0.0, n_iter=30).fit(train)
    # hand-checked fixed point: mu = 8.4, b_user1 = +1, b_item1 = +1.6, b_item2 = -0.4
    assert model.mean_ == pytest.approx(8.4)
    assert model.score_items(1, [1, 2]) == pytest.approx([11.0, 9.0])  # unclipped scores
    pred = model.predict(_frame([(1, 1, 0), (1, 2, 0), (3, 3, 0)]))
    np.testing.assert_allclose(pred, [10.0, 9.0, 6.0])  # 11 is clipped to the top of 1-10
    assert pred.max() > 5.0 and pred.max() <= 10.0


def test_scale_resolution_explicit_then_attrs_then_training_range():
    rows = [(1, 1, 2.0), (2, 1, 4.0), (2, 2, 3.0)]
    assert GlobalMean().fit(_frame(rows)).scale_ == (2.0, 4.0)  # no attrs: observed range
    assert GlobalMean().fit(_scaled(rows)).scale_ == (1.0, 10.0)  # attrs
    explicit = GlobalMean(scale=(np.int64(0), np.float64(20))).fit(_scaled(rows))
    assert explicit.scale_ == (0.0, 20.0)
    assert BiasBaseline(scale=(0, 5)).fit(_scaled(rows)).scale_ == (0.0, 5.0)
    with pytest.raises(ConfigError, match="scale"):
        GlobalMean(scale=(5, 1)).fit(_frame(rows))


def test_matrix_factorization_on_1_to_10_stays_in_scale():
    rng = np.random.default_rng(0)
    rows = [(u, i, float(rng.integers(6, 11))) for u in range(20) for i in range(10)]
    train = _scaled(rows)
    mf = MatrixFactorization(n_factors=4, epochs=5, lr=0.05, seed=0).fit(train)
    pred = mf.predict(train)
    assert mf.scale_ == (1.0, 10.0)
    assert pred.min() >= 1.0 and pred.max() <= 10.0 and pred.mean() > 7.0
    assert mf.predict(_frame([(999, 999, 0)])) == pytest.approx([mf.mean_], abs=1e-6)


IMPLICIT = pd.DataFrame({"userId": [1, 1, 2, 3, 3], "movieId": [1, 2, 1, 1, 3], "timestamp": 0})
IMPLICIT.attrs["implicit_feedback"] = True


@pytest.mark.parametrize(
    "model",
    [GlobalMean(), BiasBaseline(), MatrixFactorization(n_factors=2, epochs=1)],
    ids=["GlobalMean", "BiasBaseline", "MatrixFactorization"],
)
def test_rating_models_reject_implicit_feedback(model):
    with pytest.raises(SchemaError, match=r"needs ratings.*implicit.*Popularity"):
        model.fit(IMPLICIT)


def test_popularity_counts_every_implicit_event():
    pop = Popularity().fit(IMPLICIT)
    np.testing.assert_array_equal(pop.score_items("anyone", [1, 2, 3, 4]), [3, 1, 1, 0])
    assert pop.threshold_ is None


def test_popularity_threshold_follows_the_scale():
    rows = [(1, 1, 8.0), (2, 1, 9.0), (3, 2, 7.5), (1, 2, 4.0), (2, 3, 10.0)]
    pop = Popularity().fit(_scaled(rows))
    assert pop.threshold_ == pytest.approx(8.0)  # 7/9 up 1-10, as 4 stars on 0.5-5
    np.testing.assert_array_equal(pop.score_items(1, [1, 2, 3]), [2, 0, 1])
    assert Popularity().fit(_frame(rows)).threshold_ == pytest.approx(4.0)  # no attrs: 0.5-5
    assert Popularity(threshold=np.float64(7.5)).fit(_scaled(rows)).score_items(1, [2]) == [1]


def test_popularity_predict_is_a_typed_error():
    pop = Popularity().fit(_frame([(1, 1, 5.0)]))
    with pytest.raises(RecsysTutorialError, match="score_items"):
        pop.predict(_frame([(1, 1, 5.0)]))
    assert issubclass(ConfigError, RecsysTutorialError)


ODD_IDS = ["A1", "007", 7, 2**70, "Zoë", "1", 1]


def test_bias_baseline_keeps_ids_of_any_kind():
    users = ODD_IDS
    items = ["i-" + str(k) for k in range(len(users))]
    ratings = [1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 4.0]
    train = pd.DataFrame(
        {"userId": pd.Series(users, dtype=object), "movieId": items, "rating": ratings}
    )
    model = BiasBaseline(reg_user=0.0, reg_item=1.0).fit(train)
    kept = model.user_bias_.index.tolist()
    assert kept == users and [type(k) for k in kept] == [type(u) for u in users]
    pred = model.predict(train)
    # "1" and 1, "007" and 7 are different users with different ratings
    assert pred[users.index("1")] != pred[users.index(1)]
    assert pred[users.index("007")] != pred[users.index(7)]
    scores = model.score_items("A1", ["i-0", "i-3", "unknown"])
    assert scores[0] == pytest.approx(pred[0]) and np.isfinite(scores).all()


def test_numpy_scalars_are_accepted_as_hyperparameters():
    data = make_synthetic(n_users=30, n_items=20, seed=1, ratings_per_user=10)
    plain = MatrixFactorization(n_factors=4, epochs=2, batch_size=64, lr=0.01, seed=3)
    plain.fit(data.ratings)
    numpy = MatrixFactorization(
        n_factors=np.int64(4), epochs=np.int32(2), batch_size=np.int64(64), lr=np.float64(0.01),
        seed=np.int64(3), reg=np.float32(0.1),
    ).fit(data.ratings)
    np.testing.assert_allclose(numpy.predict(data.ratings), plain.predict(data.ratings), atol=1e-6)
    a = BiasBaseline(reg_user=np.float64(3), n_iter=np.int64(10)).fit(data.ratings)
    a = a.predict(data.ratings)
    np.testing.assert_allclose(a, BiasBaseline().fit(data.ratings).predict(data.ratings))


@pytest.mark.parametrize(
    "model",
    [
        MatrixFactorization(n_factors=0),
        MatrixFactorization(seed="1"),
        MatrixFactorization(epochs=2.5),
        BiasBaseline(n_iter=True),
        BiasBaseline(reg_user=-1.0),
    ],
)
def test_bad_hyperparameters_are_config_errors(model):
    with pytest.raises(ConfigError):
        model.fit(_frame([(1, 1, 4.0), (2, 2, 3.0)]))


def test_rating_model_is_public_and_predict_needs_fit():
    assert issubclass(BiasBaseline, RatingModel) and issubclass(MatrixFactorization, RatingModel)
    with pytest.raises(ConfigError, match="not fitted"):
        GlobalMean().predict(_frame([(1, 1, 0)]))
