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
    return a.numpy()


def as_image(x) -> np.ndarray:
    """(C, H, W) or (1, C, H, W) tensor -> (H, W, C) or (H, W) array in [0, 1] for imshow."""
    x = torch.as_tensor(x).detach().cpu().double()
    if x.dim() == 4:
        x = x[0]
    if x.dim() == 3:
        x = x.permute(1, 2, 0)
        if x.shape[-1] == 1:
            x = x[..., 0]
    lo, hi = x.min(), x.max()
    return ((x - lo) / (hi - lo if hi > lo else 1)).numpy()


def symmetric_limit(a, percentile: float = 99.5) -> float:
    """The colour scale: a high percentile of |a| (never zero)."""
    limit = float(np.percentile(np.abs(a), percentile))
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
):
    """Draw one attribution map. ``signed=None`` decides from the data (any negative value)."""
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
):
    """The attribution in the diverging colormap, drawn translucent over a grey copy of the image."""
    ax = ax or plt.gca()
    picture = as_image(image)
    grey = picture.mean(axis=-1) if picture.ndim == 3 else picture
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
    m = _as_map(a)
    limit = symmetric_limit(m, percentile)
    shown = ax.imshow(m, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, alpha=alpha)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="attribution")
    return shown


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
