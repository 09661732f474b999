"""The text tower: the language model as the item tower of a collaborative model (tiny random
BERT on synthetic data: seconds, no download)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_tutorial.baselines import BiasBaseline, GlobalMean
from recsys_tutorial.data import make_synthetic
from recsys_tutorial.errors import CheckpointError, ConfigError, SchemaError, UnknownItemError
from recsys_tutorial.metrics import rmse
from recsys_tutorial.splits import cold_start_items_split, random_split
from recsys_tutorial.text_tower import TextTower, TextTowerConfig, cached_text_tower
from recsys_tutorial.train_config import TrainResult

FAST = dict(n_factors=8, batch_size=128, lr=3e-3, head_lr=2e-2, max_length=24, bf16=False)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, bert_config_factory, tokenizer):
    """A folder holding a tiny random BERT (no dropout) and the MiniLM tokenizer."""
    from transformers import BertModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny")
    BertModel(bert_config_factory(dropout=0.0)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_users=150, n_items=80, seed=0, ratings_per_user=30)


@pytest.fixture(scope="module")
def fitted(tiny_dir, data):
    """A text tower fitted on a cold-items split: 20% of the items never seen in training."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is faster on a busy 2-core machine
    train, test = cold_start_items_split(data.ratings, test_size=0.2, seed=0)
    model = TextTower(model_name=tiny_dir, epochs=15, patience=None, **FAST)
    model.fit(train, items=data.movies)
    yield model, train, test
    torch.set_num_threads(threads)


def test_cold_items_are_carried_by_the_text(fitted):
    model, train, test = fitted
    assert isinstance(model.result_, TrainResult)  # trained by the package's one loop
    pred = model.predict(test)
    assert np.isfinite(pred).all()
    # the same user gets different ratings for different cold films: the text tells them apart
    user = test.userId.iloc[0]
    cold = pd.unique(test.movieId)
    assert np.unique(np.round(model.score_items(user, cold), 6)).size == len(cold)
    # cold films are rated from text alone, and far better than the collaborative yardsticks
    biases = rmse(test.rating, BiasBaseline().fit(train).predict(test))
    assert rmse(test.rating, GlobalMean().fit(train).predict(test)) > 1.05
    assert rmse(test.rating, pred) < 0.85 * biases


def test_a_cold_item_uses_the_text_path_only(fitted):
    model, _, test = fitted
    cold = pd.unique(test.movieId)[:3]
    before = model.score_items(0, cold)
    rows = model.items_.get_indexer(cold)
    head = model.net_.score
    saved = head.item_bias.detach().clone(), head.item_factors.detach().clone()
    try:
        with torch.no_grad():  # the item's own terms, had it been trained: ignored
            head.item_bias[rows] = 50.0
            head.item_factors[rows] = 50.0
        model.refresh_item_vectors(cold)
        np.testing.assert_allclose(model.score_items(0, cold), before, rtol=0, atol=1e-6)
    finally:
        with torch.no_grad():
            head.item_bias.copy_(saved[0])
            head.item_factors.copy_(saved[1])
        model.refresh_item_vectors()


def test_unknown_users_get_the_mean_and_item_terms(fitted):
    model, _, test = fitted
    items = test.movieId.to_numpy()[:5]
    rows = model.items_.get_indexer(items)
    expected = model.scaler_.inverse_transform(model.mu_ + model.item_offsets_[rows], clip=False)
    np.testing.assert_allclose(model.score_items("nobody", items), expected, rtol=0, atol=1e-12)
    frame = pd.DataFrame({"userId": ["nobody"] * 5, "movieId": items})
    np.testing.assert_allclose(model.predict(frame), np.clip(expected, 0.5, 5.0), atol=1e-12)


def test_predictions_are_batch_invariant_and_match_score_items(fitted):
    model, _, test = fitted
    whole = model.predict(test)
    parts = np.concatenate([model.predict(test.iloc[:7]), model.predict(test.iloc[7:])])
    np.testing.assert_array_equal(whole, parts)
    user_rows = test[test.userId == test.userId.iloc[0]]
    scored = model.score_items(user_rows.userId.iloc[0], user_rows.movieId)
    np.testing.assert_allclose(np.clip(scored, 0.5, 5.0), model.predict(user_rows), atol=1e-12)
    # the item vectors do not depend on which items are encoded together
    vectors = model.item_vectors_.copy()
    model.refresh_item_vectors(model.items_[::3])
    np.testing.assert_allclose(model.item_vectors_, vectors, atol=1e-5)


def test_the_model_learns_from_data_initialised_biases(tiny_dir, data):
    train, val = random_split(data.ratings, test_size=0.2, seed=1)
    untrained = TextTower(model_name=tiny_dir, max_steps=1, **{**FAST, "lr": 1e-12,
                                                                 "head_lr": 1e-12})
    untrained.fit(train, items=data.movies)
    bias_pred = BiasBaseline().fit(train).predict(val)
    # it starts at the bias baseline (factors start near 0)
    assert np.abs(untrained.predict(val) - bias_pred).max() < 0.05
    model = TextTower(model_name=tiny_dir, epochs=6, **FAST).fit(train, val, items=data.movies)
    mean_rmse = rmse(val.rating, GlobalMean().fit(train).predict(val))
    assert model.result_.best_val_rmse < 0.85 * mean_rmse
    assert rmse(val.rating, model.predict(val)) == pytest.approx(model.result_.best_val_rmse,
                                                                 abs=1e-5)
    assert all(r["val_rmse"] is not None for r in model.history_)


