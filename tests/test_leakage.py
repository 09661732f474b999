"""leakage_report and time_values: hand-counted leakage, exact id matching, times of any kind."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import SchemaError, SplitError
from recsys_tutorial.leakage import leakage_report, time_values
from recsys_tutorial.schema import ITEM_COL, TIME_COL, USER_COL


def test_later_item_ratings_counts_other_users_only():
    train = pd.DataFrame(
        {USER_COL: ["u1", "u2", "u3", "u1"], ITEM_COL: [1, 1, 2, 3], TIME_COL: [10, 50, 5, 40]}
    )
    test = pd.DataFrame(
        {USER_COL: ["u3", "u2", "u1", "u2", "u1", "u2"], ITEM_COL: [1, 2, 4, 3, 1, 1],
         TIME_COL: [20, 30, 1, 35, 30, 45]}
    )
    report = leakage_report(train, test)
    # counted: (u3, 1, 20) < u2's 50; (u2, 3, 35) < u1's 40; (u1, 1, 30) < u2's 50.
    # not: (u2, 2, 30) > 5; (u1, 4) unseen; (u2, 1, 45): only u2's own 50 is later, u1's is 10.
    assert report["later_item_ratings"] == 3
    assert report["not_after_train"] == 5  # all but (u3, 1, 20): u3's last training time is 5
    assert report["shared_pairs"] == 2 and report["shared_rows"] == 2
    assert leakage_report(train.drop(columns=TIME_COL), test)["later_item_ratings"] is None


def test_ids_are_compared_exactly():
    train = pd.DataFrame({USER_COL: pd.Series([1, "007"], dtype=object), ITEM_COL: ["a", "b"]})
    test = pd.DataFrame({USER_COL: pd.Series(["1", 7, 1], dtype=object), ITEM_COL: ["a", "b", "a"]})
    report = leakage_report(train, test)
    assert report["cold_users"] == 2 and report["cold_user_ratings"] == 2  # "1" and 7 are new
    assert report["shared_pairs"] == 1 and report["shared_rows"] == 1  # only (1, "a")
    assert report["train_users"] == 2 and report["test_users"] == 3
    assert report["not_after_train"] is None and report["later_item_ratings"] is None


def test_time_values_numbers_text_and_datetimes():
    frame = pd.DataFrame({TIME_COL: [3, 1, 2]})
    np.testing.assert_array_equal(time_values(frame), [3, 1, 2])
    np.testing.assert_array_equal(time_values(frame.astype({TIME_COL: str})), [3, 1, 2])
    dates = pd.DataFrame({TIME_COL: pd.to_datetime(["1970-01-01 00:00:01"], utc=True)})
    assert time_values(dates).tolist() == [1_000_000_000]  # nanoseconds since 1970, UTC
    with pytest.raises(SplitError, match=r"row 1 holds 'soon'"):
        time_values(pd.DataFrame({TIME_COL: ["1", "soon"]}))
    with pytest.raises(SchemaError, match="targets: column 'timestamp'"):
        time_values(pd.DataFrame({TIME_COL: [None, 1.0]}), what="targets", error=SchemaError)
