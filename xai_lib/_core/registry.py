"""The registry of attribution methods, :data:`METHODS`, and the decorator every method wears.

:func:`attribution_method` registers a function and wraps it in the contract every method
shares, so that no method has to repeat it:

* the model, x and the target are validated, and so are the options: an unknown option is a
  ValueError naming the valid ones, a flag (an option whose default is True or False) must be
  a bool, ``seed`` None or an int in [0, 2**63), ``batch_size`` None or an int >= 1;
* the method runs inside :func:`~xai_lib._core.guard.preserved` (eval mode, flags and buffers
  restored, compiled models run eagerly, inference mode off) on a copy of x, so nothing the
  method or the model does can write the caller's tensors; an inference tensor is accepted;
* methods that run one forward and backward pass over the batch (they do not take
  ``batch_size`` themselves) get one: the samples are cut into chunks by the core's one loop
  :func:`~xai_lib._core.batching.batches` (automatic size by default), so a large batch cannot
  run out of memory, and the result does not depend on the chunking; such a method that
  declares a keyword parameter ``samples`` is told which samples each chunk holds
  (:class:`Samples`), e.g. to cut options given per sample (``xl.lrp``'s ZBox bounds shaped
  like x) to the chunk - ``samples`` is no option of the caller's;
* the result is detached.

Each registered function carries a :class:`MethodInfo` as ``.info``: its family, what it
returns, and whether it takes a ``seed`` or a ``batch_size``, so callers need not probe
signatures::

    xl.METHODS["rise"].info  # MethodInfo(name='rise', family='perturbation', ...)
"""

from __future__ import annotations

import difflib
import functools
import inspect
from dataclasses import dataclass
from typing import Callable

import torch

from .batching import batches
from .guard import preserved
from .targets import as_target_tensor
from .validation import (
    check_batch_size,
    check_bool,
    check_differentiable,
    check_input,
    check_model,
    check_seed,
)

#: The families of methods, in the order the book teaches them.
FAMILIES = ("gradient", "perturbation", "propagation", "relevance")

#: What a method returns: a tensor shaped like x, or one score per pixel (N, 1, H, W).
RETURNS = ("input", "pixels")

_BATCH_SIZE_DOC = """

    ``batch_size`` (given by the registry): at most this many samples per forward pass (None:
    automatic, so a large batch cannot run out of memory); the result does not depend on it.
    """


@dataclass(frozen=True)
class MethodInfo:
    """What a registered method is: ``METHODS[name].info``."""

    name: str
    family: str  # one of FAMILIES
    returns: str  # "input": shaped like x; "pixels": (N, 1, H, W)
    seeded: bool  # takes seed= (same seed, same result)
    batched: bool  # takes batch_size= (result independent of it); true of every method


@dataclass(frozen=True)
class Samples:
    """The samples one chunk of a chunked method holds: ``x[part]`` of the caller's ``total``."""

    part: slice
    total: int

    @property
    def whole(self) -> bool:
        """Whether the chunk is the whole batch."""
        return self.part.start == 0 and self.part.stop == self.total


#: A chunked method with a keyword parameter of this name gets its chunk's :class:`Samples`.
SAMPLES = "samples"


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


def takes_option(fn, option: str) -> bool:
    """Whether ``fn`` (a registered method or any function) names the keyword ``option``.

    A function that only has ``**options`` does not count: it may pass them on to a method
    that does not take them.
    """
    info = getattr(fn, "info", None)
    if info is not None and option in ("seed", "batch_size"):
        return info.seeded if option == "seed" else info.batched
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return option in parameters


def _option_checker(name: str, fn, extra=(), hidden=()) -> Callable[[dict], None]:
    """A function validating a call's options against ``fn``'s keyword parameters, less the
    ``hidden`` ones, which the wrapper passes itself."""
    parameters = [
        p
        for p in list(inspect.signature(fn).parameters.values())[3:]
        if p.name not in hidden
    ]  # after model, x, target
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    known = {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}
    known |= set(extra)
    flags = {p.name for p in parameters if isinstance(p.default, bool)}

    def check(options: dict) -> None:
        unknown = sorted(set(options) - known)
        if unknown and not open_ended:
            close = [
                m for u in unknown for m in difflib.get_close_matches(u, known, n=1)
            ]
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise ValueError(
                f"{name} takes no option {', '.join(map(repr, unknown))}{hint}; its options "
                f"are: {', '.join(sorted(known)) or 'none'}"
            )
        for flag in flags & set(options):
            check_bool(options[flag], flag)
        if "seed" in options:
            check_seed(options["seed"])
        if "batch_size" in options:
            check_batch_size(options["batch_size"])

    return check


