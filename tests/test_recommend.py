"""Top-K lists: seen items excluded, ordering, short lists, skipped users, errors, two-stage
retrieval, ids of any kind (TextModelScorer: tests/test_text_scorer.py)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys_tutorial.baselines import BiasBaseline, Popularity
from recsys_tutorial.errors import RecommendError, SchemaError, UnknownUserError
from recsys_tutorial.metrics import ranking_report
from recsys_tutorial.recommend import (
    TopKLists,
    TwoStage,
    candidates_for,
    recommend,
    relevant_items,
    top_k_for_users,
)

MOVIES = pd.DataFrame({"movieId": [1, 2, 3, 4, 5], "title": ["A", "B", "C", "D", "E"]})
SEEN = pd.DataFrame(
    {
        "userId": [1, 1, 2, 2, 2, 2, 2],
        "movieId": [1, 2, 1, 2, 3, 4, 5],
        "rating": [5.0, 3, 4, 4, 4, 4, 1],
        "timestamp": 0,
    }
)


class FixedScores:
    """Scores = a fixed value per item (the item id's position in `order`)."""

    def __init__(self, values):
        self.values = values
        self.calls = []

    def score_items(self, user_id, item_ids):
        self.calls.append(list(item_ids))
        return np.array([self.values[i] for i in item_ids], dtype=float)


def test_recommend_excludes_seen_and_sorts_by_score():
    scorer = FixedScores({1: 9.0, 2: 8.0, 3: 1.0, 4: 7.0, 5: 7.0})
    top = recommend(scorer, 1, seen=SEEN, items=MOVIES, k=2)
    assert top["movieId"].tolist() == [4, 5]  # 1 and 2 are seen; tie 4/5 broken by id
    assert top["rank"].tolist() == [1, 2]
    assert top["title"].tolist() == ["D", "E"]
    assert scorer.calls == [[3, 4, 5]]
    # k larger than what is left returns what is left, with a warning naming the user
    with pytest.warns(UserWarning, match=r"user 1: only 3 item\(s\) .* 3 of the 5 asked for"):
        assert len(recommend(scorer, 1, seen=SEEN, items=MOVIES, k=5)) == 3


def test_recommend_errors_are_specific():
    scorer = FixedScores({i: 0.0 for i in range(1, 6)})
    with pytest.raises(UnknownUserError, match="allow_unknown_users"):
        recommend(scorer, 99, seen=SEEN, items=MOVIES, k=3)
    with pytest.raises(RecommendError, match="rated every item"):
        recommend(scorer, 2, seen=SEEN, items=MOVIES, k=3)
    with pytest.raises(RecommendError, match="larger than the catalogue"):
        recommend(scorer, 1, seen=SEEN, items=MOVIES, k=6)
    for bad in (0, -2, 2.0, True, "3"):
        with pytest.raises(RecommendError, match=r"^k must be a positive integer"):
            recommend(scorer, 1, seen=SEEN, items=MOVIES, k=bad)
    assert len(recommend(scorer, 1, seen=SEEN, items=MOVIES, k=np.int64(2))) == 2
    new_user = recommend(scorer, 99, seen=SEEN, items=MOVIES, k=5, allow_unknown_users=True)
    assert len(new_user) == 5


def test_two_stage_reranks_only_retrieved_candidates():
    retriever = FixedScores({1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0})
    reranker = FixedScores({1: 0.0, 2: 1.0, 3: 2.0, 4: 100.0, 5: 100.0})
    top = recommend(
        TwoStage(retriever, reranker, n_candidates=3),
        99,
        seen=SEEN,
        items=MOVIES,
        k=2,
        allow_unknown_users=True,
    )
    # items 4 and 5 score highest with the reranker but were not retrieved
    assert top["movieId"].tolist() == [3, 2]
    assert sorted(reranker.calls[0]) == [1, 2, 3]


def test_two_stage_never_pads_with_unretrieved_items():
    # the example: n_candidates=2, k=4 gave 2 reranked items + 2 unretrieved at -inf
    retriever = FixedScores({1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0})
    reranker = FixedScores({1: 1.0, 2: 2.0, 3: 0.0, 4: 0.0, 5: 0.0})
    two = TwoStage(retriever, reranker, n_candidates=2)
    assert two.score_items(99, [1, 2, 3, 4, 5]).tolist() == [1.0, 2.0, -np.inf, -np.inf, -np.inf]
    with pytest.warns(
        UserWarning, match=r"user 99: only 2 item\(s\) with a finite score .*5 unseen"
    ):
        top = recommend(two, 99, seen=SEEN, items=MOVIES, k=4, allow_unknown_users=True)
    assert top["movieId"].tolist() == [2, 1]
    assert np.isfinite(top["score"]).all()
    with pytest.warns(UserWarning, match=r"1 user\(s\) got fewer than k=4 items \(e.g. 1\)"):
        lists = top_k_for_users(two, [1], seen=SEEN, items=MOVIES, k=4)
    assert lists == {1: [3, 4]} and lists.attrs["short_users"] == [1]


def test_recommend_drops_nan_and_inf_scores_and_breaks_ties_by_catalogue_order():
    scorer = FixedScores({1: np.nan, 2: 3.0, 3: -np.inf, 4: 3.0, 5: np.inf})
    with pytest.warns(UserWarning, match="only 2"):
        top = recommend(scorer, 99, seen=SEEN, items=[4, 3, 2, 1, 5], k=3, allow_unknown_users=True)
    assert top["movieId"].tolist() == [4, 2]  # tie at 3.0: 4 comes first in the catalogue
    # ties at the k-th place are decided by catalogue order too, not by what a partition keeps
    tied = FixedScores({i: 1.0 if i in (9, 3, 7, 5) else 0.0 for i in range(10)})
    catalogue = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a full list warns about nothing
        top = recommend(tied, 99, seen=SEEN, items=catalogue, k=3, allow_unknown_users=True)
        assert top["movieId"].tolist() == [9, 7, 5]
        top = recommend(tied, 99, seen=SEEN, items=catalogue[::-1], k=6, allow_unknown_users=True)
        assert top["movieId"].tolist() == [3, 5, 7, 9, 0, 1]
    with pytest.raises(RecommendError, match="one score per item"):
        recommend(_Short(), 1, seen=SEEN, items=MOVIES, k=2)
    with pytest.raises(RecommendError, match="n_candidates"):
        TwoStage(scorer, scorer, n_candidates=True)
    with pytest.raises(SchemaError, match="'userId'"):
        recommend(scorer, 1, seen=SEEN.drop(columns="userId"), items=MOVIES, k=2)


class _Short:
    def score_items(self, user_id, item_ids):
        return np.zeros(1)


def test_catalogue_is_deduplicated_and_a_frame_with_a_repeated_id_refused():
    assert candidates_for(1, SEEN, [5, 3, 4, 3, 5, 1]).tolist() == [5, 3, 4]
    scorer = FixedScores({i: float(i) for i in range(1, 6)})
    top = recommend(scorer, 1, seen=SEEN, items=[3, 3, 4, 4, 5, 5], k=3)
    assert top["movieId"].tolist() == [5, 4, 3]
    assert scorer.calls[-1] == [3, 4, 5]
    assert top_k_for_users(scorer, [1], seen=SEEN, items=[3, 3, 4], k=2) == {1: [4, 3]}
    repeated = pd.DataFrame({"movieId": [1, 2, 2], "title": ["A", "B", "B2"]})
    for call in (
        lambda: recommend(scorer, 1, seen=SEEN, items=repeated, k=1),
        lambda: candidates_for(1, SEEN, repeated),
        lambda: top_k_for_users(scorer, [1], seen=SEEN, items=repeated, k=1),
    ):
        with pytest.raises(RecommendError, match=r"id 2 appears in 2 rows \(positions \[1, 2\]\)"):
            call()


def test_top_k_for_users_skips_users_with_nothing_left():
    scorer = FixedScores({i: float(i) for i in range(1, 6)})
    # user 2 rated all 5 items: recommend raises, top_k_for_users goes on and reports them
    with pytest.raises(RecommendError, match="nothing left"):
        recommend(scorer, 2, seen=SEEN, items=MOVIES, k=2)
    with pytest.warns(
        UserWarning, match=r"1 user\(s\) had nothing left to recommend and were skipped \(e.g. 2\)"
    ):
        lists = top_k_for_users(scorer, [1, 2], seen=SEEN, items=MOVIES, k=2)
    assert lists == {1: [5, 4]}
    assert lists.attrs["skipped_users"] == [2] and lists.attrs["short_users"] == []
    # a skipped user with a relevant item counts as 0 in the report
    report = ranking_report(lists, {1: {5}, 2: {1}}, k=2)
    assert (report["users"], report["users_without_list"], report["hit_rate@2"]) == (2, 1, 0.5)
    # a user whose every score is -inf is skipped too; an unknown user still raises
    none = FixedScores({i: -np.inf for i in range(1, 6)})
    with pytest.warns(UserWarning, match="skipped"):
        assert top_k_for_users(none, [1], seen=SEEN, items=MOVIES, k=2).attrs["skipped_users"] == [
            1
        ]
    with pytest.raises(UnknownUserError):
        top_k_for_users(scorer, [1, 99], seen=SEEN, items=MOVIES, k=2)
    with pytest.raises(RecommendError, match="k=9 is larger"):
        top_k_for_users(scorer, [1], seen=SEEN, items=MOVIES, k=9)


# --------------------------------------------------------------------------- ids of any kind

STR_MOVIES = pd.DataFrame({"movieId": ["007", "A1", "Zoë", "12"], "title": ["Bond", "A", "Z", "T"]})
STR_SEEN = pd.DataFrame(
    {
        "userId": ["u1", "u1", "0042"],
        "movieId": ["007", "12", "A1"],
        "rating": [5.0, 2.0, 4.0],
        "timestamp": 0,
    }
)


def test_string_ids_survive_recommend_top_k_and_two_stage():
    scorer = FixedScores({"007": 1.0, "A1": 3.0, "Zoë": 2.0, "12": 9.0})
    top = recommend(scorer, "u1", seen=STR_SEEN, items=STR_MOVIES, k=2)
    assert top["movieId"].tolist() == ["A1", "Zoë"] and top["title"].tolist() == ["A", "Z"]
    assert all(type(i) is str for i in top["movieId"])
    assert candidates_for("0042", STR_SEEN, STR_MOVIES).tolist() == ["007", "Zoë", "12"]
    lists = top_k_for_users(scorer, ["u1", "0042"], seen=STR_SEEN, items=STR_MOVIES, k=2)
    assert lists == {"u1": ["A1", "Zoë"], "0042": ["12", "Zoë"]}
    two = TwoStage(
        scorer, FixedScores({"007": 5.0, "A1": 0.0, "Zoë": 1.0, "12": 0.0}), n_candidates=2
    )
    assert recommend(two, "0042", seen=STR_SEEN, items=STR_MOVIES["movieId"], k=2)[
        "movieId"
    ].tolist() == ["Zoë", "12"]
    assert relevant_items(STR_SEEN) == {"u1": {"007"}, "0042": {"A1"}}
    # an int id and its string are different items; mixed kinds are never sorted
    mixed = [7, "7", "A1", 10**30]
    scorer = FixedScores({7: 1.0, "7": 2.0, "A1": 0.0, 10**30: 3.0})
    top = recommend(scorer, 9, seen=SEEN, items=mixed, k=4, allow_unknown_users=True)
    assert top["movieId"].tolist() == [10**30, "7", 7, "A1"]
    assert candidates_for("u1", STR_SEEN, ["007", 7]).tolist() == [7]


def test_baselines_are_scorers_and_relevance_threshold():
    pop = Popularity().fit(SEEN)
    lists = top_k_for_users(pop, [1], seen=SEEN, items=MOVIES, k=3)
    assert lists[1] == [3, 4, 5]
    bias = BiasBaseline().fit(SEEN)
    assert len(recommend(bias, 1, seen=SEEN, items=MOVIES, k=3)) == 3
    assert isinstance(lists, TopKLists) and lists.attrs == {"skipped_users": [], "short_users": []}
    assert relevant_items(SEEN) == {1: {1}, 2: {1, 2, 3, 4}}


# --------------------------------------------------------------------------- ids end to end

ANY_ID = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(2**63, 2**80),  # larger than int64: kept as Python ints
    st.from_regex(r"0[0-9]{1,5}", fullmatch=True),  # leading zeros
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=6),
)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _kinds(values) -> set:
    return {(type(_plain(v)), _plain(v)) for v in values}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_ids_scales_and_dates_come_out_of_the_recommendation_unchanged(data):
    """Whatever ids, scale and dates go into from_frames come out of a top-K list unchanged."""
    from recsys_tutorial.data import from_frames
    from recsys_tutorial.splits import temporal_split

    users = data.draw(st.lists(ANY_ID, min_size=2, max_size=5, unique=True))
    items = data.draw(st.lists(ANY_ID, min_size=4, max_size=7, unique=True))
    low = data.draw(st.sampled_from([-5, 0, 1]))
    high = low + data.draw(st.sampled_from([4, 9]))
    zone = data.draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo"]))
    rows = []
    for u in users:
        chosen = data.draw(
            st.lists(st.sampled_from(items), min_size=3, max_size=len(items), unique=True)
        )
        for item in chosen:
            rows.append((u, item, data.draw(st.integers(low, high))))
    start = pd.Timestamp("2021-03-28 00:30", tz=zone)
    when = [start + pd.Timedelta(hours=h) for h in range(len(rows))]
    ratings = pd.DataFrame({
        "who": pd.Series([r[0] for r in rows], dtype=object),
        "what": pd.Series([r[1] for r in rows], dtype=object),
        "score": [r[2] for r in rows],
        "when": pd.Series(when),
    })
    catalogue = pd.DataFrame({"what": pd.Series(items, dtype=object), "name": "a title"})
    loaded = from_frames(ratings, catalogue, user_col="who", item_col="what", rating_col="score",
                         timestamp_col="when", title_col="name", scale=(low, high))
    expected_seconds = [int(t.timestamp()) for t in when]
    assert loaded.ratings["timestamp"].tolist() == expected_seconds
    train, test = temporal_split(loaded.ratings, test_size=0.3)
    model = BiasBaseline().fit(train)
    predicted = model.predict(test)
    assert ((predicted >= low) & (predicted <= high)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # short lists are expected on tiny data
        lists = top_k_for_users(model, list(pd.unique(train["userId"])), seen=train,
                                items=loaded.items, k=2)
    assert _kinds(lists) <= _kinds(users)
    assert _kinds(i for top in lists.values() for i in top) <= _kinds(items)
    for user, top in lists.items():
        assert not _kinds(top) & _kinds(train.loc[train["userId"] == user, "movieId"])
