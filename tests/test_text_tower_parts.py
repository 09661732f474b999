"""The text tower's parts: ids in JSON, item-grouped batches, unique-item encoding, the
network's prediction and loss, the cache key (tiny random BERT: no download)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_tutorial.errors import CheckpointError, ConfigError, SchemaError
from recsys_tutorial.text_tower_parts import (
    CatalogueTokens,
    ItemGroupedBatchSampler,
    RatingRows,
    TowerCollator,
    TowerHead,
    TowerNet,
    catalogue_texts,
    content_key,
    ids_from_json,
    ids_to_json,
)

TEXTS = ["Alpha (1990) | Drama", "Bravo bravo bravo (2001) | Comedy, Drama", "Charlie"]


@pytest.fixture
def net(bert_config_factory):
    from transformers import BertModel

    torch.manual_seed(0)
    encoder = BertModel(bert_config_factory(dropout=0.0))
    head = TowerHead(n_users=3, n_items=3, hidden=32, n_factors=4, seed=1)
    with torch.no_grad():  # non-zero values everywhere, so every term shows in the sum
        head.mean.fill_(0.1)
        head.user_bias.copy_(torch.tensor([0.2, -0.3, 0.4]))
        head.item_bias.copy_(torch.tensor([-0.5, 0.6, 0.7]))
        head.text_bias.weight.normal_(0, 1.0)
        head.text_factors.weight.normal_(0, 1.0)
    return TowerNet(encoder, head, drop_item_share=0.0, reg=0.5, encode_chunk=2)


@pytest.fixture
def batch(tokenizer):
    tokens = CatalogueTokens(TEXTS, tokenizer, max_length=16)
    rows = RatingRows(users=np.array([0, 1, 2, 0, 1]), user_known=np.array([1, 1, 1, 1, 0], bool),
                      items=np.array([1, 0, 1, 1, 2]), item_known=np.array([1, 1, 1, 0, 1], bool),
                      ratings=np.array([4, 3, 5, 2, 1], np.float32))
    return tokens, TowerCollator(rows, tokens)([0, 1, 2, 3, 4])


def test_each_batch_encodes_its_unique_items_once(net, batch):
    tokens, b = batch
    assert b["input_ids"].shape[0] == 3  # five ratings, three films
    lengths = b["text_lengths"].tolist()
    assert lengths == sorted(lengths)  # sorted by length: buckets pad little
    for k, item in enumerate([1, 0, 1, 1, 2]):  # each rating points at its own film's text
        row, n = b["input_ids"][b["item_pos"][k]], tokens.lengths[item]
        assert row[:n].tolist() == tokens.tokens[item, :n].tolist()
    b.pop("labels")
    net.eval()
    with torch.no_grad():
        out = net(**b)
    assert out.shape == (5,) and net.texts_encoded == 3


def test_the_prediction_and_loss_follow_the_formula(net, batch):
    _, b = batch
    labels = b.pop("labels")
    net.eval()
    with torch.no_grad():
        e = net.encode(b["input_ids"], b["attention_mask"], b["text_lengths"])
        # padding each length bucket differently changes nothing
        alone = [net.encode(b["input_ids"][i : i + 1], b["attention_mask"][i : i + 1],
                            b["text_lengths"][i : i + 1]) for i in range(3)]
        np.testing.assert_allclose(torch.cat(alone).numpy(), e.numpy(), atol=1e-5)
        assert torch.allclose(e.norm(dim=1), torch.ones(3))  # unit length
        h = net.score
        expected = []
        for k in range(5):
            u, i, pos = int(b["user"][k]), int(b["item"][k]), int(b["item_pos"][k])
            uk, keep = float(b["user_known"][k]), float(b["item_known"][k])
            w_e = float(h.text_bias.weight[0] @ e[pos])
            q = keep * h.item_factors[i] + h.text_factors.weight @ e[pos]
            biases = float(h.mean) + uk * float(h.user_bias[u]) + keep * float(h.item_bias[i])
            expected.append(biases + w_e + uk * float(h.user_factors[u] @ q))
        z = net(**b)
        np.testing.assert_allclose(z.numpy(), expected, rtol=0, atol=1e-5)
        out = net(**b, targets=labels)
        p = h.user_factors[b["user"]] * b["user_known"][:, None]
        penalty = (p.pow(2).sum(1) + b["item_known"] * h.item_factors[b["item"]].pow(2).sum(1))
        loss = ((z - labels) ** 2).mean() + 0.5 * penalty.mean()
        assert float(out.loss) == pytest.approx(float(loss), rel=1e-5)


def test_training_drops_the_item_terms_of_a_share_of_rows(net, batch):
    _, b = batch
    b.pop("labels")
    net.drop_item_share = 0.9999
    with torch.no_grad():
        net.train()
        dropped = net(**b)
        net.eval()
        b["item_known"] = torch.zeros(5)  # every item as if never rated: text only
        cold = net(**b)
    np.testing.assert_allclose(dropped.numpy(), cold.numpy(), atol=1e-6)


def test_item_grouped_batches_keep_ratings_of_an_item_together():
    items = np.repeat(np.arange(10), [40, 1, 2, 3, 5, 8, 13, 1, 1, 6])
    sampler = ItemGroupedBatchSampler(items, 16, group=8, seed=3)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 5
    assert sorted(i for b in batches for i in b) == list(range(len(items)))  # each row once
    order = sampler.order()

    def segments(item):  # stretches of consecutive positions holding the item's ratings
        where = np.flatnonzero(items[order] == item)
        return 1 + int((np.diff(where) > 1).sum())

    # an item with at most 8 ratings comes in one stretch; item 0's 40 in at most 5 runs of 8
    counts = np.bincount(items)
    assert [segments(i) for i in range(10) if counts[i] <= 8] == [1] * 8
    assert segments(0) <= 5 and segments(6) <= 2
    np.testing.assert_array_equal(sampler.order(), order)  # same (seed, epoch): same order
    sampler.set_epoch(1)
    assert not np.array_equal(sampler.order(), order)
    plain = ItemGroupedBatchSampler(items, 16, group=1, seed=3).order()
    np.testing.assert_array_equal(plain, np.random.default_rng([3, 0]).permutation(len(items)))
    with pytest.raises(ConfigError, match="group"):
        ItemGroupedBatchSampler(items, 16, group=0)


def test_ids_keep_their_kind_in_json():
    ids = [7, "007", 2**70, "zoë", np.int64(5)]
    encoded = ids_to_json(np.array(ids, dtype=object), what="ids")
    assert json.loads(json.dumps(encoded)) == [7, "007", 2**70, "zoë", 5]
    decoded = ids_from_json(encoded, what="ids")
    assert [type(v) for v in decoded] == [int, str, int, str, int]
    assert ids_from_json([1, 2], what="ids").dtype == np.int64
    with pytest.raises(CheckpointError, match="1.5"):
        ids_to_json([1.5], what="item ids")
    with pytest.raises(CheckpointError, match="True"):
        ids_from_json([True], what="users")


def test_catalogue_texts_are_short_and_ids_unique():
    movies = pd.DataFrame({"movieId": ["007", 7], "title": ["Heat", "Up"], "year": [1995, 2009],
                           "genres": [["Action", "Crime", "Thriller", "Drama"], ["Animation"]]})
    ids, texts = catalogue_texts(movies)
    assert list(ids) == ["007", 7]
    assert texts == ["Heat (1995) | Action, Crime, Thriller", "Up (2009) | Animation"]
    with pytest.raises(SchemaError, match="'007' appears in more than one row"):
        catalogue_texts(pd.concat([movies, movies.iloc[:1]]))


def test_the_cache_key_sees_values_and_id_kinds():
    movies = pd.DataFrame({"movieId": [7, "7"], "title": ["A", "B"]})
    frame = pd.DataFrame({"userId": [1, 2], "movieId": pd.Series([7, "7"], dtype=object),
                          "rating": [4.0, 3.0]})
    cols = ["userId", "movieId", "rating"]
    key = content_key({"a": 1}, [frame], cols, movies)
    assert len(key) == 20 and key == content_key({"a": 1}, [frame.copy()], cols, movies)
    swapped = frame.assign(movieId=pd.Series(["7", 7], dtype=object))
    assert content_key({"a": 1}, [swapped], cols, movies) != key
    assert content_key({"a": 2}, [frame], cols, movies) != key
    assert content_key({"a": 1}, [frame.assign(rating=[4.0, 3.5])], cols, movies) != key
