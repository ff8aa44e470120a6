"""Beta-smooth activations against their formula, their ReLU limit, and smooth() copies."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, small_cnn, snapshot
from xai_lib.activations import SoftplusBeta, activation, smooth

BETAS = [0.1, 0.5, 1.0, 3.0, 10.0, 100.0]


@pytest.mark.parametrize("beta", BETAS)
def test_values_equal_the_formula(beta):
    x = torch.linspace(-60, 60, 20001, dtype=torch.float64)
    exact = torch.from_numpy(
        np.logaddexp(0.0, beta * x.numpy()) / beta
    )  # (1/beta) log(1 + exp(beta x))
    torch.testing.assert_close(SoftplusBeta(beta)(x), exact, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("beta", BETAS)
def test_derivative_is_sigmoid_of_beta_x(beta):
    x = torch.linspace(-60, 60, 20001, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(SoftplusBeta(beta)(x).sum(), x)
    torch.testing.assert_close(
        grad, torch.sigmoid(beta * x.detach()), rtol=0, atol=4e-16
    )
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.grad(SoftplusBeta(beta)(zero).sum(), zero)[0].item() == 0.5


def test_relu_limit():
    """The gap to ReLU is largest at 0, where it is log(2) / beta, so beta -> inf gives ReLU."""
    x = torch.linspace(-3, 3, 6001, dtype=torch.float64)
    gaps = [
        (SoftplusBeta(beta)(x) - torch.relu(x)).abs().max().item()
        for beta in (1.0, 10.0, 1e3, 1e6)
    ]
    assert gaps == pytest.approx(
        [math.log(2) / beta for beta in (1.0, 10.0, 1e3, 1e6)], rel=1e-12
    )
    assert torch.equal(SoftplusBeta(math.inf)(x), torch.relu(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_at_large_beta_x(dtype):
    x = torch.tensor(
        [-1e4, -50.0, -1e-3, 0.0, 1e-3, 50.0, 1e4], dtype=dtype, requires_grad=True
    )
    for beta in (1e3, 1e6):
        y = SoftplusBeta(beta)(x)
        (grad,) = torch.autograd.grad(y.sum(), x)
        assert torch.isfinite(y).all() and torch.isfinite(grad).all()
        torch.testing.assert_close(
            y[[0, 1, 5, 6]], torch.relu(x.detach())[[0, 1, 5, 6]]
        )
        torch.testing.assert_close(
            grad[[0, 1, 5, 6]], torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=dtype)
        )
        assert y[3].item() == pytest.approx(math.log(2) / beta, rel=1e-6)


def test_activation_factory():
    assert type(activation(None)) is nn.ReLU and type(activation(math.inf)) is nn.ReLU
    assert isinstance(activation(2), SoftplusBeta) and activation(2).beta == 2.0
    assert "beta=2" in repr(activation(2))


@pytest.mark.parametrize("beta", [0, -1.0, math.nan, "2", True, None])
def test_bad_beta_raises(beta):
    with pytest.raises(ValueError, match="beta"):
        SoftplusBeta(beta)
    with pytest.raises(ValueError, match="beta"):
        smooth(relu_mlp(), beta)


def test_smooth_replaces_every_relu_and_leaves_the_original_untouched():
    model = small_cnn(inplace=True)
    before = snapshot(model)
    x = torch.randn(
        3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    smoothed = smooth(model, 2.0)
    assert_untouched(model, before)
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 2
    assert not any(isinstance(m, nn.ReLU) for m in smoothed.modules())
    assert [m.beta for m in smoothed.modules() if isinstance(m, SoftplusBeta)] == [
        2.0,
        2.0,
    ]
    assert all(p is not q for p, q in zip(model.parameters(), smoothed.parameters()))
    assert not torch.allclose(smoothed(x), model(x))


def test_smooth_beta_inf_keeps_relu_and_gradients_converge():
    model = relu_mlp()
    x = torch.randn(
        20, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    relu_copy = smooth(
        smooth(model, 0.5), math.inf
    )  # smoothing is undone by beta = inf
    assert [type(m) for m in relu_copy.modules()] == [type(m) for m in model.modules()]
    torch.testing.assert_close(relu_copy(x), model(x), rtol=0, atol=0)
    # beta -> inf: the smooth model's gradient converges to the ReLU model's
    errors = [
        (xl.saliency(smooth(model, beta), x, 0) - xl.saliency(model, x, 0))
        .abs()
        .max()
        .item()
        for beta in (1.0, 10.0, 1e3, 1e5)
    ]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-8


def test_smooth_handles_shared_and_nested_relus():
    relu = nn.ReLU()
    model = nn.Sequential(
        nn.Linear(4, 4), relu, nn.Sequential(nn.Linear(4, 4), relu), nn.Linear(4, 2)
    )
    smoothed = smooth(model, 5.0)
    assert isinstance(smoothed[1], SoftplusBeta) and isinstance(
        smoothed[2][1], SoftplusBeta
    )
    assert model[1] is relu and model[2][1] is relu
    assert isinstance(smooth(nn.ReLU(), 3.0), SoftplusBeta)


def test_smooth_without_relu_raises():
    with pytest.raises(ValueError, match="no nn.ReLU"):
        smooth(nn.Sequential(nn.Linear(3, 3), nn.Tanh()), 2.0)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        smooth(lambda x: x, 2.0)
