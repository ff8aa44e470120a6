"""The spectral measures of attribution maps: power spectrum, radial profile, expected frequency, tails.

* ``power_spectrum`` and ``radial_profile``: |FFT2|^2 of maps over their last two dims, and its
  mean over rings of equal frequency, in cycles per pixel (0 to 0.5).
* ``expected_frequency`` (EF) and ``delta_ef``: the attribution-complexity measure of Mehrpanah,
  Gamba, Smith and Azizpour, "On the complexity-faithfulness trade-off of gradient-based
  explanations" (ICCV 2025); ``rank=True`` reproduces the normalization of the
  paper's code.
* ``tail_exponent``: the power-law decay alpha of the radial profile, S(f) ~ f^-alpha.

Also the helpers :mod:`.one_fft` shares: the band check, the band's bins, the tail fit and the
warning for all-zero maps. The half-plane grid and the power sums are in :mod:`.half_plane`.
"""

from __future__ import annotations

import torch

from ..._core import DegenerateMapWarning, check_bool, warn
from ..stats import ranks
from .half_plane import (
    _check_maps,
    _half_plane,
    _half_power,
    _power_sums,
    _ring_average,
)


def power_spectrum(a) -> torch.Tensor:
    """|FFT2(a)|^2 over the last two dims, centred: the zero frequency sits at (H//2, W//2)."""
    a = _check_maps(a)
    spectrum = torch.fft.fft2(a)
    return torch.fft.fftshift(
        spectrum.real.square().addcmul_(spectrum.imag, spectrum.imag), dim=(-2, -1)
    )


