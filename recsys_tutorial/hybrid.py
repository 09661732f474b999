"""Language-model text features combined with collaborative signals (results chapter, ch.8).

Two pieces:

* :func:`encode_texts` — mean-pooled, L2-normalised sentence vectors from the (frozen) language
  model, cached on disk so a catalogue is encoded once (about a minute for 9.7k titles on 2 cores);
* :class:`TextHybrid` — biased matrix factorization whose items also get a bias and a factor vector
  *computed from their text*: r̂ = μ + b_u + b_i + w·e_i + p_u·(q_i + A e_i). Items never rated in
  training (cold start) still get w·e_i and A e_i, so text carries them; during training a share
  of items is "made cold" at random (b_i and q_i dropped) so the text path learns to stand alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .baselines import RatingModel, check_int, check_real, fit_minibatches, id_array, index_of
from .config import cache_dir
from .errors import ConfigError, UnknownItemError
from .schema import id_repr, require_ratings


def encode_texts(
    texts: list[str],
    *,
    model_name: str | None = None,
    batch_size: int = 128,
    max_length: int = 64,
    bf16: bool = True,
    use_cache: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Sentence vectors (n_texts × hidden, float32, unit length) by mean pooling over tokens.

    Cached in ``cache_dir()/embeddings`` under a hash of the model and the texts (NumPy ``.npy``,
    loaded with ``allow_pickle=False``). ``texts`` must be strings (:class:`ConfigError`
    otherwise, naming the first offender); ``batch_size`` and ``max_length`` positive integers.
    """
    import torch
    from tqdm.auto import tqdm

    from .models import default_model_path, load_backbone, load_tokenizer

    if isinstance(texts, str):
        raise ConfigError("texts must be a list of strings, got one string; wrap it: [text]")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ConfigError(
            f"texts[{bad}] is {type(texts[bad]).__name__} {texts[bad]!r}, not a string; "
            "pass one text per item (e.g. from recsys_tutorial.text.item_texts)"
        )
    batch_size = check_int("batch_size", batch_size)
    max_length = check_int("max_length", max_length)
    name = model_name or default_model_path()
    key = hashlib.sha256(("\n".join([str(name), str(max_length)] + list(texts))).encode()).hexdigest()[:24]
    path = cache_dir() / "embeddings" / f"{key}.npy"
    if use_cache and path.exists():
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError):
            path.unlink(missing_ok=True)  # a damaged cache file is recomputed
    tokenizer, model = load_tokenizer(model_name), load_backbone(model_name).eval()
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16 and not torch.cuda.is_available())
    with torch.no_grad(), autocast:
        for start in tqdm(range(0, len(texts), batch_size), disable=not progress, desc="encode"):
            idx = order[start : start + batch_size]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(**enc).last_hidden_state.float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out)
        tmp.replace(path)  # atomic: never a half-written cache file
    return out


