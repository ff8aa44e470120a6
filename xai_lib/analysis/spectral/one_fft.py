"""Several spectral measures at once: :func:`summary` gives EF, radial profile and tail exponent from one FFT.

The same numbers as :func:`~xai_lib.spectral.expected_frequency` (Mehrpanah et al., ICCV
2025), :func:`~xai_lib.spectral.radial_profile` and :func:`~xai_lib.spectral.tail_exponent`
called one by one, at the cost of about one of them; the power sums are those of
:mod:`.half_plane`, the band and the tail fit those of :mod:`.measures`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .half_plane import _check_maps, _half_plane, _power_sums
from .measures import _band_bins, _check_band, _fit_tail, _warn_all_zero


class SpectralSummary(NamedTuple):
    """What :func:`summary` returns: the spectral measures of maps (..., H, W), one FFT for all."""

    expected_frequency: torch.Tensor  # (...): as expected_frequency(a)
    freqs: torch.Tensor  # (K,): cycles per pixel, as radial_profile(a)[0]
    radial_profile: torch.Tensor  # (..., K): as radial_profile(a)[1]
    tail_exponent: torch.Tensor  # (...): as tail_exponent(a, band)


def summary(a, band: tuple[float, float] = (0.1, 0.5)) -> SpectralSummary:
    """Expected frequency, radial profile and tail exponent of maps (..., H, W) from one FFT.

    The same numbers as :func:`expected_frequency`, :func:`radial_profile` and
    :func:`tail_exponent` (with ``band``) called one by one, to float rounding, at the cost of
    about one of them: each map is transformed once (rfft2, half plane), its power squared in
    place, and the ring means and both sums of the expected frequency come out of one matrix
    product. On a CPU the maps go through in chunks that stay in cache
    (:data:`SPECTRUM_CHUNK_BYTES`). An all-zero map gets NaN for its expected frequency, with
    the warning of :func:`expected_frequency`; its profile is 0, clamped in the tail fit as in
    :func:`tail_exponent`.
    """
    a = _check_maps(a, values=False)  # NaN and inf show in the sums, checked below
    band = _check_band(band)
    h, w = a.shape[-2:]
    n = min(h, w)
    rings = n // 2 + 1
    freqs = torch.arange(rings, dtype=a.dtype, device=a.device) / n
    inside = _band_bins(freqs, band, (h, w))  # checked before any transform
    radius, multiplicity = _half_plane(h, w, a)
    profile, sums = _power_sums(
        a,
        multiplicity,
        torch.round(radius * n).long(),
        rings,
        torch.stack([radius * multiplicity, multiplicity], dim=-1),
    )
    if not torch.isfinite(sums[..., 1]).all():  # total power: NaN or inf in some map?
        _check_maps(a)  # raises if so (else finite values overflowed: the sums say inf)
    ef = sums[..., 0] / sums[..., 1]
    _warn_all_zero(ef, "summary")
    return SpectralSummary(ef, freqs, profile, _fit_tail(freqs, profile, inside))
