"""recsys_tutorial.errors: one base class, and each error is also the matching builtin."""

from __future__ import annotations

import pytest

from recsys_tutorial import errors
from recsys_tutorial.errors import (
    CheckpointError,
    ChecksumError,
    ConfigError,
    DataError,
    DataFileError,
    DuplicateRatingError,
    EvaluationError,
    ModelLoadError,
    RatingValueError,
    RecommendError,
    RecsysTutorialError,
    SchemaError,
    SplitError,
    UnknownItemError,
    UnknownUserError,
)

BUILTIN = {
    ConfigError: ValueError,
    DataError: ValueError,
    DataFileError: ValueError,
    ChecksumError: ValueError,
    SchemaError: ValueError,
    RatingValueError: ValueError,
    DuplicateRatingError: ValueError,
    SplitError: ValueError,
    RecommendError: ValueError,
    EvaluationError: ValueError,
    UnknownUserError: KeyError,
    UnknownItemError: KeyError,
    ModelLoadError: OSError,
    CheckpointError: OSError,
}


@pytest.mark.parametrize("cls", list(BUILTIN), ids=lambda c: c.__name__)
def test_every_error_is_a_package_error_and_its_builtin(cls):
    assert issubclass(cls, RecsysTutorialError)
    assert issubclass(cls, BUILTIN[cls])
    with pytest.raises(RecsysTutorialError):
        raise cls("boom")
    with pytest.raises(BUILTIN[cls]):
        raise cls("boom")


def test_the_table_covers_every_error_in_the_module():
    defined = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, RecsysTutorialError)
        and obj is not RecsysTutorialError
    }
    assert defined == set(BUILTIN)


def test_data_errors_hierarchy():
    for cls in (DataFileError, SchemaError, RatingValueError, DuplicateRatingError, SplitError):
        assert issubclass(cls, DataError)
    assert issubclass(ChecksumError, DataFileError)
    assert not issubclass(ConfigError, DataError)
    assert not issubclass(RecsysTutorialError, (ValueError, KeyError, OSError))


@pytest.mark.parametrize("cls", [UnknownUserError, UnknownItemError])
def test_unknown_id_errors_read_like_sentences(cls):
    message = "user 999 is not in the training data; known users are 1..610"
    err = cls(message)
    assert str(err) == message  # a plain KeyError would print it wrapped in quotes
    assert str(KeyError(message)) == repr(message)
    assert str(cls()) == ""
    try:
        {}[1]
    except KeyError:
        with pytest.raises(KeyError, match=r"^user 999 is not"):
            raise err from None


def test_catching_the_base_class_catches_everything():
    caught = []
    for cls in BUILTIN:
        try:
            raise cls("x")
        except RecsysTutorialError as exc:
            caught.append(type(exc))
    assert caught == list(BUILTIN)
