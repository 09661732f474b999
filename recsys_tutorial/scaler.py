"""Standardised regression targets on the data's own rating scale (chapter 4).

A language model with a one-output head trains best on targets near 0 with unit spread, so
:class:`TargetScaler` maps ratings to ``z = (rating - mean) / std``
(:meth:`~TargetScaler.transform`) and model outputs back to ratings
(:meth:`~TargetScaler.inverse_transform`), clipped into the rating scale ``[low, high]``.
The scale is the data's: ``(0.5, 5)`` for MovieLens, ``(1, 10)`` for a ten-point scale.
:meth:`TargetScaler.fit` resolves it like :func:`recsys_tutorial.schema.rating_scale` and
refuses training ratings outside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from .errors import CheckpointError, ConfigError, RatingValueError
from .schema import RATING_SCALE, SCALE_ATTR, check_scale

LINKS = ("identity", "logit")


@dataclass
class TargetScaler:
    """Standardised targets (ch.4): train on ``(rating - mean) / std``; map outputs back with
    :meth:`inverse_transform` (alias :meth:`to_rating`), clipped into ``[low, high]``.

    ``low``/``high`` are the rating scale (default :data:`recsys_tutorial.schema.RATING_SCALE`,
    MovieLens' 0.5-5 stars); :meth:`fit` takes them from the data. ``link="logit"`` is for 0/1
    targets (clicks): outputs are logits, predictions probabilities (see :meth:`binary`).
    Raises :class:`ConfigError` for a non-finite mean, a std <= 0 or ``low >= high``.
    """

    mean: float
    std: float
    low: float = RATING_SCALE[0]
    high: float = RATING_SCALE[1]
    link: str = "identity"

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ConfigError(f"TargetScaler.link must be one of {LINKS}, got {self.link!r}")
        self.low, self.high = check_scale((self.low, self.high), name="TargetScaler (low, high)")
        try:
            self.mean, self.std = float(self.mean), float(self.std)
        except (TypeError, ValueError):
            raise ConfigError(
                f"TargetScaler needs numbers for mean and std, got {self.mean!r}, {self.std!r}"
            ) from None
        if not (math.isfinite(self.mean) and math.isfinite(self.std)) or self.std <= 0:
            raise ConfigError(
                f"TargetScaler needs a finite mean and a positive std, got {self.mean}, {self.std}"
            )

    @property
    def scale(self) -> tuple[float, float]:
        """The rating scale ``(low, high)`` that predictions are clipped into."""
        return (self.low, self.high)

    @classmethod
    def fit(
        cls,
        ratings: Any,
        *,
        scale: tuple[float, float] | None = None,
        low: float | None = None,
        high: float | None = None,
    ) -> TargetScaler:
        """Mean and std of the training ``ratings`` (std 1 if they are all equal) and their scale.

        ``ratings``: a 1-D array-like, a pandas Series (e.g. ``pairs["rating"]``) or tensor, in
        rating units; NaN entries are ignored. The scale is, in order: ``scale=(low, high)``;
        the old ``low=``/``high=`` keywords (a missing one comes from the data); the
        ``attrs["rating_scale"]`` of a pandas Series or DataFrame column (set by
        :func:`recsys_tutorial.data.from_frames`); else the ``[min, max]`` of the ratings.

        Raises :class:`ConfigError` for no finite rating, a malformed scale or ``scale`` given
        together with ``low``/``high``; :class:`RatingValueError` (naming the scale and the
        first offending value) when a training rating lies outside the scale.
        """
        if scale is not None and (low is not None or high is not None):
            raise ConfigError("TargetScaler.fit: pass scale=(low, high) or low=/high=, not both")
        values = _finite_ratings(ratings)
        data_low, data_high = _data_scale(ratings, values)
        if scale is not None:
            lo, hi = check_scale(scale, name="TargetScaler.fit(scale=...)")
        elif low is not None or high is not None:
            lo, hi = check_scale(
                (data_low if low is None else low, data_high if high is None else high),
                name="TargetScaler.fit(low=..., high=...)",
            )
        else:
            lo, hi = data_low, data_high
        outside = np.flatnonzero((values < lo) | (values > hi))
        if outside.size:
            first = values[outside[0]]
            raise RatingValueError(
                f"TargetScaler.fit: {outside.size} training rating(s) lie outside the rating scale "
                f"({lo:g}, {hi:g}), the first is {first:g}; pass the data's scale with "
                "scale=(low, high) (e.g. (1, 10)) or drop those ratings"
            )
        std = float(values.std())
        return cls(float(values.mean()), std if std > 1e-8 else 1.0, lo, hi)

    @classmethod
    def binary(cls) -> TargetScaler:
        """For 0/1 targets trained with binary cross-entropy (ch.6.3): logits in,
        probabilities out."""
        return cls(0.0, 1.0, 0.0, 1.0, link="logit")

    def transform(self, ratings: Any) -> Any:
        """Ratings -> standardised targets: a tensor stays a tensor, anything else gives a
        float32 array of the same shape. With ``link="logit"`` the 0/1 labels pass unchanged."""
        if self.link == "logit":  # binary labels stay 0/1
            return (
                ratings.float()
                if isinstance(ratings, torch.Tensor)
                else np.asarray(ratings, dtype=np.float32)
            )
        if isinstance(ratings, torch.Tensor):
            return (ratings - self.mean) / self.std
        return (np.asarray(ratings, dtype=np.float32) - self.mean) / self.std

    def inverse_transform(self, output: Any, *, clip: bool = True) -> Any:
        """Model outputs -> ratings: ``output * std + mean``, clipped into ``[low, high]``
        (``clip=False`` leaves them unclipped). A tensor stays a tensor, anything else gives a
        float64 array. The inverse of :meth:`transform` on the scale.

        With ``link="logit"`` the outputs are logits and the result is a probability."""
        if self.link == "logit":
            if isinstance(output, torch.Tensor):
                return torch.sigmoid(output)
            return 1.0 / (1.0 + np.exp(-np.asarray(output, dtype=np.float64)))
        if isinstance(output, torch.Tensor):
            ratings = output * self.std + self.mean
            return ratings.clamp(self.low, self.high) if clip else ratings
        ratings = np.asarray(output, dtype=np.float64) * self.std + self.mean
        return np.clip(ratings, self.low, self.high) if clip else ratings

    def to_rating(self, output: Any, *, clip: bool = True) -> Any:
        """Alias of :meth:`inverse_transform` (the name older code uses)."""
        return self.inverse_transform(output, clip=clip)

    def to_dict(self) -> dict[str, Any]:
        """``{"mean", "std", "low", "high", "link"}``: JSON-able, read back by :meth:`from_dict`."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetScaler:
        """The scaler :meth:`to_dict` wrote; :class:`CheckpointError` for a record lacking a
        field."""
        try:
            return cls(
                **{k: data[k] for k in ("mean", "std", "low", "high")},
                link=data.get("link", "identity"),
            )
        except (KeyError, TypeError) as exc:
            raise CheckpointError(
                f"scaler record {data!r} lacks mean/std/low/high; save the checkpoint again"
            ) from exc

    @classmethod
    def from_json(cls, text: str) -> TargetScaler:
        return cls.from_dict(json.loads(text))


def _finite_ratings(ratings: Any) -> np.ndarray:
    """The ratings as a flat float64 array without NaN (inf stays, to be refused as off-scale)."""
    if isinstance(ratings, torch.Tensor):
        ratings = ratings.detach().cpu().numpy()
    try:
        values = np.asarray(ratings, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"TargetScaler.fit: ratings must be numbers ({exc}); pass the training ratings"
        ) from None
    values = values[~np.isnan(values)]
    if not np.isfinite(values).any():
        raise ConfigError("TargetScaler.fit: no finite ratings; pass the training ratings")
    return values


def _data_scale(ratings: Any, values: np.ndarray) -> tuple[float, float]:
    """The scale the data carries (pandas ``attrs``), else the span of the finite ratings."""
    if isinstance(ratings, (pd.Series, pd.DataFrame)) and ratings.attrs.get(SCALE_ATTR) is not None:
        return check_scale(ratings.attrs[SCALE_ATTR], name=f"ratings.attrs[{SCALE_ATTR!r}]")
    finite = values[np.isfinite(values)]
    lo, hi = float(finite.min()), float(finite.max())
    return (
        (lo, hi) if lo < hi else (lo - 0.5, hi + 0.5)
    )  # one distinct value: schema.rating_scale's rule
