import numpy as np
import pytest
import torch

from recsys_tutorial.datasets import (
    LengthBucketSampler,
    RatingTextDataset,
    RatingVectorDataset,
    RightPaddingCollator,
    make_loader,
    masked_mse,
    rating_matrix,
)
from recsys_tutorial.errors import ConfigError, DataError
from recsys_tutorial.models import TargetScaler


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    words = ["toy", "story", "heat", "alien", "matrix", "jaws", "rocky", "up"]
    hist = [" ".join(rng.choice(words, int(rng.integers(1, 40)))) for _ in range(n)]
    cand = [" ".join(rng.choice(words, int(rng.integers(1, 6)))) for _ in range(n)]
    return hist, cand, rng.integers(1, 11, n) / 2


def test_rating_text_dataset_truncates_history_keeps_candidate(tokenizer):
    hist = ["toy story " * 100, "heat"]
    cand = ["alien resurrection (1997) | sci-fi", "jaws"]
    ds = RatingTextDataset(hist, cand, [4.0, 2.5], tokenizer, max_length=24)
    assert len(ds) == 2
    assert ds.lengths[0] == 24 and ds.lengths[1] < 24
    item = ds[0]
    assert set(item) >= {"input_ids", "attention_mask", "labels"}
    assert "token_type_ids" in item  # BERT tokenizers give segment ids
    decoded = tokenizer.decode(item["input_ids"])
    assert "alien resurrection ( 1997 ) | sci - fi" in decoded  # the candidate survived whole
    assert isinstance(item["labels"], float) and item["labels"] == 4.0
    scaled = RatingTextDataset(hist, cand, [4.0, 2.5], tokenizer, scaler=TargetScaler(3.0, 0.5))
    assert scaled[0]["labels"] == pytest.approx(2.0) and scaled.ratings[0] == 4.0


def test_rating_text_dataset_length_mismatch(tokenizer):
    with pytest.raises(DataError, match="pair up"):
        RatingTextDataset(["a", "b"], ["c"], [1.0, 2.0], tokenizer)
    with pytest.raises(DataError, match="one rating per pair"):
        RatingTextDataset(["a"], ["c"], [1.0, 2.0], tokenizer)


@pytest.mark.parametrize("shuffle", [True, False])
def test_bucket_sampler_covers_every_index_once(shuffle):
    lengths = np.random.default_rng(0).integers(5, 90, 1037)
    sampler = LengthBucketSampler(lengths, 16, shuffle=shuffle, seed=3, chunk_batches=4)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    flat = np.concatenate(batches)
    assert len(flat) == 1037 and sorted(flat.tolist()) == list(range(1037))
    assert all(1 <= len(b) <= 16 for b in batches)


def test_bucket_sampler_groups_lengths_and_is_deterministic_by_epoch():
    lengths = np.random.default_rng(1).integers(5, 90, 800)
    sampler = LengthBucketSampler(lengths, 16, seed=7)
    spread = np.mean([np.ptp(lengths[b]) for b in sampler])
    random_spread = np.mean([np.ptp(lengths[i : i + 16]) for i in range(0, 800, 16)])
    assert spread < random_spread / 3  # similar lengths share a batch
    first = list(sampler)
    assert list(LengthBucketSampler(lengths, 16, seed=7)) == first  # same seed, same order
    sampler.set_epoch(1)
    assert list(sampler) != first  # a new order each epoch
    sampler.set_epoch(0)
    assert list(sampler) == first  # ... reproducible from (seed, epoch): resumable
    with pytest.raises(ConfigError):
        LengthBucketSampler(lengths, 0)


def test_make_loader_pads_dynamically(tokenizer):
    hist, cand, ratings = _texts(50)
    ds = RatingTextDataset(hist, cand, ratings, tokenizer, max_length=64)
    loader = make_loader(ds, 8, shuffle=True, seed=0)
    seen = 0
    for batch in loader:
        assert batch["input_ids"].shape == batch["attention_mask"].shape
        assert batch["input_ids"].shape[1] == int(batch["attention_mask"].sum(1).max())  # no excess padding
        assert batch["labels"].dtype == torch.float32
        seen += len(batch["labels"])
    assert seen == 50
    plain = make_loader(ds, 8, shuffle=False, bucket=False)
    order = np.concatenate(list(plain.batch_sampler))
    np.testing.assert_array_equal(order, np.arange(50))


