"""The sawtooth network, piece counting and the measures of shattered gradients, on analytic cases."""

import math

import pytest
import torch
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, requires_cuda, snapshot
from xai_lib import shattered


class SineSum(nn.Module):
    """f(x) = sum_i sin(k x_i), one output: gradient k cos(k x), as rough as k is large."""

    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = k

    def forward(self, x):
        return torch.sin(self.k * x).sum(dim=1, keepdim=True)


@pytest.mark.parametrize("depth", range(1, 7))
def test_sawtooth_pieces_and_slopes(depth):
    model = shattered.sawtooth(depth).double()
    assert {type(m) for m in model} == {nn.Linear, nn.ReLU}
    assert sum(isinstance(m, nn.ReLU) for m in model) == depth
    slopes = shattered.linear_pieces(model)
    assert len(slopes) == 2**depth == shattered.count_linear_pieces(model)
    expected = 2.0**depth * torch.tensor(
        [(-1.0) ** i for i in range(2**depth)], dtype=torch.float64
    )
    torch.testing.assert_close(slopes, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("depth", range(1, 7))
def test_sawtooth_values_and_gradient(depth):
    model = shattered.sawtooth(depth).double()
    kinks = torch.arange(2**depth + 1, dtype=torch.float64)[:, None] / 2**depth
    # the tent map composed: 0 at even multiples of 2^-depth, 1 at odd ones
    torch.testing.assert_close(
        model(kinks)[:, 0], (torch.arange(2**depth + 1) % 2).double()
    )
    x = torch.rand(
        200, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(depth)
    )
    assert ((model(x) >= 0) & (model(x) <= 1)).all()
    torch.testing.assert_close(
        xl.saliency(model, x, 0).abs(), torch.full_like(x, 2.0**depth), rtol=0, atol=0
    )


def test_float32_sawtooth_on_an_unaligned_grid():
    model = shattered.sawtooth(
        4
    )  # float32, kinks at multiples of 1/16 plus the flat parts outside [0, 1]
    assert shattered.count_linear_pieces(model, -1.0, 2.0, 30001) == 16 + 2
    assert shattered.count_linear_pieces(model.double(), 0.1, 0.93, 10001) == 13 + 1


def test_pieces_of_a_one_hidden_layer_net():
    """A 1-hidden-layer ReLU net has a kink at -b/w for each unit: pieces = kinks inside + 1."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    kinks = (-model[0].bias / model[0].weight[:, 0]).detach()
    inside = ((kinks > -2) & (kinks < 2)).sum().item()
    assert inside >= 3
    assert shattered.count_linear_pieces(model, -2.0, 2.0, 20001) == inside + 1


def test_a_linear_model_has_one_piece():
    model = nn.Linear(1, 1).double()
    slopes = shattered.linear_pieces(model, -3.0, 5.0, 101)
    torch.testing.assert_close(slopes, model.weight.detach().reshape(1))


@pytest.mark.parametrize("depth", range(1, 7))
def test_gradient_autocorrelation_of_the_sawtooth(depth):
    """The gradient is +-2^d in 2^d equal runs over 256 points: acf[1] = (255 - 2 (2^d - 1)) / 256."""
    model = shattered.sawtooth(depth).double()
    before = snapshot(model)
    lags, acf = shattered.gradient_autocorrelation(model, points=256)
    assert_untouched(model, before)
    assert lags.tolist() == list(range(129)) and acf[0].item() == pytest.approx(1.0)
    assert acf[1].item() == pytest.approx((255 - 2 * (2**depth - 1)) / 256, abs=1e-12)


def test_autocorrelation_drops_faster_with_depth():
    first_lags = [
        shattered.gradient_autocorrelation(shattered.sawtooth(d).double(), max_lag=4)[
            1
        ][1].item()
        for d in range(1, 8)
    ]
    assert first_lags == sorted(first_lags, reverse=True)


def test_shatteredness_zero_for_linear_and_radius_zero():
    torch.manual_seed(0)
    linear = nn.Linear(10, 3).double()
    x = torch.randn(4, 10, dtype=torch.float64)
    zeros = torch.zeros(4, dtype=torch.float64)
    torch.testing.assert_close(
        shattered.shatteredness(linear, x, radius=0.5, seed=0),
        zeros,
        rtol=0,
        atol=1e-12,
    )
    torch.testing.assert_close(
        shattered.shatteredness(relu_mlp(d_in=10), x, radius=0.0, n=3),
        zeros,
        rtol=0,
        atol=1e-12,
    )


def test_shatteredness_grows_with_roughness():
    x = torch.randn(
        3, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    smooth = shattered.shatteredness(SineSum(0.5), x, radius=0.1, n=8, seed=0)
    rough = shattered.shatteredness(SineSum(50.0), x, radius=0.1, n=8, seed=0)
    assert (smooth < 0.05).all() and (rough > 0.5).all()


def test_shatteredness_reproducible_and_independent_of_batch_size():
    model = relu_mlp(d_in=6)
    x = torch.randn(
        5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    before = snapshot(model)
    reference = shattered.shatteredness(model, x, 1, radius=0.3, n=6, seed=4)
    for batch_size in (1, 4, 7, 100):
        torch.testing.assert_close(
            shattered.shatteredness(
                model, x, 1, radius=0.3, n=6, seed=4, batch_size=batch_size
            ),
            reference,
            rtol=0,
            atol=1e-12,
        )
    assert_untouched(model, before)
    assert not torch.equal(
        reference, shattered.shatteredness(model, x, 1, radius=0.3, n=6, seed=5)
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: shattered.sawtooth(0), "depth"),
        (
            lambda: shattered.count_linear_pieces(shattered.sawtooth(2), 1.0, 0.0),
            "low < high",
        ),
        (
            lambda: shattered.count_linear_pieces(shattered.sawtooth(2), 0.0, math.inf),
            "finite",
        ),
        (
            lambda: shattered.count_linear_pieces(shattered.sawtooth(2), points=2),
            "at least 3",
        ),
        (
            lambda: shattered.count_linear_pieces(nn.Linear(1, 3), points=11),
            "1-D model",
        ),
        (
            lambda: shattered.count_linear_pieces(
                shattered.sawtooth(8).double(), points=101
            ),
            "raise points",
        ),
        (lambda: shattered.gradient_autocorrelation(nn.Linear(2, 1)), "shape|mat"),
        (
            lambda: shattered.gradient_autocorrelation(
                shattered.sawtooth(2), points=8, max_lag=8
            ),
            "max_lag",
        ),
        (
            lambda: shattered.shatteredness(nn.Linear(1, 1), torch.ones(3, 1)),
            "at least 2 features",
        ),
        (
            lambda: shattered.shatteredness(
                nn.Linear(2, 1), torch.ones(3, 2), radius=-1.0
            ),
            "radius",
        ),
    ],
)
def test_bad_arguments_raise(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


def test_bad_arguments_are_value_errors():
    for call in (
        lambda: shattered.sawtooth(0),
        lambda: shattered.linear_pieces(shattered.sawtooth(1), 2, 1),
        lambda: shattered.shatteredness(nn.Linear(1, 1), torch.ones(3, 1)),
    ):
        with pytest.raises(ValueError):
            call()


@requires_cuda
def test_cuda():
    model = shattered.sawtooth(5).double().cuda()
    assert shattered.count_linear_pieces(model) == 32
    lags, acf = shattered.gradient_autocorrelation(model)
    assert acf.device.type == "cuda" and acf[1].item() == pytest.approx(
        (255 - 62) / 256
    )
    x = torch.randn(
        3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    cpu = shattered.shatteredness(relu_mlp(), x, radius=0.2, n=4, seed=0)
    gpu = shattered.shatteredness(relu_mlp().cuda(), x.cuda(), radius=0.2, n=4, seed=0)
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape
