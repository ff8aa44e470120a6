"""Spectra, expected frequency, tails and low-pass filters on maps whose spectrum is known."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import rankdata
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, requires_cuda, snapshot
from xai_lib import spectral

N = 32


def wave(
    k: int, size: int = N, vertical: bool = False, phase: float = 0.3
) -> torch.Tensor:
    """A zero-mean sinusoid with k periods across a size x size map."""
    line = torch.cos(
        2 * math.pi * k * torch.arange(size, dtype=torch.float64) / size + phase
    )
    return (
        line[:, None].expand(size, size).clone()
        if vertical
        else line[None, :].expand(size, size).clone()
    )


def power_law_noise(alpha: float, size: int, count: int, seed: int) -> torch.Tensor:
    """count maps whose expected power spectrum is |f|^-alpha (zero mean)."""
    white = torch.randn(
        count,
        size,
        size,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(seed),
    )
    fy = torch.fft.fftfreq(size, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(size, dtype=torch.float64)[None, :]
    radius = (fy**2 + fx**2).sqrt()
    amplitude = torch.where(radius > 0, radius.clamp_min(1e-12) ** (-alpha / 2), 0.0)
    return torch.fft.irfft2(torch.fft.rfft2(white) * amplitude, s=(size, size))


def paper_expected_frequency(image: np.ndarray) -> float:
    """The trade-off paper's recipe, step by step in numpy, for one (C, H, W) explanation."""
    summed = image.sum(0)
    normalized = (rankdata(summed.flatten()) / summed.size).reshape(summed.shape)
    power = np.fft.fftshift(np.abs(np.fft.fft2(normalized)) ** 2)
    centre = np.array(power.shape) // 2
    y, x = np.indices(power.shape)
    ring = np.sqrt((x - centre[1]) ** 2 + (y - centre[0]) ** 2).astype(np.int32)
    profile = np.bincount(ring.ravel(), power.ravel()) / np.bincount(ring.ravel())
    freqs = np.linspace(0, 1, len(profile))
    return float((freqs * profile / profile.sum()).mean())


def test_power_spectrum_of_a_delta_is_flat():
    for position in [(0, 0), (5, 17), (31, 2)]:
        delta = torch.zeros(N, N, dtype=torch.float64)
        delta[position] = 2.0
        torch.testing.assert_close(
            spectral.power_spectrum(delta), torch.full((N, N), 4.0, dtype=torch.float64)
        )
        freqs, profile = spectral.radial_profile(delta)
        torch.testing.assert_close(profile, torch.full_like(profile, 4.0))


@pytest.mark.parametrize("k", [1, 3, 8, 15])
def test_sinusoid_spectrum_peaks_at_its_frequency(k):
    a = wave(k)
    power = spectral.power_spectrum(a)
    centre = N // 2
    peaks = (power > power.max() * 1e-9).nonzero().tolist()
    assert sorted(peaks) == sorted([[centre, centre + k], [centre, centre - k]])
    freqs, profile = spectral.radial_profile(a)
    assert freqs[0] == 0 and freqs[-1] == 0.5 and len(freqs) == N // 2 + 1
    assert freqs[profile.argmax()].item() == k / N
    # Parseval: the spectrum holds H * W times the energy
    torch.testing.assert_close(power.sum(), a.square().sum() * N * N)


@pytest.mark.parametrize("k", [1, 2, 5, 11, 16])
def test_expected_frequency_of_a_sinusoid_is_k_over_size(k):
    for vertical in (False, True):
        assert spectral.expected_frequency(
            wave(k, vertical=vertical)
        ).item() == pytest.approx(k / N, rel=1e-12)
    grid = 2 * math.pi * torch.arange(N, dtype=torch.float64) / N
    diagonal = torch.outer(
        torch.cos(3 * grid), torch.cos(4 * grid)
    )  # waves at (+-3, +-4): |w| = 5 / N
    assert spectral.expected_frequency(diagonal).item() == pytest.approx(
        5 / N, rel=1e-12
    )


