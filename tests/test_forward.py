import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from recsys_tutorial.errors import ConfigError
from recsys_tutorial.forward import (
    LOSS_FUNCTIONS,
    bce_loss,
    model_forward,
    mse_loss,
    predict,
    predictions,
    takes_labels,
)
from recsys_tutorial.models import TargetScaler


class Doubler(torch.nn.Module):
    """Predicts 2 * x; ``forward`` has no labels parameter."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        return self.w * x


def test_predictions_from_tensors_and_logits():
    torch.testing.assert_close(predictions(torch.tensor([1.0, 2.0])), torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(predictions(torch.tensor([[1.0], [2.0]])), torch.tensor([1.0, 2.0]))
    logits = torch.tensor([[3.0, 9.0], [4.0, 9.0]], dtype=torch.bfloat16)
    out = predictions(SimpleNamespace(logits=logits))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([3.0, 4.0]))
    with pytest.raises(ConfigError, match="forward hook must return a tensor"):
        predictions({"scores": [1, 2]})


def test_losses_by_hand():
    outputs = torch.tensor([1.0, 3.0])
    targets = torch.tensor([0.0, 1.0])
    assert float(mse_loss(outputs, targets)) == pytest.approx((1 + 4) / 2)
    # a model's own loss (Hugging Face with labels=, plus PEFT regularisers) is used as it is
    own = SimpleNamespace(logits=outputs, loss=torch.tensor(7.0, dtype=torch.bfloat16))
    assert float(mse_loss(own, targets)) == 7.0 and mse_loss(own, targets).dtype == torch.float32
    # -log(1 - sigmoid(1)) = log(1 + e^1) and -log(sigmoid(3)) = log(1 + e^-3), averaged
    expected = (math.log1p(math.exp(1.0)) + math.log1p(math.exp(-3.0))) / 2
    assert float(bce_loss(outputs, targets)) == pytest.approx(expected, rel=1e-6)
    assert float(bce_loss(own, targets)) == pytest.approx(expected, rel=1e-6)  # ignores .loss
    assert LOSS_FUNCTIONS == {"mse": mse_loss, "bce": bce_loss}


def test_model_forward_passes_labels_only_when_the_model_takes_them(tiny_bert):
    x = torch.tensor([1.0, 2.0])
    assert not takes_labels(Doubler()) and takes_labels(tiny_bert)
    torch.testing.assert_close(model_forward(Doubler(), {"x": x}, torch.zeros(2)), 2 * x)
    ids = torch.randint(5, 90, (2, 6))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    out = model_forward(tiny_bert.eval(), batch, torch.tensor([0.5, -0.5]))
    expected = torch.mean((out.logits[:, 0] - torch.tensor([0.5, -0.5])) ** 2)
    torch.testing.assert_close(out.loss, expected)
    assert model_forward(tiny_bert, batch).loss is None  # predicting: no labels


def test_predict_any_model_in_dataset_order():
    data = [{"x": torch.tensor(v), "labels": 0.0} for v in (0.5, -1.0, 2.0)]
    scaler = TargetScaler(mean=3.0, std=2.0, low=1.0, high=10.0)
    preds = predict(Doubler(), DataLoader(data, batch_size=2), scaler)
    # outputs 2x = 1, -2, 4 -> ratings 3 + 2 * output = 5, -1 (clipped to 1), 11 (clipped to 10)
    np.testing.assert_allclose(preds, [5.0, 1.0, 10.0])
    with pytest.raises(ConfigError, match="known order"):
        predict(Doubler(), DataLoader(data, batch_size=2, shuffle=True), scaler)
