"""TextHybrid: text vectors carry cold items; encode_texts caches and matches the backbone."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.baselines import BiasBaseline, MatrixFactorization
from recsys_tutorial.data import SYNTHETIC_ATTRIBUTES, make_synthetic
from recsys_tutorial.errors import UnknownItemError
from recsys_tutorial.hybrid import TextHybrid, encode_texts
from recsys_tutorial.metrics import rmse
from recsys_tutorial.splits import cold_start_items_split


@pytest.fixture(scope="module")
def synthetic():
    data = make_synthetic(n_users=200, n_items=150, seed=5, ratings_per_user=40)
    # ideal "text vectors": the items' attribute indicators (what their text says)
    vectors = np.array([[a in g for a in SYNTHETIC_ATTRIBUTES] for g in data.movies.genres], dtype=np.float32)
    return data, vectors


def test_text_hybrid_predicts_cold_items_from_text(synthetic):
    data, vectors = synthetic
    train, test = cold_start_items_split(data.ratings, frac=0.2, seed=0)
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
