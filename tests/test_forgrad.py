"""FORGrad (xl.spectral.forgrad) against an independent re-implementation of Xplique's pipeline.

Xplique's ``forgrad(explanations, sigma)`` works on channels-last maps (N, H, W, C): mean over
the channels, absolute value, rfft2, a circular mask of radius ``sigma`` frequency bins built
on the centred grid and un-centred with fftshift (only the W//2 + 1 unique columns kept),
irfft2, absolute value. The reference below redoes that in numpy, from that description.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

import xai_lib as xl
from xai_lib import spectral


def xplique_forgrad(explanations: np.ndarray, sigma: float) -> np.ndarray:
    """The pipeline of Xplique's forgrad on channels-last maps (N, S, S, C), square S even."""
    size = explanations.shape[1]
    maps = np.abs(explanations.mean(axis=-1))  # (N, S, S)
    centre = size // 2
    y_grid, x_grid = np.ogrid[:size, :size]
    distance = np.sqrt((x_grid - centre) ** 2 + (y_grid - centre) ** 2)
    mask = np.fft.fftshift(distance <= sigma)[:, : size // 2 + 1]
    filtered = np.fft.irfft2(np.fft.rfft2(maps) * mask, s=(size, size))
    return np.abs(filtered)


def full_plane_forgrad(a: np.ndarray, cutoff: float) -> np.ndarray:
    """The same operation with a full complex FFT, for any H, W (odd included): (N, C, H, W)."""
    maps = np.abs(a.mean(axis=1))  # (N, H, W)
    h, w = maps.shape[-2:]
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    keep = np.sqrt(fy**2 + fx**2) <= cutoff * (1 + 1e-9)
    return np.abs(np.fft.ifft2(np.fft.fft2(maps) * keep).real)[:, None]


@pytest.mark.parametrize("size, sigma", [(32, 3), (32, 8), (16, 1), (64, 15), (8, 4)])
def test_forgrad_equals_xpliques_pipeline(size, sigma):
    generator = torch.Generator().manual_seed(size + sigma)
    a = torch.randn(5, 3, size, size, generator=generator, dtype=torch.float64)
    ours = spectral.forgrad(
        a, sigma / size
    )  # sigma bins of a size-S map = sigma / S c/px
    reference = xplique_forgrad(a.permute(0, 2, 3, 1).numpy(), sigma)  # channels last
    assert ours.shape == (5, 1, size, size)
    np.testing.assert_allclose(ours[:, 0].numpy(), reference, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 33, 33), (3, 1, 17, 24), (1, 4, 9, 10)])
@pytest.mark.parametrize("cutoff", [0.06, 0.2, 0.5])
def test_forgrad_on_odd_and_non_square_maps_is_exact(shape, cutoff):
    a = torch.randn(
        *shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    expected = full_plane_forgrad(a.numpy(), cutoff)
    np.testing.assert_allclose(
        spectral.forgrad(a, cutoff).numpy(), expected, atol=1e-12
    )


def test_forgrad_is_a_magnitude_of_the_channel_mean():
    a = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    filtered = spectral.forgrad(a, 0.1)
    assert filtered.dtype == a.dtype and (filtered >= 0).all()
    torch.testing.assert_close(spectral.forgrad(-a, 0.1), filtered)  # sign is lost
    mean = a.mean(dim=1, keepdim=True)
    torch.testing.assert_close(spectral.forgrad(mean, 0.1), filtered)
    torch.testing.assert_close(
        filtered, spectral.low_pass(mean.abs(), 0.1, kind="ideal").abs()
    )
    # not the signed per-channel filter of low_pass: a different operation
    signed = spectral.low_pass(a, 0.1).mean(dim=1, keepdim=True)
    assert (filtered - signed).abs().max() > 0.1


def test_forgrad_keeps_a_smooth_magnitude_and_removes_fine_detail():
    size = 32
    rows = torch.arange(size, dtype=torch.float64)
    smooth = 2 + torch.cos(2 * math.pi * 1 * rows / size)  # positive, 1 period
    fine = 0.5 * torch.cos(2 * math.pi * 12 * rows / size)  # 12 periods
    a = (smooth + fine)[None, None, :, None].expand(1, 1, size, size)
    filtered = spectral.forgrad(a, 4 / size)
    expected = smooth[None, None, :, None].expand(1, 1, size, size)
    torch.testing.assert_close(filtered, expected)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: spectral.forgrad(torch.ones(3, 8, 8), 0.1), r"\(N, C, H, W\)"),
        (lambda: spectral.forgrad(torch.ones(1, 1, 8, 8, 2), 0.1), r"\(N, C, H, W\)"),
        (lambda: spectral.forgrad(torch.ones(1, 1, 8, 8), 0.0), "cutoff"),
        (lambda: spectral.forgrad(torch.ones(1, 1, 8, 8), 0.7), "cutoff"),
        (
            lambda: spectral.forgrad(torch.ones(1, 1, 8, 8, dtype=torch.long), 0.1),
            "float",
        ),
        (lambda: spectral.forgrad("map", 0.1), "Tensor"),
    ],
)
def test_forgrad_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    ).double()


def test_optimal_cutoff_with_the_forgrad_filter_is_the_best_of_a_manual_search():
    model = small_cnn()
    x = torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(3)).double()
    target = model(x).argmax(dim=1)
    cutoffs = (2 / 16, 3 / 16, 5 / 16, 0.5)
    best, scores = spectral.optimal_cutoff(
        model,
        x,
        target,
        "saliency",
        cutoffs,
        "insertion",
        filter="forgrad",
        return_scores=True,
    )
    a = xl.saliency(model, x, target)
    manual = torch.stack(
        [
            xl.metrics.insertion(model, x, spectral.forgrad(a, c), target).mean()
            for c in cutoffs
        ]
    )
    torch.testing.assert_close(scores, manual)
    assert best == cutoffs[int(manual.argmax())]
    # precomputed maps give the same answer without calling a method
    again = spectral.optimal_cutoff(
        model,
        x,
        target,
        None,
        cutoffs,
        "insertion",
        filter="forgrad",
        attribution=a,
        return_scores=True,
    )
    assert again[0] == best
    torch.testing.assert_close(again[1], scores)


def test_optimal_cutoff_rejects_a_gaussian_forgrad_and_misfit_maps():
    model = small_cnn()
    x = torch.rand(2, 3, 16, 16).double()
    with pytest.raises(ValueError, match="ideal"):
        spectral.optimal_cutoff(model, x, filter="forgrad", kind="gaussian")
    with pytest.raises(ValueError, match="filter"):
        spectral.optimal_cutoff(model, x, filter="median")
    with pytest.raises(ValueError, match="does not fit"):
        spectral.optimal_cutoff(model, x, attribution=torch.ones(3, 3, 16, 16).double())
