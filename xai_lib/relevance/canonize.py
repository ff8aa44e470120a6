"""BatchNorm in eval mode as the affine map x -> scale * x + shift, folded into the Linear/Conv
layer whose output it normalizes, so that layer's rule sees one linear map (canonization;
Motzkus et al., 2022; zennit's MergeBatchNorm).
"""

from __future__ import annotations

import torch
from torch import nn

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def batch_norm_affine(bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) per channel of an eval-mode BatchNorm: bn(x) = scale * x + shift."""
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.detach(), shift.detach()


def channel_view(t: torch.Tensor, dims: int) -> torch.Tensor:
    """A per-channel vector (C,) shaped (1, C, 1, ...) to broadcast over a (N, C, ...) tensor of ``dims`` dims."""
    return t.view(1, -1, *([1] * (dims - 2)))
