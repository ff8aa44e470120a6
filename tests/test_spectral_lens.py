"""SpectralLens: SmoothGrad averaged over noise scales, checked against its definition and the Gaussian law."""

import math

import pytest
import torch
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, small_cnn, snapshot
from xai_lib.methods.spectral_lens import DEFAULT_SIGMAS


class Sines(nn.Module):
    """Output k is sin(2 pi nu_k x) for inputs (N, 1): a function with one frequency per output."""

    def __init__(self, freqs):
        super().__init__()
        self.register_buffer("freqs", torch.as_tensor(freqs, dtype=torch.float64))

    def forward(self, x):
        return torch.sin(2 * math.pi * self.freqs * x)  # (N, 1) * (K,) -> (N, K)


def test_registered_with_the_common_signature():
    assert xl.METHODS["spectral_lens"] is xl.spectral_lens


def test_is_the_mean_of_smoothgrad_over_the_scales():
    model, x = (
        small_cnn(),
        torch.rand(
            2,
            3,
            16,
            16,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(0),
        ),
    )
    sigmas = (0.05, 0.3)
    for reduce in ("mean", "mean_square"):
        lens = xl.spectral_lens(model, x, 1, sigmas=sigmas, n=3, reduce=reduce, seed=7)
        parts = [
            xl.smoothgrad(model, x, 1, sigma=s, n=3, reduce=reduce, seed=7 + k)
            for k, s in enumerate(sigmas)
        ]
        torch.testing.assert_close(lens, torch.stack(parts).mean(0))
        same, scales = xl.spectral_lens(
            model, x, 1, sigmas=sigmas, n=3, reduce=reduce, seed=7, return_scales=True
        )
        torch.testing.assert_close(same, lens)
        torch.testing.assert_close(scales, torch.stack(parts))


def test_one_scale_is_smoothgrad_and_zero_noise_is_the_gradient():
    model, x = (
        relu_mlp(),
        torch.randn(
            3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
        ),
    )
    torch.testing.assert_close(
        xl.spectral_lens(model, x, 2, sigmas=[0.1], n=8, seed=3),
        xl.smoothgrad(model, x, 2, sigma=0.1, n=8, reduce="mean_square", seed=3),
    )
    gradient = xl.saliency(model, x, 2)
    torch.testing.assert_close(
        xl.spectral_lens(model, x, 2, sigmas=[0.0, 0.0], n=2, reduce="mean"), gradient
    )
    torch.testing.assert_close(
        xl.spectral_lens(model, x, 2, sigmas=[0.0], n=2), gradient.square()
    )


def test_filters_each_frequency_by_the_mean_of_the_gaussians():
    """d/dx sin(2 pi nu x) = 2 pi nu cos(2 pi nu x); noise of std s multiplies it by exp(-2 pi^2 s^2 nu^2),
    so the lens multiplies it by the mean of that gain over the scales (relative=False: s is the std)."""
    freqs = [0.5, 1.0, 2.0]
    sigmas = (0.05, 0.1, 0.2, 0.4)
    model, x = Sines(freqs), torch.tensor([[0.0], [0.13]], dtype=torch.float64)
    for k, nu in enumerate(freqs):
        got = xl.spectral_lens(
            model, x, k, sigmas=sigmas, n=2000, reduce="mean", seed=0, relative=False
        )[:, 0]
        gain = sum(math.exp(-2 * math.pi**2 * s**2 * nu**2) for s in sigmas) / len(
            sigmas
        )
        expected = 2 * math.pi * nu * torch.cos(2 * math.pi * nu * x[:, 0]) * gain
        torch.testing.assert_close(got, expected, atol=0.06 * 2 * math.pi * nu, rtol=0)
    # the strongest noise alone removes nu = 2 almost entirely; the lens keeps the weaker scales' share
    lone = xl.smoothgrad(model, x, 2, sigma=0.4, n=2000, seed=0, relative=False)[:, 0]
    assert lone.abs().max() < 0.06 * 2 * math.pi * 2


def test_same_seed_same_result_for_any_batch_size():
    model, x = (
        small_cnn(),
        torch.rand(
            3,
            3,
            16,
            16,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(2),
        ),
    )
    options = {"sigmas": (0.1, 0.3), "n": 3}
    a = xl.spectral_lens(model, x, seed=11, **options)
    torch.testing.assert_close(
        xl.spectral_lens(model, x, seed=11, batch_size=4, **options), a
    )
    torch.testing.assert_close(
        xl.spectral_lens(model, x, seed=11, batch_size=1, **options), a
    )
    assert a.shape == x.shape and (a >= 0).all()
    assert not torch.equal(xl.spectral_lens(model, x, seed=12, **options), a)


def test_target_defaults_to_the_argmax_on_the_clean_input():
    model, x = (
        relu_mlp(),
        torch.randn(
            4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
        ),
    )
    argmax = model(x).argmax(1)
    torch.testing.assert_close(
        xl.spectral_lens(model, x, sigmas=[0.5, 1.0], n=3, seed=0),
        xl.spectral_lens(model, x, argmax, sigmas=[0.5, 1.0], n=3, seed=0),
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"sigmas": []}, "sigmas must be a non-empty list"),
        ({"sigmas": 0.1}, "sigmas must be a non-empty list"),
        ({"sigmas": "0.1"}, "sigmas must be a non-empty list"),
        ({"sigmas": [0.1, -0.2]}, "finite number >= 0"),
        ({"sigmas": [0.1, float("inf")]}, "finite number >= 0"),
        ({"sigmas": [True]}, "finite number >= 0"),
        ({"n": 0}, "n must be"),
        ({"reduce": "var"}, "reduce"),
        ({"batch_size": 0}, "batch_size"),
        ({"return_scales": 1}, "return_scales"),
    ],
)
def test_bad_options_raise_and_leave_the_model_untouched(options, message):
    model, x = relu_mlp(), torch.randn(2, 6, dtype=torch.float64)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        xl.spectral_lens(model, x, 0, **options)
    assert_untouched(model, before)


def test_default_scales_are_a_geometric_grid():
    ratios = [b / a for a, b in zip(DEFAULT_SIGMAS, DEFAULT_SIGMAS[1:])]
    assert all(r == pytest.approx(ratios[0]) for r in ratios) and ratios[0] > 1
