"""A synthetic image dataset drawn from a seed. One object per image (circle, square, triangle,
cross, ring or diamond) at a random position, size, rotation and colour over a textured, noisy
background, with the object's ground-truth mask, so an explanation can be checked against
where the evidence really is.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.nn import functional as F

from .._core import batches, check_bool, check_positive_int, seed_generator

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring", "diamond")


# Each pixel is rendered from SUPERSAMPLE x SUPERSAMPLE sub-pixels, so edges are anti-aliased
# and the mask (any sub-pixel covered) contains every pixel the object touches.
SUPERSAMPLE = 4


# Object radius as a fraction of the image side: large enough to read at 32 px.
RADIUS_RANGE = (0.17, 0.32)


# The object's brightness differs from the background's mean by at least this much.
MIN_CONTRAST = 0.25


RENDER_CHUNK = 256


class ShapesData(NamedTuple):
    images: torch.Tensor  # (N, 3, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (N,) long, index into SHAPE_CLASSES
    masks: torch.Tensor  # (N, 1, H, W) bool, True where the object covers the pixel


def shapes(n: int, size: int = 32, seed: int = 0, *, return_background: bool = False):
    """``n`` images of one shape each over a textured background -> ShapesData(images, labels, masks).

    Classes are balanced (each appears n // 6 or n // 6 + 1 times, shuffled). With
    ``return_background=True`` a fourth tensor holds the same images without their object
    (identical outside the mask): the counterfactual "nothing there" input, a natural
    baseline for Integrated Gradients. ``seed``: an int in [0, 2**63) (the same seed, the same
    images), or None for a fresh draw; the global RNG is not used.
    """
    check_positive_int(n, "n")
    check_bool(return_background, "return_background")
    check_positive_int(size, "size")
    if size < 16:
        raise ValueError(
            f"size must be at least 16 pixels for the shapes to be recognisable, got {size}"
        )
    g = seed_generator(seed)  # validates the seed
    labels = (torch.arange(n) % len(SHAPE_CLASSES))[torch.randperm(n, generator=g)]
    radius, cx, cy, rotation = _random_geometry(labels, size, g)
    background = _backgrounds(n, size, g)  # (N, 3, H, W)
    colours = _object_colours(background, g)  # (N, 3, 1, 1)
    noise = torch.randn(n, 3, size, size, generator=g)
    noise *= torch.empty(n, 1, 1, 1).uniform_(
        0.02, 0.06, generator=g
    )  # a noise level per image
    coverage = torch.cat(
        [
            _coverage(
                labels[part], radius[part], cx[part], cy[part], rotation[part], size
            )
            for part in (c.part for c in batches(1, n, RENDER_CHUNK, 1))
        ]
    )  # (N, 1, H, W) in [0, 1]
    images = (background * (1 - coverage) + colours * coverage + noise).clamp(0, 1)
    data = ShapesData(images, labels, coverage > 0)
    if return_background:
        return (*data, (background + noise).clamp(0, 1))
    return data


def _random_geometry(
    labels: torch.Tensor, size: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Radius, centre and rotation per sample, in pixels and radians."""
    n = labels.numel()
    radius = torch.empty(n).uniform_(*RADIUS_RANGE, generator=g) * size
    margin = radius + 1
    cx = margin + torch.rand(n, generator=g) * (size - 2 * margin)
    cy = margin + torch.rand(n, generator=g) * (size - 2 * margin)
    # Squares and diamonds only tilt a little, so the two stay distinct classes; the
    # triangle and the cross may turn freely.
    tilt = (torch.rand(n, generator=g) - 0.5) * math.radians(24)
    free = torch.rand(n, generator=g) * 2 * math.pi
    turns_freely = (labels == SHAPE_CLASSES.index("triangle")) | (
        labels == SHAPE_CLASSES.index("cross")
    )
    rotation = torch.where(turns_freely, free, tilt)
    return radius, cx, cy, rotation


def _coverage(labels, radius, cx, cy, rotation, size: int) -> torch.Tensor:
    """The fraction of each pixel the object covers, (n, 1, H, W), from supersampled indicators."""
    fine = (
        torch.arange(size * SUPERSAMPLE) + 0.5
    ) / SUPERSAMPLE  # sub-pixel centres, in pixels
    dx = fine[None, None, :] - cx[:, None, None]  # (n, 1, S)
    dy = fine[None, :, None] - cy[:, None, None]  # (n, S, 1)
    cos, sin = rotation.cos()[:, None, None], rotation.sin()[:, None, None]
    r = radius[:, None, None]
    u = (
        cos * dx + sin * dy
    ) / r  # (n, S, S): object coordinates, the unit circle circumscribes it
    v = (-sin * dx + cos * dy) / r
    inside = torch.zeros_like(u, dtype=torch.bool)
    for k, name in enumerate(SHAPE_CLASSES):
        rows = labels == k
        if rows.any():
            inside[rows] = _INDICATORS[name](u[rows], v[rows])
    return F.avg_pool2d(
        inside[:, None].float(), SUPERSAMPLE
    )  # (n, 1, S, S) -> (n, 1, H, W)


def _triangle(u, v):
    # An equilateral triangle inscribed in the unit circle: three half-planes at inradius 1/2.
    inside = torch.ones_like(u, dtype=torch.bool)
    for angle in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6):
        inside &= u * math.cos(angle) + v * math.sin(angle) <= 0.5
    return inside


