"""Input validation, target handling and the guards every method shares."""

import pytest
import torch

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


def test_methods_registry_holds_every_public_method():
    for name, fn in xl.METHODS.items():
        assert getattr(xl, name) is fn
