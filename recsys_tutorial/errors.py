"""Exceptions raised by the package: one base class, one subclass per kind of problem.

Every message says what is wrong (the file, column, row or argument) and what to do.
Catch :class:`RecsysTutorialError` to handle them all.
"""

from __future__ import annotations


class RecsysTutorialError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(RecsysTutorialError, ValueError):
    """An unknown profile, a negative size, a learning rate that is not a number, ..."""


class DataError(RecsysTutorialError, ValueError):
    """A data file or frame that cannot be used as it is."""


class DataFileError(DataError):
    """A missing, empty, truncated or unreadable file or archive."""


class ChecksumError(DataFileError):
    """A file whose SHA-256 differs from the one the package expects."""


class SchemaError(DataError):
    """A missing or renamed column, or a column of the wrong type."""


class RatingValueError(DataError):
    """A rating that is NaN or outside the rating scale."""


class DuplicateRatingError(DataError):
    """The same (user, item) pair rated more than once, under the 'raise' policy."""


class SplitError(DataError):
    """A split that cannot be made (too few ratings, a fraction outside (0, 1), ...)."""


class UnknownUserError(RecsysTutorialError, KeyError):
    """A user id that the model or the data has never seen."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownItemError(RecsysTutorialError, KeyError):
    """An item id absent from the catalogue."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RecommendError(RecsysTutorialError, ValueError):
    """A recommendation request that cannot be answered (k <= 0, nothing left to recommend, ...)."""


class EvaluationError(RecsysTutorialError, ValueError):
    """Inputs a metric cannot score: lengths that differ, NaN, a list that repeats an item, ..."""


class ModelLoadError(RecsysTutorialError, OSError):
    """A model path or id that does not exist or holds no usable weights."""


class CheckpointError(RecsysTutorialError, OSError):
    """A checkpoint that is missing, truncated, corrupted or from another architecture."""
