"""recsys_tutorial.schema: the scale, the liked threshold and the implicit-feedback check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import ConfigError, SchemaError
from recsys_tutorial.schema import (
    IMPLICIT_ATTR,
    RATING_SCALE,
    SCALE_ATTR,
    check_scale,
    id_repr,
    liked_threshold,
    rating_scale,
    require_ratings,
    with_scale,
)


def frame(ratings) -> pd.DataFrame:
    return pd.DataFrame({"userId": range(len(ratings)), "movieId": 1, "rating": ratings})


def test_check_scale_accepts_numpy_numbers_and_refuses_the_rest():
    assert check_scale((np.int64(1), np.float32(10))) == (1.0, 10.0)
    for bad in [(5, 1), (1, 1), (1,), "1-10", (True, 10), (0, float("nan")), None]:
        with pytest.raises(ConfigError, match="scale"):
            check_scale(bad)


def test_rating_scale_explicit_then_attrs_then_observed_range():
    f = frame([6.0, 8.0, 10.0])
    assert rating_scale(f) == (6.0, 10.0)  # what the ratings span
    with_scale(f, (1, 10))
    assert f.attrs[SCALE_ATTR] == (1.0, 10.0)
    assert rating_scale(f) == (1.0, 10.0)  # the recorded scale wins over the range
    assert rating_scale(f, (0, 20)) == (0.0, 20.0)  # an explicit scale wins over both
    assert rating_scale(f[f.rating > 7]) == (1.0, 10.0)  # attrs survive filtering
    assert rating_scale(None) == RATING_SCALE
    assert rating_scale(frame([3.0, 3.0])) == (2.5, 3.5)  # one value: a range around it


def test_liked_threshold_sits_seven_ninths_up_the_scale():
    assert liked_threshold() == pytest.approx(4.0)  # MovieLens' 0.5-5
    assert liked_threshold(scale=(1, 10)) == pytest.approx(8.0)
    assert liked_threshold(with_scale(frame([1.0, 10.0]), (1, 10))) == pytest.approx(8.0)
    assert liked_threshold(frame([1.0, 10.0])) == pytest.approx(4.0)  # no recorded scale
    assert liked_threshold(frame([1.0]), np.float64(3.5)) == 3.5
    with pytest.raises(ConfigError, match="threshold"):
        liked_threshold(threshold="high")


def test_require_ratings_names_implicit_feedback():
    events = pd.DataFrame({"userId": [1], "movieId": [2]})
    with pytest.raises(SchemaError, match=r"BiasBaseline.fit needs ratings.*Popularity"):
        require_ratings(events, what="BiasBaseline.fit")
    events.attrs[IMPLICIT_ATTR] = True
    with pytest.raises(SchemaError, match="holds implicit feedback"):
        require_ratings(events)
    with pytest.raises(SchemaError, match="the frame has no 'rating' column"):
        rating_scale(events)
    require_ratings(frame([4.0]))  # ratings present: no error
    with pytest.raises(SchemaError, match="expected a pandas DataFrame"):
        require_ratings([1, 2])


def test_id_repr_shows_ids_as_written():
    assert id_repr(np.int64(7)) == "7"
    assert id_repr("007") == "'007'"
    assert id_repr(2**70) == str(2**70)