def _rescaled(data):
    """The synthetic ratings on a 1-10 scale (2 × stars, at least 1)."""
    ratings = data.ratings.copy()
    ratings["rating"] = np.clip(np.round(ratings["rating"] * 2), 1, 10).astype(np.float32)
    ratings.attrs["rating_scale"] = (1.0, 10.0)
    return ratings


def test_ids_of_any_kind_survive_fit_predict_save_and_load(tiny_dir, data, tmp_path):
    ratings = _rescaled(data)
    users = {u: f"{u:03d}" for u in range(150)}  # "007": a string with leading zeros
    items = {i: (f"{i:03d}" if i % 2 else 2**40 + i) for i in range(80)}  # str and big int
    ratings["userId"] = ratings["userId"].map(users).astype(object)
    ratings["movieId"] = ratings["movieId"].map(items).astype(object)
    movies = data.movies.copy()
    movies["movieId"] = movies["movieId"].map(items).astype(object)
    model = TextTower(model_name=tiny_dir, epochs=2, **FAST).fit(ratings, items=movies)
    pred = model.predict(ratings)
    assert pred.min() >= 1.0 and pred.max() <= 10.0 and pred.max() > 5.0  # the 1-10 scale
    assert model.scale_ == (1.0, 10.0)
    assert "007" in list(model.users_) and 7 not in list(model.users_)
    model.save(tmp_path / "tower")
    saved = json.loads((tmp_path / "tower" / "checkpoint.json").read_text())
    assert saved["extra"]["text_tower"]["users"][7] == "007"
    assert saved["extra"]["text_tower"]["items"][:2] == [2**40, "001"]
    loaded = TextTower.load(tmp_path / "tower")
    assert list(loaded.users_) == list(model.users_)
    assert [type(i) for i in loaded.items_] == [type(i) for i in model.items_]
    np.testing.assert_array_equal(loaded.predict(ratings), pred)
    np.testing.assert_array_equal(loaded.score_items("007", [2**40, "001"]),
                                  model.score_items("007", [2**40, "001"]))
    with pytest.raises(UnknownItemError, match="'7'"):
        loaded.predict(pd.DataFrame({"userId": ["007"], "movieId": ["7"]}))


def test_loading_refuses_other_or_damaged_checkpoints(fitted, tmp_path):
    model, _, _ = fitted
    folder = model.save(tmp_path / "tower")
    with open(folder / "extra.safetensors", "r+b") as fh:  # the head and item vectors
        fh.seek(-8, 2)
        fh.write(b"\x00" * 8)
    with pytest.raises(CheckpointError, match="checksum"):
        TextTower.load(folder)
    meta = json.loads((folder / "checkpoint.json").read_text())
    meta["extra"]["model_type"] = "cross-encoder"
    (folder / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a text-tower checkpoint"):
        TextTower.load(folder)


def test_training_encodes_far_fewer_texts_than_ratings(fitted):
    model, train, _ = fitted
    steps = model.history_[-1]["step"]
    catalogue = len(model.items_)  # encoded once more at the end of fit
    assert model.net_.texts_encoded - catalogue < steps * FAST["batch_size"] / 2


def test_settings_and_inputs_are_checked(tiny_dir, data):
    with pytest.raises(ConfigError, match="unknown TextTower setting"):
        TextTower(n_factor=8)
    with pytest.raises(ConfigError, match="drop_item_share"):
        TextTowerConfig(drop_item_share=1.0)
    with pytest.raises(ConfigError, match="batch_size"):
        TextTowerConfig(batch_size=0)
    assert TextTowerConfig(n_factors=np.int64(4), lr=np.float32(1e-4)).n_factors == 4
    model = TextTower(model_name=tiny_dir, max_steps=1, **FAST)
    with pytest.raises(UnknownItemError, match="not in the catalogue"):
        model.fit(data.ratings, items=data.movies.iloc[:-1])
    with pytest.raises(SchemaError, match="appears in more than one row"):
        model.fit(data.ratings, items=pd.concat([data.movies, data.movies.iloc[:1]]))
    with pytest.raises(SchemaError, match="rating"):
        model.fit(data.ratings.drop(columns="rating"), items=data.movies)


def test_cached_text_tower_trains_once_then_loads(tiny_dir, data, tmp_path, monkeypatch):
    calls = []
    real_fit = TextTower.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(TextTower, "fit", counting_fit)
    train = data.ratings.iloc[:1500]
    kw = dict(profile="quick", cache=tmp_path, model_name=tiny_dir, bf16=False, n_factors=4)
    first = cached_text_tower(train, data.movies, **kw)
    again = cached_text_tower(train, data.movies, **kw)
    assert len(calls) == 1  # the second call loaded the checkpoint
    np.testing.assert_array_equal(again.predict(train), first.predict(train))
    assert len(list((tmp_path / "text_tower").iterdir())) == 1
    other = train.copy()
    other.loc[other.index[0], "rating"] = 0.5 if other["rating"].iloc[0] != 0.5 else 1.0
    cached_text_tower(other, data.movies, **kw)  # other ratings: another checkpoint
    assert len(calls) == 2 and len(list((tmp_path / "text_tower").iterdir())) == 2
