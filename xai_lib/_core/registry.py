"""The registry of attribution methods, :data:`METHODS`, and the decorator every method wears.

:func:`attribution_method` registers a function, validates the model, x and the target, and
runs the method inside :func:`~xai_lib._core.guard.preserved`. Each registered function
carries a :class:`MethodInfo` as ``.info``: its family, what it returns, and whether it
takes a ``seed`` or a ``batch_size``, so callers need not probe signatures::

    xl.METHODS["rise"].info  # MethodInfo(name='rise', family='perturbation', ...)
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Callable

import torch

from .guard import preserved
from .targets import as_target_tensor
from .validation import check_input, check_model

#: The families of methods, in the order the book teaches them.
FAMILIES = ("gradient", "perturbation", "propagation", "relevance")

#: What a method returns: a tensor shaped like x, or one score per pixel (N, 1, H, W).
RETURNS = ("input", "pixels")


@dataclass(frozen=True)
class MethodInfo:
    """What a registered method is: ``METHODS[name].info``."""

    name: str
    family: str  # one of FAMILIES
    returns: str  # "input": shaped like x; "pixels": (N, 1, H, W)
    seeded: bool  # takes seed= (same seed, same result)
    batched: bool  # takes batch_size= (result independent of it)


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


def attribution_method(
    name: str, *, family: str, returns: str = "input", min_dim: int = 2
):
    """Decorator for public methods: registers, validates model and x, and guards the model.

    ``family`` is one of :data:`FAMILIES`, ``returns`` one of :data:`RETURNS`; the
    function's signature says whether it is seeded and batched (:class:`MethodInfo`).

    The wrapped function receives ``(model, x, target, **options)`` where ``target`` is already
    a validated LongTensor (N,) on x's device, or None (argmax, to be taken from the model's
    output, e.g. by :func:`select_outputs` or :func:`resolve_target`).
    """

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if returns not in RETURNS:
        raise ValueError(f"returns must be one of {RETURNS}, got {returns!r}")

    def decorate(fn):
        @functools.wraps(fn)
        def method(model, x, target=None, **options):
            check_model(model)
            check_input(x, min_dim=min_dim)
            t = as_target_tensor(target, x.shape[0], x.device)
            with preserved(model):
                return fn(model, x, t, **options)

        parameters = inspect.signature(fn).parameters
        method.info = MethodInfo(  # type: ignore[attr-defined]
            name, family, returns, "seed" in parameters, "batch_size" in parameters
        )
        return register(name)(method)

    return decorate
