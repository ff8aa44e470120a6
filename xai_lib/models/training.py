"""The one training loop of the library, and accuracy.

:func:`fit` trains a classifier with AdamW on a fixed, seeded batch order; the zoo's
recipes (:mod:`xai_lib.models.zoo.train`) and the book's small models (the GAM and the bag
of local features of chapter 2) all go through it. :func:`accuracy` measures a model on
held-out data through the library's chunked prediction.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .._core import (
    check_input,
    check_model,
    check_nonnegative,
    check_positive_int,
    in_book_build,
    predict,
    preserved,
)

SCHEDULES = ("constant", "one_cycle")


def _check_labels(y, n: int) -> torch.Tensor:
    if (
        not isinstance(y, torch.Tensor)
        or y.dim() != 1
        or y.shape[0] != n
        or y.is_floating_point()
    ):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"y must be integer labels of shape ({n},), got {shape}")
    return y


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 5,
    lr: float = 3e-3,
    batch_size: int = 64,
    weight_decay: float = 1e-4,
    seed: int = 0,
    schedule: str = "constant",
    progress: bool | None = None,
    desc: str = "training",
) -> list:
    """Train ``model`` on (x, y) with AdamW; returns the mean training loss per epoch.

    A model with one output is trained with the logistic loss on labels 0/1 (its output is
    the log-odds of class 1), one with K outputs with softmax cross-entropy. Only
    parameters that require grad are trained. ``schedule="one_cycle"`` anneals the
    learning rate with torch's OneCycleLR (peak ``lr``); ``"constant"`` keeps it. The
    batch order comes from ``seed``, so the same call on the same model gives the same
    weights (with the same number of threads). ``progress=None`` shows a bar outside the
    book build. Leaves the model in eval mode.
    """
    check_model(model)
    check_input(x)
    _check_labels(y, x.shape[0])
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    check_nonnegative(weight_decay, "weight_decay")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(y) / batch_size)
    scheduler = (
        torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch
        )
        if schedule == "one_cycle"
        else None
    )
    order = torch.Generator().manual_seed(seed)
    show = not in_book_build() if progress is None else progress
    losses = []
    with tqdm(
        total=epochs * steps_per_epoch, desc=desc, disable=not show, leave=False
    ) as bar:
        for _ in range(epochs):
            model.train()
            total = 0.0
            for batch in torch.randperm(len(y), generator=order).split(batch_size):
                out = model(x[batch])  # (B, K)
                if out.shape[1] == 1:
                    target = y[batch].to(out.dtype)
                    loss = F.binary_cross_entropy_with_logits(out[:, 0], target)
                else:
                    loss = F.cross_entropy(out, y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.item() * len(batch)
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            losses.append(total / len(y))
    model.eval()
    return losses


def accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int | None = None
) -> float:
    """The fraction of samples whose argmax output is the label, in eval mode.

    The model is left as it was found (training flags included).
    """
    check_model(model)
    check_input(x)
    _check_labels(y, x.shape[0])
    with preserved(model, warn_training=False) as model:
        predicted = predict(model, x, batch_size).argmax(1)
    return (predicted == y.to(predicted.device)).double().mean().item()
