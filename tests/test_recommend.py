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


# --------------------------------------------------------------------------- TextModelScorer (ch.3)

TEXT_MOVIES = pd.DataFrame(
    {
        "movieId": [1, 2, 3, 4, 5, 6],
        "title": ["Alien", "Heat", "Toy Story", "Up", "Jaws", "Big"],
        "year": [1979, 1995, 1995, 2009, 1975, 1988],
        "genres": [["Horror"], ["Crime"], ["Animation"], ["Animation"], ["Thriller"], ["Comedy"]],
    }
)
TEXT_RATINGS = pd.DataFrame(
    {"userId": [7, 7, 7, 8], "movieId": [1, 2, 3, 1], "rating": [5.0, 2.0, 4.0, 3.0], "timestamp": [10, 30, 20, 5]}
)


def _text_scorer(model, tokenizer, **kwargs):
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.recommend import TextModelScorer

    return TextModelScorer(model, tokenizer, TargetScaler(3.5, 1.0), ratings=TEXT_RATINGS, movies=TEXT_MOVIES, **kwargs)


def test_text_scorer_history_matches_make_pairs_and_new_users_fall_back(tiny_bert, tokenizer):
    from recsys_tutorial.text import NO_HISTORY, make_pairs

    scorer = _text_scorer(tiny_bert, tokenizer, max_items=2)
    later = pd.DataFrame({"userId": [7], "movieId": [4], "timestamp": [100]})
    expected = make_pairs(later, TEXT_RATINGS, TEXT_MOVIES, max_items=2)
    assert scorer.history_for(7) == expected["history"].iloc[0] == "Heat 2.0; Toy Story 4.0"
    histories, candidates = scorer.pairs_for(7, [4])
    assert (histories[0], candidates[0]) == (expected["history"].iloc[0], expected["candidate"].iloc[0])
    assert scorer.history_for(99) == NO_HISTORY


def test_text_scorer_predicts_like_train_predict_in_any_batch_size(tiny_bert, tokenizer):
    from recsys_tutorial.datasets import RatingTextDataset, make_loader
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.text import make_pairs
    from recsys_tutorial.train import predict

    items = [6, 4, 5, 3]
    targets = pd.DataFrame({"userId": 7, "movieId": items, "timestamp": 100})
    pairs = make_pairs(targets, TEXT_RATINGS, TEXT_MOVIES, max_items=6)
    loader = make_loader(RatingTextDataset.from_pairs(pairs, tokenizer, max_length=48), 3, shuffle=False)
    reference = predict(tiny_bert, loader, TargetScaler(3.5, 1.0))
    for batch_size in (1, 3, 128):
        scores = _text_scorer(tiny_bert, tokenizer, max_length=48, batch_size=batch_size).score_items(7, items)
        assert scores.shape == (4,) and scores.dtype == np.float64
        np.testing.assert_allclose(scores, reference, atol=1e-5)
    assert ((scores >= 0.5) & (scores <= 5.0)).all()
    assert _text_scorer(tiny_bert, tokenizer).score_items(7, []).shape == (0,)


def test_text_scorer_in_recommend_and_two_stage(tiny_bert, tokenizer):
    from recsys_tutorial.errors import UnknownItemError

    scorer = _text_scorer(tiny_bert, tokenizer)
    top = recommend(scorer, 7, seen=TEXT_RATINGS, items=TEXT_MOVIES, k=3)
    assert len(top) == 3 and not set(top["movieId"]) & {1, 2, 3}
    assert top["score"].is_monotonic_decreasing
    retriever = FixedScores({i: float(-i) for i in range(1, 7)})  # retrieves 4 and 5 of 4, 5, 6
    two = recommend(TwoStage(retriever, scorer, n_candidates=2), 7, seen=TEXT_RATINGS, items=TEXT_MOVIES, k=2)
    assert set(two["movieId"]) == {4, 5}
    with pytest.raises(UnknownItemError, match="not in the catalogue"):
        scorer.score_items(7, [1, 42])
    with pytest.raises(RecommendError, match="batch_size"):
        _text_scorer(tiny_bert, tokenizer, batch_size=0)
