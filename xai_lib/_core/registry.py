"""The registry of attribution methods, :data:`METHODS`, and the decorator every method wears.

:func:`attribution_method` registers a function, validates the model, x and the target, and
runs the method inside :func:`~xai_lib._core.guard.preserved`.
"""

from __future__ import annotations

import functools
from typing import Callable

import torch

from .guard import preserved
from .targets import as_target_tensor
from .validation import check_input, check_model

#: name -> attribution function; every method of the book, one signature.
METHODS: dict[str, Callable[..., torch.Tensor]] = {}


def register(name: str):
    """Decorator: put an attribution function into :data:`METHODS` under ``name``."""

    def decorate(fn):
        if name in METHODS:
            raise ValueError(
                f"an attribution method named {name!r} is already registered"
            )
        METHODS[name] = fn
        return fn

    return decorate


def get_method(method) -> Callable[..., torch.Tensor]:
    """A METHODS name or a callable with the common signature -> the callable."""
    if callable(method):
        return method
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]
    raise ValueError(
        f"unknown method {method!r}; known methods: {', '.join(sorted(METHODS))}"
    )


def attribution_method(name: str, min_dim: int = 2):
    """Decorator for public methods: registers, validates model and x, and guards the model.

    The wrapped function receives ``(model, x, target, **options)`` where ``target`` is already
    a validated LongTensor (N,) on x's device, or None (argmax, to be taken from the model's
    output, e.g. by :func:`select_outputs` or :func:`resolve_target`).
    """

    def decorate(fn):
        @functools.wraps(fn)
        def method(model, x, target=None, **options):
            check_model(model)
            check_input(x, min_dim=min_dim)
            t = as_target_tensor(target, x.shape[0], x.device)
            with preserved(model):
                return fn(model, x, t, **options)

        return register(name)(method)

    return decorate
