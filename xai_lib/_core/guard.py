"""Leaving the model as it was found: the state guard, hook handles, submodules by name.

* :func:`preserved`: restores training flags, ``requires_grad`` and buffers, also on error;
* :class:`Hooks`: a context manager that removes every hook it handed out;
* :func:`find_module`: a submodule given as itself or by its dotted name.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator

import torch
from torch import nn

from .validation import check_model


def find_module(model: nn.Module, layer, name: str = "layer") -> nn.Module:
    """A submodule of ``model``, given as the module itself or as its dotted name.

    Names are those of ``model.named_modules()`` (e.g. ``"features.3"``, ``"layer4.1.conv2"``).
    """
    if isinstance(layer, nn.Module):
        if any(m is layer for m in model.modules()):
            return layer
        raise ValueError(
            f"{name} is a {type(layer).__name__} that is not a submodule of the model"
        )
    if not isinstance(layer, str):
        raise ValueError(
            f"{name} must be a module or its dotted name, got {type(layer).__name__}"
        )
    modules = dict(model.named_modules())
    if layer in modules:
        return modules[layer]
    names = [n for n in modules if n]
    suggestions = difflib.get_close_matches(layer, names, n=5, cutoff=0.5) or names[:5]
    raise ValueError(
        f"the model has no submodule named {layer!r}; valid names include: {', '.join(suggestions)}"
    )


class Hooks:
    """Handles of hooks registered during one call; a context manager that removes them all.

    ``with Hooks() as hooks: hooks.add(module.register_forward_hook(fn)); ...``
    """

    def __init__(self) -> None:
        self._handles: list = []

    def __enter__(self) -> Hooks:
        return self

    def __exit__(self, *exc) -> None:
        self.remove_all()

    def add(self, handle):
        self._handles.append(handle)
        return handle

    def remove_all(self) -> None:
        while self._handles:
            self._handles.pop().remove()


@contextlib.contextmanager
def preserved(model: nn.Module) -> Iterator[nn.Module]:
    """Run a method on ``model`` and leave its modes, flags and buffers as found, also on error.

    Restores every module's training flag, every parameter's ``requires_grad`` and every buffer
    (a model left in training mode updates BatchNorm's running statistics on each forward pass;
    an explanation must not). Hooks are the business of :class:`Hooks`, which methods that
    modify backward passes open themselves.
    """
    check_model(model)
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
