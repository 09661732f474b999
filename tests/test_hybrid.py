"""TextHybrid: text vectors carry cold items; encode_texts caches and matches the backbone."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.baselines import BiasBaseline, MatrixFactorization
from recsys_tutorial.data import SYNTHETIC_ATTRIBUTES, make_synthetic
from recsys_tutorial.errors import ConfigError, SchemaError, UnknownItemError
from recsys_tutorial.hybrid import TextHybrid, encode_texts
from recsys_tutorial.metrics import rmse
from recsys_tutorial.schema import with_scale
from recsys_tutorial.splits import cold_start_items_split


@pytest.fixture(scope="module")
def synthetic():
    data = make_synthetic(n_users=200, n_items=150, seed=5, ratings_per_user=40)
    # ideal "text vectors": the items' attribute indicators (what their text says)
    vectors = np.array([[a in g for a in SYNTHETIC_ATTRIBUTES] for g in data.movies.genres], dtype=np.float32)
    return data, vectors


def test_text_hybrid_predicts_cold_items_from_text(synthetic):
    data, vectors = synthetic
    train, test = cold_start_items_split(data.ratings, test_size=0.2, seed=0)
    bias = rmse(test.rating, BiasBaseline().fit(train).predict(test))
    mf = rmse(test.rating, MatrixFactorization(n_factors=8, epochs=30, seed=0).fit(train).predict(test))
    hybrid = TextHybrid(item_ids=data.movies.movieId.to_numpy(), item_vectors=vectors, n_factors=8, epochs=30,
                        lr=0.02, seed=0).fit(train)
    hy = rmse(test.rating, hybrid.predict(test))
    # collaborative models know nothing about held-out items; the hybrid reads their text
    assert hy < 0.8 * min(bias, mf), (hy, bias, mf)


def test_text_hybrid_unknown_users_and_items(synthetic):
    data, vectors = synthetic
    model = TextHybrid(item_ids=data.movies.movieId.to_numpy(), item_vectors=vectors, n_factors=4, epochs=2).fit(data.ratings)
    new_user = model.predict(pd.DataFrame({"userId": [10_000], "movieId": [0]}))
    assert 0.5 <= new_user[0] <= 5.0
    with pytest.raises(UnknownItemError, match="text vector"):
        model.predict(pd.DataFrame({"userId": [0], "movieId": [99_999]}))


def test_encode_texts_unit_vectors_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_TUTORIAL_CACHE", str(tmp_path))
    texts = ["Toy Story (1995) | Animation, Comedy", "Heat (1995) | Action, Crime", "Toy Story 2 (1999) | Animation"]
    first = encode_texts(texts, bf16=False)
    assert first.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    sims = first @ first.T
    assert sims[0, 2] > sims[0, 1]  # the two Toy Story films are closer than Toy Story and Heat
    assert len(list((tmp_path / "embeddings").glob("*.npy"))) == 1
    np.testing.assert_array_equal(encode_texts(texts, bf16=False), first)  # served from the cache


# --------------------------------------------------------------------------- any scale, any ids


def _odd_catalogue():
    ids = ["007", 7, "Zoë", 2**70, "A1"]
    vectors = np.eye(len(ids), dtype=np.float32)
    return ids, vectors


def _odd_ratings(scale=(1, 10)):
    ids, _ = _odd_catalogue()
    rng = np.random.default_rng(0)
    rows = [(u, ids[k], float(rng.integers(6, 11))) for u in ["u1", "u2", 3] for k in range(4)]
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating"]).astype({"movieId": object})
    return with_scale(frame, scale)


def test_text_hybrid_on_1_to_10_with_string_ids():
    ids, vectors = _odd_catalogue()
    train = _odd_ratings()
    model = TextHybrid(item_ids=ids, item_vectors=vectors, n_factors=2, epochs=20, lr=0.05, seed=0)
    model.fit(train)
    assert model.scale_ == (1.0, 10.0)
    pred = model.predict(train)
    assert pred.min() >= 1.0 and pred.max() <= 10.0 and pred.mean() > 5.0
    # "A1" was never rated: a cold item scored from its text; 7 and "007" are different items
    cold = model.predict(pd.DataFrame({"userId": ["u1"], "movieId": ["A1"]}))
    assert 1.0 <= cold[0] <= 10.0
    assert model.items_.tolist() == ids
    with pytest.raises(UnknownItemError, match="'7'"):
        model.predict(pd.DataFrame({"userId": ["u1"], "movieId": ["7"]}))


def test_text_hybrid_rejects_implicit_feedback_and_bad_catalogues():
    ids, vectors = _odd_catalogue()
    implicit = _odd_ratings().drop(columns="rating")
    implicit.attrs["implicit_feedback"] = True
    with pytest.raises(SchemaError, match=r"needs ratings.*Popularity"):
        TextHybrid(item_ids=ids, item_vectors=vectors, epochs=1).fit(implicit)
    with pytest.raises(ConfigError, match="item_ids and item_vectors"):
        TextHybrid().fit(_odd_ratings())
    with pytest.raises(ConfigError, match="one row per item"):
        TextHybrid(item_ids=ids, item_vectors=vectors[:3], epochs=1).fit(_odd_ratings())
    with pytest.raises(ConfigError, match="appears more than once"):
        TextHybrid(item_ids=[*ids, "007"], item_vectors=np.eye(6), epochs=1).fit(_odd_ratings())
    with pytest.raises(UnknownItemError, match=r"'Zoë'"):
        TextHybrid(item_ids=["007", 7], item_vectors=np.eye(2), epochs=1).fit(_odd_ratings())
    with pytest.raises(ConfigError, match="cold_dropout"):
        TextHybrid(item_ids=ids, item_vectors=vectors, cold_dropout=1.0).fit(_odd_ratings())


def test_text_hybrid_accepts_numpy_scalars(synthetic):
    data, vectors = synthetic
    ids = data.movies.movieId.to_numpy()
    kw = dict(item_ids=ids, item_vectors=vectors, epochs=1)
    plain = TextHybrid(n_factors=4, seed=1, **kw).fit(data.ratings).predict(data.ratings[:50])
    numpy = TextHybrid(n_factors=np.int64(4), seed=np.int64(1), lr=np.float64(0.01), **kw)
    np.testing.assert_allclose(numpy.fit(data.ratings).predict(data.ratings[:50]), plain, atol=1e-6)


def test_encode_texts_rejects_non_strings_with_a_typed_error():
    with pytest.raises(ConfigError, match=r"texts\[1\] is int"):
        encode_texts(["Heat", 7])
    with pytest.raises(ConfigError, match="one string"):
        encode_texts("Heat")
