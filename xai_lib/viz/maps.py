"""Pictures of attributions: heatmaps, overlays and a grid of methods x images.

Signed attributions are drawn with a diverging colormap centred at zero (red positive, blue
negative, white nothing), scaled symmetrically to a high percentile of |a| so one hot pixel
does not wash out the rest; unsigned ones (|a|, max_abs) with a sequential colormap from zero.
Every heatmap gets a colour bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..methods.aggregation import aggregate

SIGNED_CMAP = "bwr"
UNSIGNED_CMAP = "inferno"


def _as_map(a) -> np.ndarray:
    """One 2-D map from a tensor/array (H, W), (1, H, W), (C, H, W) (channels summed) or (1, C, H, W)."""
    a = torch.as_tensor(a).detach().cpu().double()
    while a.dim() > 3 and a.shape[0] == 1:
        a = a[0]
    if a.dim() == 3:
        a = aggregate(a[None], "sum")[0, 0]
    if a.dim() != 2:
        raise ValueError(
            f"cannot draw an attribution of shape {tuple(a.shape)} as one map"
        )
    _check_finite(a, "the map")
    return a.numpy()


def _check_finite(values: torch.Tensor, what: str) -> None:
    """A ValueError when values hold NaN or inf: no colour scale can show them."""
    bad = ~torch.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{what} holds {int(bad.sum())} NaN or infinite values, which no colour scale can "
            "show (one would pin the limits); check the computation, or replace them "
            "explicitly (torch.nan_to_num)"
        )


def as_image(x) -> np.ndarray:
    """(C, H, W) or (1, C, H, W) tensor -> (H, W, C) or (H, W) array in [0, 1] for imshow."""
    x = torch.as_tensor(x).detach().cpu().double()
    _check_finite(x, "the image")
    if x.dim() == 4:
        x = x[0]
    if x.dim() == 3:
        x = x.permute(1, 2, 0)
        if x.shape[-1] == 1:
            x = x[..., 0]
    lo, hi = x.min(), x.max()
    return ((x - lo) / (hi - lo if hi > lo else 1)).numpy()


def symmetric_limit(a, percentile: float = 99.5) -> float:
    """The colour scale: a high percentile of |a| (never zero); a ValueError for NaN/inf values."""
    if (
        isinstance(percentile, bool)
        or not isinstance(percentile, (int, float))
        or not 0 <= percentile <= 100
    ):
        raise ValueError(f"percentile must be a number in [0, 100], got {percentile!r}")
    values = np.asarray(a, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(
            "the map holds NaN or infinite values; no colour scale can show them"
        )
    limit = float(np.percentile(np.abs(values), percentile))
    return limit if limit > 0 else 1.0


def heatmap(
    a,
    ax=None,
    *,
    signed: bool | None = None,
    title: str | None = None,
    colorbar: bool = True,
    percentile: float = 99.5,
    label: str = "attribution",
    mask=None,
):
    """Draw one attribution map. ``signed=None`` decides from the data (any negative value).

    ``mask`` (optional, (H, W) or (1, H, W) or (1, 1, H, W)): the object's outline is drawn on
    the map (see :func:`outline`), black on a signed map, cyan on an unsigned one.
    """
    m = _as_map(a)
    ax = ax or plt.gca()
    signed = bool((m < 0).any()) if signed is None else signed
    limit = symmetric_limit(m, percentile)
    if signed:
        image = ax.imshow(m, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit)
    else:
        image = ax.imshow(m, cmap=UNSIGNED_CMAP, vmin=0, vmax=limit)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    if mask is not None:
        outline(mask, ax, color="black" if signed else "cyan", halo=False)
    return image


def overlay(
    image,
    a,
    ax=None,
    *,
    alpha: float = 0.6,
    title: str | None = None,
    colorbar: bool = True,
    percentile: float = 99.5,
    mask=None,
):
    """The attribution in the diverging colormap, drawn translucent over a grey copy of the image.

    ``mask`` (optional): the object's outline, drawn on top (see :func:`outline`).
    """
    ax = ax or plt.gca()
    picture = as_image(image)
    grey = picture.mean(axis=-1) if picture.ndim == 3 else picture
    m = _as_map(a)
    if m.shape != grey.shape[:2]:
        raise ValueError(
            f"the map is {m.shape[0]} x {m.shape[1]} pixels but the image is "
            f"{grey.shape[0]} x {grey.shape[1]}: upsample the map to the image first (e.g. "
            "grad_cam(..., upsample=True), or torch.nn.functional.interpolate)"
        )
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
    limit = symmetric_limit(m, percentile)
    shown = ax.imshow(m, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, alpha=alpha)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="attribution")
    if mask is not None:
        outline(mask, ax)
    return shown


def outline(mask, ax=None, *, color: str = "white", linewidth: float = 0.9, halo=True):
    """Draw the outline of a binary ``mask`` (an object's true pixels) into ``ax``.

    ``mask``: (H, W), (1, H, W) or (1, 1, H, W), bool or {0, 1}; the contour at 0.5 is drawn.
    ``halo=True`` gives the line a thin black border, so that it stays visible on light and
    dark pictures alike. A mask that is all 0 or all 1 has no outline: nothing is drawn and
    None is returned; otherwise the matplotlib ContourSet.
    """
    m = torch.as_tensor(mask).detach().cpu()
    while m.dim() > 2 and m.shape[0] == 1:
        m = m[0]
    if m.dim() != 2:
        raise ValueError(
            f"mask must be (H, W), (1, H, W) or (1, 1, H, W), got {tuple(torch.as_tensor(mask).shape)}"
        )
    values = m.double().numpy()
    if not np.isfinite(values).all():
        raise ValueError("mask holds NaN or infinite values")
    ax = ax or plt.gca()
    if values.min() == values.max():
        return None
    lines = ax.contour(values, levels=[0.5], colors=color, linewidths=linewidth)
    if halo:
        from matplotlib import patheffects

        lines.set_path_effects(
            [patheffects.withStroke(linewidth=linewidth + 1.4, foreground="black")]
        )
    return lines


def grid(
    images: torch.Tensor,
    attributions: Mapping[str, torch.Tensor],
    *,
    titles: Sequence[str] | None = None,
    how: str = "sum",
    cell: float = 1.9,
    colorbar: bool = True,
):
    """A figure: one row per image, the image then one column per method (name -> (N, C, H, W)).

    Each map is pooled over channels with ``how`` (see :func:`xai_lib.aggregation.aggregate`).
    """
    images = torch.as_tensor(images)
    n = images.shape[0]
    names = list(attributions)
    fig, axes = plt.subplots(
        n,
        len(names) + 1,
        figsize=(cell * (len(names) + 1) * (1.25 if colorbar else 1), cell * n),
        squeeze=False,
    )
    for row in range(n):
        axes[row, 0].imshow(as_image(images[row]), cmap="gray")
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(titles[row] if titles else f"image {row}", fontsize=9)
        for col, name in enumerate(names, start=1):
            a = torch.as_tensor(attributions[name])
            maps = aggregate(a, how) if a.dim() == 4 else a
            heatmap(
                maps[row],
                axes[row, col],
                signed=how == "sum" and bool((maps < 0).any()),
                colorbar=colorbar,
                title=name if row == 0 else None,
            )
    axes[0, 0].set_title("input", fontsize=9)
    fig.tight_layout()
    return fig
