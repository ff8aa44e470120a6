"""The cases a checker runs a student's function on, and the helpers that build them.

* :func:`describe`: a short description of an input or answer ('tensor (4, 3) float64'), used
  in the labels of cases and in the messages of :mod:`.checks`.
* :class:`Case`: one call of the function under test, its arguments and a label for messages;
  :func:`random_cases`: one case per seed, drawn by a function of a seeded generator.
* :func:`random_parameters`: a model in float64 and eval mode with seeded parameters, so a
  case is the same on every machine.
* :func:`occlude_features`: the reference for feature-occlusion exercises, ``xl.occlusion``
  with one-pixel windows on a model of vectors (Zeiler and Fergus, ECCV 2014).

:func:`~xai_lib.exercises.checks.check_function` calls the student's function and the
reference on these cases.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, Callable, TypeVar

import numpy as np
import torch
from torch import nn

from ..methods.perturbation import occlusion


def describe(value: Any) -> str:
    """A short description of an input or answer: 'tensor (4, 3) float64', 'Linear', '0.5'."""
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)} {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, nn.Module):
        return type(value).__name__
    if value is None or value is Ellipsis or isinstance(value, (numbers.Number, str)):
        return repr(value)
    return type(value).__name__


class Case:
    """One call of the function under test: its arguments and a label used in messages."""

    def __init__(self, *args, label: str | None = None, **kwargs):
        self.args = args
        self.kwargs = kwargs
        inputs = [describe(a) for a in args] + [
            f"{k}={describe(v)}" for k, v in kwargs.items()
        ]
        self.label = label or "inputs " + ", ".join(inputs)


def random_cases(
    make: Callable[[torch.Generator], tuple], seeds: Iterable[int] = (0, 1, 2)
) -> list[Case]:
    """``make(generator)`` returns the arguments of one call; one :class:`Case` per seed."""
    cases = []
    for seed in seeds:
        args = make(torch.Generator().manual_seed(seed))
        args = args if isinstance(args, tuple) else (args,)
        cases.append(
            Case(
                *args,
                label=f"random case (seed {seed}): "
                + ", ".join(describe(a) for a in args),
            )
        )
    return cases


_Model = TypeVar("_Model", bound=nn.Module)


def random_parameters(model: _Model, generator: torch.Generator) -> _Model:
    """``model`` in float64 and eval mode with every parameter drawn from the seeded generator
    (scaled by 1/2), so a checker's case is the same on every machine."""
    model = model.double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(
                torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
                / 2
            )
    return model.eval()


class _FeaturesAsImage(nn.Module):
    """A model of vectors (N, D), called on the same features laid out as images (N, 1, 1, D)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1))  # (N, 1, 1, D) -> (N, D)


def occlude_features(
    model: nn.Module,
    x: torch.Tensor,
    target,
    *,
    value: float = 0.0,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """The reference for feature-occlusion exercises: f_target(x) - f_target(x with feature i
    replaced by ``value``, or by ``baseline[i]``) for a model of vectors, via xl.occlusion with
    one-pixel windows on the features laid out as a row; (N, D) -> (N, D)."""
    n, d = x.shape
    if baseline is not None:
        baseline = baseline.reshape(-1, 1, 1, d)  # (D,) or (N, D) -> (1 or N, 1, 1, D)
    scores = occlusion(
        _FeaturesAsImage(model),
        x.reshape(n, 1, 1, d),
        target,
        patch=1,
        value=value,
        baseline=baseline,
    )
    return scores.reshape(n, d)  # (N, 1, 1, D) -> (N, D)
