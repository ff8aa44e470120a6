"""The linear layers LRP's rules apply to, and one call of such a layer as a rule sees it.

* :func:`linear_map`: a Linear or Conv1d/2d/3d module as z = forward(a, weight, bias) for any
  input and weights, with public torch functions only (``F.linear``, ``F.conv1d/2d/3d`` with
  the module's stride, padding, dilation and groups; a ``padding_mode`` other than
  ``"zeros"`` pads with ``F.pad`` first, as the module does); :data:`AFFINE` is a BatchNorm
  explained on its own, a per-channel scaling;
* :class:`LayerCall`: one call of such a layer during an ``xl.lrp`` forward pass, handed to
  ``Rule.relevance(layer, relevance)``: ``layer.x``, ``layer.weight``, ``layer.bias`` (a folded
  BatchNorm merged in), ``layer.own()`` and ``layer.contribution(a, weight, bias)``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .canonize import Fold, channel_view
from .contributions import Contribution, LinearMap

#: The layers rules apply to (BatchNorm too, where it is not folded into one of these).
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)

_CONVOLVE = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}

Convolution = nn.Conv1d | nn.Conv2d | nn.Conv3d


def padding_amounts(conv: Convolution) -> list[int]:
    """The padding of a Conv module as ``F.pad`` takes it: (before, after) per spatial dim,
    the last dim first. ``padding="same"`` puts the odd pixel after, as torch does."""
    pairs: list[tuple[int, int]] = []
    padding = conv.padding
    for i, (k, d) in enumerate(zip(conv.kernel_size, conv.dilation)):
        if padding == "valid":
            pairs.append((0, 0))
        elif padding == "same":
            total = d * (k - 1)
            pairs.append((total // 2, total - total // 2))
        else:
            pairs.append((int(padding[i]), int(padding[i])))
    return [amount for pair in reversed(pairs) for amount in pair]


def _convolution(conv: Convolution) -> LinearMap:
    convolve = next(f for kind, f in _CONVOLVE.items() if isinstance(conv, kind))
    stride, dilation, groups = conv.stride, conv.dilation, conv.groups
    if conv.padding_mode == "zeros":
        padding = conv.padding

        def forward(a, weight, bias):
            return convolve(a, weight, bias, stride, padding, dilation, groups)

    else:
        amounts, mode = padding_amounts(conv), conv.padding_mode

        def forward(a, weight, bias):
            padded = F.pad(a, amounts, mode=mode)
            return convolve(padded, weight, bias, stride, 0, dilation, groups)

    return LinearMap(forward, 1 if groups == 1 else None)


def linear_map(module: nn.Linear | Convolution) -> LinearMap:
    """A Linear or Conv module as the map (a, weight, bias) -> z it computes."""
    if isinstance(module, nn.Linear):
        return LinearMap(F.linear, -1)
    return _convolution(module)


def _affine(a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None):
    """A BatchNorm as a per-channel linear layer: weight * a + bias over dim 1."""
    out = a * channel_view(weight, a.dim())
    return out if bias is None else out + channel_view(bias, a.dim())


#: A BatchNorm explained as a layer of its own.
AFFINE = LinearMap(_affine, None)


class LayerCall:
    """One call of a linear layer z = forward(x; weight, bias), as the rules see it.

    ``x`` requires grad and ``z`` keeps the graph of the module's own forward pass, which
    :meth:`own` reuses. A BatchNorm normalizing z may be folded in (:meth:`fold`); the fold
    holds when z feeds nothing else, which is known once the forward pass is over.
    """

    def __init__(
        self,
        rule,
        linear: LinearMap,
        x: torch.Tensor,
        z: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None = None,
        foldable: bool = False,
    ) -> None:
        self.rule, self.linear = rule, linear
        self._x, self._z = x, z
        self._weight, self._bias = weight, bias
        self.foldable = foldable
        self._fold: Fold | None = None
        self._merged: tuple | None = None  # (weight, bias) with the fold merged in

    def fold(self, fold: Fold) -> None:
        self._fold, self.foldable = fold, False

    @property
    def folded(self) -> bool:
        return self._fold is not None and self._fold.holds

    @property
    def x(self) -> torch.Tensor:
        return self._x.detach()

    def _parameters(self) -> tuple:
        fold = self._fold
        if fold is None or not fold.holds:
            return self._weight, self._bias
        if self._merged is None:
            self._merged = fold.weight(self._weight), fold.bias(self._bias)
        return self._merged

    @property
    def weight(self) -> torch.Tensor:
        return self._parameters()[0]

    @property
    def bias(self) -> torch.Tensor | None:
        return self._parameters()[1]

    def own(self) -> Contribution:
        """x through the layer's own weights, pulled back through the graph of the forward pass."""
        x, fold = self.x, self._fold
        if fold is None or not fold.holds:
            z, pull = self._z.detach(), self._pull
        else:
            scale = channel_view(fold.scale, fold.normalized.dim())
            z = fold.normalized

            def pull(s):
                return self._pull(s * scale)

        weight, bias = self._parameters()
        return Contribution.through(
            self.linear, x, weight, bias, known=(z, lambda s: pull(s).mul_(x))
        )

    def _pull(self, s: torch.Tensor) -> torch.Tensor:
        return torch.autograd.grad(self._z, self._x, s, retain_graph=True)[0]

    def contribution(
        self, a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> Contribution:
        """Input ``a`` through the same layer with other parameters (computed when needed)."""
        return Contribution.through(self.linear, a, weight, bias)

    def relevance(self, relevance: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.rule.relevance(self, relevance),)
