"""spectral.summary: expected frequency, radial profile and tail exponent from one FFT.

Checked against the three functions called one by one, against a map-by-map numpy reference,
on analytic maps, for any chunking of the maps, and for its errors and degenerate maps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xai_lib import spectral
from xai_lib._core import DegenerateMapWarning
from xai_lib.analysis.spectral import half_plane


def numpy_reference(image: np.ndarray, band=(0.1, 0.5)):
    """EF, radial profile and tail exponent of one map, the straightforward way (full plane)."""
    h, w = image.shape
    n = min(h, w)
    power = np.abs(np.fft.fft2(image)) ** 2
    radius = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2)
    ef = (radius * power).sum() / power.sum()
    bins = np.round(radius * n).astype(int).ravel()
    keep = bins <= n // 2
    profile = np.bincount(bins[keep], power.ravel()[keep]) / np.bincount(bins[keep])
    freqs = np.arange(n // 2 + 1) / n
    inside = (freqs >= band[0]) & (freqs <= band[1])
    slope = np.polyfit(np.log(freqs[inside]), np.log(profile[inside]), 1)[0]
    return ef, profile, -slope


SHAPES = [(64, 64), (3, 32, 32), (2, 3, 33, 31), (4, 40, 48), (2, 150, 140)]


@pytest.mark.parametrize("shape", SHAPES)
def test_summary_equals_the_separate_functions(shape):
    a = torch.randn(
        *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    result = spectral.summary(a, band=(0.1, 0.45))
    freqs, profile = spectral.radial_profile(a)
    torch.testing.assert_close(
        result.expected_frequency,
        spectral.expected_frequency(a),
        rtol=1e-12,
        atol=0,
    )
    torch.testing.assert_close(result.freqs, freqs, rtol=0, atol=0)
    torch.testing.assert_close(result.radial_profile, profile, rtol=1e-12, atol=0)
    torch.testing.assert_close(
        result.tail_exponent,
        spectral.tail_exponent(a, band=(0.1, 0.45)),
        rtol=1e-12,
        atol=1e-12,
    )
    assert result.expected_frequency.shape == shape[:-2]
    assert result.radial_profile.shape == (*shape[:-2], min(shape[-2:]) // 2 + 1)
    assert result.tail_exponent.shape == shape[:-2]


@pytest.mark.parametrize("shape", [(37, 45), (128, 128), (140, 150)])
def test_summary_matches_a_numpy_reference_map_by_map(shape):
    """Both ring paths: one matrix product (up to 64 rings) and the scatter (larger maps)."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(3, *shape, dtype=torch.float64, generator=g)
    result = spectral.summary(a)
    for i, image in enumerate(a.numpy()):
        ef, profile, tail = numpy_reference(image)
        np.testing.assert_allclose(result.expected_frequency[i].item(), ef, rtol=1e-12)
        np.testing.assert_allclose(
            result.radial_profile[i].numpy(), profile, rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(result.tail_exponent[i].item(), tail, rtol=1e-10)


def test_summary_does_not_depend_on_the_chunking(monkeypatch):
    a = torch.randn(
        37, 24, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    whole = spectral.summary(a)
    # one map per chunk, then a few maps per chunk (a last, shorter chunk)
    for chunk_bytes in (1, 5 * 24 * 13 * 2 * 8):
        # _power_sums reads the chunk size from its own module
        monkeypatch.setattr(half_plane, "SPECTRUM_CHUNK_BYTES", chunk_bytes)
        for got, expected in zip(spectral.summary(a), whole):
            torch.testing.assert_close(got, expected, rtol=1e-13, atol=0)


def test_summary_on_analytic_maps():
    """A zero-mean sinusoid of k periods has EF k / size; 1/f^alpha noise has tail alpha."""
    size, k = 64, 5
    pixels = torch.arange(size, dtype=torch.float64)
    sinusoid = torch.cos(2 * math.pi * k * pixels / size)[None, :].expand(size, size)
    result = spectral.summary(sinusoid, band=(0.05, 0.5))
    assert result.expected_frequency.item() == pytest.approx(k / size, rel=1e-12)
    peak = int(result.radial_profile.argmax())
    assert result.freqs[peak].item() == pytest.approx(k / size)

    g = torch.Generator().manual_seed(3)
    alpha = 2.0
    fy = torch.fft.fftfreq(size, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(size, dtype=torch.float64)[None, :]
    radius = (fy**2 + fx**2).sqrt()
    amplitude = radius.clamp_min(1 / size) ** (-alpha / 2)
    phases = torch.fft.fft2(
        torch.randn(256, size, size, dtype=torch.float64, generator=g)
    )
    noise = torch.fft.ifft2(phases * amplitude).real
    tails = spectral.summary(noise).tail_exponent
    assert tails.mean().item() == pytest.approx(alpha, abs=0.05)


def test_summary_keeps_the_dtype_and_float32_agrees():
    a = torch.randn(8, 32, 32, generator=torch.Generator().manual_seed(4))
    single, double = spectral.summary(a), spectral.summary(a.double())
    assert single.expected_frequency.dtype == torch.float32
    torch.testing.assert_close(
        single.expected_frequency.double(), double.expected_frequency, rtol=1e-5, atol=0
    )
    torch.testing.assert_close(
        single.tail_exponent.double(), double.tail_exponent, rtol=1e-4, atol=1e-5
    )


def test_summary_of_an_all_zero_map_warns_as_expected_frequency_does():
    a = torch.randn(
        3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(5)
    )
    a[1] = 0
    with pytest.warns(DegenerateMapWarning, match="1 of 3 maps"):
        result = spectral.summary(a)
    assert result.expected_frequency[1].isnan()
    assert not result.expected_frequency[[0, 2]].isnan().any()
    assert torch.isfinite(result.tail_exponent).all()


def test_summary_errors_name_the_problem():
    with pytest.raises(ValueError, match="NaN or infinite"):
        spectral.summary(torch.eye(4).index_fill(0, torch.tensor([2]), float("nan")))
    with pytest.raises(ValueError, match="NaN or infinite"):
        spectral.summary(torch.full((2, 4, 4), float("inf")))
    with pytest.raises(ValueError, match="at least 2 x 2"):
        spectral.summary(torch.rand(3, 1, 8))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        spectral.summary(torch.rand(8))
    with pytest.raises(ValueError, match="torch.Tensor"):
        spectral.summary(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="band must satisfy"):
        spectral.summary(torch.rand(8, 8), band=(0.3, 0.2))
    with pytest.raises(ValueError, match="widen it"):
        spectral.summary(torch.rand(8, 8), band=(0.3, 0.35))
    # an empty batch is named by its own shape, not the one-pixel slice summary checks
    with pytest.raises(ValueError, match=r"empty batch \(shape \(0, 8, 8\)\)"):
        spectral.summary(torch.zeros(0, 8, 8))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_maps_are_refused_with_the_fix(dtype):
    maps = torch.rand(2, 8, 8).to(dtype)
    for measure in (spectral.summary, spectral.expected_frequency):
        with pytest.raises(ValueError, match=r"pass a\.float\(\)"):
            measure(maps)
    with pytest.raises(ValueError, match=r"pass a\.float\(\)"):
        spectral.forgrad(maps[:, None], 0.25)


def test_summary_leaves_its_input_alone():
    a = torch.randn(4, 16, 16, generator=torch.Generator().manual_seed(6))
    before = a.clone()
    spectral.summary(a)
    assert torch.equal(a, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_summary_on_cuda_equals_cpu():
    a = torch.randn(
        16, 48, 48, dtype=torch.float64, generator=torch.Generator().manual_seed(7)
    )
    cpu, gpu = spectral.summary(a), spectral.summary(a.cuda())
    for got, expected in zip(gpu, cpu):
        assert got.device.type == "cuda"
        torch.testing.assert_close(got.cpu(), expected, rtol=1e-10, atol=1e-12)
