"""Metrics averaged over a whole dataset, streamed batch by batch: :func:`mean_over`.

The faithfulness scores of :mod:`xai_lib.metrics` give one value per sample; over a
DataLoader the question is their mean and how sure it is. :func:`mean_over` explains each
batch (:func:`xai_lib.attribute_dataset`'s loop), scores it, and keeps a running mean and
variance (Chan, Golub and LeVeque's pairwise update, in float64), so no map and no score is
kept unless asked for.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .._core import (
    DegenerateMapWarning,
    check_bool,
    check_model,
    get_method,
    resolve_target,
    warn,
)
from ..methods.dataset import (
    check_batches,
    check_dataset_target,
    check_device,
    check_start,
    stream_batches,
)
from .faithfulness import completeness_error, deletion, insertion, mu_fidelity
from .local_faithfulness import infidelity, sensitivity_max

#: metric name -> function(model, x, attribution, target, **options) -> (N,) scores;
#: ``sensitivity_max`` takes the method instead of an attribution (see :func:`mean_over`).
STREAMED_METRICS: dict[str, Callable[..., torch.Tensor]] = {
    "deletion": deletion,
    "insertion": insertion,
    "mu_fidelity": mu_fidelity,
    "completeness_error": completeness_error,
    "infidelity": infidelity,
    "sensitivity_max": sensitivity_max,
}


class DatasetMean(NamedTuple):
    """What :func:`mean_over` returns."""

    mean: float  # mean score over the samples with a defined score
    sem: float  # its standard error: sample standard deviation / sqrt(n) (NaN if n < 2)
    n: int  # samples scored
    undefined: int  # samples whose score was NaN (e.g. a constant map), left out
    scores: (
        torch.Tensor | None
    )  # every sample's score (NaN kept), with return_scores=True


class RunningMean:
    """Mean and variance of a stream of numbers, fed a batch at a time, in float64.

    Batches are merged with the pairwise update of Chan, Golub and LeVeque (1979), stable
    for long streams; NaN values are counted and left out.
    """

    def __init__(self) -> None:
        self.n, self.mean, self.m2, self.undefined = 0, 0.0, 0.0, 0

    def add(self, values: torch.Tensor) -> None:
        values = values.detach().flatten().double().cpu()
        defined = values[~values.isnan()]
        self.undefined += values.numel() - defined.numel()
        k = defined.numel()
        if k == 0:
            return
        batch_mean = defined.mean().item()
        batch_m2 = (defined - batch_mean).square().sum().item()
        total = self.n + k
        delta = batch_mean - self.mean
        self.mean += delta * k / total
        self.m2 += batch_m2 + delta * delta * self.n * k / total
        self.n = total

    @property
    def sem(self) -> float:
        if self.n < 2:
            return math.nan
        return math.sqrt(self.m2 / (self.n - 1) / self.n)


def mean_over(
    batches,
    model,
    metric,
    method,
    *,
    target="predicted",
    device=None,
    progress: bool = True,
    start: int = 0,
    method_options: dict | None = None,
    metric_options: dict | None = None,
    return_scores: bool = False,
) -> DatasetMean:
    """The mean of a per-sample metric of ``method``'s maps over a dataset, and its error.

    ``batches``, ``target``, ``device``, ``progress`` and ``start`` as in
    :func:`xai_lib.attribute_dataset` (a DataLoader or an iterable of ``x`` or ``(x, y)``).
    ``metric``: a name in :data:`STREAMED_METRICS` (``"deletion"``, ``"insertion"``,
    ``"mu_fidelity"``, ``"completeness_error"``, ``"infidelity"``, ``"sensitivity_max"``) or
    a function ``metric(model, x, attribution, target, **metric_options)`` returning one
    score per sample. ``method``: a METHODS name or a function with the common signature,
    called with ``method_options``. With ``target="predicted"`` each batch's argmax is taken
    once and given to both the method and the metric, so both look at the same class.
    ``sensitivity_max`` explains perturbed copies itself: it gets the method and its options
    instead of a map.

    Returns :class:`DatasetMean`: the mean over the samples whose score is defined, its
    standard error (sample standard deviation / sqrt(n)), n, the number of samples left out
    because their score was NaN (with a warning), and with ``return_scores=True`` every
    sample's score in order (else None). The same as concatenating the metric's scores of
    every batch and averaging them.
    """
    explain = get_method(method)
    check_model(model)
    score: Callable[..., torch.Tensor]
    if isinstance(metric, str):
        if metric not in STREAMED_METRICS:
            raise ValueError(
                f"metric must be one of {', '.join(map(repr, STREAMED_METRICS))} or a "
                f"function (model, x, attribution, target) -> scores, got {metric!r}"
            )
        score = STREAMED_METRICS[metric]
    elif callable(metric):
        score = metric
    else:
        raise ValueError(
            f"metric must be a name or a function (model, x, attribution, target) -> "
            f"scores, got {type(metric).__name__}"
        )
    target = check_dataset_target(target)
    check_bool(progress, "progress")
    check_bool(return_scores, "return_scores")
    start = check_start(start)
    check_batches(batches)
    device = check_device(device)
    method_options, metric_options = (
        dict(method_options or {}),
        dict(metric_options or {}),
    )
    name = getattr(score, "__name__", "metric")
    running, kept = RunningMean(), []
    for x, t in stream_batches(
        model, batches, target, device, name if progress else None, start
    ):
        if t is None:  # "predicted": one argmax for the method and the metric
            t = resolve_target(model, x, None)
        if score is sensitivity_max:
            # the method's options go to the method, the metric's to sensitivity_max
            explain_with_options = functools.partial(explain, **method_options)
            scores = sensitivity_max(
                explain_with_options, model, x, t, **metric_options
            )
        else:
            attribution = explain(model, x, t, **method_options)
            scores = score(model, x, attribution, t, **metric_options)
        if not isinstance(scores, torch.Tensor) or scores.shape != (x.shape[0],):
            raise ValueError(
                f"the metric must return one score per sample, shape ({x.shape[0]},), got "
                f"{tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__}"
            )
        running.add(scores)
        if return_scores:
            kept.append(scores.detach().cpu())
    if running.undefined:
        warn(
            f"mean_over: {running.undefined} of {running.n + running.undefined} samples "
            f"scored NaN with {name} and are left out of the mean",
            DegenerateMapWarning,
        )
    return DatasetMean(
        running.mean if running.n else math.nan,
        running.sem,
        running.n,
        running.undefined,
        torch.cat(kept) if return_scores and kept else None,
    )
