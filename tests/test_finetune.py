import numpy as np
import pytest

from recsys_tutorial.config import get_profile
from recsys_tutorial.data import make_synthetic
from recsys_tutorial.datasets import RatingTextDataset, make_loader
from recsys_tutorial.errors import ConfigError, RatingValueError, SchemaError
from recsys_tutorial.finetune import (
    FINETUNE_DROPOUT,
    LEGACY_SPEC_ARGUMENTS,
    ModelSpec,
    finetune_rating_model,
    run_sizes,
    training_ratings,
)
from recsys_tutorial.schema import IMPLICIT_ATTR, with_scale
from recsys_tutorial.text import make_pairs
from recsys_tutorial.train import TrainConfig, predict
from recsys_tutorial.train_config import FineTuneResult

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pairs():
    data = make_synthetic(n_users=60, n_items=50, seed=0)
    all_pairs = make_pairs(data.ratings, data.ratings, data.movies, max_items=2)
    order = np.random.default_rng(0).permutation(len(all_pairs))
    return all_pairs.iloc[order[:160]], all_pairs.iloc[order[160:200]]


@pytest.fixture
def folder(tmp_path, make_tiny_bert, tokenizer):
    path = tmp_path / "tiny"
    make_tiny_bert(dropout=0.1).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.mark.parametrize("peft_method", [None, "adalora"])
def test_finetune_rating_model_from_a_local_folder(pairs, folder, peft_method):
    train_pairs, val_pairs = pairs
    out = finetune_rating_model(
        train_pairs.iloc[:96], val_pairs.iloc[:32], profile="quick",
        spec=ModelSpec(model_name=folder, peft_method=peft_method),
        config=TrainConfig(lr=1e-3, batch_size=16, progress=False),
    )
    assert out.result.history[-1]["step"] == 6
    assert out.scaler.mean == pytest.approx(float(train_pairs.rating.iloc[:96].mean()), rel=1e-5)
    assert out.result.best_val_rmse is not None
    with pytest.raises(ConfigError, match="either"):
        finetune_rating_model(train_pairs.iloc[:16], None,
                              spec=ModelSpec(model_name=folder, freeze_strategy="head",
                                             peft_method="lora"),
                              config=TrainConfig(progress=False))


def test_finetune_turns_dropout_off_by_default(pairs, folder):
    train_pairs, _ = pairs
    config = TrainConfig(lr=1e-3, batch_size=16, max_steps=1, progress=False)
    out = finetune_rating_model(train_pairs.iloc[:32], None, spec=ModelSpec(model_name=folder),
                                profile="quick", config=config)
    assert FINETUNE_DROPOUT == 0.0 and out.model.config.hidden_dropout_prob == 0.0
    kept = finetune_rating_model(train_pairs.iloc[:32], None, profile="quick", config=config,
                                 spec=ModelSpec(model_name=folder, dropout=None))
    assert kept.model.config.hidden_dropout_prob == pytest.approx(0.1)


def test_numpy_integers_are_accepted(pairs, folder):
    # the example: TrainConfig(batch_size=np.int64(8)) was accepted, then refused here
    train_pairs, _ = pairs
    spec = ModelSpec(model_name=folder, freeze_strategy="lower", n_layers=np.int64(1),
                     max_length=np.int64(48))
    assert type(spec.n_layers) is int and type(spec.max_length) is int
    out = finetune_rating_model(
        train_pairs.iloc[:32], None, spec=spec, profile="quick",
        config=TrainConfig(lr=1e-3, batch_size=np.int64(8), epochs=np.int64(1), progress=False),
    )
    assert out.result.history[-1]["step"] == 4  # 32 ratings / batches of 8


