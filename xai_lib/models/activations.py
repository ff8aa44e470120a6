"""Beta-smooth activations: softplus with a sharpness beta, which becomes ReLU as beta grows.

SoftplusBeta(beta)(x) = (1/beta) log(1 + exp(beta x)), whose derivative is sigmoid(beta x).
Its gap to ReLU is at most log(2)/beta (at x = 0), so beta -> inf recovers ReLU. This is
the smooth parameterization of the complexity-faithfulness trade-off paper (Mehrpanah et al.,
ICCV 2025): the sharpness beta controls how high-frequency the gradient is.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

# Above beta * x = 36, log(1 + exp(beta x)) equals beta x and sigmoid(beta x) equals 1 to
# float64 precision (exp(-36) = 2e-16): linear there, which keeps exp from overflowing at
# large beta. (torch's default threshold, 20, is off by 2e-9, visible in float64.)
_LINEAR_ABOVE = 36.0


def _check_beta(beta) -> float:
    if (
        isinstance(beta, bool)
        or not isinstance(beta, (int, float))
        or math.isnan(beta)
        or beta <= 0
    ):
        raise ValueError(
            f"beta must be a positive number (math.inf for ReLU), got {beta!r}"
        )
    return float(beta)


class SoftplusBeta(nn.Softplus):
    """(1/beta) log(1 + exp(beta x)), numerically stable for any beta * x; beta=inf is ReLU.

    A subclass of ``nn.Softplus`` (linear above beta * x = 36 rather than 20, exact at beta =
    inf), so code that knows softplus modules, LRP among them, knows this one.
    """

    def __init__(self, beta: float) -> None:
        super().__init__(beta=_check_beta(beta), threshold=_LINEAR_ABOVE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if math.isinf(self.beta):
            return F.relu(x)
        return F.softplus(x, beta=self.beta, threshold=_LINEAR_ABOVE)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}"


def activation(beta: float | None = None) -> nn.Module:
    """The activation module for a sharpness: nn.ReLU for None or math.inf, else SoftplusBeta."""
    if beta is None or (
        isinstance(beta, (int, float)) and math.isinf(_check_beta(beta))
    ):
        return nn.ReLU()
    return SoftplusBeta(beta)


def smooth(model: nn.Module, beta: float) -> nn.Module:
    """A deep copy of ``model`` with every nn.ReLU (and SoftplusBeta) set to sharpness ``beta``.

    The original model is untouched. ``beta=math.inf`` gives back ReLU everywhere.
    Functional ReLUs (``F.relu`` inside ``forward``) are not modules and cannot be replaced.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    beta = _check_beta(beta)
    smoothed = copy.deepcopy(model)
    replaced = 0
    for parent in smoothed.modules():
        for name, child in parent.named_children():
            if isinstance(child, (nn.ReLU, SoftplusBeta)):
                setattr(parent, name, activation(beta))
                replaced += 1
    if replaced == 0 and not isinstance(smoothed, (nn.ReLU, SoftplusBeta)):
        raise ValueError("the model has no nn.ReLU or SoftplusBeta modules to smooth")
    if isinstance(smoothed, (nn.ReLU, SoftplusBeta)):
        return activation(beta)
    return smoothed
