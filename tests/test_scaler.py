"""TargetScaler: standardised targets on the data's own rating scale."""

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_tutorial.errors import CheckpointError, ConfigError, RatingValueError
from recsys_tutorial.scaler import TargetScaler
from recsys_tutorial.schema import RATING_SCALE, SCALE_ATTR

SIX_TO_TEN = [6.0, 7.0, 8.0, 9.0, 10.0, 8.0]  # mean 8, std sqrt(10/6)


def test_round_trip_on_the_observed_range():
    scaler = TargetScaler.fit([1.0, 3.0, 5.0])
    assert scaler.mean == pytest.approx(3.0) and scaler.std == pytest.approx((8 / 3) ** 0.5)
    assert scaler.scale == (1.0, 5.0)  # a plain list: the range it spans
    z = scaler.transform(np.array([1.0, 5.0]))
    np.testing.assert_allclose(scaler.inverse_transform(z), [1.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(np.array([10.0, -10.0])), [5.0, 1.0])
    t = scaler.inverse_transform(torch.tensor([0.0]))
    assert isinstance(t, torch.Tensor) and t.item() == pytest.approx(3.0)
    assert TargetScaler.from_json(scaler.to_json()) == scaler
    with pytest.raises(ConfigError):
        TargetScaler(3.0, 0.0)


def test_six_to_ten_ratings_are_not_predicted_as_five():
    # the issue: fit on 6-10 ratings clipped every prediction to 5.00
    scaler = TargetScaler.fit(SIX_TO_TEN)
    assert scaler.scale == (6.0, 10.0) and scaler.mean == pytest.approx(8.0)
    ratings = np.array([6.0, 7.5, 10.0])
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(ratings)), ratings, rtol=1e-6
    )
    assert scaler.inverse_transform(np.array([0.0]))[0] == pytest.approx(8.0)


def test_scale_from_a_series_attrs_then_explicit():
    frame = pd.DataFrame({"rating": SIX_TO_TEN})
    frame.attrs[SCALE_ATTR] = (1, 10)
    from_attrs = TargetScaler.fit(frame["rating"])
    assert from_attrs.scale == (1.0, 10.0)
    assert TargetScaler.fit(frame).scale == (1.0, 10.0)  # a one-column frame too
    # std * 3 above the mean is past 10: clipped to the scale's top, not to 5
    assert from_attrs.inverse_transform(np.array([3.0]))[0] == 10.0
    explicit = TargetScaler.fit(frame["rating"], scale=(0, 12))
    assert explicit.scale == (0.0, 12.0)
    assert TargetScaler.fit(frame["rating"], scale=(np.int64(1), np.float32(10))).scale == (
        1.0,
        10.0,
    )


def test_training_ratings_outside_the_scale_are_refused():
    with pytest.raises(RatingValueError, match=r"\(0\.5, 5\).*first is 6"):
        TargetScaler.fit(SIX_TO_TEN, scale=RATING_SCALE)
    with pytest.raises(RatingValueError, match=r"\(0\.5, 5\).*first is 6"):
        TargetScaler.fit(SIX_TO_TEN, low=0.5, high=5.0)  # the old keywords
    frame = pd.DataFrame({"rating": [3.0, 11.0, 12.0]})
    frame.attrs[SCALE_ATTR] = (1, 10)
    with pytest.raises(RatingValueError, match=r"2 training rating.*\(1, 10\).*first is 11"):
        TargetScaler.fit(frame["rating"])
    with pytest.raises(RatingValueError, match="first is inf"):
        TargetScaler.fit([1.0, np.inf], scale=(1, 5))


def test_old_low_high_keywords_and_bad_scales():
    residuals = TargetScaler.fit([-1.0, 0.0, 2.0], low=-5.0, high=5.0)
    assert residuals.scale == (-5.0, 5.0)
    assert TargetScaler.fit([6.0, 8.0], high=10).scale == (
        6.0,
        10.0,
    )  # the other bound from the data
    with pytest.raises(ConfigError, match="not both"):
        TargetScaler.fit([1.0, 2.0], scale=(1, 5), low=1)
    for bad in ((5, 1), (1,), "1-10", (1, float("nan"))):
        with pytest.raises(ConfigError):
            TargetScaler.fit([1.0, 2.0], scale=bad)
    with pytest.raises(ConfigError, match="no finite ratings"):
        TargetScaler.fit([float("nan")])
    with pytest.raises(ConfigError, match="numbers"):
        TargetScaler.fit(["a", "b"])


def test_nan_is_ignored_and_one_value_gets_a_unit_std():
    scaler = TargetScaler.fit(np.array([4.0, np.nan, 4.0]))
    assert (scaler.mean, scaler.std, scaler.scale) == (4.0, 1.0, (3.5, 4.5))
    assert TargetScaler.fit(torch.tensor([2.0, 4.0])).mean == 3.0


def test_inverse_transform_and_its_alias():
    scaler = TargetScaler(5.5, 2.0, low=1, high=10)
    z = np.array([-3.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(scaler.to_rating(z), scaler.inverse_transform(z))
    np.testing.assert_allclose(scaler.inverse_transform(z), [1.0, 5.5, 7.5, 10.0])
    np.testing.assert_allclose(scaler.inverse_transform(z, clip=False), [-0.5, 5.5, 7.5, 11.5])
    np.testing.assert_allclose(scaler.transform([7.5]), [1.0])
    tensor = scaler.inverse_transform(torch.tensor([3.0]), clip=False)
    assert tensor.item() == pytest.approx(11.5)


def test_dict_round_trip_keeps_the_scale():
    scaler = TargetScaler.fit([2.0, 9.0, 7.0], scale=(1, 10))
    data = scaler.to_dict()
    assert data["low"] == 1.0 and data["high"] == 10.0
    assert TargetScaler.from_dict(data) == scaler
    old = {"mean": 3.5, "std": 1.0, "low": 0.5, "high": 5.0}  # checkpoints from before `link`
    assert TargetScaler.from_dict(old) == TargetScaler(3.5, 1.0)
    with pytest.raises(CheckpointError, match="lacks"):
        TargetScaler.from_dict({"mean": 1.0})


def test_binary_scaler_gives_probabilities():
    scaler = TargetScaler.binary()
    assert scaler.scale == (0.0, 1.0) and scaler.link == "logit"
    np.testing.assert_allclose(scaler.inverse_transform(np.array([0.0])), [0.5])
    np.testing.assert_array_equal(scaler.transform([0, 1]), np.array([0.0, 1.0], np.float32))
    with pytest.raises(ConfigError, match="link"):
        TargetScaler(0.0, 1.0, link="probit")
