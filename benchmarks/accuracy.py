"""Rating accuracy on the three MovieLens splits (S1 random, S2 temporal, S3 cold items), and
top-10 ranking on S2. Every method of a split is evaluated on the same test rows."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from recsys_tutorial.baselines import BiasBaseline, GlobalMean, MatrixFactorization, Popularity
from recsys_tutorial.config import Profile
from recsys_tutorial.experiment import split_ratings
from recsys_tutorial.hybrid import TextHybrid, encode_texts
from recsys_tutorial.intervals import rmse_interval
from recsys_tutorial.metrics import mae, ndcg_at_k, rmse
from recsys_tutorial.splits import train_val_split
from recsys_tutorial.text import item_texts, make_pairs

SPLITS = {"S1": "random", "S2": "temporal", "S3": "cold-items"}
# the validation slice of train (MF tuning, blend weights) is cut the way the test split is cut:
# tuning on warm random rows and testing on the future or on unseen items would pick the wrong models
VAL_HOW = {"S1": "random", "S2": "temporal", "S3": "cold-items"}


def catalogue_vectors(data) -> tuple[np.ndarray, np.ndarray]:
    """Item ids and their frozen MiniLM vectors over "title (year) | genres" (cached)."""
    texts = item_texts(data.movies)
    ids = np.array(list(texts), dtype=np.int64)
    return ids, encode_texts([texts[int(i)] for i in ids])


def _timed_fit(model, frame, **kw):
    start = time.perf_counter()
    model.fit(frame, **kw)
    return model, time.perf_counter() - start


def _score(y_true, pred) -> dict:
    """RMSE (with its 95% bootstrap interval over test ratings) and MAE, in stars."""
    value, low, high = rmse_interval(np.asarray(y_true, dtype=float), np.asarray(pred, dtype=float))
    return {"rmse": value, "rmse_low": low, "rmse_high": high, "mae": mae(y_true, pred)}


class RidgeOnText:
    """Frozen text vectors with a linear (ridge) head on the residual of the bias model."""

    def __init__(self, ids, vectors, alpha: float = 10.0):
        self.index = pd.Series(np.arange(len(ids)), index=ids)
        self.vectors, self.alpha = vectors, alpha

    def fit(self, train):
        from sklearn.linear_model import Ridge

        self.bias = BiasBaseline().fit(train)
        x = self.vectors[self.index.reindex(train.movieId).to_numpy()]
        self.ridge = Ridge(alpha=self.alpha).fit(x, train.rating.to_numpy() - self.bias.predict(train))
        return self

    def predict(self, frame):
        x = self.vectors[self.index.reindex(frame.movieId).to_numpy()]
        return np.clip(self.bias.predict(frame) + self.ridge.predict(x), 0.5, 5.0)


def tune_mf(fit, val, profile: Profile, grid) -> tuple[dict, float]:
    """The MF hyper-parameters with the lowest validation RMSE (validation slice of train only)."""
    best, best_rmse = None, np.inf
    for params in grid:
        model = MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed, **params).fit(fit)
        score = rmse(val.rating, model.predict(val))
        if score < best_rmse:
            best, best_rmse = params, score
    return best, best_rmse


def lm_member_pairs(targets: dict, fit: pd.DataFrame, train: pd.DataFrame, movies: pd.DataFrame,
                    *, history_items: int) -> dict:
    """The language model's input pairs, built as every other member's inputs are.

    The validation predictions of a member come from what it knows without the validation
    slice (``fit``), its test predictions from everything before the test rows (``train``). So
    the training and validation pairs take their history text from ``fit`` only; the test pairs
    from ``train``. (Histories from ``train`` for validation would show the model ratings of the
    validation slice itself, and the blend would learn weights on easier inputs than the test's.)
    ``targets`` maps "train", "val", "test" to the rows to predict."""
    context = {"train": fit, "val": fit, "test": train}
    return {name: make_pairs(targets[name], context[name], movies, max_items=history_items)
            for name in ("train", "val", "test")}


def lm_predictions(exp_pairs: dict, profile: Profile, *, peft: str | None = None) -> dict:
    """Fine-tune the cross-encoder on the profile's training sample; predict val and test pairs."""
    from recsys_tutorial.datasets import RatingTextDataset, make_loader
    from recsys_tutorial.models import count_parameters
    from recsys_tutorial.train import TrainConfig, finetune_rating_model, predict

    config = TrainConfig(lr=3e-4 if peft else 5e-5, epochs=profile.epochs, max_steps=profile.max_steps,
                         batch_size=profile.batch_size, bf16=True, progress=False, seed=profile.seed)
    start = time.perf_counter()
    ft = finetune_rating_model(exp_pairs["train"], exp_pairs["val"], profile=profile, config=config,
                               peft_method=peft, max_length=profile.max_length)
    train_seconds = time.perf_counter() - start
    out = {"train_seconds": train_seconds, "samples_per_second": ft.result.samples_per_second,
           "trainable_parameters": count_parameters(ft.model)[0], "ft": ft}
    start = time.perf_counter()
    for name in ("val", "test"):
        ds = RatingTextDataset.from_pairs(exp_pairs[name], ft.tokenizer, max_length=profile.max_length)
        out[name] = predict(ft.model, make_loader(ds, 256, shuffle=False), ft.scaler, bf16=True)
    out["inference_seconds"] = time.perf_counter() - start
    return out


def run_split(name: str, data, ids, vectors, profile: Profile, *, with_lm: bool, with_lora: bool,
              keep: dict | None = None) -> dict:
    """All methods on one split. Returns {method: {rmse, mae, trainable_parameters, ...}}.

    Validation (MF tuning, the blend's weights) uses a slice of train cut like the test split
    (``VAL_HOW``); the test rows are touched only to score.

    ``keep``, if given, receives the fine-tuned language model (``keep["lm"]``) for later use."""
    train, test = split_ratings(data.ratings, SPLITS[name], seed=profile.seed)
    fit, val = train_val_split(train, test_size=0.1, seed=profile.seed, how=VAL_HOW[name])
    if profile.name == "quick":
        test = test.sample(n=min(len(test), profile.eval_samples), random_state=profile.seed)
        val = val.sample(n=min(len(val), profile.eval_samples), random_state=profile.seed)
    results, val_preds, test_preds = {}, {}, {}
    n_users, n_items = train.userId.nunique(), train.movieId.nunique()

    def record(method, model_val, model_test, seconds, params):
        val_preds[method] = model_val.predict(val)
        start = time.perf_counter()
        test_preds[method] = model_test.predict(test)
        results[method] = {**_score(test.rating, test_preds[method]), "train_seconds": seconds,
                           "inference_seconds": time.perf_counter() - start, "trainable_parameters": params}

    m, s = _timed_fit(GlobalMean(), train)
    record("global_mean", m, m, s, 1)
    m_fit = BiasBaseline().fit(fit)
    m, s = _timed_fit(BiasBaseline(), train)
    record("biases", m_fit, m, s, 1 + n_users + n_items)
    m_fit = MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed).fit(fit)
    m, s = _timed_fit(MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed), train)
    record("mf_default", m_fit, m, s, (n_users + n_items) * 65)
    grid = ([{"n_factors": f, "reg": r} for f in (32, 64, 128) for r in (0.05, 0.1, 0.15)]
            if profile.name == "full" else [{"n_factors": 16, "reg": 0.1}, {"n_factors": 32, "reg": 0.05}])
    best, _ = tune_mf(fit, val, profile, grid)
    m_fit = MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed, **best).fit(fit)
    m, s = _timed_fit(MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed, **best), train)
    record("mf_tuned", m_fit, m, s, (n_users + n_items) * (best["n_factors"] + 1))
    results["mf_tuned"]["params"] = best
    m_fit = RidgeOnText(ids, vectors).fit(fit)
    m, s = _timed_fit(RidgeOnText(ids, vectors), train)
    record("frozen_minilm_ridge", m_fit, m, s, 1 + n_users + n_items + vectors.shape[1] + 1)
    hybrid_kw = {"item_ids": ids, "item_vectors": vectors, "epochs": profile.mf_epochs, "seed": profile.seed}
    m_fit = TextHybrid(**hybrid_kw).fit(fit)
    m, s = _timed_fit(TextHybrid(**hybrid_kw), train)
    f = m.n_factors
    record("text_hybrid_frozen_minilm", m_fit, m, s, (n_users + n_items) * (f + 1) + vectors.shape[1] * (f + 1) + 1)

    if with_lm:
        targets = {"train": fit.sample(n=min(len(fit), profile.train_samples), random_state=profile.seed),
                   "val": val, "test": test}
        pairs = lm_member_pairs(targets, fit, train, data.movies, history_items=profile.history_items)
        variants = [("finetuned_minilm", None)] + ([("finetuned_minilm_lora", "lora")] if with_lora else [])
        for method, peft in variants:
            lm = lm_predictions(pairs, profile, peft=peft)
            if keep is not None and peft is None:
                keep["lm"] = lm["ft"]
            val_preds[method], test_preds[method] = lm["val"], lm["test"]
            results[method] = {**_score(test.rating, lm["test"]), "train_seconds": lm["train_seconds"],
                               "inference_seconds": lm["inference_seconds"],
                               "trainable_parameters": lm["trainable_parameters"],
                               "samples_per_second": lm["samples_per_second"], "train_ratings": len(pairs["train"])}
    # the hybrid of the language model and collaborative signals: a linear blend of the methods'
    # predictions, weights fitted on the validation slice only, applied to the test predictions
    from sklearn.linear_model import LinearRegression

    members = [k for k in val_preds if k != "global_mean"]
    blend = LinearRegression().fit(np.column_stack([val_preds[k] for k in members]), val.rating)
    pred = np.clip(blend.predict(np.column_stack([test_preds[k] for k in members])), 0.5, 5.0)
    results["hybrid_lm_cf_blend"] = {**_score(test.rating, pred), "members": members,
                                     "weights": dict(zip(members, map(float, blend.coef_), strict=True)),
                                     "trainable_parameters": sum(results[k]["trainable_parameters"] for k in members)}
    for r in results.values():
        r["test_rows"] = len(test)
    return results


