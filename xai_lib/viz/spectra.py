"""Pictures of spectra: frequency axes in cycles per pixel, radial profiles, 2-D power spectra.

What the spectral chapters draw again and again, as four functions:

* :func:`frequency_axis`: a logarithmic axis of spatial frequency with ticks at 1/size, ...,
  1/4, 1/2 cycles per pixel, labelled as fractions;
* :func:`power_profile`: the radial power profile of maps (mean over rings of equal
  frequency, :func:`xai_lib.spectral.radial_profile`) on log-log axes, as each map's share of
  power (or its ratio to reference maps), averaged over the maps with a band of +- one
  standard error;
* :func:`spectrum_image`: the centred 2-D power spectrum, log10 of the power relative to its
  peak, on axes in cycles per pixel, optionally with the circle of a low-pass cutoff;
* :func:`spectrum_panels`: one figure of three panels, input | attribution | its radial
  profile (against a reference), the figure of the spectral chapters' explorers.

Maps are tensors or arrays (..., H, W): every leading index is one map (sum the channels of
an attribution first, e.g. ``a.sum(dim=1)``). Frequencies are in cycles per pixel: k periods
across W pixels is k / W, and 0.5 is the Nyquist limit. The zero frequency (the map's mean)
is left out of profiles by default: it says nothing about how fine the structure is. Nothing
here changes the maps, the global RNG or matplotlib's settings.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..analysis.spectral import power_spectrum, radial_profile
from .maps import heatmap
from .panels import show_image


def _as_maps(maps, name: str = "maps") -> torch.Tensor:
    """(..., H, W) float64 CPU tensor, H, W >= 2, finite, or a ValueError naming the problem."""
    if isinstance(maps, (bool, str, bytes)) or maps is None:
        raise ValueError(f"{name} must be a tensor or array (..., H, W), got {maps!r}")
    try:
        t = torch.as_tensor(np.asarray(maps) if not torch.is_tensor(maps) else maps)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{name} must be a tensor or array (..., H, W), got {type(maps).__name__}"
        ) from error
    if t.is_complex() or not (t.is_floating_point() or t.dtype in _INTEGERS):
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if t.dim() < 2 or min(t.shape[-2:]) < 2:
        raise ValueError(
            f"{name} must be maps (..., H, W) with H, W >= 2, got shape {tuple(t.shape)}"
        )
    if t.numel() == 0:
        raise ValueError(f"{name} holds no maps: shape {tuple(t.shape)}")
    t = t.detach().to("cpu", torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return t


_INTEGERS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _fraction(f: float) -> str:
    """0.5 -> '1/2', 0.03125 -> '1/32'; anything else as %g."""
    inverse = 1 / f
    return f"1/{round(inverse)}" if abs(inverse - round(inverse)) < 1e-9 else f"{f:g}"


def frequency_ticks(size: int) -> list[float]:
    """The tick positions of :func:`frequency_axis`: 1/2, 1/4, ... down to the lowest >= 1/size.

    ``size`` is the maps' side in pixels (the smaller one for a rectangle): the lowest
    frequency a map of that size holds is 1/size (one period across it).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an integer >= 2 (pixels), got {size!r}")
    ticks, f = [], 0.5
    while f >= 1 / size - 1e-12:
        ticks.append(f)
        f /= 2
    return ticks[::-1]


