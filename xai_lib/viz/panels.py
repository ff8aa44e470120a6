"""Panels the chapters repeat: a figure of equal panels, the input picture with its object's
outline, and one image explained by many methods.

* :func:`subplots`: a figure of ``rows x columns`` equal panels, sized so that text stays
  legible, with room for a colour bar per panel (constrained layout: no ``tight_layout``);
* :func:`show_image`: the input, contrast-stretched or as it is, with the outline of its
  object's mask (:func:`~xai_lib.viz.maps.outline`), a title and a row label;
* :func:`method_grid`: one image and one map per method, wrapped into rows, every map with a
  colour bar, signed maps in the diverging colormap centred at zero.

Attribution maps themselves are :func:`~xai_lib.viz.maps.heatmap` (with ``mask=`` for the
object's outline) and :func:`~xai_lib.viz.maps.overlay`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch

from .maps import _as_map, as_image, heatmap, outline

#: The side of one panel in inches (with the colour bar: ``CELL * COLORBAR_WIDTH`` wide).
CELL = 2.4
COLORBAR_WIDTH = 1.3


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def subplots(
    rows: int = 1,
    columns: int = 1,
    *,
    cell: float = CELL,
    colorbar: bool = True,
    height: float | None = None,
    **options,
):
    """A figure of ``rows x columns`` equal panels: ``(fig, axes)``, axes always 2-D.

    Each panel is ``cell`` inches high (``height`` overrides it, e.g. for line plots) and
    ``cell`` wide, plus room for a colour bar when ``colorbar`` is true. The figure uses
    matplotlib's constrained layout, so titles and colour bars never overlap and no
    ``tight_layout`` call is needed. Further keyword arguments go to ``plt.subplots``
    (``sharey=True``, ``gridspec_kw=...``).
    """
    _positive_int(rows, "rows")
    _positive_int(columns, "columns")
    if not (isinstance(cell, (int, float)) and not isinstance(cell, bool) and cell > 0):
        raise ValueError(f"cell must be a positive size in inches, got {cell!r}")
    width = cell * (COLORBAR_WIDTH if colorbar else 1.0)
    high = cell if height is None else height
    options.setdefault("layout", "constrained")
    fig, axes = plt.subplots(
        rows, columns, figsize=(width * columns, high * rows), squeeze=False, **options
    )
    return fig, axes


def show_image(
    x,
    ax=None,
    *,
    mask=None,
    title: str | None = None,
    ylabel: str | None = None,
    stretch: bool = True,
    color: str = "white",
):
    """Draw an input picture into ``ax``: (C, H, W), (1, C, H, W) or (H, W); returns the image.

    ``stretch=True`` maps the picture's own range to [0, 1] (:func:`as_image`), so faint
    pictures show their content; ``stretch=False`` shows the values as they are, clipped to
    [0, 1] (to compare an image with its baselines on one scale). One channel is drawn in
    grey. ``mask``: the object's outline in ``color``, with a black halo. ``title`` above,
    ``ylabel`` on the left (a row's name in a grid). The ticks are removed.
    """
    t = torch.as_tensor(x).detach().cpu().double()
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() not in (2, 3) or (t.dim() == 3 and t.shape[0] not in (1, 3)):
        raise ValueError(
            "x must be one picture: (C, H, W) or (1, C, H, W) with 1 or 3 channels, "
            f"or (H, W); got {tuple(torch.as_tensor(x).shape)}"
        )
    if stretch:
        picture = as_image(t)
    else:
        channels_last = t.permute(1, 2, 0) if t.dim() == 3 else t
        channels_last = (
            channels_last[..., 0]
            if channels_last.dim() == 3 and channels_last.shape[-1] == 1
            else channels_last
        )
        picture = channels_last.clamp(0, 1).numpy()
    ax = ax or plt.gca()
    if picture.ndim == 2:
        shown = ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
    else:
        shown = ax.imshow(picture)
    if mask is not None:
        outline(mask, ax, color=color)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)
    return shown


def method_grid(
    x,
    attributions: Mapping[str, torch.Tensor],
    *,
    columns: int = 4,
    mask=None,
    cell: float = CELL,
    input_title: str = "input",
    percentile: float = 99.5,
    fontsize: float = 11,
):
    """One image explained by many methods: a figure, the input first, then one map per method.

    ``attributions``: title -> map of the image ((1, C, H, W), (C, H, W), (1, H, W) or
    (H, W); channels are summed). The panels are wrapped into rows of ``columns``. Every map
    gets a colour bar; a map with negative values is signed and drawn in the diverging
    colormap centred at zero (red for, blue against), a non-negative one in the sequential
    colormap from zero, each scaled to the ``percentile`` of its own magnitude. ``mask``
    outlines the object on the input. A constant map is drawn, but says so in its title.
    ``fontsize``: of the titles (the colour bars' numbers are two points smaller), large
    enough to read when the figure is shrunk to a page's text column.
    """
    _positive_int(columns, "columns")
    if not isinstance(attributions, Mapping) or not attributions:
        raise ValueError("attributions must be a non-empty dict: title -> map")
    maps = {str(name): _as_map(a) for name, a in attributions.items()}
    shapes = {m.shape for m in maps.values()}
    if len(shapes) != 1:
        raise ValueError(f"the maps must share one shape, got {sorted(shapes)}")
    panels = len(maps) + 1
    columns = min(columns, panels)
    rows = math.ceil(panels / columns)
    fig, axes = subplots(rows, columns, cell=cell)
    flat = axes.ravel()
    show_image(x, flat[0], mask=mask, title=input_title)
    flat[0].title.set_fontsize(fontsize)
    for ax, (name, m) in zip(flat[1:], maps.items()):
        constant = bool(np.ptp(m) == 0)
        image = heatmap(
            m,
            ax,
            signed=bool((m < 0).any()),
            title=f"{name} (constant)" if constant else name,
            percentile=percentile,
            label="",  # the caption says what the colours mean; the bars give the scale
        )
        ax.title.set_fontsize(fontsize)
        image.colorbar.ax.tick_params(labelsize=fontsize - 2)
    for ax in flat[panels:]:
        ax.axis("off")
    return fig
