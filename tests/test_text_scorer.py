"""TextModelScorer: history texts as make_pairs writes them, predictions, ids of any kind."""

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import RecommendError, UnknownItemError
from recsys_tutorial.recommend import TwoStage, recommend


class FixedScores:
    """Scores = a fixed value per item id."""

    def __init__(self, values):
        self.values = values

    def score_items(self, user_id, item_ids):
        return np.array([self.values[i] for i in item_ids], dtype=float)


TEXT_MOVIES = pd.DataFrame(
    {
        "movieId": [1, 2, 3, 4, 5, 6],
        "title": ["Alien", "Heat", "Toy Story", "Up", "Jaws", "Big"],
        "year": [1979, 1995, 1995, 2009, 1975, 1988],
        "genres": [["Horror"], ["Crime"], ["Animation"], ["Animation"], ["Thriller"], ["Comedy"]],
    }
)
TEXT_RATINGS = pd.DataFrame(
    {
        "userId": [7, 7, 7, 8],
        "movieId": [1, 2, 3, 1],
        "rating": [5.0, 2.0, 4.0, 3.0],
        "timestamp": [10, 30, 20, 5],
    }
)


def _text_scorer(model, tokenizer, **kwargs):
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.text_scorer import TextModelScorer

    return TextModelScorer(
        model, tokenizer, TargetScaler(3.5, 1.0), ratings=TEXT_RATINGS, movies=TEXT_MOVIES, **kwargs
    )


def test_text_scorer_history_matches_make_pairs_and_new_users_fall_back(tiny_bert, tokenizer):
    from recsys_tutorial.text import NO_HISTORY, make_pairs

    scorer = _text_scorer(tiny_bert, tokenizer, max_items=2)
    later = pd.DataFrame({"userId": [7], "movieId": [4], "timestamp": [100]})
    expected = make_pairs(later, TEXT_RATINGS, TEXT_MOVIES, max_items=2)
    assert scorer.history_for(7) == expected["history"].iloc[0] == "Heat 2.0; Toy Story 4.0"
    histories, candidates = scorer.pairs_for(7, [4])
    assert (histories[0], candidates[0]) == (
        expected["history"].iloc[0],
        expected["candidate"].iloc[0],
    )
    assert scorer.history_for(99) == NO_HISTORY


def test_text_scorer_predicts_like_train_predict_in_any_batch_size(tiny_bert, tokenizer):
    from recsys_tutorial.datasets import RatingTextDataset, make_loader
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.text import make_pairs
    from recsys_tutorial.train import predict

    items = [6, 4, 5, 3]
    targets = pd.DataFrame({"userId": 7, "movieId": items, "timestamp": 100})
    pairs = make_pairs(targets, TEXT_RATINGS, TEXT_MOVIES, max_items=6)
    loader = make_loader(
        RatingTextDataset.from_pairs(pairs, tokenizer, max_length=48), 3, shuffle=False
    )
    reference = predict(tiny_bert, loader, TargetScaler(3.5, 1.0))
    for batch_size in (1, 3, 128):
        scores = _text_scorer(
            tiny_bert, tokenizer, max_length=48, batch_size=batch_size
        ).score_items(7, items)
        assert scores.shape == (4,) and scores.dtype == np.float64
        np.testing.assert_allclose(scores, reference, atol=1e-5)
    assert ((scores >= 0.5) & (scores <= 5.0)).all()
    assert _text_scorer(tiny_bert, tokenizer).score_items(7, []).shape == (0,)