def test_a_ten_point_scale_predicts_on_that_scale(pairs, folder, tokenizer):
    # ratings 6-10 on a 1-10 scale: the scaler used to clip every prediction to 5 stars
    train_pairs, val_pairs = (p.assign(rating=lambda f: 6.0 + np.round((f.rating - 0.5) / 4.5 * 4))
                              for p in pairs)
    config = TrainConfig(lr=1e-3, batch_size=16, max_steps=3, progress=False)
    val_loader = None
    for kwargs in ({"scale": (1, 10)}, {}):
        frame = train_pairs.iloc[:48].copy()
        if not kwargs:
            with_scale(frame, (1, 10))  # the scale travels with the frame instead
        out = finetune_rating_model(frame, None, spec=ModelSpec(model_name=folder), profile="quick",
                                    config=config, **kwargs)
        assert out.scaler.scale == (1.0, 10.0)
        assert out.scaler.mean == pytest.approx(frame.rating.mean())
        if val_loader is None:
            val_ds = RatingTextDataset.from_pairs(val_pairs, tokenizer, max_length=48)
            val_loader = make_loader(val_ds, 16, shuffle=False)
        preds = predict(out.model, val_loader, out.scaler)
        assert ((preds >= 1.0) & (preds <= 10.0)).all()
        assert not np.allclose(preds, 5.0)
        assert abs(preds.mean() - frame.rating.mean()) < 1.0  # near the training mean (~8)
    # pairs made from MovieLens-scale frames carry (0.5, 5): 6-10 ratings are refused by name
    config = TrainConfig(lr=1e-3, batch_size=16, max_steps=1, progress=False)
    assert train_pairs.attrs.get("rating_scale") == (0.5, 5.0)
    with pytest.raises(RatingValueError, match=r"outside the rating scale \(0.5, 5\)"):
        finetune_rating_model(train_pairs.iloc[:48], None, spec=ModelSpec(model_name=folder),
                              profile="quick", config=config)
    # neither a scale nor attrs: the training ratings' own range
    bare = train_pairs.iloc[:48].copy()
    bare.attrs.clear()
    out = finetune_rating_model(bare, None, spec=ModelSpec(model_name=folder), profile="quick",
                                config=config)
    low, high = train_pairs.rating.iloc[:48].min(), train_pairs.rating.iloc[:48].max()
    assert out.scaler.scale == (low, high) and low >= 6.0


def test_implicit_feedback_is_refused(pairs, folder):
    train_pairs, val_pairs = pairs
    events = train_pairs.drop(columns="rating")
    events.attrs[IMPLICIT_ATTR] = True
    with pytest.raises(SchemaError, match="needs ratings.*holds implicit feedback"):
        finetune_rating_model(events, None, spec=ModelSpec(model_name=folder),
                              config=TrainConfig(progress=False))
    with pytest.raises(SchemaError, match="val_pairs"):
        finetune_rating_model(train_pairs, val_pairs.drop(columns="rating"),
                              spec=ModelSpec(model_name=folder), config=TrainConfig(progress=False))
    np.testing.assert_array_equal(training_ratings(train_pairs.iloc[:3]),
                                  train_pairs.rating.iloc[:3].to_numpy(np.float64))


def _val_predictions(out: FineTuneResult, val_pairs, max_length: int = 48):
    dataset = RatingTextDataset.from_pairs(val_pairs, out.tokenizer, max_length=max_length)
    return predict(out.model, make_loader(dataset, 16, shuffle=False), out.scaler)


def test_spec_and_old_keywords_train_identically(pairs, folder):
    # the issue: 16 keyword arguments became spec=ModelSpec(...) + config=TrainConfig(...);
    # the old keywords still work (DeprecationWarning) and give the very same model
    train_pairs, val_pairs = pairs
    config = TrainConfig(lr=1e-3, batch_size=16, max_steps=3, seed=7, progress=False)
    new = finetune_rating_model(
        train_pairs.iloc[:48], None, config=config,
        spec=ModelSpec(model_name=folder, freeze_strategy="lower", n_layers=1, max_length=48),
    )
    with pytest.warns(DeprecationWarning, match=r"spec=ModelSpec\(model_name=\.\.\."):
        old = finetune_rating_model(train_pairs.iloc[:48], None, config=config, model_name=folder,
                                    freeze_strategy="top", n_layers=1, max_length=48)
    assert [r["train_loss"] for r in old.result.history] == [
        r["train_loss"] for r in new.result.history
    ]
    preds = _val_predictions(new, val_pairs.iloc[:16])
    np.testing.assert_array_equal(_val_predictions(old, val_pairs.iloc[:16]), preds)
    assert preds.std() > 0  # a real model, not a constant
    other = finetune_rating_model(  # another seed: another head, other predictions
        train_pairs.iloc[:48], None, spec=ModelSpec(model_name=folder, max_length=48),
        config=TrainConfig(lr=1e-3, batch_size=16, max_steps=3, seed=8, progress=False),
    )
    assert not np.allclose(_val_predictions(other, val_pairs.iloc[:16]), preds)