def radial_profile(a) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean power per radial frequency bin: (freqs (K,), profile (..., K)), K = min(H, W)//2 + 1.

    Bin k holds the frequencies |w| with round(|w| n) = k, n = min(H, W), so freqs = k / n runs
    from 0 to 0.5 cycles per pixel; the corners beyond 0.5 are left out.
    """
    a = _check_maps(a)
    h, w = a.shape[-2:]
    n = min(h, w)
    radius, multiplicity = _half_plane(h, w, a)
    bins = n // 2 + 1
    profile, _ = _power_sums(a, multiplicity, torch.round(radius * n).long(), bins)
    return torch.arange(bins, dtype=a.dtype, device=a.device) / n, profile


def expected_frequency(a, rank: bool = False) -> torch.Tensor:
    """Expected frequency of each map's power spectrum.

    ``rank=False``: EF = sum_w |w| S(w) / sum_w S(w) over the full spectrum of each map
    (..., H, W) -> (...), |w| in cycles per pixel (corners up to 0.5 sqrt(2) included). A
    zero-mean sinusoid with k periods across the image has EF = k / size; a constant offset adds
    power at |w| = 0 and lowers EF; a constant map has EF = 0. An all-zero map has no power, so
    its EF (0 / 0) is undefined: NaN, with a :class:`DegenerateMapWarning` saying how many maps
    were all zero (``delta_ef`` inherits it). With ``rank=True`` no map is all zero (ranks are
    positive), so there is no NaN.

    ``rank=True``: the recipe of the trade-off paper's code, on maps (..., C, H, W) -> (...):
    sum the channels; rank-normalize each map (average ranks of ties divided by H*W, values in
    (0, 1]); take the centred power spectrum; average it over integer-radius rings r =
    floor(sqrt(ky^2 + kx^2)), ky and kx in integer frequency steps from the centre, r = 0..R-1
    (every ring, corners included); normalize that profile to sum 1; and return the mean over
    the R rings of f_r * profile_r with f_r = linspace(0, 1, R). The rank maps' mean (about 1/2)
    puts most power at r = 0, so values are small (about 2e-5 for smooth and 4e-5 for white-noise
    64 x 64 maps) and comparable between maps of the same size only. Source: the paper's code,
    github.com/Amir-Mehrpanah/On-the-Complexity-Faithfulness-Trade-off-of-Gradient-Based-Explanations-ICCV25,
    ``src/compute_grad.py`` (rank_normalize) and ``src/quant_measures_grads.py`` (spectral_density).
    """
    check_bool(rank, "rank")
    if not rank:
        a = _check_maps(a)
        h, w = a.shape[-2:]
        radius, multiplicity = _half_plane(h, w, a)
        _, sums = _power_sums(
            a,
            multiplicity,
            columns=torch.stack([radius * multiplicity, multiplicity], -1),
        )
        ef = sums[..., 0] / sums[..., 1]
        _warn_all_zero(ef, "expected_frequency")
        return ef
    a = _check_maps(a, min_dim=3)
    summed = a.sum(dim=-3)  # (..., H, W)
    h, w = summed.shape[-2:]
    normalized = ranks(summed.flatten(-2)).reshape(summed.shape) / (h * w)
    _, multiplicity = _half_plane(h, w, summed)
    ring = _frequency_steps(h, w, summed).sqrt().floor().long()  # (H, W//2+1)
    rings = int(ring.max()) + 1
    profile = _ring_average(
        _half_power(normalized), ring, multiplicity, rings
    )  # (..., R)
    freqs = torch.linspace(0, 1, rings, dtype=a.dtype, device=a.device)
    return (profile * freqs).sum(-1) / profile.sum(-1) / rings


def _warn_all_zero(ef: torch.Tensor, name: str) -> None:
    """The warning for maps whose expected frequency is undefined (NaN: all zero, no power)."""
    undefined = ef.isnan()
    if undefined.any():
        warn(
            f"{name}: {int(undefined.sum())} of {undefined.numel()} maps are "
            "all zero (no power), so their expected frequency is undefined: NaN",
            DegenerateMapWarning,
        )


def _frequency_steps(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """ky^2 + kx^2 on the rfft2 grid, ky and kx in integer frequency steps (periods per map)."""
    ky = torch.fft.fftfreq(h, 1 / h, dtype=like.dtype, device=like.device)[
        :, None
    ]  # (H, 1)
    kx = torch.fft.rfftfreq(w, 1 / w, dtype=like.dtype, device=like.device)[
        None, :
    ]  # (1, W//2+1)
    return ky.square() + kx.square()


def delta_ef(a, b, rank: bool = False) -> torch.Tensor:
    """|EF(a) - EF(b)|: how much simpler one attribution (e.g. a smooth surrogate's) is."""
    a, b = _check_maps(a, "a"), _check_maps(b, "b")
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return (expected_frequency(a, rank) - expected_frequency(b, rank)).abs()


def tail_exponent(a, band: tuple[float, float] = (0.1, 0.5)) -> torch.Tensor:
    """The slope alpha of log profile = c - alpha log f, fitted over the frequencies in ``band``.

    Least squares over the radial-profile bins with lo <= f <= hi (cycles per pixel), one alpha
    per map (..., H, W) -> (...). 1/f^alpha noise gives back alpha. Bins with zero power are
    clamped to the smallest positive number of the dtype before the log.
    """
    a = _check_maps(a)
    band = _check_band(band)
    freqs, profile = radial_profile(a)
    return _fit_tail(freqs, profile, _band_bins(freqs, band, tuple(a.shape[-2:])))


def _check_band(band) -> tuple[float, float]:
    if not (
        isinstance(band, (tuple, list))
        and len(band) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in band)
    ):
        raise ValueError(
            f"band must be a pair (lo, hi) of frequencies in cycles per pixel, got {band!r}"
        )
    lo, hi = band
    if not 0 < lo < hi <= 0.5:
        raise ValueError(
            f"band must satisfy 0 < lo < hi <= 0.5 cycles per pixel, got {band!r}"
        )
    return lo, hi


def _band_bins(freqs: torch.Tensor, band, size) -> torch.Tensor:
    """The profile bins with lo <= f <= hi, at least 2 of them, for maps of ``size`` (H, W)."""
    lo, hi = band
    inside = (freqs >= lo) & (freqs <= hi)
    if int(inside.sum()) < 2:
        raise ValueError(
            f"band {tuple(band)!r} holds {int(inside.sum())} frequency bin(s) of these {size} maps "
            f"(bins are 1/{min(size)} apart); widen it to hold at least 2"
        )
    return inside


def _fit_tail(freqs, profile, inside) -> torch.Tensor:
    """-slope of the least-squares line of log profile against log f over the bins inside."""
    log_f = freqs[inside].log()
    log_s = (
        profile[..., inside].clamp_min(torch.finfo(profile.dtype).tiny).log()
    )  # (..., bins in band)
    centred_f = log_f - log_f.mean()
    slope = ((log_s - log_s.mean(-1, keepdim=True)) * centred_f).sum(
        -1
    ) / centred_f.square().sum()
    return -slope
