"""Top-10 for one user over the whole catalogue: exhaustive cross-encoder scoring vs two stages
(cheap retrieval, then language-model reranking of a few candidates)."""

from __future__ import annotations

import time

import numpy as np

from recsys_tutorial.config import Profile
from recsys_tutorial.experiment import split_ratings
from recsys_tutorial.hybrid import TextHybrid
from recsys_tutorial.metrics import ndcg_at_k
from recsys_tutorial.recommend import TextModelScorer, TwoStage, recommend


def run(data, ids, vectors, ft, profile: Profile, *, n_candidates: int = 20, k: int = 10) -> dict:
    """p50/p95 latency of two-stage top-10 lists and their NDCG@10 relative to exhaustive reranking."""
    import torch

    train, test = split_ratings(data.ratings, "temporal", seed=profile.seed)
    relevant = {u: set(g.movieId) for u, g in test[test.rating >= 4].groupby("userId")}
    # the users with the most relevant test items: NDCG of a few users is then least noisy
    users = sorted(relevant, key=lambda u: (-len(relevant[u]), u))
    n_exhaustive = 1 if profile.name == "quick" else 6
    n_latency = 3 if profile.name == "quick" else 30
    movies = data.movies if profile.name == "full" else data.movies.sample(n=600, random_state=0)
    retriever = TextHybrid(item_ids=ids, item_vectors=vectors, epochs=profile.mf_epochs, seed=profile.seed).fit(train)
    scorer = TextModelScorer(ft.model, ft.tokenizer, ft.scaler, ratings=train, movies=data.movies,
                             max_items=profile.history_items, max_length=profile.max_length,
                             batch_size=256, bf16=True)
    two_stage = TwoStage(retriever, scorer, n_candidates=n_candidates)
    with torch.inference_mode():
        latencies = []
        for u in users[:n_latency]:
            scorer.clear_cache()  # a cold request: the history text is built inside the timing
            start = time.perf_counter()
            recommend(two_stage, u, seen=train, items=movies, k=k)
            latencies.append((time.perf_counter() - start) * 1000)
        ndcg_two, ndcg_all, exhaustive_seconds = [], [], []
        for u in users[:n_exhaustive]:
            top2 = recommend(two_stage, u, seen=train, items=movies, k=k).movieId.tolist()
            start = time.perf_counter()
            top_all = recommend(scorer, u, seen=train, items=movies, k=k).movieId.tolist()
            exhaustive_seconds.append(time.perf_counter() - start)
            ndcg_two.append(ndcg_at_k(top2, relevant[u], k))
            ndcg_all.append(ndcg_at_k(top_all, relevant[u], k))
    mean_all = float(np.mean(ndcg_all))
    return {
        "recommend_p50_ms": float(np.percentile(latencies, 50)),
        "recommend_p95_ms": float(np.percentile(latencies, 95)),
        "n_candidates": n_candidates,
        "catalogue_items": len(movies),
        "latency_users": len(latencies),
        "exhaustive_seconds_per_user": float(np.mean(exhaustive_seconds)),
        "ndcg_two_stage": float(np.mean(ndcg_two)),
        "ndcg_exhaustive": mean_all,
        "ndcg_users": len(ndcg_two),
        "recommend_ndcg_ratio": float(np.mean(ndcg_two)) / mean_all if mean_all > 0 else None,
    }
