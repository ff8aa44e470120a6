"""Statistics shared by the metrics and the spectral tools, batched over leading dims:
``ranks`` (average ranks of ties, as scipy.stats.rankdata), ``pearson`` and ``spearman`` over
the last dimension.
"""

from __future__ import annotations

import torch


def ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n along the last dimension; tied values share their average rank.

    The same numbers as ``scipy.stats.rankdata(values, axis=-1)`` (method "average"), batched.
    """
    n = values.shape[-1]
    flat = values.reshape(-1, n)  # (B, n)
    ordered, order = flat.sort(dim=1, stable=True)
    position = torch.arange(n, device=values.device).expand_as(flat)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    # every position of a run of ties sees the run's first and last position
    first = torch.where(starts, position, 0).cummax(dim=1).values
    last = torch.where(ends, position, n).flip(1).cummin(dim=1).values.flip(1)
    average = (first + last).to(values.dtype) / 2 + 1  # (B, n) in sorted order
    result = torch.empty_like(average).scatter_(1, order, average)
    return result.reshape(values.shape)


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last dimension; NaN where either side is constant."""
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    return (a * b).sum(-1) / (a.square().sum(-1) * b.square().sum(-1)).sqrt()


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation along the last dimension (Pearson of average ranks)."""
    return pearson(ranks(a), ranks(b))
