"""recsys_tutorial.config: profiles, learning rates, seeding, device and cache directory."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_tutorial.config import (
    CACHE_ENV,
    DEFAULT_PROFILE,
    PROFILE_ENV,
    PROFILES,
    Profile,
    cache_dir,
    check_learning_rate,
    get_device,
    get_profile,
    seed_everything,
)
from recsys_tutorial.errors import ConfigError

SIZE_FIELDS = [
    "train_samples",
    "eval_samples",
    "sweep_train_samples",
    "sweep_eval_samples",
    "epochs",
    "max_steps",
    "batch_size",
    "max_length",
    "history_items",
    "mf_epochs",
    "ranking_users",
]


@pytest.fixture(autouse=True)
def _no_profile_env(monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"unknown profile 'fast'; choose one of \['full', 'quick'\]"
    ):
        get_profile("fast")
    with pytest.raises(ConfigError, match=r"unknown profile '3'"):
        get_profile(3)  # not a string: still a ConfigError, not an AttributeError


def test_profile_by_name_and_default():
    assert get_profile("quick") is PROFILES["quick"]
    assert get_profile(" QUICK ").name == "quick"  # trimmed, case-insensitive
    assert get_profile().name == DEFAULT_PROFILE == "full"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "quick")
    assert get_profile().name == "quick"
    assert get_profile("full").name == "full"  # an explicit name wins
    monkeypatch.setenv(PROFILE_ENV, "huge")
    with pytest.raises(ConfigError, match=rf"unknown profile 'huge'.*{PROFILE_ENV}"):
        get_profile()


def test_quick_profile_is_smaller_than_full():
    quick, full = PROFILES["quick"], PROFILES["full"]
    assert quick.train_samples < full.train_samples and quick.eval_samples < full.eval_samples
    assert quick.seed == full.seed == 42


@pytest.mark.parametrize("field", SIZE_FIELDS)
@pytest.mark.parametrize("value", [0, -1])
def test_zero_or_negative_sizes_are_rejected(field, value):
    with pytest.raises(
        ConfigError, match=rf"profile field '{field}' must be positive, got {value}"
    ):
        PROFILES["quick"].replace(**{field: value})


@pytest.mark.parametrize("value", [1.5, "16", True])
def test_non_integer_sizes_are_rejected(value):
    with pytest.raises(ConfigError, match="profile field 'batch_size' must be an integer"):
        PROFILES["quick"].replace(batch_size=value)


def test_profile_replace():
    quick = PROFILES["quick"]
    original = quick.train_samples
    bigger = quick.replace(train_samples=1000, max_steps=None, seed=0)
    assert bigger.train_samples == 1000 and bigger.max_steps is None and bigger.seed == 0
    assert bigger.batch_size == quick.batch_size and bigger.name == "quick"
    assert quick.train_samples == original != 1000  # the original is unchanged (and frozen)
    with pytest.raises(AttributeError):
        quick.train_samples = 1  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"unknown profile field\(s\) \['train_size'\]"):
        quick.replace(train_size=10)
    with pytest.raises(ConfigError, match="'seed' must be positive, got -1"):
        quick.replace(seed=-1)


@pytest.mark.parametrize(
    "lr", ["abc", float("nan"), -1, 0, float("inf"), None, True, [1e-4], 10**400]
)
def test_bad_learning_rates(lr):
    with pytest.raises(ConfigError, match="learning rate must be"):
        check_learning_rate(lr)


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=1e-12, max_value=10.0))
def test_good_learning_rates(lr):
    assert check_learning_rate(lr) == lr
    assert check_learning_rate(repr(lr)) == lr  # strings from the command line


def test_learning_rate_messages_quote_the_value():
    with pytest.raises(ConfigError, match=r"must be a number, got 'abc'"):
        check_learning_rate("abc")
    with pytest.raises(ConfigError, match=r"positive and finite, got -1"):
        check_learning_rate(-1)
    assert math.isclose(check_learning_rate("2e-5"), 2e-5)


def test_seed_everything_repeats_draws():
    torch = pytest.importorskip("torch")

    def draws():
        return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()

    seed_everything(123)
    first = draws()
    seed_everything(123)
    assert draws() == first
    seed_everything(124)
    assert draws() != first


def test_get_device():
    torch = pytest.importorskip("torch")
    device = get_device()
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert device.type == "cpu"
    assert get_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="unknown device 'toaster'"):
        get_device("toaster")


def test_cache_dir_honours_the_environment(tmp_path, monkeypatch):
    target = tmp_path / "deep" / "cache"
    monkeypatch.setenv(CACHE_ENV, str(target))
    assert cache_dir() == target and target.is_dir()  # created on demand
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "recsys_tutorial"


def test_profile_is_a_dataclass_of_counts():
    p = Profile(
        name="tiny",
        train_samples=1,
        eval_samples=1,
        sweep_train_samples=1,
        sweep_eval_samples=1,
        epochs=1,
        max_steps=None,
        batch_size=1,
        max_length=8,
        history_items=1,
        mf_epochs=1,
        ranking_users=1,
    )
    assert p.seed == 42
