"""Top-K lists: seen items excluded, ordering, errors, two-stage retrieval."""

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.baselines import BiasBaseline, Popularity
from recsys_tutorial.errors import RecommendError, UnknownUserError
from recsys_tutorial.recommend import TwoStage, recommend, relevant_items, top_k_for_users

MOVIES = pd.DataFrame({"movieId": [1, 2, 3, 4, 5], "title": ["A", "B", "C", "D", "E"]})
SEEN = pd.DataFrame(
    {"userId": [1, 1, 2, 2, 2, 2, 2], "movieId": [1, 2, 1, 2, 3, 4, 5], "rating": [5.0, 3, 4, 4, 4, 4, 1], "timestamp": 0}
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
    # k larger than what is left returns what is left
    assert len(recommend(scorer, 1, seen=SEEN, items=MOVIES, k=5)) == 3


def test_recommend_errors_are_specific():
    scorer = FixedScores({i: 0.0 for i in range(1, 6)})
    with pytest.raises(UnknownUserError, match="allow_unknown_users"):
        recommend(scorer, 99, seen=SEEN, items=MOVIES, k=3)
    with pytest.raises(RecommendError, match="rated every item"):
        recommend(scorer, 2, seen=SEEN, items=MOVIES, k=3)
    with pytest.raises(RecommendError, match="larger than the catalogue"):
        recommend(scorer, 1, seen=SEEN, items=MOVIES, k=6)
    with pytest.raises(RecommendError, match="positive"):
        recommend(scorer, 1, seen=SEEN, items=MOVIES, k=0)
    new_user = recommend(scorer, 99, seen=SEEN, items=MOVIES, k=5, allow_unknown_users=True)
    assert len(new_user) == 5


def test_two_stage_reranks_only_retrieved_candidates():
    retriever = FixedScores({1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0})
    reranker = FixedScores({1: 0.0, 2: 1.0, 3: 2.0, 4: 100.0, 5: 100.0})
    top = recommend(TwoStage(retriever, reranker, n_candidates=3), 99, seen=SEEN, items=MOVIES, k=2, allow_unknown_users=True)
    # items 4 and 5 score highest with the reranker but were not retrieved
    assert top["movieId"].tolist() == [3, 2]
    assert sorted(reranker.calls[0]) == [1, 2, 3]


def test_baselines_are_scorers_and_relevance_threshold():
    pop = Popularity().fit(SEEN)
    lists = top_k_for_users(pop, [1], seen=SEEN, items=MOVIES, k=3)
    assert lists[1] == [3, 4, 5]
    bias = BiasBaseline().fit(SEEN)
    assert len(recommend(bias, 1, seen=SEEN, items=MOVIES, k=3)) == 3
    assert relevant_items(SEEN) == {1: {1}, 2: {1, 2, 3, 4}}
