"""The core every attribution method stands on: validation, targets, batching, guards.

Nothing here knows about any particular method. Every public method in `xai_lib`

* validates its input with :func:`check_input` and its options with :func:`check_positive_int`
  and friends, so a bad call fails with a `ValueError` that names the problem;
* turns the user's ``target`` into one class index per sample (:func:`resolve_target`,
  :func:`select_outputs`);
* runs inside :func:`preserved`, which restores training mode and ``requires_grad`` flags and
  removes every hook it handed out, also when the method raises;
* chunks work through :func:`chunks` / :func:`auto_batch_size`, so a default call never runs
  out of memory and the result does not depend on the chunk size;
* registers itself in :data:`METHODS` via :func:`register`.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import os
from collections.abc import Iterator, Sequence
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

#: name -> attribution function; every method of the book, one signature.
METHODS: dict[str, Callable[..., torch.Tensor]] = {}

#: Elements (input numbers) processed per forward pass when ``batch_size=None``, by device type.
#: On a CPU, chunks whose activations stay near the caches are faster than one huge batch
#: (occlusion and RISE ran 2.2-2.5x faster in chunks of 128 than of 1365 32x32 images): 2**19
#: elements is about 170 images of 3x32x32, or 3 of 3x224x224. A GPU wants large batches.
AUTO_BATCH_ELEMENTS = {"cpu": 2**19, "cuda": 2**22}

TargetLike = "None | int | Sequence[int] | torch.Tensor"


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


# --------------------------------------------------------------------------- validation


def check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_input(x, name: str = "x", min_dim: int = 2) -> torch.Tensor:
    """A batch-first float tensor with finite values, or a ValueError saying what is wrong."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() < min_dim:
        raise ValueError(
            f"{name} must be batch first with at least {min_dim} dimensions "
            f"(e.g. (N, D) or (N, C, H, W)), got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)})")
    # a finite sum proves every value finite (NaN and inf propagate) at a fraction of the cost
    if not torch.isfinite(x.sum()) and not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_image_batch(x, name: str = "x") -> torch.Tensor:
    """Like :func:`check_input`, for methods that need (N, C, H, W) images."""
    check_input(x, name)
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be an image batch (N, C, H, W), got shape {tuple(x.shape)}"
        )
    return x


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_batch_size(batch_size) -> int | None:
    return None if batch_size is None else check_positive_int(batch_size, "batch_size")


def check_nonnegative(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        )
    return value


def broadcast_baseline(
    baseline, x: torch.Tensor, name: str = "baseline"
) -> torch.Tensor:
    """None (zeros), a number, or a tensor broadcastable to x -> a tensor shaped like x."""
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        if not math.isfinite(baseline):
            raise ValueError(f"{name} must be finite, got {baseline!r}")
        return torch.full_like(x, float(baseline))
    if not isinstance(baseline, torch.Tensor):
        raise ValueError(
            f"{name} must be None, a number or a tensor, got {type(baseline).__name__}"
        )
    if not baseline.is_floating_point() or not torch.isfinite(baseline).all():
        raise ValueError(f"{name} must be a finite floating-point tensor")
    try:
        return baseline.to(device=x.device, dtype=x.dtype).expand_as(x)
    except RuntimeError:
        raise ValueError(
            f"{name} of shape {tuple(baseline.shape)} does not broadcast to x of shape {tuple(x.shape)}"
        ) from None


# --------------------------------------------------------------------------- targets


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
        return torch.cat(
            [
                model(chunk)
                for chunk in x.split(
                    batch_size or auto_batch_size(x[0].numel(), x.device)
                )
            ]
        )


# --------------------------------------------------------------------------- gradients


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


# --------------------------------------------------------------------------- batching


def auto_batch_size(sample_numel: int, device="cpu") -> int:
    """How many samples of ``sample_numel`` elements go in one forward pass on ``device`` by default."""
    budget = AUTO_BATCH_ELEMENTS.get(
        torch.device(device).type, AUTO_BATCH_ELEMENTS["cuda"]
    )
    return max(1, budget // max(1, sample_numel))


def chunks(
    total: int, batch_size: int | None, sample_numel: int, device="cpu"
) -> Iterator[slice]:
    """Slices that cover range(total) in pieces of at most batch_size (None: automatic for device)."""
    size = batch_size or auto_batch_size(sample_numel, device)
    for start in range(0, total, size):
        yield slice(start, min(start + size, total))


#: Set to "1" in the book build's process by the Sphinx extension in xai_lib.widgets; the kernels
#: the build starts inherit it.
BOOK_BUILD_ENV = "XAI_LIB_BOOK_BUILD"


def in_book_build() -> bool:
    """True inside a kernel started by ``jupyter-book build`` (see :data:`BOOK_BUILD_ENV`)."""
    return os.environ.get(BOOK_BUILD_ENV, "") not in ("", "0")


def progress(iterable, total: int, desc: str):
    """A tqdm bar over a loop that may be long; it appears only once the loop has run 2 s.

    Off in the book build: in a notebook the bar is an ipywidget, dead in the static page.
    """
    return tqdm(
        iterable, total=total, desc=desc, delay=2, leave=False, disable=in_book_build()
    )


class NoiseDraws:
    """Standard normal draws shaped like x (N, *F), produced in order: ``draws(d)`` is draw d.

    Copy q of a flattened noisy batch is sample q % N under draw q // N. Each draw is one randn
    call of x's shape, so the noise a copy gets does not depend on how the copies are chunked.
    """

    def __init__(self, x: torch.Tensor, seed: int | None) -> None:
        self._x = x
        self._generator = (
            None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
        )
        self._index, self._noise = -1, None

    def __call__(self, d: int) -> torch.Tensor:
        if d < self._index:
            raise RuntimeError("noise draws must be requested in increasing order")
        while self._index < d:
            self._noise = torch.randn(
                self._x.shape,
                generator=self._generator,
                device=self._x.device,
                dtype=self._x.dtype,
            )
            self._index += 1
        return self._noise

    def rows(self, part: slice) -> torch.Tensor:
        """The noise of copies part.start .. part.stop - 1: (Q, *F)."""
        n = self._x.shape[0]
        return torch.cat(
            [
                self(d)[max(part.start - d * n, 0) : min(part.stop - d * n, n)]
                for d in range(part.start // n, (part.stop - 1) // n + 1)
            ]
        )


# --------------------------------------------------------------------------- guards


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
