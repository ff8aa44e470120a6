"""From per-channel attributions (N, C, H, W) to one map per image (N, 1, H, W).

A picture shows one number per pixel, so channel attributions are pooled:

* ``"max_abs"``: max over channels of |a|, the saliency map of Simonyan et al. (2014) and of
  the course slides of Pastor (2025);
* ``"sum"``: the signed sum over channels, which keeps the sign and the conservation of
  Gradient x Input, IG and LRP (what deletion/insertion rank by);
* ``"abs_sum"``: sum of |a|; ``"l2"``: the Euclidean norm over channels.
"""

from __future__ import annotations

import torch

from .._core import check_choice, check_image_batch

AGGREGATIONS = ("max_abs", "sum", "abs_sum", "l2")


def aggregate(attribution: torch.Tensor, how: str = "sum") -> torch.Tensor:
    """Pool an (N, C, H, W) attribution over channels with ``how`` -> (N, 1, H, W)."""
    check_image_batch(attribution, "attribution")
    check_choice(how, "how", AGGREGATIONS)
    a = attribution.detach()
    if how == "max_abs":
        return a.abs().amax(dim=1, keepdim=True)
    if how == "sum":
        return a.sum(dim=1, keepdim=True)
    if how == "abs_sum":
        return a.abs().sum(dim=1, keepdim=True)
    return a.pow(2).sum(dim=1, keepdim=True).sqrt()