def test_masked_mse_matches_hand_computation():
    pred = torch.tensor([[3.0, 4.0, 1.0], [2.0, 0.0, 5.0]])
    target = torch.tensor([[4.0, float("nan"), 2.0], [2.0, 1.0, 0.0]])
    mask = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    # observed: (4-3)^2=1, (2-1)^2=1, (2-2)^2=0 -> 2/3
    loss = masked_mse(pred, target, mask)
    assert loss.item() == pytest.approx(2.0 / 3.0)
    assert masked_mse(pred, target, torch.zeros_like(mask)).item() == 0.0
    pred.requires_grad_(True)
    masked_mse(pred, target, mask).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad[0, 1] == 0


def test_rating_vector_dataset(tokenizer):
    import pandas as pd

    ratings = pd.DataFrame({"userId": [1, 1, 2], "movieId": [10, 30, 20], "rating": [4.0, 2.0, 5.0]})
    matrix = rating_matrix(ratings, [1, 2], [10, 20, 30])
    assert np.isnan(matrix[0, 1]) and matrix[0, 2] == 2.0 and matrix[1, 1] == 5.0
    ds = RatingVectorDataset(["toy story 5.0", "heat 4.0; alien 2.0"], matrix, tokenizer)
    item = ds[0]
    assert item["labels"] == [4.0, 0.0, 2.0] and item["label_mask"] == [1.0, 0.0, 1.0]
    batch = next(iter(make_loader(ds, 2, shuffle=False)))
    assert batch["labels"].shape == (2, 3) and batch["label_mask"].shape == (2, 3)
    with pytest.raises(DataError):
        RatingVectorDataset(["a"], matrix, tokenizer)


def test_long_candidates_are_cut_instead_of_failing(tokenizer):
    # a candidate that nearly fills the budget: "only_first" alone raises in the fast tokenizer
    long_candidate = "A Very Long Title " * 6 + "(1999) | Action, Adventure, Comedy, Drama"
    ds = RatingTextDataset(["Heat 4.0; Alien 3.5; Toy Story 5.0"] * 2, [long_candidate, "Heat (1995)"],
                           [3.0, 4.0], tokenizer, max_length=16)
    assert max(ds.lengths) <= 16
    assert ds.encodings["input_ids"][1][-1] == tokenizer.sep_token_id


# --------------------------------------------------------------------------- padding side

PAIR = ("toy story 5.0; heat 4.0; jaws 1.0", "alien (1979) | sci-fi")
NEIGHBOURS = [  # 7 longer and shorter neighbours of PAIR
    ("up", "rocky"),
    ("heat 4.0; alien 4.5; matrix 5.0; toy story 3.0; jaws 2.0; rocky 1.5; up 4.0", "heat (1995)"),
    ("a", "b"),
    ("matrix 5.0", "the matrix reloaded (2003) | action, sci-fi"),
    ("jaws 1.0; up 3.5", "up"),
    ("rocky " * 20, "rocky ii (1979) | drama"),
    ("alien 4.5", "aliens (1986)"),
]


def _predict_pairs(model, tokenizer, pairs, batch_size):
    histories, candidates = [h for h, _ in pairs], [c for _, c in pairs]
    ds = RatingTextDataset(histories, candidates, None, tokenizer, max_length=64)
    out = []
    with torch.no_grad():
        for batch in make_loader(ds, batch_size, shuffle=False, bucket=False):
            batch.pop("labels")
            out.append(model(**batch).logits.squeeze(-1))
    return torch.cat(out)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("arch", ["gpt2", "bert"])
def test_a_pair_gets_the_same_prediction_alone_and_among_neighbours(arch, side, tokenizer, request):
    # the issue: a GPT-2 regressor whose tokenizer pads on the left moved a pair's prediction by
    # 0.21 standardised units between batch sizes 1 and 8; now it is batch-invariant (fp32)
    import copy

    model = request.getfixturevalue(f"tiny_{arch}").eval()
    tok = copy.deepcopy(tokenizer)
    tok.padding_side = side
    alone = _predict_pairs(model, tok, [PAIR], 1)
    tok.padding_side = side  # even if the caller sets it again after the dataset was made
    batched = _predict_pairs(model, tok, [*NEIGHBOURS[:3], PAIR, *NEIGHBOURS[3:]], 8)
    assert batched.shape == (8,)
    assert abs(float(batched[3] - alone[0])) < 1e-5
    mid_batch = _predict_pairs(model, tok, [NEIGHBOURS[1], PAIR], 2)
    assert abs(float(mid_batch[1] - alone[0])) < 1e-5


