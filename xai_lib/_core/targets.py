"""From the user's ``target`` to one class index per sample, and the model's outputs.

* :func:`as_target_tensor`: None, an int, a sequence or a LongTensor -> LongTensor (N,) or None;
* :func:`select_outputs`: pick f_target from outputs (N, K), None meaning the argmax;
* :func:`resolve_target`: the argmax on x when no target is given;
* :func:`predict`: the model's outputs without gradients, in chunks;
* :func:`gradient`: d f_target / d x for a batch, parameters' ``.grad`` untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .batching import batches


def as_target_tensor(target, n: int, device) -> torch.Tensor | None:
    """Validate the user's target's type and length -> LongTensor (n,), or None for argmax.

    The range against the number of classes is checked where the outputs are known
    (:func:`select_outputs`).
    """
    if target is None:
        return None
    if isinstance(target, bool):
        raise ValueError(
            "target must be None, an int, a sequence of ints or a LongTensor, got a bool"
        )
    if isinstance(target, int):
        t = torch.full((n,), target, dtype=torch.long)
    elif isinstance(target, torch.Tensor):
        if (
            target.is_floating_point()
            or target.is_complex()
            or target.dtype == torch.bool
        ):
            raise ValueError(
                f"target tensor must hold integer class indices, got dtype {target.dtype}"
            )
        t = target.reshape(-1) if target.dim() <= 1 else None
        if t is None:
            raise ValueError(
                f"target tensor must be 0- or 1-dimensional, got shape {tuple(target.shape)}"
            )
        if t.numel() == 1:
            t = t.expand(n)
        t = t.long()
    elif isinstance(target, Sequence) and not isinstance(target, str):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in target):
            raise ValueError(f"target sequence must hold ints, got {list(target)!r}")
        t = torch.tensor(list(target), dtype=torch.long)
    else:
        raise ValueError(
            f"target must be None, an int, a sequence of ints or a LongTensor, got {target!r}"
        )
    if t.numel() != n:
        raise ValueError(f"target has {t.numel()} entries but x holds {n} samples")
    if (t < 0).any():
        raise ValueError(f"target holds negative class indices: {t.tolist()}")
    return t.to(device)


def select_outputs(
    output: torch.Tensor, target: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick f_target from the model output (N, K). None: the argmax per sample.

    Returns (selected (N,), target (N,)).
    """
    if output.dim() == 1:
        output = output[:, None]  # a scalar-output model: one "class"
    if output.dim() != 2:
        raise ValueError(
            f"the model must return (N, classes) outputs, got shape {tuple(output.shape)}"
        )
    if target is None:
        target = output.detach().argmax(dim=1)
    elif target.numel() and int(target.max()) >= output.shape[1]:
        raise ValueError(
            f"target {int(target.max())} is out of range: the model has {output.shape[1]} outputs"
        )
    target = target.to(output.device)
    return output.gather(1, target[:, None])[:, 0], target


def resolve_target(
    model: nn.Module, x: torch.Tensor, target, batch_size: int | None = None
) -> torch.Tensor:
    """The user's target -> validated LongTensor (N,); None means the model's argmax on x."""
    t = as_target_tensor(target, x.shape[0], x.device)
    return select_outputs(predict(model, x, batch_size), t)[1]


def predict(
    model: nn.Module, x: torch.Tensor, batch_size: int | None = None
) -> torch.Tensor:
    """The model's outputs on x without gradients, in chunks of at most batch_size samples."""
    with torch.no_grad():
        chunks = batches(1, x.shape[0], batch_size, x[0].numel(), x.device)
        return torch.cat([model(x[chunk.part]) for chunk in chunks])


def gradient(
    model: nn.Module, x: torch.Tensor, target: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """d f_target(x) / d x for a batch, and f_target(x). Works inside torch.no_grad().

    Only the input gets a gradient (torch.autograd.grad), so parameters' .grad stay as they were.
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        selected, _ = select_outputs(model(x), target)
        (grad,) = torch.autograd.grad(selected.sum(), x)
    return grad.detach(), selected.detach()