def test_expected_frequency_is_batched_and_matches_numpy():
    a = torch.randn(
        2, 3, 24, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    ef = spectral.expected_frequency(a)
    assert ef.shape == (2, 3)
    power = np.abs(np.fft.fft2(a.numpy())) ** 2
    radius = np.hypot(np.fft.fftfreq(24)[:, None], np.fft.fftfreq(40)[None, :])
    np.testing.assert_allclose(
        ef.numpy(), (power * radius).sum((-2, -1)) / power.sum((-2, -1)), rtol=1e-12
    )
    freqs, profile = spectral.radial_profile(a)
    assert profile.shape == (2, 3, 13) and freqs[-1] == 0.5


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 17, 24), (2, 31, 33)])
def test_rank_expected_frequency_follows_the_papers_code(shape):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(4, *shape, dtype=torch.float64, generator=g)
    a[1] = a[1].round()  # many ties: average ranks
    ours = spectral.expected_frequency(a, rank=True)
    theirs = torch.tensor(
        [paper_expected_frequency(image.numpy()) for image in a], dtype=torch.float64
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=0)


def test_rank_expected_frequency_ignores_monotone_rescaling():
    a = torch.randn(
        3, 1, 20, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    torch.testing.assert_close(
        spectral.expected_frequency(a.exp() * 5, rank=True),
        spectral.expected_frequency(a, rank=True),
        rtol=1e-12,
        atol=0,
    )


def test_delta_ef():
    assert spectral.delta_ef(wave(3), wave(10)).item() == pytest.approx(
        7 / N, rel=1e-12
    )
    a = torch.randn(2, 1, 16, 16, dtype=torch.float64)
    assert spectral.delta_ef(a, a, rank=True).abs().max() == 0


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0])
def test_tail_exponent_of_power_law_noise(alpha):
    maps = power_law_noise(alpha, 128, 4, seed=int(alpha))
    estimates = spectral.tail_exponent(maps, band=(0.05, 0.45))
    assert estimates.shape == (4,)
    assert estimates.mean().item() == pytest.approx(alpha, abs=0.1)
    assert (estimates - alpha).abs().max() < 0.25


def test_ideal_low_pass_keeps_waves_below_the_cutoff_and_removes_those_above():
    low, high = wave(4), wave(12, vertical=True)
    for cutoff in (5 / N, 8 / N, 11.5 / N):
        torch.testing.assert_close(
            spectral.low_pass(low + high, cutoff), low, rtol=0, atol=1e-12
        )
    torch.testing.assert_close(
        spectral.low_pass(low, 4 / N), low, rtol=0, atol=1e-12
    )  # the edge is kept
    assert spectral.low_pass(low, 3.9 / N).abs().max() < 1e-12
    torch.testing.assert_close(
        spectral.low_pass(low + high, 0.5), low + high, rtol=0, atol=1e-12
    )


def test_gaussian_low_pass_scales_a_wave_by_its_gain():
    for k, cutoff in [(2, 0.05), (6, 0.1), (10, 0.3)]:
        gain = math.exp(-((k / N) ** 2) / (2 * cutoff**2))
        torch.testing.assert_close(
            spectral.low_pass(wave(k), cutoff, "gaussian"),
            gain * wave(k),
            rtol=0,
            atol=1e-12,
        )


def test_low_pass_keeps_the_mean_shape_and_dtype():
    a = torch.randn(2, 3, 16, 20, generator=torch.Generator().manual_seed(0))
    for kind in ("ideal", "gaussian"):
        filtered = spectral.low_pass(a, 0.1, kind)
        assert filtered.shape == a.shape and filtered.dtype == torch.float32
        torch.testing.assert_close(
            filtered.mean((-2, -1)), a.mean((-2, -1)), rtol=0, atol=1e-5
        )


def linear_image_model(weight: torch.Tensor) -> nn.Module:
    """Two classes with logits (<w, x>, -<w, x>) on (N, 1, H, W) images."""
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(weight.numel(), 2, bias=False)
    ).double()
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([weight.flatten(), -weight.flatten()]))
    return model