@dataclass
class TextHybrid(RatingModel):
    """Matrix factorization with text-derived item biases and factors (see the module docstring).

    ``item_ids`` (unique ids of any hashable kind, kept as given) and ``item_vectors``
    (n_items × d) give a text vector for every catalogue item (from :func:`encode_texts`).
    ``cold_dropout`` in [0, 1) is the share of training rows whose item is treated as unseen, so
    the text path learns to predict on its own. ``scale`` as for every :class:`RatingModel`.

    Raises :class:`ConfigError` for missing or inconsistent ``item_ids``/``item_vectors``,
    :class:`~recsys_tutorial.errors.SchemaError` when ``train`` has no rating column, and
    :class:`UnknownItemError` for a training or predicted item without a text vector.
    """

    item_ids: np.ndarray | None = None
    item_vectors: np.ndarray | None = None
    n_factors: int = 64
    epochs: int = 30
    lr: float = 0.01
    reg: float = 0.1
    text_reg: float = 1e-4
    cold_dropout: float = 0.2
    batch_size: int = 2048
    seed: int = 42
    scale: tuple[float, float] | None = None

    def _item_table(self) -> tuple[pd.Index, np.ndarray]:
        """The catalogue's ids as a unique Index and its vectors (n × d float32), checked."""
        if self.item_ids is None or self.item_vectors is None:
            raise ConfigError(
                "TextHybrid needs item_ids and item_vectors: pass the catalogue's ids and "
                "encode_texts([texts[i] for i in item_ids])"
            )
        ids = pd.Index(id_array(self.item_ids))
        vectors = np.asarray(self.item_vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(ids):
            raise ConfigError(
                f"item_vectors must be a 2-D array with one row per item id: got shape "
                f"{vectors.shape} for {len(ids)} item_ids"
            )
        if ids.has_duplicates:
            dup = ids[ids.duplicated()][0]
            raise ConfigError(
                f"item_ids must be unique, but item {id_repr(dup)} appears more than once"
            )
        return ids, vectors

    def fit(self, train: pd.DataFrame, val: pd.DataFrame | None = None) -> TextHybrid:
        """Train on ``train`` (needs ratings, every item in ``item_ids``); see the class."""
        import torch

        ids, vectors = self._item_table()
        f = check_int("n_factors", self.n_factors)
        seed = check_int("seed", self.seed, minimum=0)
        cold_dropout = check_real("cold_dropout", self.cold_dropout)
        if cold_dropout >= 1.0:
            raise ConfigError(f"cold_dropout must be in [0, 1), got {self.cold_dropout!r}")
        reg, text_reg = check_real("reg", self.reg), check_real("text_reg", self.text_reg)
        ratings = self._start_fit(train)
        if val is not None:
            require_ratings(val, rating_col=self.rating_col, what="TextHybrid.fit(val)")
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.items_ = ids
        u_codes, self.users_ = pd.factorize(train[self.user_col])
        i_codes = ids.get_indexer(train[self.item_col].to_numpy())
        if (i_codes < 0).any():
            missing = pd.unique(train[self.item_col].to_numpy()[i_codes < 0])
            raise UnknownItemError(
                f"{len(missing)} training item(s) have no text vector, e.g. "
                f"{', '.join(id_repr(m) for m in missing[:5])}; "
                "pass the whole catalogue as item_ids"
            )
        u = torch.tensor(u_codes, dtype=torch.long)
        i = torch.tensor(i_codes.astype(np.int64))
        r = torch.tensor(ratings.astype(np.float32))
        self.E = torch.tensor(vectors)
        self.known_ = torch.zeros(len(ids))
        self.known_[i.unique()] = 1.0
        n_u, n_i, d = len(self.users_), len(ids), self.E.shape[1]
        self.P = torch.nn.Parameter(torch.randn(n_u, f, generator=g) * 0.05)
        self.Q = torch.nn.Parameter(torch.randn(n_i, f, generator=g) * 0.05)
        self.bu = torch.nn.Parameter(torch.zeros(n_u))
        self.bi = torch.nn.Parameter(torch.zeros(n_i))
        self.A = torch.nn.Linear(d, f, bias=False)
        self.w = torch.nn.Linear(d, 1)
        torch.nn.init.normal_(self.A.weight, std=0.01, generator=g)
        torch.nn.init.zeros_(self.w.weight)
        params = [self.P, self.Q, self.bu, self.bi, *self.A.parameters(), *self.w.parameters()]

        def batch_loss(idx):
            ub, ib, rb = u[idx], i[idx], r[idx]
            # a random share of rows sees its item as cold: only the text path speaks
            keep = (torch.rand(len(idx), generator=g) >= cold_dropout).float()
            pred = self._forward(ub, ib, keep)
            penalty = reg * torch.mean(
                (self.P[ub] ** 2).sum(1) + keep * (self.Q[ib] ** 2).sum(1) + self.bu[ub] ** 2 + keep * self.bi[ib] ** 2
            ) + text_reg * (self.A.weight.pow(2).sum() + self.w.weight.pow(2).sum())
            return torch.mean((pred - rb) ** 2), penalty

        self.history_ = fit_minibatches(self, len(r), batch_loss, params, epochs=self.epochs, lr=self.lr,
                                        batch_size=self.batch_size, generator=g, val=val)
        return self

    def _forward(self, ub, ib, keep):
        e = self.E[ib]
        item_factor = keep[:, None] * self.Q[ib] + self.A(e)
        return (
            self.mean_ + self.bu[ub] + keep * self.bi[ib] + self.w(e).squeeze(-1)
            + (self.P[ub] * item_factor).sum(1)
        )

    def _predict(self, users, items):
        import torch

        ui, known_u = index_of(self.users_, users)
        ii, known_i = index_of(self.items_, items)
        if not known_i.all():
            missing = pd.unique(np.asarray(items, dtype=object)[~known_i])[:5]
            raise UnknownItemError(
                f"no text vector for item(s) {', '.join(id_repr(m) for m in missing)}; "
                "encode the whole catalogue and pass it as item_ids/item_vectors"
            )
        ub = torch.tensor(ui)
        ib = torch.tensor(ii)
        with torch.no_grad():
            keep = self.known_[ib]
            pred = self._forward(ub, ib, keep).numpy()
            if not known_u.all():  # unknown users: no user bias or factors
                e = self.E[ib[~torch.tensor(known_u)]]
                bi = (keep * self.bi[ib])[~torch.tensor(known_u)]
                pred[~known_u] = (self.mean_ + bi + self.w(e).squeeze(-1)).numpy()
        return pred