def test_unknown_or_doubled_keywords_are_refused(pairs, folder):
    train_pairs, _ = pairs
    config = TrainConfig(progress=False)
    with pytest.raises(ConfigError, match=r"unknown keyword argument model_nme= \(did you mean "
                                          r"model_name=\?\)"):
        finetune_rating_model(train_pairs, None, config=config, model_nme=folder)
    with pytest.raises(ConfigError, match=r"batch_size= is a training setting; pass "
                                          r"config=TrainConfig\(batch_size=\.\.\.\)"):
        finetune_rating_model(train_pairs, None, config=config, batch_size=8)
    with pytest.raises(ConfigError, match="got spec= and the old keyword"):
        finetune_rating_model(train_pairs, None, spec=ModelSpec(), max_length=32)
    with pytest.raises(ConfigError, match="spec must be a ModelSpec"):
        finetune_rating_model(train_pairs, None, spec={"model_name": folder})


def test_model_spec_validates_and_normalises():
    spec = ModelSpec(freeze_strategy="top", n_layers=np.int64(1), max_length=np.int32(48),
                     dropout=np.float32(0.25))
    assert (spec.freeze_strategy, spec.n_layers, spec.max_length, spec.dropout) == (
        "lower", 1, 48, 0.25
    )
    assert type(spec.n_layers) is int and type(spec.max_length) is int
    assert type(spec.dropout) is float
    assert ModelSpec() == ModelSpec(freeze_strategy="full") and ModelSpec().dropout == 0.0
    lora = ModelSpec(peft_method="lora", peft_kwargs={"r": 4, "target_modules": ["query"]})
    assert lora.peft_kwargs == (("r", 4), ("target_modules", ["query"]))
    assert lora.peft_options == {"r": 4, "target_modules": ["query"]}
    assert lora.peft_options is not lora.peft_options  # a fresh dict each time
    assert isinstance(hash(lora), int)  # usable as a dict key, list values and all
    assert ModelSpec(peft_kwargs=[("r", 4)]).peft_kwargs == (("r", 4),)
    with pytest.raises(AttributeError):
        lora.peft_method = "ia3"  # frozen
    for bad, match in (
        ({"freeze_strategy": "bottom"}, "ModelSpec.freeze_strategy: freeze strategy must be one of"),
        ({"peft_method": "qlora"}, "ModelSpec.peft_method must be one of"),
        ({"peft_method": "lora", "freeze_strategy": "head"}, "either a freeze strategy"),
        ({"n_layers": -1}, "ModelSpec.n_layers"),
        ({"n_layers": True}, "ModelSpec.n_layers"),
        ({"max_length": 0}, "ModelSpec.max_length"),
        ({"dropout": 1.0}, "ModelSpec.dropout"),
        ({"peft_kwargs": 5}, "ModelSpec.peft_kwargs"),
        ({"model_name": 3}, "ModelSpec.model_name"),
    ):
        with pytest.raises(ConfigError, match=match):
            ModelSpec(**bad)
    assert set(LEGACY_SPEC_ARGUMENTS) == {
        "model_name", "freeze_strategy", "n_layers", "peft_method", "peft_kwargs", "max_length",
        "dropout",
    }


def test_sizes_come_from_one_place():
    quick = get_profile("quick")
    config, max_length = run_sizes(ModelSpec(), None, "quick")
    assert (config.batch_size, config.epochs, config.max_steps, config.seed, max_length) == (
        quick.batch_size, quick.epochs, quick.max_steps, quick.seed, quick.max_length
    )
    mine = TrainConfig(batch_size=5, epochs=3)
    config, max_length = run_sizes(ModelSpec(max_length=40), mine, quick)
    assert config is mine and max_length == 40
    # both given: no profile is read at all, even a broken one
    assert run_sizes(ModelSpec(max_length=40), mine, "no-such-profile") == (mine, 40)
    with pytest.raises(ConfigError, match="unknown profile"):
        run_sizes(ModelSpec(), mine, "no-such-profile")


def test_pairs_from_implicit_feedback_say_there_is_nothing_to_predict():
    events = make_synthetic(n_users=6, n_items=8, seed=0, ratings_per_user=4).ratings
    events = events.drop(columns="rating")
    events.attrs[IMPLICIT_ATTR] = True
    movies = make_synthetic(n_users=6, n_items=8, seed=0).movies
    pairs = make_pairs(events, events, movies, max_items=2)
    assert pairs.attrs.get(IMPLICIT_ATTR) is True  # the kind of data travels with the pairs
    with pytest.raises(SchemaError, match=r"implicit feedback.*no rating to predict.*loss='bce'"):
        finetune_rating_model(pairs, None)
