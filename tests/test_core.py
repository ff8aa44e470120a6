"""Input validation, target handling and the guards every method shares."""

import pytest
import torch
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, snapshot

VECTOR_METHODS = ["saliency", "gradient_x_input", "integrated_gradients", "smoothgrad"]


@pytest.fixture
def mlp():
    return relu_mlp()


X = torch.randn(3, 6, dtype=torch.float64)


@pytest.mark.parametrize("name", VECTOR_METHODS)
@pytest.mark.parametrize(
    "x, target, options, message",
    [
        (X, 4, {}, "out of range"),
        (X, [0, 1], {}, "2 entries"),
        (X, -1, {}, "negative"),
        (X, 1.5, {}, "target"),
        (X, torch.tensor([0.0, 1.0, 1.0]), {}, "integer"),
        (X.long(), 0, {}, "floating-point"),
        (torch.full((3, 6), float("nan"), dtype=torch.float64), 0, {}, "NaN"),
        (
            torch.full((3, 6), float("inf"), dtype=torch.float64),
            0,
            {},
            "NaN or infinite",
        ),
        (torch.randn(6, dtype=torch.float64), 0, {}, "batch first"),
        ([[1.0] * 6], 0, {}, "torch.Tensor"),
    ],
)
def test_bad_inputs_raise_value_error_and_leave_nothing(
    name, mlp, x, target, options, message
):
    before = snapshot(mlp)
    with pytest.raises(ValueError, match=message):
        xl.METHODS[name](mlp, x, target, **options)
    assert_untouched(mlp, before)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("integrated_gradients", {"steps": 0}, "steps"),
        ("integrated_gradients", {"batch_size": 0}, "batch_size"),
        ("integrated_gradients", {"rule": "simpson"}, "rule"),
        (
            "integrated_gradients",
            {"baseline": torch.zeros(2, 5, dtype=torch.float64)},
            "broadcast",
        ),
        ("smoothgrad", {"sigma": -0.1}, "sigma"),
        ("smoothgrad", {"n": 0}, "n must"),
        ("smoothgrad", {"method": "no_such_method"}, "unknown method"),
        ("smoothgrad", {"reduce": "median"}, "reduce"),
    ],
)
def test_bad_options_raise_value_error(name, options, message, mlp):
    before = snapshot(mlp)
    with pytest.raises(ValueError, match=message):
        xl.METHODS[name](mlp, X, 0, **options)
    assert_untouched(mlp, before)


def test_target_forms_agree(mlp):
    expected = xl.saliency(mlp, X, torch.tensor([2, 2, 2]))
    for target in (
        2,
        [2, 2, 2],
        (2, 2, 2),
        torch.tensor(2),
        torch.tensor([2, 2, 2], dtype=torch.int32),
    ):
        torch.testing.assert_close(xl.saliency(mlp, X, target), expected)


def test_not_a_model():
    with pytest.raises(ValueError, match="nn.Module"):
        xl.saliency(lambda x: x, X)


def test_state_restored_when_the_model_raises():
    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(6, 2).double()

        def forward(self, x):
            self.linear.weight.requires_grad_(
                False
            )  # a model that mutates flags, then fails
            self.eval()
            raise RuntimeError("boom")

    model = Exploding().train()
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        xl.integrated_gradients(model, X, 0)
    assert_untouched(model, before)


def test_dtype_and_device_follow_input():
    model = relu_mlp().float()
    a = xl.integrated_gradients(model, X.float(), 0, steps=4)
    assert a.dtype == torch.float32 and a.device == X.device


def test_methods_registry_holds_every_public_method():
    for name, fn in xl.METHODS.items():
        assert getattr(xl, name) is fn


def test_batchnorm_statistics_untouched_in_training_mode():
    torch.manual_seed(0)
    model = (
        nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        .double()
        .train()
    )
    before = snapshot(model)
    for name in VECTOR_METHODS:
        xl.METHODS[name](model, X, 0)
    assert_untouched(model, before)
