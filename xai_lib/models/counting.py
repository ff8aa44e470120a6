"""Counting what a method costs: the model wrapped so that it counts the images it is run on.

Black-box methods (occlusion, RISE) pay in forward passes, gradient methods in forward and
backward passes. :class:`PassCounter` wraps a model without changing what it computes and
counts, per image, the forward passes and the backward passes (images whose output receives a
gradient), whatever the method's batching.
"""

from __future__ import annotations

import torch
from torch import nn

from .._core import check_model


class PassCounter(nn.Module):
    """``model``, counting the images it runs forwards and backwards.

    ``forwards`` grows by the batch size of every call; ``backwards`` by the batch size of
    every gradient that reaches the output of a call (one backward pass per image, however
    many outputs of the image the gradient combines). The wrapper computes exactly what
    ``model`` computes, shares its parameters and modules (``counter.model`` is ``model``)
    and registers no module hooks: only the outputs of its own calls get a tensor hook.

    >>> counter = PassCounter(model)
    >>> maps = xl.occlusion(counter, x, target, patch=8, stride=4)
    >>> counter.forwards / len(x)  # forward passes per image
    """

    def __init__(self, model: nn.Module):
        check_model(model)
        super().__init__()
        self.model = model
        self.forwards = 0
        self.backwards = 0
        self.training = (
            model.training
        )  # the wrapper reads as the model; nothing is changed

    def forward(self, x, *args, **kwargs):
        """Run ``model(x, *args, **kwargs)``, counting ``x``'s batch size (its first dimension)."""
        if not isinstance(x, torch.Tensor) or x.dim() == 0:
            raise ValueError(
                "PassCounter counts batches: its first argument must be a tensor "
                f"with a batch dimension, got {type(x).__name__}"
            )
        out = self.model(x, *args, **kwargs)
        self.forwards += x.shape[0]
        if isinstance(out, torch.Tensor) and out.requires_grad:
            out.register_hook(self._count_backward)
        return out

    def _count_backward(self, grad: torch.Tensor) -> None:
        self.backwards += grad.shape[0] if grad.dim() else 1

    def per_image(self, n: int) -> tuple[float, float]:
        """(forward passes, backward passes) per image, for a method run on ``n`` images."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive number of images, got {n!r}")
        return self.forwards / n, self.backwards / n

    def reset(self) -> PassCounter:
        """Set both counts back to zero (returns the counter, for chaining)."""
        self.forwards = self.backwards = 0
        return self

    def extra_repr(self) -> str:
        return f"forwards={self.forwards}, backwards={self.backwards}"
