"""Leaving the model as it was found: the state guard, hook handles, submodules by name.

* :func:`preserved`: the one guard every public entry point runs the model in. It explains a
  model in eval mode (the library's policy for a model left in training mode, announced once
  per process by a :class:`TrainingModeWarning`), runs outside ``torch.inference_mode``, runs
  ``torch.compile``d models eagerly, and restores training flags, ``requires_grad`` and
  buffers afterwards, also on error or Ctrl-C;
* :class:`Hooks`: a context manager that removes every hook it handed out;
* :func:`find_module`: a submodule given as itself or by its dotted name.
"""

from __future__ import annotations

import contextlib
import difflib
import sys
from collections.abc import Iterator

import torch
from torch import nn

from .alerts import TrainingModeWarning, warn
from .validation import check_model

#: The policy for a model in training mode, as its one-time warning states it.
TRAINING_MODE_POLICY = (
    "the model is in training mode and has layers that act differently there ({layers}); "
    "xai_lib explains, measures and predicts in eval mode (Dropout off, BatchNorm with its "
    "running statistics), so results depend neither on the batch nor on chance: the model is "
    "switched to eval() for each call and its training flags are restored afterwards. Call "
    "model.eval() to silence this warning (shown once per process)."
)


def _acts_differently_in_training(module: nn.Module) -> bool:
    """Dropout with p > 0, norms with running statistics, recurrent/attention dropout."""
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return module.p > 0
    if isinstance(module, nn.modules.batchnorm._NormBase):
        # without running statistics a norm uses the batch's in either mode
        return module.track_running_stats
    if isinstance(module, (nn.RNNBase, nn.MultiheadAttention)):
        return module.dropout > 0
    return False


_WARNED = {"training_mode": False}


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


def _compiled_module_type():
    """torch.compile's wrapper class, if torch.compile was ever imported (else none exists)."""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")
    return getattr(eval_frame, "OptimizedModule", None)


@contextlib.contextmanager
def eager(model: nn.Module) -> Iterator[nn.Module]:
    """The model with every ``torch.compile`` undone for the duration: yields the eager module.

    A compiled graph is traced once, without the hooks and function modes a method adds
    later, and would then answer in place of the method (Guided Backprop returning plain
    saliency). ``torch.compile(model)`` is unwrapped to the original module; compiled
    submodules are swapped for their originals in their parents and ``module.compile()`` is
    switched off, all restored on exit. The result is exact; it runs at eager speed.
    """
    compiled = _compiled_module_type()
    top = model
    while compiled is not None and isinstance(top, compiled):
        top = top._orig_mod
    swapped, calls = [], []  # (parent, name, wrapper), (module, compiled call)
    try:
        stack, seen = [top], set()
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            if getattr(module, "_compiled_call_impl", None) is not None:
                calls.append((module, module._compiled_call_impl))
                module._compiled_call_impl = None
            for name, child in list(module._modules.items()):
                inner = child
                while compiled is not None and isinstance(inner, compiled):
                    inner = inner._orig_mod
                if inner is not child:
                    swapped.append((module, name, child))
                    module._modules[name] = inner
                if inner is not None:
                    stack.append(inner)
        yield top
    finally:
        for parent, name, wrapper in reversed(swapped):
            parent._modules[name] = wrapper
        for module, call in calls:
            module._compiled_call_impl = call


def _warn_training_mode(model: nn.Module) -> None:
    """The policy's warning, once per process, when training mode would have changed results."""
    sensitive = sorted(
        {
            type(m).__name__
            for m in model.modules()
            if m.training and _acts_differently_in_training(m)
        }
    )
    if sensitive:
        _WARNED["training_mode"] = True
        warn(
            TRAINING_MODE_POLICY.format(layers=", ".join(sensitive)),
            TrainingModeWarning,
        )


@contextlib.contextmanager
def preserved(model: nn.Module, *, warn_training: bool = True) -> Iterator[nn.Module]:
    """Run a method on ``model`` and leave it as found, also on error; yields the module to run.

    Inside: the model (its eager original, see :func:`eager`) is in eval mode - the policy for
    a model left in training mode, stated once per process by a :class:`TrainingModeWarning`
    when the model has layers that act differently in training (Dropout, BatchNorm, ...;
    ``warn_training=False``: for callers whose own contract is eval mode, e.g. accuracy) - and
    ``torch.inference_mode`` is off, so gradients can be taken even when the caller runs under
    it. On exit every module's training flag, every parameter's ``requires_grad`` and every
    buffer are restored (a model may write its buffers in forward). Hooks are the business of
    :class:`Hooks`, which methods that modify backward passes open themselves.
    """
    check_model(model)
    with torch.inference_mode(False):
        modes = [(m, m.training) for m in model.modules()]
        flags = [(p, p.requires_grad) for p in model.parameters()]
        buffers = [(b, b.detach().clone()) for b in model.buffers()]
        try:
            with eager(model) as module:
                if any(mode for _, mode in modes):
                    if warn_training and not _WARNED["training_mode"]:
                        _warn_training_mode(model)
                    module.eval()
                yield module
        finally:
            for m, mode in modes:
                m.training = mode
            for p, flag in flags:
                if p.requires_grad != flag:
                    p.requires_grad_(flag)
            with torch.no_grad():
                for b, saved in buffers:
                    if b.shape == saved.shape and torch.equal(b, saved):
                        continue
                    if b.is_inference():
                        with torch.inference_mode():
                            b.copy_(saved)
                    else:
                        b.copy_(saved)
