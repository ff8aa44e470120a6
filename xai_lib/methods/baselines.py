"""Baselines: the reference input an attribution compares x with, parsed in one place.

:func:`baseline_like` turns None (zeros), a number, a tensor broadcastable to x, or
``"blur"`` (images, :func:`blur`) into a tensor shaped like x. Integrated Gradients,
occlusion and the faithfulness metrics all read their ``baseline`` through it, so every
one of them accepts the same values.

:func:`blur` is the library's one Gaussian blur: separable, edges replicated, with a
standard deviation in pixels (by default :data:`BLUR_SIGMA_FRACTION` of the larger side,
strong enough to wipe out an object's detail, as the blurred canvas of RISE's insertion).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .._core import check_image_batch

#: The default std of :func:`blur`, as a fraction of the image's larger side.
BLUR_SIGMA_FRACTION = 1 / 16


def blur(x: torch.Tensor, sigma: float | None = None) -> torch.Tensor:
    """Images (N, C, H, W) blurred by a Gaussian of std ``sigma`` pixels, edges replicated.

    ``sigma=None``: :data:`BLUR_SIGMA_FRACTION` times max(H, W). The kernel is cut at 3
    sigma. Returns a new tensor shaped like x, in x's dtype and on x's device.
    """
    check_image_batch(x)
    if sigma is None:
        sigma = BLUR_SIGMA_FRACTION * max(x.shape[-2:])
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ValueError(f"sigma must be a number of pixels > 0, got {sigma!r}")
    if not math.isfinite(sigma):
        raise ValueError(f"sigma must be finite, got {sigma!r}")
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-offsets.square() / (2 * sigma**2))
    kernel = kernel / kernel.sum()  # (2 radius + 1,)
    channels = x.shape[1]
    out = F.pad(x.detach(), (radius, radius, radius, radius), mode="replicate")
    along_w = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)  # (C, 1, 1, K)
    along_h = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)  # (C, 1, K, 1)
    out = F.conv2d(out, along_w, groups=channels)
    return F.conv2d(out, along_h, groups=channels)


def baseline_like(baseline, x: torch.Tensor, name: str = "baseline") -> torch.Tensor:
    """None (zeros), a number, a tensor broadcastable to x, or ``"blur"`` -> like x.

    ``"blur"`` needs images (N, C, H, W) and gives :func:`blur` (x). A tensor is moved to
    x's device and dtype and expanded (not copied) to x's shape.
    """
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, str):
        if baseline != "blur":
            raise ValueError(
                f"{name} must be a number, a tensor or 'blur'; got {baseline!r}"
            )
        if x.dim() != 4:
            raise ValueError(
                f"{name}='blur' needs images (N, C, H, W), got x of shape {tuple(x.shape)}"
            )
        return blur(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        if not math.isfinite(baseline):
            raise ValueError(f"{name} must be finite, got {baseline!r}")
        return torch.full_like(x, float(baseline))
    if not isinstance(baseline, torch.Tensor):
        raise ValueError(
            f"{name} must be None, a number, a tensor or 'blur', "
            f"got {type(baseline).__name__}"
        )
    if not baseline.is_floating_point() or not torch.isfinite(baseline).all():
        raise ValueError(f"{name} must be a finite floating-point tensor")
    try:
        return baseline.detach().to(device=x.device, dtype=x.dtype).expand_as(x)
    except RuntimeError:
        raise ValueError(
            f"{name} of shape {tuple(baseline.shape)} does not broadcast to x of shape "
            f"{tuple(x.shape)}"
        ) from None
