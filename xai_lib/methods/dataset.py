"""A whole dataset explained in batches: :func:`attribute_dataset`.

What users of every attribution library write by hand - a loop over a DataLoader that moves
each batch to the GPU, picks the target, calls the method and collects the maps - as one
generator that yields one attribution per batch, exactly what calling the method on that
batch gives, with a progress bar and a way to resume a long run (``start``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .._core import check_bool, check_model, get_method
from .._core import progress as progress_bar

#: The targets :func:`attribute_dataset` takes besides a class index.
DATASET_TARGETS = ("predicted", "label")


def split_batch(batch, index: int = 0) -> tuple[torch.Tensor, object]:
    """A batch as a DataLoader gives it -> (x, its second item or None).

    ``x`` alone (a tensor), or a tuple/list whose first item is x and second (if any) the
    labels y, as the loader gives them (turned into a tensor only where labels are needed,
    by :func:`batch_target`); further items (masks, ids, paths, ...) are ignored. ``index``
    numbers the batch in error messages.
    """
    if isinstance(batch, torch.Tensor):
        return batch, None
    if (
        isinstance(batch, (tuple, list))
        and batch
        and isinstance(batch[0], torch.Tensor)
    ):
        return batch[0], batch[1] if len(batch) > 1 else None
    raise ValueError(
        f"batch {index} must be a tensor x or a tuple (x, y, ...) starting with a tensor, got "
        f"{type(batch).__name__}"
    )


def check_dataset_target(target):
    """'predicted', 'label' or a class index (int >= 0) -> itself, or a ValueError."""
    if isinstance(target, str):
        if target not in DATASET_TARGETS:
            raise ValueError(
                f"target must be 'predicted', 'label' or a class index, got {target!r}"
            )
        return target
    if isinstance(target, bool) or not isinstance(target, int) or target < 0:
        raise ValueError(
            f"target must be 'predicted', 'label' or a class index >= 0, got {target!r}"
        )
    return target


def batch_target(target, y, index: int):
    """The method's target for one batch: None (the model's argmax), the labels, or the int."""
    if target == "predicted":
        return None
    if target == "label":
        if y is None:
            raise ValueError(
                f"target='label' needs (x, y) batches, but batch {index} holds x only"
            )
        if isinstance(y, torch.Tensor):
            return y
        try:
            return torch.as_tensor(y)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"target='label' takes the second item of each batch as the class labels, "
                f"but that of batch {index} ({type(y).__name__}) is not a sequence of "
                f"class indices: {error}"
            ) from None
    return target


def check_start(start) -> int:
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValueError(
            f"start must be an integer >= 0 (batches to skip), got {start!r}"
        )
    return start


@contextmanager
def on_device(model: nn.Module, device):
    """Run with the model's parameters and buffers on ``device`` (None: where they are).

    Afterwards (also on error, or when a generator using it is closed) every parameter and
    buffer goes back to the device it was on, so a model spread over several devices is
    restored as it was.
    """
    if device is None:
        yield None
        return
    device = torch.device(device)
    tensors = [*model.parameters(), *model.buffers()]
    placement = [t.device for t in tensors]
    if all(_same_device(d, device) for d in placement):
        yield device
        return
    try:
        model.to(device)  # inside: a move that fails half-way is undone too
        yield device
    finally:
        places = set(placement)
        if len(places) == 1:
            model.to(places.pop())
        else:
            with torch.no_grad():
                for tensor, place in zip(
                    [*model.parameters(), *model.buffers()], placement
                ):
                    tensor.data = tensor.data.to(place)
                    if tensor.grad is not None:
                        tensor.grad.data = tensor.grad.data.to(place)


def _same_device(a: torch.device, b: torch.device) -> bool:
    """cuda and cuda:0 are the same device when the current device is 0."""
    if a.type != b.type:
        return False
    if a.type != "cuda" or a.index == b.index:
        return True
    current = torch.cuda.current_device()
    return (a.index if a.index is not None else current) == (
        b.index if b.index is not None else current
    )


def _length(batches) -> int | None:
    try:
        return len(batches)
    except TypeError:
        return None


def attribute_dataset(
    method,
    model: nn.Module,
    batches: Iterable,
    *,
    target="predicted",
    device=None,
    progress: bool = True,
    start: int = 0,
    **options,
) -> Iterator[torch.Tensor]:
    """Explain a whole dataset batch by batch: yields ``method(model, x, target, **options)``.

    ``method``: a name in ``xl.METHODS`` or a function with the common signature.
    ``batches``: a ``torch.utils.data.DataLoader`` or any iterable of batches ``x`` or
    ``(x, y, ...)`` (further items are ignored). ``target``: ``"predicted"`` (the model's
    argmax on each sample), ``"label"`` (the batch's y) or one class index for every sample.
    ``device``: None keeps each batch and the model where they are and yields each map on its
    batch's device; a device moves the model there for the run (and back to where its
    parameters and buffers were afterwards, also on error or when the generator is closed)
    and each batch there, and the maps are on ``device``. ``progress``: a bar over the
    batches (it appears after 2 s; off in the book build). ``start``: skip the first
    ``start`` batches, to resume an interrupted run (the skipped batches are still read
    from ``batches``, not explained; a shuffling loader must then draw the same order, e.g.
    from a seeded generator). ``options`` go to the method on every batch (a ``seed`` gives
    every batch the same noise draws, as calling the method batch by batch does).

    Each map equals what ``method`` returns on that batch alone. It is a generator: nothing
    runs until it is iterated (its own arguments are checked at once; the method's options,
    and whether ``device`` is available, when the first batch runs), and the model is on
    ``device`` from the first batch until the iteration ends or the generator is closed
    (``list(...)`` or ``torch.cat(list(...))`` collects every map).

        for a in xl.attribute_dataset("integrated_gradients", model, loader, device="cuda"):
            ...
    """
    explain = get_method(method)
    check_model(model)
    target = check_dataset_target(target)
    check_bool(progress, "progress")
    start = check_start(start)
    check_batches(batches)
    device = check_device(device)  # a bad name fails here, before any work
    return _attribute_dataset(
        explain, model, batches, target, device, progress, start, options
    )


def _attribute_dataset(explain, model, batches, target, device, show, start, options):
    name = getattr(explain, "__name__", "method") if show else None
    for x, t in stream_batches(model, batches, target, device, name, start):
        yield explain(model, x, t, **options)


def check_device(device) -> torch.device | None:
    """None, or a device name or torch.device that torch knows -> torch.device."""
    if device is None:
        return None
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must be None, a device name such as 'cuda' or a torch.device, got "
            f"{device!r} ({str(error).splitlines()[0]})"
        ) from None


def check_batches(batches) -> Iterable:
    if isinstance(batches, (torch.Tensor, str, bytes)) or not isinstance(
        batches, Iterable
    ):
        raise ValueError(
            "batches must be an iterable of batches (a DataLoader, a list of tensors or of "
            f"(x, y) pairs), got {type(batches).__name__}"
        )
    return batches


def stream_batches(
    model: nn.Module,
    batches: Iterable,
    target,
    device,
    desc: str | None,
    start: int = 0,
) -> Iterator[tuple[torch.Tensor, object]]:
    """(x, the method's target) for each batch from ``start`` on, x on ``device`` if given.

    The loop of :func:`attribute_dataset` and of the streamed metrics
    (:func:`xai_lib.metrics.mean_over`): the model is on ``device`` while it runs (restored
    afterwards), a bar named ``desc`` counts the batches (None: no bar), and the target is
    None for ``"predicted"``, the labels (on x's device) for ``"label"``, else the int.
    """
    total = _length(batches)
    remaining = None if total is None else max(0, total - start)
    with on_device(model, device):
        loop = itertools.islice(enumerate(batches), start, None)
        for index, batch in progress_bar(loop, remaining, desc):
            x, y = split_batch(batch, index)
            t = batch_target(target, y, index)
            if device is not None:
                x = x.to(device, non_blocking=True)
            if isinstance(t, torch.Tensor):
                t = t.to(x.device, non_blocking=True)
            yield x, t
