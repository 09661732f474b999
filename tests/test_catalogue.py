"""Ids kept as given, catalogues deduplicated or refused."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.catalogue import catalogue_ids, id_array, positive_int
from recsys_tutorial.errors import RecommendError, SchemaError


def test_id_array_keeps_ids_as_given():
    mixed = [7, "7", "A1", 10**30, "Zoë"]
    ids = id_array(mixed)
    assert ids.dtype == object and all(a is b for a, b in zip(ids, mixed, strict=True))
    assert id_array([1, np.int64(2)]).dtype == np.int64
    assert id_array([True, 1]).dtype == object  # a bool is no item id number
    strings = id_array(np.array(["007", "A1"]))
    assert strings.tolist() == ["007", "A1"] and all(type(i) is str for i in strings)
    assert id_array(pd.Series([3, 1, 2])).tolist() == [3, 1, 2]
    assert id_array([]).size == 0
    with pytest.raises(RecommendError, match="string"):
        id_array("A1")


def test_catalogue_ids_dedupes_sequences_in_order_of_first_appearance():
    ids, titles = catalogue_ids([5, 3, 5, 4, 3])
    assert ids.tolist() == [5, 3, 4] and titles is None
    assert catalogue_ids(["b", 1, "b", "1"])[0].tolist() == ["b", 1, "1"]
    frame = pd.DataFrame({"movieId": ["007", "A1"], "title": ["Bond", "A"]})
    ids, titles = catalogue_ids(frame)
    assert ids.tolist() == ["007", "A1"] and titles.tolist() == ["Bond", "A"]


def test_catalogue_frame_with_a_repeated_id_is_refused():
    frame = pd.DataFrame({"movieId": ["x", "007", "y", "007"], "title": list("abcd")})
    with pytest.raises(RecommendError, match=r"id '007' appears in 2 rows \(positions \[1, 3\]\)"):
        catalogue_ids(frame)
    with pytest.raises(SchemaError, match="'item'"):
        catalogue_ids(frame, item_col="item")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_positive_int(bad):
    assert positive_int(np.int64(3), "k") == 3
    with pytest.raises(RecommendError, match=r"^n_candidates must be a positive integer"):
        positive_int(bad, "n_candidates")
