"""Localization: does the map point at the ground-truth object? ``pointing_game`` (Zhang et al.,
ECCV 2016) and ``relevance_mass`` (Arras, Osman and Samek, Information Fusion 2022).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .._core import (
    DegenerateMapWarning,
    check_choice,
    check_input,
    warn,
)
from .._core.alerts import samples as _samples
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
    inside = mask.reshape(n, h, w).to(attribution.device) != 0
    empty = ~inside.flatten(1).any(dim=1)
    if empty.any():
        raise ValueError(
            f"the mask of {_samples(empty)} is empty: there is no object to point at or to "
            "hold relevance; leave such samples out"
        )
    return pooled, inside


def pointing_game(
    attribution, mask, *, tolerance: int = 0, how: str = "sum"
) -> torch.Tensor:
    """1.0 where the map's maximum falls on the object, else 0.0, per sample.

    The map is the attribution pooled over channels with ``how`` (see ``xl.aggregate``). A hit
    within ``tolerance`` pixels of the mask counts (Zhang et al. allow 15 px on full images).
    Ties: when the maximum is taken at several pixels, the score is the share of them that
    hit, the expected score of picking one at random (never the first pixel in memory order).
    A constant map (all zero, say) points nowhere: every pixel ties, so it scores the share of
    the image the (tolerance-widened) object covers, the chance level, with a
    :class:`DegenerateMapWarning`. An empty mask is a ValueError.
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
    flat = pooled.flatten(1)  # (N, H*W)
    peaks = (
        flat == flat.max(dim=1, keepdim=True).values
    )  # (N, H*W): every maximal pixel
    constant = peaks.all(dim=1)
    if constant.any():
        warn(
            f"pointing_game: the map of {_samples(constant)} is constant (e.g. all zero), so "
            "it points nowhere; scored at chance, the share of pixels on the object",
            DegenerateMapWarning,
        )
    hits = (peaks & inside.flatten(1)).sum(dim=1)
    return (hits / peaks.sum(dim=1)).to(attribution.dtype)


def relevance_mass(attribution, mask, *, how: str = "sum") -> torch.Tensor:
    """Share of the positive relevance that falls inside the mask, per sample, in [0, 1].

    The relevance mass accuracy of Arras et al.: sum of the positive part of the pooled map
    (``how``, default the signed channel sum) inside the mask over its sum everywhere. A map
    without positive relevance (all zero, or all negative) has no share to measure: NaN for
    those samples, with a :class:`DegenerateMapWarning` naming them (average with
    ``torch.nanmean``, or leave them out). An empty mask is a ValueError.
    """
    pooled, inside = _pixel_maps_and_masks(attribution, mask, how)
    positive = pooled.detach().clamp_min(0).flatten(1)  # (N, H*W)
    within = (positive * inside.flatten(1)).sum(1)
    total = positive.sum(1)
    if not (total > 0).all():
        warn(
            f"relevance_mass: the map of {_samples(~(total > 0))} has no positive relevance "
            "(e.g. all zero), so its share inside the mask is undefined: NaN",
            DegenerateMapWarning,
        )
    return torch.where(total > 0, within / total, torch.full_like(total, math.nan))
