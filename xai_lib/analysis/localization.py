"""Localization: does the map point at the ground-truth object? ``pointing_game`` (Zhang et al.,
ECCV 2016) and ``relevance_mass`` (Arras, Osman and Samek, Information Fusion 2022).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .._core import (
    check_choice,
    check_input,
)
from ..methods.aggregation import AGGREGATIONS, aggregate


def _pixel_maps_and_masks(
    attribution, mask, how: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) attribution and (N, H, W) or (N, 1, H, W) mask -> (N, H, W) map and bool mask."""
    check_input(attribution, "attribution")
    if attribution.dim() != 4:
        raise ValueError(
            f"attribution must be (N, C, H, W) maps, got shape {tuple(attribution.shape)}"
        )
    check_choice(how, "how", AGGREGATIONS)
    n, _, h, w = attribution.shape
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.shape not in ((n, h, w), (n, 1, h, w)):
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not fit attribution of shape {tuple(attribution.shape)}; "
            f"expected ({n}, {h}, {w}) or ({n}, 1, {h}, {w})"
        )
    if mask.is_complex() or (
        mask.is_floating_point() and not torch.isfinite(mask).all()
    ):
        raise ValueError(
            "mask must hold finite real values (True / nonzero inside the object)"
        )
    pooled = aggregate(attribution, how)[:, 0]  # (N, H, W)
    return pooled, mask.reshape(n, h, w).to(attribution.device) != 0


def pointing_game(
    attribution, mask, *, tolerance: int = 0, how: str = "sum"
) -> torch.Tensor:
    """1.0 where the map's maximum falls on the object, else 0.0; NaN where the mask is empty.

    The map is the attribution pooled over channels with ``how`` (see ``xl.aggregate``). A hit
    within ``tolerance`` pixels of the mask counts (Zhang et al. allow 15 px on full images).
    Average over samples with ``torch.nanmean``.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(
            f"tolerance must be an integer >= 0 (pixels), got {tolerance!r}"
        )
    pooled, inside = _pixel_maps_and_masks(attribution, mask, how)
    n, h, w = pooled.shape
    if tolerance:
        offsets = torch.arange(
            -tolerance, tolerance + 1, device=inside.device, dtype=torch.float64
        )
        disk = (
            offsets[:, None].square() + offsets[None, :].square() <= tolerance**2
        ).double()
        inside = (
            F.conv2d(inside[:, None].double(), disk[None, None], padding=tolerance)[
                :, 0
            ]
            > 0
        )
    peak = pooled.flatten(1).argmax(dim=1)  # (N,)
    hit = inside.flatten(1).gather(1, peak[:, None])[:, 0].to(attribution.dtype)
    empty = ~(mask.reshape(n, -1) != 0).any(dim=1).to(hit.device)
    return torch.where(empty, torch.full_like(hit, math.nan), hit)


def relevance_mass(attribution, mask, *, how: str = "sum") -> torch.Tensor:
    """Share of the positive relevance that falls inside the mask, per sample, in [0, 1].

    The relevance mass accuracy of Arras et al.: sum of the positive part of the pooled map
    (``how``, default the signed channel sum) inside the mask over its sum everywhere. NaN where
    the map has no positive relevance.
    """
    pooled, inside = _pixel_maps_and_masks(attribution, mask, how)
    positive = pooled.detach().clamp_min(0).flatten(1)  # (N, H*W)
    within = (positive * inside.flatten(1)).sum(1)
    total = positive.sum(1)
    return torch.where(total > 0, within / total, torch.full_like(total, math.nan))