def test_text_scorer_in_recommend_and_two_stage(tiny_bert, tokenizer):
    scorer = _text_scorer(tiny_bert, tokenizer)
    top = recommend(scorer, 7, seen=TEXT_RATINGS, items=TEXT_MOVIES, k=3)
    assert len(top) == 3 and not set(top["movieId"]) & {1, 2, 3}
    assert top["score"].is_monotonic_decreasing
    retriever = FixedScores({i: float(-i) for i in range(1, 7)})  # retrieves 4 and 5 of 4, 5, 6
    two = recommend(
        TwoStage(retriever, scorer, n_candidates=2), 7, seen=TEXT_RATINGS, items=TEXT_MOVIES, k=2
    )
    assert set(two["movieId"]) == {4, 5}
    with pytest.raises(UnknownItemError, match="not in the catalogue"):
        scorer.score_items(7, [1, 42])
    with pytest.raises(RecommendError, match="batch_size"):
        _text_scorer(tiny_bert, tokenizer, batch_size=0)
    with pytest.raises(RecommendError, match="batch_size"):
        _text_scorer(tiny_bert, tokenizer, batch_size=True)


def _as_strings(frame):
    """``frame`` with ids written as strings with leading zeros (users "u7", items "0001")."""
    out = frame.copy()
    if "userId" in out:
        out["userId"] = "u" + out["userId"].astype(str)
    out["movieId"] = out["movieId"].map(lambda i: f"{i:04d}")
    return out


def test_text_scorer_with_string_ids_reads_the_same_texts(tiny_bert, tokenizer):
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.text_scorer import TextModelScorer

    tags = pd.DataFrame({"movieId": [4, 4, 4, 99], "tag": ["pixar", "pixar", "balloons", "x"]})
    ints = _text_scorer(tiny_bert, tokenizer, max_items=2, tags=tags, max_tags=1)
    strs = TextModelScorer(
        tiny_bert,
        tokenizer,
        TargetScaler(3.5, 1.0),
        ratings=_as_strings(TEXT_RATINGS),
        movies=_as_strings(TEXT_MOVIES),
        tags=_as_strings(tags),
        max_tags=1,
        max_items=2,
    )
    assert strs.history_for("u7") == ints.history_for(7) == "Heat 2.0; Toy Story 4.0"
    assert strs.pairs_for("u7", ["0004", "0006"]) == ints.pairs_for(7, [4, 6])
    assert "tags: pixar" in strs.pairs_for("u7", ["0004"])[1][0]
    with pytest.raises(UnknownItemError, match=r"e\.g\. '4'$"):
        strs.pairs_for("u7", ["4"])  # "4" is not "0004"
    np.testing.assert_allclose(
        strs.score_items("u7", ["0004", "0006"]), ints.score_items(7, [4, 6]), atol=1e-5
    )
    retriever = FixedScores({f"{i:04d}": float(-i) for i in range(1, 7)})
    two = recommend(
        TwoStage(retriever, strs, n_candidates=2),
        "u7",
        seen=_as_strings(TEXT_RATINGS),
        items=_as_strings(TEXT_MOVIES),
        k=2,
    )
    assert set(two["movieId"]) == {"0004", "0005"}


def test_text_scorer_refuses_repeated_movie_ids_and_unknown_rated_items(tiny_bert, tokenizer):
    from recsys_tutorial.models import TargetScaler
    from recsys_tutorial.text_scorer import TextModelScorer

    repeated = pd.concat([TEXT_MOVIES, TEXT_MOVIES.iloc[[2]]], ignore_index=True)
    with pytest.raises(RecommendError, match="id 3 appears in 2 rows"):
        TextModelScorer(
            tiny_bert, tokenizer, TargetScaler(3.5, 1.0), ratings=TEXT_RATINGS, movies=repeated
        )
    scorer = TextModelScorer(
        tiny_bert,
        tokenizer,
        TargetScaler(3.5, 1.0),
        ratings=TEXT_RATINGS,
        movies=TEXT_MOVIES[TEXT_MOVIES.movieId != 2],
    )
    with pytest.raises(UnknownItemError, match=r"user 7 rated 1 item\(s\) absent .*e\.g\. 2$"):
        scorer.history_for(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scorer.history_for(8) == "Alien 3.0"