_INDICATORS = {
    "circle": lambda u, v: u**2 + v**2 <= 1,
    "square": lambda u, v: torch.maximum(u.abs(), v.abs()) <= 0.8,
    "triangle": _triangle,
    "cross": lambda u, v: (
        ((u.abs() <= 0.3) & (v.abs() <= 1)) | ((v.abs() <= 0.3) & (u.abs() <= 1))
    ),
    "ring": lambda u, v: (u**2 + v**2 <= 1) & (u**2 + v**2 >= 0.55**2),
    "diamond": lambda u, v: u.abs() + v.abs() <= 1.05,
}


def _backgrounds(n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """A colour gradient + a grating + smooth blotches, (n, 3, H, W)."""
    coords = torch.arange(size) / (size - 1)
    y, x = coords[:, None], coords[None, :]  # (H, 1), (1, W)
    low = torch.empty(n, 3, 1, 1).uniform_(0.15, 0.85, generator=g)
    high = torch.empty(n, 3, 1, 1).uniform_(0.15, 0.85, generator=g)
    direction = torch.rand(n, 1, 1, 1, generator=g) * 2 * math.pi
    ramp = x * direction.cos() + y * direction.sin()  # (n, 1, H, W)
    ramp = (ramp - ramp.amin((2, 3), keepdim=True)) / (
        ramp.amax((2, 3), keepdim=True) - ramp.amin((2, 3), keepdim=True)
    )
    gradient = low + (high - low) * ramp
    cycles = torch.empty(n, 1, 1, 1).uniform_(1.5, 5.0, generator=g)
    orientation = torch.rand(n, 1, 1, 1, generator=g) * math.pi
    phase = torch.rand(n, 1, 1, 1, generator=g) * 2 * math.pi
    amplitude = torch.empty(n, 1, 1, 1).uniform_(0.03, 0.10, generator=g)
    grating = amplitude * torch.sin(
        2 * math.pi * cycles * (x * orientation.cos() + y * orientation.sin()) + phase
    )
    blotches = F.interpolate(
        torch.randn(n, 3, 4, 4, generator=g) * 0.06,
        size=(size, size),
        mode="bicubic",
        align_corners=False,
    )
    return (gradient + grating + blotches).clamp(0, 1)


def _object_colours(background: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A random colour per object, brighter than a dark background or darker than a bright one."""
    n = background.shape[0]
    brightness = background.mean((1, 2, 3))[:, None, None, None]  # (n, 1, 1, 1)
    dark = brightness > 0.5
    low = torch.where(dark, torch.zeros_like(brightness), brightness + MIN_CONTRAST)
    high = torch.where(dark, brightness - MIN_CONTRAST, torch.ones_like(brightness))
    return low + (high - low) * torch.rand(n, 3, 1, 1, generator=g)
