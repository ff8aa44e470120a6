"""Relevance through autograd: every piece of the LRP forward pass gets a backward that maps
the relevance of its output to that of its inputs.

* :func:`attach`: ``output`` whose backward sends relevance to ``inputs`` through a node;
* :class:`Pass`: relevance passes on unchanged (activations, scaling, dropout);
* :class:`Proportional`: sums, means and average pools, LRP-0 exactly;
* :func:`carries`: which tensors carry relevance (those that require grad during the pass).

What the pass knows about tensors beyond their values (the layer that produced one, its reads)
is kept by the call's :class:`~.ledger.Ledger`, not on the tensors.
"""

from __future__ import annotations

import torch

from .contributions import ratio


class _Relevance(torch.autograd.Function):
    """Forward: the given output. Backward: ``node.relevance(r)``, the relevance of each input."""

    @staticmethod
    def forward(ctx, node, output, *inputs):
        ctx.node = node
        return output

    @staticmethod
    def backward(ctx, relevance):
        return (None, None, *ctx.node.relevance(relevance))


def attach(node, output: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """``output`` (detached values) whose backward sends relevance to ``inputs`` through ``node``."""
    return _Relevance.apply(node, output.detach(), *inputs)


class Pass:
    """Relevance passes on unchanged (summed back to the input's shape where the input was broadcast)."""

    def __init__(self, shape: torch.Size) -> None:
        self.shape = shape

    def relevance(self, relevance):
        return (relevance.sum_to_size(self.shape),)


class Proportional:
    """Sums, means and average pools - linear, no bias, non-negative weights: LRP-0, exactly.

    Every input keeps its share x_i / out_k of each output it adds to; ``x`` requires grad and
    ``out`` = f(x) keeps its graph, so one vector-Jacobian product does it for any such f.
    """

    def __init__(self, x: torch.Tensor, out: torch.Tensor) -> None:
        self.x, self.out = x, out

    def relevance(self, relevance):
        share = ratio(relevance, self.out.detach(), 0.0)
        return (self.x.detach() * torch.autograd.grad(self.out, self.x, share)[0],)


def carries(value) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad
