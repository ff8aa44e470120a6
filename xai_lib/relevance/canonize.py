"""BatchNorm in eval mode as the affine map x -> scale * x + shift, folded into the Linear/Conv
layer whose output it normalizes, so that layer's rule sees one linear map (canonization;
Motzkus et al., 2022; zennit's MergeBatchNorm).

* :func:`batch_norm_affine`: (scale, shift) of a BatchNorm;
* :class:`Fold`: one BatchNorm folded into one layer call, during one ``xl.lrp`` call; the fold
  holds when the layer's output feeds nothing but the BatchNorm, which is known once the
  forward pass is over;
* :class:`FoldedBatchNorm`: the BatchNorm's own relevance node: relevance passes through it
  when the fold holds, and the BatchNorm is explained as a layer of its own otherwise.

Folding happens only in the explanation: the model's parameters are never changed.
"""

from __future__ import annotations

import torch
from torch import nn

from .ledger import Ledger

__all__ = ["BATCH_NORMS", "batch_norm_affine", "channel_view"]  # xl.canonize

#: The BatchNorm layers xl.lrp folds (or explains as affine layers of their own).
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


BatchNorm = nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d


def batch_norm_affine(bn: BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) per channel of an eval-mode BatchNorm: bn(x) = scale * x + shift."""
    mean, variance = bn.running_mean, bn.running_var
    if mean is None or variance is None:
        raise ValueError(
            f"{type(bn).__name__} keeps no running statistics (track_running_stats=False)"
        )
    scale = torch.rsqrt(variance + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.detach(), shift.detach()


def channel_view(t: torch.Tensor, dims: int) -> torch.Tensor:
    """A per-channel vector (C,) shaped (1, C, 1, ...) to broadcast over (N, C, ...) of ``dims`` dims."""
    return t.view(1, -1, *([1] * (dims - 2)))


class Fold:
    """A BatchNorm (``scale``, ``shift``) folded into the layer call whose output ``z`` it reads.

    ``normalized``: the BatchNorm's output. The fold holds when the ledger counts ``z`` read
    exactly once (by the BatchNorm).
    """

    def __init__(
        self,
        scale: torch.Tensor,
        shift: torch.Tensor,
        normalized: torch.Tensor,
        ledger: Ledger,
        z: torch.Tensor,
    ) -> None:
        self.scale, self.shift, self.normalized = scale, shift, normalized
        self._ledger, self._z = ledger, z

    @property
    def holds(self) -> bool:
        return self._ledger.reads(self._z) == 1

    def weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The layer's weight with the BatchNorm merged in: each output channel scaled."""
        return weight * self.scale.view(-1, *([1] * (weight.dim() - 1)))

    def bias(self, bias: torch.Tensor | None) -> torch.Tensor:
        """The layer's bias with the BatchNorm merged in: scale * b + shift."""
        return self.shift if bias is None else bias * self.scale + self.shift


class FoldedBatchNorm:
    """Relevance node of a BatchNorm after a Linear/Conv: passes relevance on when folded,
    else explains the BatchNorm as a layer of its own (``alone``, a layer call)."""

    def __init__(self, fold: Fold, alone) -> None:
        self.fold, self.alone = fold, alone

    def relevance(self, relevance: torch.Tensor) -> tuple[torch.Tensor]:
        return (relevance,) if self.fold.holds else self.alone.relevance(relevance)
