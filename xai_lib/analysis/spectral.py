"""The spectral view of attribution maps: power spectra, expected frequency, tails, low-pass filters.

* ``power_spectrum`` and ``radial_profile``: |FFT2|^2 of maps over their last two dims, and its
  mean over rings of equal frequency, in cycles per pixel (0 to 0.5).
* ``expected_frequency`` (EF) and ``delta_ef``: the attribution-complexity measure of Mehrpanah,
  Gamba, Smith and Azizpour, "On the complexity-faithfulness trade-off of gradient-based
  explanations" (ICCV 2025, sources/000); ``rank=True`` reproduces the normalization of the
  paper's code.
* ``tail_exponent``: the power-law decay alpha of the radial profile, S(f) ~ f^-alpha.
* ``low_pass`` and ``optimal_cutoff``: the ideal circular (or Gaussian) low-pass filter of
  FORGrad, Muzellec, Fel et al., "Gradient strikes back: how filtering out high frequencies
  improves explanations" (2023, sources/002), with the cutoff chosen to maximize a
  faithfulness metric on a set of samples.

Maps are real tensors (..., H, W); every function is batched over the leading dims, runs where
the maps are (torch.fft on CPU or CUDA) and keeps their dtype. Frequencies are in cycles per
pixel: a map with k periods across its W pixels has frequency k / W; 0.5 is the Nyquist limit.
Spectra are computed on the half plane (rfft2) with each column counted as often as it appears
in the full spectrum, which gives the full-plane numbers at half the cost.
"""

from __future__ import annotations

import math

import torch

from .._core import (
    check_choice,
    check_image_batch,
    check_input,
    check_model,
    get_method,
    progress,
    resolve_target,
)
from .faithfulness import FIDELITY_METRICS
from .stats import ranks

LOW_PASS_KINDS = ("ideal", "gaussian")

DEFAULT_CUTOFFS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


# --------------------------------------------------------------------------- validation and grids


def _check_maps(a, name: str = "a", min_dim: int = 2) -> torch.Tensor:
    """Real maps (..., H, W) with H, W >= 2, or a ValueError naming the problem."""
    if isinstance(a, torch.Tensor) and a.dim() < min_dim:
        layout = "(..., H, W)" if min_dim == 2 else "(..., C, H, W)"
        raise ValueError(
            f"{name} must be maps {layout} with at least {min_dim} dimensions, got shape {tuple(a.shape)}"
        )
    check_input(a, name, min_dim=min_dim)
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
    profile = _ring_average(
        _half_power(a), torch.round(radius * n).long(), multiplicity, bins
    )
    return torch.arange(bins, dtype=a.dtype, device=a.device) / n, profile


def expected_frequency(a, rank: bool = False) -> torch.Tensor:
    """Expected frequency of each map's power spectrum.

    ``rank=False``: EF = sum_w |w| S(w) / sum_w S(w) over the full spectrum of each map
    (..., H, W) -> (...), |w| in cycles per pixel (corners up to 0.5 sqrt(2) included). A
    zero-mean sinusoid with k periods across the image has EF = k / size; a constant offset adds
    power at |w| = 0 and lowers EF; an all-zero map gives NaN.

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
    if not rank:
        a = _check_maps(a)
        radius, multiplicity = _half_plane(*a.shape[-2:], a)
        return _spectral_mean(_half_power(a), radius * multiplicity, multiplicity)
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


def _frequency_steps(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """ky^2 + kx^2 on the rfft2 grid, ky and kx in integer frequency steps (periods per map)."""
    ky = torch.fft.fftfreq(h, 1 / h, dtype=like.dtype, device=like.device)[
        :, None
    ]  # (H, 1)
    kx = torch.fft.rfftfreq(w, 1 / w, dtype=like.dtype, device=like.device)[
        None, :
    ]  # (1, W//2+1)
    return ky.square() + kx.square()


def _spectral_mean(
    power: torch.Tensor, values: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """sum values * S / sum weights * S per map, as one (cells, 2) matrix product."""
    cells = values.numel()
    both = torch.stack([values.flatten(), weights.flatten()], dim=1)  # (cells, 2)
    sums = power.reshape(-1, cells) @ both  # (B, 2)
    return (sums[:, 0] / sums[:, 1]).reshape(power.shape[:-2])


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
    freqs, profile = radial_profile(a)
    inside = (freqs >= lo) & (freqs <= hi)
    if int(inside.sum()) < 2:
        raise ValueError(
            f"band {band!r} holds {int(inside.sum())} frequency bin(s) of these {tuple(a.shape[-2:])} maps "
            f"(bins are 1/{min(a.shape[-2:])} apart); widen it to hold at least 2"
        )
    log_f = freqs[inside].log()
    log_s = (
        profile[..., inside].clamp_min(torch.finfo(a.dtype).tiny).log()
    )  # (..., bins in band)
    centred_f = log_f - log_f.mean()
    slope = ((log_s - log_s.mean(-1, keepdim=True)) * centred_f).sum(
        -1
    ) / centred_f.square().sum()
    return -slope


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
):
    """The low-pass cutoff that makes ``method``'s maps most faithful on the samples x (FORGrad).

    The maps are computed once (``method``: a METHODS name or a function with the common
    signature, with ``method_options``), filtered by :func:`low_pass` at each cutoff, and scored
    by ``metric`` averaged over the samples: ``"deletion"`` (lower is better), ``"insertion"``,
    ``"mu_fidelity"``, or a function ``metric(model, x, attribution, target, **metric_options)``
    returning one score per sample (``higher_is_better`` says which way it points). The target
    defaults to the model's argmax and is the same for every cutoff; x must be images
    (N, C, H, W). Returns the best cutoff,
    and with ``return_scores=True`` also the mean score per cutoff (in the metric's own units).
    """
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
    explain = get_method(method)
    check_model(model)
    x = check_image_batch(x).detach()
    target = resolve_target(model, x, target)
    attribution = explain(model, x, target, **(method_options or {}))
    # samples whose score is undefined (NaN, e.g. a constant filtered map) are left out of the mean
    scores = torch.stack(
        [
            score(
                model,
                x,
                low_pass(attribution, c, kind),
                target,
                **(metric_options or {}),
            ).nanmean()
            for c in progress(cutoffs, len(cutoffs), "cutoffs")
        ]
    )
    best = cutoffs[
        int(torch.nan_to_num(sign * scores, nan=-math.inf).argmax())
    ]  # NaN scores never win
    return (best, scores) if return_scores else best