def test_optimal_cutoff_finds_the_band_between_signal_and_noise():
    """Gradient x Input of a linear model with a low-frequency weight, plus high-frequency noise."""
    weight = 1 + wave(2)
    model = linear_image_model(weight)
    x = (
        torch.linspace(0.5, 1.5, 6, dtype=torch.float64)
        .view(6, 1, 1, 1)
        .expand(6, 1, N, N)
        .clone()
    )
    noise = 3 * wave(12, vertical=True)

    def noisy_gradient_x_input(model, x, target=None):
        return xl.gradient_x_input(model, x, target) + noise

    cutoffs = [0.5 / N, 6 / N, 0.5]
    before = snapshot(model)
    best, scores = spectral.optimal_cutoff(
        model,
        x,
        0,
        noisy_gradient_x_input,
        cutoffs,
        "mu_fidelity",
        metric_options={"n": 64, "seed": 0, "correlation": "pearson"},
        return_scores=True,
    )
    assert_untouched(model, before)
    assert (
        best == 6 / N
        and scores[1].item() == pytest.approx(1.0, abs=1e-12)
        and scores.shape == (3,)
    )

    def closeness(
        model, x, attribution, target
    ):  # a custom metric: minus the error to the exact map
        return (
            -(attribution - xl.gradient_x_input(model, x, target))
            .flatten(1)
            .square()
            .sum(1)
        )

    assert (
        spectral.optimal_cutoff(model, x, 0, noisy_gradient_x_input, cutoffs, closeness)
        == 6 / N
    )
    assert (
        spectral.optimal_cutoff(
            model, x, 0, noisy_gradient_x_input, cutoffs, "deletion"
        )
        == 6 / N
    )


IMAGE_MODEL = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
IMAGES = torch.ones(2, 1, 8, 8)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: spectral.power_spectrum(torch.ones(8)), "maps"),
        (lambda: spectral.radial_profile(torch.ones(8, 1)), "2 x 2"),
        (
            lambda: spectral.expected_frequency(torch.ones(8, 8), rank=True),
            r"\(\.\.\., C, H, W\)",
        ),
        (lambda: spectral.expected_frequency(torch.full((4, 4), math.nan)), "NaN"),
        (
            lambda: spectral.expected_frequency(torch.ones(4, 4, dtype=torch.long)),
            "floating-point",
        ),
        (lambda: spectral.low_pass(torch.ones(8, 8), 0.0), r"\(0, 0.5\]"),
        (lambda: spectral.low_pass(torch.ones(8, 8), 0.6), r"\(0, 0.5\]"),
        (lambda: spectral.low_pass(torch.ones(8, 8), True), "cutoff"),
        (lambda: spectral.low_pass(torch.ones(8, 8), 0.2, kind="box"), "kind"),
        (
            lambda: spectral.tail_exponent(torch.ones(16, 16), band=(0.3, 0.31)),
            "frequency bin",
        ),
        (
            lambda: spectral.tail_exponent(torch.ones(16, 16), band=(0.0, 0.3)),
            "0 < lo < hi",
        ),
        (
            lambda: spectral.tail_exponent(torch.ones(16, 16), band=(0.3, 0.2)),
            "0 < lo < hi",
        ),
        (lambda: spectral.tail_exponent(torch.ones(16, 16), band=0.3), "pair"),
        (lambda: spectral.delta_ef(torch.ones(8, 8), torch.ones(8, 9)), "same shape"),
        (
            lambda: spectral.expected_frequency(
                torch.tensor([[math.inf, 1.0], [1.0, 1.0]])
            ),
            "NaN or infinite",
        ),
        (lambda: spectral.optimal_cutoff(IMAGE_MODEL, IMAGES, cutoffs=[0.0]), "cutoff"),
        (lambda: spectral.optimal_cutoff(IMAGE_MODEL, IMAGES, cutoffs=[]), "non-empty"),
        (
            lambda: spectral.optimal_cutoff(IMAGE_MODEL, IMAGES, cutoffs=0.2),
            "non-empty",
        ),
        (lambda: spectral.optimal_cutoff(IMAGE_MODEL, IMAGES, metric="auc"), "metric"),
        (
            lambda: spectral.optimal_cutoff(IMAGE_MODEL, IMAGES, method="nope"),
            "unknown method",
        ),
        (
            lambda: spectral.optimal_cutoff(nn.Linear(4, 2), torch.ones(2, 4)),
            r"\(N, C, H, W\)",
        ),
    ],
)
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@requires_cuda
def test_cuda_matches_cpu():
    a = torch.randn(
        3, 2, 24, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    g = a.cuda()
    for fn in (
        spectral.power_spectrum,
        lambda m: spectral.radial_profile(m)[1],
        spectral.expected_frequency,
        lambda m: spectral.expected_frequency(m, rank=True),
        lambda m: spectral.low_pass(m, 0.2, "gaussian"),
        lambda m: spectral.tail_exponent(m, (0.1, 0.5)),
    ):
        out = fn(g)
        assert out.device.type == "cuda"
        torch.testing.assert_close(out.cpu(), fn(a), rtol=1e-10, atol=1e-10)