def _ndcg_over_users(score_fn, users, catalogue, seen, relevant, k) -> float:
    scores = []
    for u in users:
        s = np.asarray(score_fn(u), dtype=np.float64).copy()
        s[np.isin(catalogue, list(seen.get(u, ())))] = -np.inf
        top = catalogue[np.argsort(-s, kind="stable")[:k]]
        scores.append(ndcg_at_k(top, relevant[u], k))
    return float(np.mean(scores))


def _ranking_models(train, ids, vectors, profile):
    return {
        "popularity": Popularity().fit(train),
        "biases": BiasBaseline().fit(train),
        "mf": MatrixFactorization(epochs=profile.mf_epochs, seed=profile.seed).fit(train),
        "text_hybrid": TextHybrid(item_ids=ids, item_vectors=vectors, epochs=profile.mf_epochs, seed=profile.seed).fit(train),
    }


def ranking_s2(data, ids, vectors, profile: Profile, *, k: int = 10,
               betas=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)) -> dict:
    """NDCG@10 on S2 over all unseen items (relevant = test ratings >= 4).

    A model trained for rating error favours obscure, highly rated items; the blend
    score = predicted rating + beta * log(1 + popularity) fixes what the ranking optimizes.
    beta is chosen on a temporal validation slice of train (each user's last 10%), never on test.
    """
    catalogue = data.movies.movieId.to_numpy()

    def setting(train, test):
        relevant = {u: set(g.movieId) for u, g in test[test.rating >= 4].groupby("userId")}
        users = sorted(relevant)
        if profile.name == "quick":
            users = users[: profile.ranking_users]
        seen = {u: set(g.movieId) for u, g in train.groupby("userId")}
        return users, seen, relevant

    train, test = split_ratings(data.ratings, "temporal", seed=profile.seed)
    fit, val = train_val_split(train, test_size=0.1, seed=profile.seed, how="temporal")
    models = _ranking_models(fit, ids, vectors, profile)
    users, seen, relevant = setting(fit, val)
    log_pop = np.log1p(models["popularity"].score_items(0, catalogue))
    val_scores = {b: _ndcg_over_users(lambda u, b=b: models["text_hybrid"].score_items(u, catalogue) + b * log_pop,
                                      users, catalogue, seen, relevant, k) for b in betas}
    beta = max(val_scores, key=val_scores.get)
    if beta == max(betas):  # the best weight at the edge of the grid: a wider grid may do better
        print(f"[bench] ranking: beta {beta} is the largest tried; consider a wider grid", flush=True)

    models = _ranking_models(train, ids, vectors, profile)
    users, seen, relevant = setting(train, test)
    log_pop = np.log1p(models["popularity"].score_items(0, catalogue))
    out = {name: _ndcg_over_users(lambda u, m=m: m.score_items(u, catalogue), users, catalogue, seen, relevant, k)
           for name, m in models.items()}
    out["text_hybrid_popularity_blend"] = _ndcg_over_users(
        lambda u: models["text_hybrid"].score_items(u, catalogue) + beta * log_pop, users, catalogue, seen, relevant, k)
    return {"ndcg_at_10": out, "users": len(users), "beta": beta, "validation_ndcg_by_beta": val_scores}