def _detached(result):
    if isinstance(result, torch.Tensor):
        return result.detach()
    if isinstance(result, tuple):
        return tuple(_detached(r) for r in result)
    return result


def _concatenated(parts: list):
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], tuple):
        return tuple(_concatenated(list(p)) for p in zip(*parts))
    return torch.cat(parts)


def _with_batch_size(fn, hidden=()) -> inspect.Signature:
    """fn's signature with a keyword-only ``batch_size=None`` before any ``**options``, and
    without the ``hidden`` parameters (those the wrapper passes itself)."""
    signature = inspect.signature(fn)
    parameters = [p for p in signature.parameters.values() if p.name not in hidden]
    position = next(
        (
            i
            for i, p in enumerate(parameters)
            if p.kind is inspect.Parameter.VAR_KEYWORD
        ),
        len(parameters),
    )
    added = inspect.Parameter(
        "batch_size", inspect.Parameter.KEYWORD_ONLY, default=None
    )
    return signature.replace(
        parameters=parameters[:position] + [added] + parameters[position:]
    )


def attribution_method(
    name: str, *, family: str, returns: str = "input", min_dim: int = 2
):
    """Decorator for public methods: registers, validates, guards, chunks and detaches.

    ``family`` is one of :data:`FAMILIES`, ``returns`` one of :data:`RETURNS`; the
    function's signature says whether it is seeded. A function without a ``batch_size``
    parameter runs one pass over the samples it is given; the wrapper gives it a
    ``batch_size`` option and feeds it chunks of samples (see the module's docstring), telling
    it which ones as ``samples=`` (:class:`Samples`) if it has a keyword parameter so named.

    The wrapped function receives ``(model, x, target, **options)``: the eager module in eval
    mode, a private copy of x, and ``target`` already a validated LongTensor (N,) on x's
    device, or None (argmax, to be taken from the model's output, e.g. by
    :func:`select_outputs` or :func:`resolve_target`).
    """

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if returns not in RETURNS:
        raise ValueError(f"returns must be one of {RETURNS}, got {returns!r}")

    def decorate(fn):
        parameters = inspect.signature(fn).parameters
        chunked = "batch_size" not in parameters
        hidden = (SAMPLES,) if chunked and SAMPLES in parameters else ()
        # wrappers (smoothgrad, spectral_lens) leave this check to the method they wrap
        differentiates = family != "perturbation" and "method" not in parameters
        check_options = _option_checker(
            name, fn, ("batch_size",) if chunked else (), hidden
        )

        @functools.wraps(fn)
        def method(model, x, target=None, **options):
            check_model(model)
            check_input(x, min_dim=min_dim)
            batch_size = options.pop("batch_size", None) if chunked else None
            check_batch_size(batch_size)
            check_options(options)
            t = as_target_tensor(target, x.shape[0], x.device)
            if differentiates:
                check_differentiable(model)
            with preserved(model) as module:
                x = (
                    x.detach().clone()
                )  # the method's own copy: the caller's x is never written
                if not chunked:
                    return _detached(fn(module, x, t, **options))
                n, parts = x.shape[0], []
                for chunk in batches(1, n, batch_size, x[0].numel(), x.device, name):
                    samples = Samples(chunk.part, n)
                    xs = x if samples.whole else x[chunk.part]
                    ts = t if samples.whole or t is None else t[chunk.part]
                    told = {SAMPLES: samples} if hidden else {}
                    parts.append(_detached(fn(module, xs, ts, **options, **told)))
                return _concatenated(parts)

        if chunked:
            method.__signature__ = _with_batch_size(fn, hidden)
            method.__doc__ = (fn.__doc__ or "").rstrip() + _BATCH_SIZE_DOC
        method.info = MethodInfo(name, family, returns, "seed" in parameters, True)
        return register(name)(method)

    return decorate