def frequency_axis(
    ax,
    size: int = 32,
    *,
    axis: str = "x",
    label: str | None = r"spatial frequency $|\omega|$ (cycles/pixel)",
    fontsize: float | None = None,
) -> None:
    """Make one axis of ``ax`` a log axis of spatial frequency, ticks at 1/size ... 1/2.

    The ticks are the powers of two from the lowest frequency of a ``size``-pixel map, 1/size
    (rounded up to a power of two), to the Nyquist limit 1/2, labelled as fractions ("1/32",
    ..., "1/2"); minor ticks are turned off. ``axis``: "x" or "y". ``label``: the axis label
    (None leaves it as it is). ``fontsize`` applies to the label and the tick labels.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    ticks = frequency_ticks(size)
    scale = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    (ax.set_xticks if axis == "x" else ax.set_yticks)(
        ticks, [_fraction(t) for t in ticks]
    )
    (ax.set_xlim if axis == "x" else ax.set_ylim)(ticks[0] / 1.15, 0.5 * 1.15)
    scale.set_minor_locator(plt.NullLocator())
    if label is not None:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label, fontsize=fontsize)
    if fontsize is not None:
        ax.tick_params(axis=axis, labelsize=fontsize)


def profile_statistics(
    maps, *, relative_to=None, share: bool = True, skip_zero: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numbers :func:`power_profile` draws: (freqs (K,), mean (K,), standard error (K,)).

    Each map's radial profile (:func:`xai_lib.spectral.radial_profile`), without the zero
    frequency if ``skip_zero``; divided by its sum over the bins kept (``share=True``: the share
    of the map's power in each ring), or by the profile of the matching map of ``relative_to``
    (a ratio of powers; ``share`` is then ignored); then the mean over the maps and its standard
    error (standard deviation / sqrt(number of maps); zeros for a single map).
    """
    maps = _as_maps(maps)
    freqs, profile = radial_profile(maps.reshape(-1, *maps.shape[-2:]))  # (K,), (M, K)
    if relative_to is not None:
        reference = _as_maps(relative_to, "relative_to")
        if reference.shape != maps.shape:
            raise ValueError(
                f"relative_to must have the maps' shape {tuple(maps.shape)}, "
                f"got {tuple(reference.shape)}"
            )
        _, base = radial_profile(reference.reshape(-1, *reference.shape[-2:]))
    start = 1 if skip_zero else 0
    freqs, profile = freqs[start:], profile[:, start:]
    if relative_to is not None:
        base = base[:, start:]
        if (base <= 0).any():
            raise ValueError(
                "relative_to has rings with zero power: the ratio is undefined there"
            )
        values = profile / base
    elif share:
        total = profile.sum(dim=1, keepdim=True)
        if (total <= 0).any():
            raise ValueError(
                "a map has no power at the frequencies shown (a constant map?): "
                "its share of power is undefined"
            )
        values = profile / total
    else:
        values = profile
    mean = values.mean(dim=0)
    count = values.shape[0]
    error = (
        values.std(dim=0) / math.sqrt(count) if count > 1 else torch.zeros_like(mean)
    )
    return freqs.numpy(), mean.numpy(), error.numpy()


def power_profile(
    ax,
    maps,
    *,
    relative_to=None,
    share: bool = True,
    skip_zero: bool = True,
    spread: bool = True,
    label: str | None = None,
    fontsize: float | None = None,
    **style,
):
    """Draw the radial power profile of ``maps`` (..., H, W) into ``ax``; return the line.

    The curve is the mean over the maps of each map's profile (see
    :func:`profile_statistics`: share of power per ring, or power relative to the matching
    map of ``relative_to``, or raw power with ``share=False``), on log-log axes with
    :func:`frequency_axis`; with more than one map and ``spread=True`` a band of +- one
    standard error around it. ``label`` names the curve in a legend; ``style`` goes to
    ``ax.plot`` (default ``"o-"`` markers of size 3; e.g. ``color="k", ls="--"`` for a
    reference). The y label says what is drawn.
    """
    freqs, mean, error = profile_statistics(
        maps, relative_to=relative_to, share=share, skip_zero=skip_zero
    )
    style = {"marker": "o", "ms": 3, **style}
    if "ls" not in style and "linestyle" not in style:
        style["ls"] = "-"
    (line,) = ax.plot(freqs, mean, label=label, **style)
    if spread and error.any():
        ax.fill_between(
            freqs,
            np.clip(mean - error, mean * 1e-3, None),
            mean + error,
            color=line.get_color(),
            alpha=0.2,
            lw=0,
        )
    ax.set_yscale("log")
    size = min(_as_maps(maps).shape[-2:])
    frequency_axis(ax, size, fontsize=fontsize)
    ylabel = (
        "power / reference power"
        if relative_to is not None
        else "share of power per ring"
        if share
        else "power per ring"
    )
    ax.set_ylabel(ylabel, fontsize=fontsize)
    if fontsize is not None:
        ax.tick_params(labelsize=fontsize)
    return line


