"""The spectral view of attribution maps: power spectra, expected frequency, tails, low-pass filters.

* ``power_spectrum`` and ``radial_profile``: |FFT2|^2 of maps over their last two dims, and its
  mean over rings of equal frequency, in cycles per pixel (0 to 0.5).
* ``expected_frequency`` (EF) and ``delta_ef``: the attribution-complexity measure of Mehrpanah,
  Gamba, Smith and Azizpour, "On the complexity-faithfulness trade-off of gradient-based
  explanations" (ICCV 2025); ``rank=True`` reproduces the normalization of the
  paper's code.
* ``tail_exponent``: the power-law decay alpha of the radial profile, S(f) ~ f^-alpha.
* ``summary``: expected frequency, radial profile and tail exponent at once, from one FFT.
* ``low_pass`` and ``optimal_cutoff``: the ideal circular (or Gaussian) low-pass filter of
  FORGrad, Muzellec, Fel et al., "Gradient strikes back: how filtering out high frequencies
  improves explanations" (2023), with the cutoff chosen to maximize a
  faithfulness metric on a set of samples.
* ``forgrad``: FORGrad exactly as Xplique implements it, the ideal low-pass of the
  channel-averaged magnitude |mean_C a|, an unsigned map (N, 1, H, W).

Maps are real tensors (..., H, W); every function is batched over the leading dims, runs where
the maps are (torch.fft on CPU or CUDA) and keeps their dtype. Frequencies are in cycles per
pixel: a map with k periods across its W pixels has frequency k / W; 0.5 is the Nyquist limit.
Spectra are computed on the half plane (rfft2) with each column counted as often as it appears
in the full spectrum, which gives the full-plane numbers at half the cost.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._core import (
    DegenerateMapWarning,
    check_bool,
    check_choice,
    check_image_batch,
    check_input,
    check_model,
    get_method,
    progress,
    resolve_target,
    warn,
)
from .faithfulness import FIDELITY_METRICS
from .stats import ranks

LOW_PASS_KINDS = ("ideal", "gaussian")

DEFAULT_CUTOFFS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


# --------------------------------------------------------------------------- validation and grids


def _check_maps(
    a, name: str = "a", min_dim: int = 2, values: bool = True
) -> torch.Tensor:
    """Real maps (..., H, W) with H, W >= 2, or a ValueError naming the problem.

    ``values=False`` leaves out the pass over every value for NaN and inf (it checks one
    pixel per map): for callers that check their results instead (:func:`summary`).
    """
    if isinstance(a, torch.Tensor) and a.dim() < min_dim:
        layout = "(..., H, W)" if min_dim == 2 else "(..., C, H, W)"
        raise ValueError(
            f"{name} must be maps {layout} with at least {min_dim} dimensions, got shape {tuple(a.shape)}"
        )
    tensor = isinstance(a, torch.Tensor)
    check_input(a if values or not tensor else a[..., :1, :1], name, min_dim=min_dim)
    if min(a.shape[-2:]) < 2:
        raise ValueError(
            f"{name} maps must be at least 2 x 2 pixels, got shape {tuple(a.shape)}"
        )
    return a.detach()


def _check_cutoff(cutoff) -> float:
    if (
        isinstance(cutoff, bool)
        or not isinstance(cutoff, (int, float))
        or not 0 < cutoff <= 0.5
    ):
        raise ValueError(
            f"cutoff must be a frequency in (0, 0.5] cycles per pixel, got {cutoff!r}"
        )
    return float(cutoff)


def _half_plane(
    h: int, w: int, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """|frequency| in cycles/pixel on the rfft2 grid (H, W//2+1), and each cell's multiplicity.

    A column 0 < kx < W/2 stands for itself and its mirror -kx in the full spectrum, so it counts
    twice; column 0 and, for even W, the Nyquist column W/2 count once.
    """
    fy = torch.fft.fftfreq(h, dtype=like.dtype, device=like.device)[:, None]  # (H, 1)
    fx = torch.fft.rfftfreq(w, dtype=like.dtype, device=like.device)[
        None, :
    ]  # (1, W//2+1)
    radius = (fy.square() + fx.square()).sqrt()  # (H, W//2+1)
    multiplicity = torch.full_like(fx, 2.0)
    multiplicity[:, 0] = 1
    if w % 2 == 0:
        multiplicity[:, -1] = 1
    return radius, multiplicity.expand(h, -1)


def _half_power(a: torch.Tensor) -> torch.Tensor:
    """|rfft2(a)|^2 over the last two dims: (..., H, W) -> (..., H, W//2+1), in a's dtype."""
    spectrum = torch.fft.rfft2(a)
    return spectrum.real.square().addcmul_(
        spectrum.imag, spectrum.imag
    )  # one new buffer, not three


def _ring_average(
    power: torch.Tensor, ring: torch.Tensor, multiplicity: torch.Tensor, rings: int
) -> torch.Tensor:
    """Mean full-plane power per ring, from half-plane power (..., H, W//2+1) -> (..., rings).

    ``ring`` holds each cell's ring index; cells with index >= rings are left out (weight 0).
    Each cell counts with its multiplicity, in the ring sums and in the ring sizes alike.
    """
    cells = ring.numel()
    kept = ring.flatten() < rings
    index = ring.flatten().clamp(max=rings - 1)  # (cells,)
    weight = multiplicity.flatten() * kept  # (cells,)
    flat = power.reshape(-1, cells)  # (B, cells)
    sums = flat.new_zeros(flat.shape[0], rings).index_add_(
        1, index, flat * weight
    )  # (B, rings)
    sizes = weight.new_zeros(rings).index_add_(0, index, weight)  # (rings,)
    return (sums / sizes).reshape(*power.shape[:-2], rings)


# --------------------------------------------------------------------------- spectra


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


# --------------------------------------------------------------------------- several at once

#: Bytes of half-plane spectrum per chunk of maps on a CPU: the FFT, the squares and the
#: reductions of one chunk stay in the core's cache, which halves the time of 1024 float64 maps
#: of 64 x 64 against one transform of them all. A GPU takes all the maps at once.
SPECTRUM_CHUNK_BYTES = 2**22

#: Up to this many rings, the ring sums are one dense matrix product with the other sums (a
#: BLAS product beats a scatter); beyond (maps over about 128 pixels) the product grows as the
#: cube of the side and a scatter (index_add_) takes over.
DENSE_RINGS = 64


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


def _power_sums(
    a: torch.Tensor,
    multiplicity: torch.Tensor,
    ring: torch.Tensor | None = None,
    rings: int = 0,
    columns: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ring means and weighted sums of the full-plane power of maps (..., H, W), one FFT each.

    ``multiplicity`` (H, W//2+1): how often each half-plane cell appears in the full plane;
    ``ring`` (H, W//2+1): each cell's ring, for ``rings`` rings (cells with ring >= rings are
    in none); ``columns`` (H, W//2+1, J): weights, multiplicities included. Returns (mean
    power per ring (..., rings), sum of power times each column (..., J)). Each complex cell
    is stored as (re, im), so its power re^2 + im^2 is the product of the squared pair with
    the cell's weights given twice: the squares are taken in place and the sums are one matrix
    product (the ring means too, up to :data:`DENSE_RINGS` rings; a scatter beyond).
    """
    h, w = a.shape[-2:]
    maps = a.reshape(-1, h, w)
    cells = multiplicity.numel()
    if columns is None:
        columns = multiplicity.new_zeros(h, w // 2 + 1, 0)
    sums = columns.shape[-1]
    dense = rings <= DENSE_RINGS
    weights = columns.new_zeros(cells, 2, (rings if dense else 0) + sums)
    weights[:, :, weights.shape[-1] - sums :] = columns.reshape(cells, 1, sums)
    if rings:
        assert ring is not None, "rings > 0 needs each cell's ring"
        ring, multiplicity = ring.flatten(), multiplicity.flatten()
        kept = (ring < rings).nonzero()[:, 0]  # the cells in some ring, not far corners
        sizes = multiplicity.new_zeros(rings).index_add_(
            0, ring[kept], multiplicity[kept]
        )
        ring_weight = torch.zeros_like(multiplicity)
        ring_weight[kept] = multiplicity[kept] / sizes[ring[kept]]  # each ring's mean
        if dense:
            weights[kept, :, ring[kept]] = ring_weight[kept, None]
        else:
            index = ring.clamp(max=rings - 1).repeat_interleave(2)  # (2 cells,)
            spread = ring_weight.repeat_interleave(2)  # 0 outside the rings
    weights = weights.reshape(2 * cells, -1)  # rows (re, im) of cell 0, of cell 1, ...
    out = maps.new_empty(maps.shape[0], rings + sums)  # (B, ring means | sums)
    step = (
        max(1, SPECTRUM_CHUNK_BYTES // (2 * cells * a.element_size()))
        if a.device.type == "cpu"
        else max(1, maps.shape[0])
    )
    for start in range(0, maps.shape[0], step):
        part = slice(start, start + step)
        spectrum = torch.view_as_real(torch.fft.rfft2(maps[part]))  # (b, H, W//2+1, 2)
        squares = spectrum.square_().reshape(spectrum.shape[0], 2 * cells)
        if dense:
            torch.mm(squares, weights, out=out[part])
            continue
        out[part, :rings] = out.new_zeros(len(squares), rings).index_add_(
            1, index, squares * spread
        )
        if sums:
            out[part, rings:] = squares @ weights
    out = out.reshape(*a.shape[:-2], rings + sums)
    return out[..., :rings], out[..., rings:]


# --------------------------------------------------------------------------- filtering


def low_pass(a, cutoff: float, kind: str = "ideal") -> torch.Tensor:
    """Low-pass filter maps (..., H, W) in the Fourier domain, cutoff in cycles per pixel.

    ``"ideal"``: keep the frequencies with |w| <= cutoff, remove the rest (FORGrad's circular
    filter). ``"gaussian"``: multiply the spectrum by exp(-|w|^2 / (2 cutoff^2)), i.e. cutoff is
    the filter's standard deviation in frequency. Periodic boundaries, as the FFT implies.
    """
    a = _check_maps(a)
    cutoff = _check_cutoff(cutoff)
    check_choice(kind, "kind", LOW_PASS_KINDS)
    h, w = a.shape[-2:]
    radius, _ = _half_plane(h, w, a)
    if kind == "ideal":
        # a relative margin so that a frequency k/n given as the cutoff counts as inside
        gain = (radius <= cutoff * (1 + 1e-9)).to(a.dtype)
    else:
        gain = torch.exp(-radius.square() / (2 * cutoff**2))
    return torch.fft.irfft2(torch.fft.rfft2(a) * gain, s=(h, w))


def forgrad(a, cutoff: float) -> torch.Tensor:
    """FORGrad, as Xplique implements it: the low-passed magnitude of maps (N, C, H, W).

    (N, C, H, W) -> (N, 1, H, W) = |low_pass(|mean over C of a|, cutoff, kind="ideal")|:
    average the channels, take the absolute value, keep the frequencies with |w| <= cutoff
    (cycles per pixel, as everywhere here; Xplique's ``sigma`` in frequency bins of a
    size-S map is ``cutoff = sigma / S``), and take the absolute value of the inverse
    transform. The result is an unsigned map of evidence magnitude; filtering a signed map
    per channel (:func:`low_pass`) is a different operation. Odd sizes are filtered exactly
    (Xplique resizes them back bicubically instead). Muzellec, Fel et al., "Gradient strikes
    back" (2023), tune the cutoff per model, method and metric on validation images and
    report scores on other images (:func:`optimal_cutoff` with ``filter="forgrad"``).
    """
    if isinstance(a, torch.Tensor) and a.dim() != 4:
        raise ValueError(f"a must be maps (N, C, H, W), got shape {tuple(a.shape)}")
    a = _check_maps(a, min_dim=4)
    magnitude = a.mean(dim=1, keepdim=True).abs()  # (N, 1, H, W)
    return low_pass(magnitude, cutoff, kind="ideal").abs()


#: the map filters :func:`optimal_cutoff` can tune: name -> function (maps, cutoff, kind)
FILTERS = {
    "low_pass": lambda a, cutoff, kind: low_pass(a, cutoff, kind),
    "forgrad": lambda a, cutoff, kind: forgrad(a, cutoff),
}


def _paired_means(per_sample: torch.Tensor) -> torch.Tensor:
    """Mean score per cutoff over the samples scored at every cutoff: (cutoffs, N) -> (cutoffs,).

    A sample whose score is NaN at some cutoff (a filtered map that is constant, say) is left
    out at all of them, so every cutoff is judged on the same samples; a warning says how
    many. No sample scored everywhere: a ValueError, as no cutoff can be called best.
    """
    defined = ~per_sample.isnan().any(dim=0)  # (N,)
    if not defined.any():
        raise ValueError(
            "optimal_cutoff: the metric is undefined (NaN) for every sample at some cutoff, so "
            "no cutoff can be called best; check the maps (all zero?) and the metric"
        )
    if not defined.all():
        warn(
            f"optimal_cutoff: {int((~defined).sum())} of {defined.numel()} samples scored NaN "
            "at some cutoff and are left out at every cutoff",
            DegenerateMapWarning,
        )
    return per_sample[:, defined].mean(dim=1)


def optimal_cutoff(
    model,
    x,
    target=None,
    method="saliency",
    cutoffs=DEFAULT_CUTOFFS,
    metric="deletion",
    *,
    kind: str = "ideal",
    higher_is_better: bool = True,
    method_options=None,
    metric_options=None,
    return_scores: bool = False,
    filter: str = "low_pass",
    attribution=None,
):
    """The low-pass cutoff that makes ``method``'s maps most faithful on the samples x (FORGrad).

    The maps are computed once (``method``: a METHODS name or a function with the common
    signature, with ``method_options``; or given as ``attribution``, maps of x already
    computed for this target, and then ``method`` is not called), filtered at each cutoff by
    ``filter``: ``"low_pass"`` (:func:`low_pass` of the maps as they are, with ``kind``) or
    ``"forgrad"`` (:func:`forgrad`: the ideal low-pass of the channel-averaged magnitude,
    the paper's filter; ``kind`` must then be ``"ideal"``), and scored
    by ``metric`` averaged over the samples: ``"deletion"`` (lower is better), ``"insertion"``,
    ``"mu_fidelity"``, or a function ``metric(model, x, attribution, target, **metric_options)``
    returning one score per sample (``higher_is_better`` says which way it points). The target
    defaults to the model's argmax and is the same for every cutoff; x must be images
    (N, C, H, W). Returns the best cutoff,
    and with ``return_scores=True`` also the mean score per cutoff (in the metric's own units).
    """
    check_bool(higher_is_better, "higher_is_better")
    check_bool(return_scores, "return_scores")
    if callable(metric):
        score, sign = metric, 1 if higher_is_better else -1
    else:
        check_choice(metric, "metric", tuple(FIDELITY_METRICS))
        score, sign = FIDELITY_METRICS[metric]
    if not isinstance(cutoffs, (list, tuple)) or not cutoffs:
        raise ValueError(
            f"cutoffs must be a non-empty list of frequencies in (0, 0.5], got {cutoffs!r}"
        )
    cutoffs = [_check_cutoff(c) for c in cutoffs]
    check_choice(kind, "kind", LOW_PASS_KINDS)
    check_choice(filter, "filter", tuple(FILTERS))
    if filter == "forgrad" and kind != "ideal":
        raise ValueError(
            f'filter="forgrad" is an ideal low-pass filter; got kind={kind!r}'
        )
    check_model(model)
    x = check_image_batch(x).detach()
    target = resolve_target(model, x, target)
    if attribution is None:
        explain = get_method(method)
        attribution = explain(model, x, target, **(method_options or {}))
    else:
        check_input(attribution, "attribution", min_dim=4)
        if attribution.shape[0] != x.shape[0] or attribution.shape[2:] != x.shape[2:]:
            raise ValueError(
                f"attribution of shape {tuple(attribution.shape)} does not fit x of shape "
                f"{tuple(x.shape)}: expected maps (N, C or 1, H, W) of the same samples"
            )
        attribution = attribution.detach()
    smooth = FILTERS[filter]
    # (cutoffs, N); samples undefined at some cutoff are left out at all of them (_paired_means)
    scores = torch.stack(
        [
            score(
                model,
                x,
                smooth(attribution, c, kind),
                target,
                **(metric_options or {}),
            )
            for c in progress(cutoffs, len(cutoffs), "cutoffs")
        ]
    )
    scores = _paired_means(scores)
    best = cutoffs[
        int(torch.nan_to_num(sign * scores, nan=-math.inf).argmax())
    ]  # NaN scores never win
    return (best, scores) if return_scores else best