def test_the_collator_pads_on_the_right_whatever_the_tokenizer_says(tokenizer):
    import copy

    tok = copy.deepcopy(tokenizer)
    ds = RatingTextDataset(["heat", "toy story 5.0; heat 4.0"], ["up", "alien"], [3.0, 4.0], tok)
    assert tok.padding_side == "right"  # the dataset set it
    tok.padding_side = "left"
    batch = next(iter(make_loader(ds, 2, shuffle=False, bucket=False)))
    short = ds.lengths[0]
    assert batch["input_ids"][0, 0] == tokenizer.cls_token_id
    gap = ds.lengths[1] - short
    assert batch["input_ids"][0, short:].tolist() == [tokenizer.pad_token_id] * gap
    assert batch["attention_mask"][0].tolist() == [1] * short + [0] * gap
    assert batch["token_type_ids"][0, short:].eq(0).all()
    assert batch["labels"].tolist() == [3.0, 4.0] and batch["labels"].dtype == torch.float32
    vec = RatingVectorDataset(["a", "heat 4.0; alien 2.0"], np.array([[1.0], [np.nan]]), tok)
    assert tok.padding_side == "right"
    tok.padding_side = "left"
    vbatch = next(iter(make_loader(vec, 2, shuffle=False, bucket=False)))
    assert vbatch["attention_mask"][0, -1] == 0
    assert vbatch["input_ids"][0, 0] == tokenizer.cls_token_id
    assert vbatch["label_mask"].tolist() == [[1.0], [0.0]]
    assert vbatch["labels"].dtype == torch.float32


def test_a_tokenizer_without_pad_token_is_a_config_error(tokenizer):
    import copy

    tok = copy.deepcopy(tokenizer)
    ds = RatingTextDataset(["heat"], ["up"], [3.0], tok)
    tok.pad_token = None
    with pytest.raises(ConfigError, match="ensure_pad_token"):
        make_loader(ds, 1, shuffle=False)
    assert RightPaddingCollator.for_tokenizer(tokenizer).pad_token_id == tokenizer.pad_token_id


# --------------------------------------------------------------------------- ids and NumPy numbers


def test_rating_matrix_keeps_ids_as_given():
    import pandas as pd

    big = 2**70  # beyond int64: stays a Python int
    ratings = pd.DataFrame({"userId": ["007", "7", "zoë", "007"], "movieId": [big, 20, 20, 30],
                            "rating": [4.0, 2.0, 5.0, 1.0]})
    matrix = rating_matrix(ratings, ["7", "007", "zoë"], [big, 20, 30])
    nan = np.nan
    expected = np.array([[nan, 2.0, nan], [4.0, nan, 1.0], [nan, 5.0, nan]], np.float32)
    np.testing.assert_array_equal(matrix, expected)
    ints = pd.DataFrame({"userId": [1, 2], "movieId": [10, 20], "rating": [4.0, 5.0]})
    np.testing.assert_array_equal(rating_matrix(ints, [np.int64(2), 1, 3], [20, 10]),
                                  [[5.0, np.nan], [np.nan, 4.0], [np.nan, np.nan]])
    with pytest.raises(DataError, match=r"ids are \['str'\].*holds \['int'\]"):
        rating_matrix(ints, ["1", "2"], [10, 20])  # "1" is not 1: no silent int()
    with pytest.raises(DataError, match="more than once"):
        rating_matrix(ints, [1, 1], [10, 20])


def test_numpy_integers_work_as_sizes(tokenizer):
    hist, cand, ratings = _texts(20)
    ds = RatingTextDataset(hist, cand, ratings, tokenizer, max_length=np.int64(24))
    assert ds.max_length == 24 and type(ds.max_length) is int and max(ds.lengths) <= 24
    loader = make_loader(ds, np.int64(8), shuffle=True, seed=np.int64(1), num_workers=np.int32(0))
    assert sum(len(b["labels"]) for b in loader) == 20
    sampler = LengthBucketSampler(ds.lengths, np.int32(4), chunk_batches=np.int64(2),
                                  num_replicas=np.int64(2), rank=np.int64(1))
    assert sampler.batch_size == 4 and len(list(sampler)) == len(sampler)
    vec = RatingVectorDataset(["a b c"], np.ones((1, 2)), tokenizer, max_length=np.int16(16))
    assert vec.max_length == 16
    for bad in (True, 2.5, "8", 0):
        with pytest.raises(ConfigError, match="batch_size"):
            LengthBucketSampler(ds.lengths, bad)
    with pytest.raises(ConfigError, match="max_length"):
        RatingTextDataset(hist, cand, ratings, tokenizer, max_length=np.int64(4))
    with pytest.raises(ConfigError, match="rank"):
        LengthBucketSampler(ds.lengths, 4, num_replicas=2, rank=2)