def spectrum_image(
    ax,
    maps,
    *,
    precomputed: bool = False,
    decades: float = 6.0,
    cutoff: float | None = None,
    colorbar: bool = True,
    cmap: str = "magma",
    title: str | None = None,
    fontsize: float | None = 8,
):
    """Draw the centred 2-D power spectrum of ``maps`` (..., H, W) into ``ax``; return the image.

    The mean over the maps of :func:`xai_lib.spectral.power_spectrum` (or ``maps`` themselves,
    if ``precomputed``: centred power spectra, zero frequency at (H//2, W//2)), shown as
    log10(power / peak power), from -``decades`` to 0, on axes ω_x, ω_y in cycles per pixel
    (-1/2 to 1/2). ``cutoff``: draw the circle of that radius (an ideal low-pass filter's
    pass band). A colour bar is added unless ``colorbar=False``.
    """
    maps = _as_maps(maps)
    if isinstance(decades, bool) or not isinstance(decades, (int, float)):
        raise ValueError(f"decades must be a positive number, got {decades!r}")
    if not decades > 0:
        raise ValueError(f"decades must be a positive number, got {decades!r}")
    if cutoff is not None and (
        isinstance(cutoff, bool)
        or not isinstance(cutoff, (int, float))
        or not 0 < cutoff <= 0.5 * math.sqrt(2)
    ):
        raise ValueError(
            f"cutoff must be a frequency in (0, 0.71] cycles per pixel or None, "
            f"got {cutoff!r}"
        )
    if precomputed:
        if (maps < 0).any():
            raise ValueError("precomputed power spectra must be >= 0")
        power = maps.reshape(-1, *maps.shape[-2:]).mean(dim=0)
    else:
        power = power_spectrum(maps.reshape(-1, *maps.shape[-2:])).mean(dim=0)
    peak = power.max()
    if not peak > 0:
        raise ValueError("the maps have no power (all zero): nothing to draw")
    relative = (power / peak).clamp_min(10.0**-decades).log10().numpy()
    h, w = relative.shape
    # pixel k (0..n-1) sits at frequency (k - n//2) / n; edges half a step either side
    extent = (
        (-(w // 2) - 0.5) / w,
        (w - w // 2 - 0.5) / w,
        (h - h // 2 - 0.5) / h,
        (-(h // 2) - 0.5) / h,
    )
    image = ax.imshow(
        relative,
        cmap=cmap,
        vmin=-decades,
        vmax=0,
        extent=extent,
        interpolation="nearest",
    )
    ax.set_xlabel(r"$\omega_x$ (cycles/pixel)", fontsize=fontsize)
    ax.set_ylabel(r"$\omega_y$ (cycles/pixel)", fontsize=fontsize)
    if fontsize is not None:
        ax.tick_params(labelsize=fontsize)
    if cutoff is not None:
        ax.add_patch(plt.Circle((0, 0), cutoff, fill=False, color="white", lw=1))
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        bar.set_label("log10 power / peak", fontsize=fontsize)
        if fontsize is not None:
            bar.ax.tick_params(labelsize=fontsize)
    return image


def spectrum_panels(
    image,
    attribution,
    *,
    reference=None,
    label: str = "attribution",
    reference_label: str = "reference",
    title: str | None = None,
    image_title: str = "input",
    profile_title: str | None = None,
    figsize: tuple[float, float] = (6.6, 2.3),
):
    """A figure of three panels: the input, the attribution, and its radial power profile.

    ``image``: (C, H, W) or (H, W), drawn by :func:`xai_lib.viz.show_image`. ``attribution``: (C, H, W) or (H, W);
    drawn with :func:`xai_lib.viz.heatmap` (titled ``title``) and, channels summed, as its
    share of power per ring (:func:`power_profile`, labelled ``label``). ``reference``: maps
    (..., H, W) of the same size (channels summed by the caller) drawn as a dashed black
    profile labelled ``reference_label``, e.g. the plain gradient the attribution smooths.
    ``profile_title`` names the third panel (e.g. its expected frequency). Returns the figure,
    as :func:`xai_lib.widgets.explorer` wants it from its ``draw`` function.
    """
    a = _as_maps(attribution, "attribution")
    if a.dim() > 3:
        raise ValueError(
            f"attribution must be one map (C, H, W) or (H, W), got shape {tuple(a.shape)}"
        )
    summed = a.sum(dim=0) if a.dim() == 3 else a
    picture = _as_maps(image, "image")
    if picture.shape[-2:] != summed.shape:
        raise ValueError(
            f"image and attribution must have the same H x W, got "
            f"{tuple(picture.shape[-2:])} and {tuple(summed.shape)}"
        )
    if reference is not None:
        reference = _as_maps(reference, "reference")
        if reference.shape[-2:] != summed.shape:
            raise ValueError(
                f"reference maps must be {tuple(summed.shape)} like the attribution, "
                f"got shape {tuple(reference.shape)}"
            )
    fig, (left, middle, right) = plt.subplots(
        1,
        3,
        figsize=figsize,
        layout="constrained",
        gridspec_kw={"width_ratios": [1, 1.25, 1.5]},
    )
    show_image(picture, left, title=image_title)
    heatmap(a, middle, title=title)
    if reference is not None:
        power_profile(
            right, reference, label=reference_label, color="k", ls="--", lw=1, marker=""
        )
    power_profile(right, summed, label=label, color="C1", fontsize=8)
    right.set_ylabel("share of power", fontsize=8)
    right.set_xlabel(r"$|\omega|$ (cycles/pixel)", fontsize=8)
    right.legend(fontsize=8)
    if profile_title:
        right.set_title(profile_title, fontsize=9)
    right.grid(True, alpha=0.3)
    return fig
