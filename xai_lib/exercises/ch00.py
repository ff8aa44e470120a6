"""Checkers for chapter 0, the preface: Gradient x Input of a linear model, by hand.

The example every chapter module follows: one ``check_*`` per exercise, decorated with
:func:`~xai_lib.exercises.checker`, comparing the student's function with a reference built from
the library's own methods on a few random cases.
"""

from __future__ import annotations

import torch
from torch import nn

from ..methods.gradients import gradient_x_input, integrated_gradients, saliency
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded


def _linear_case(generator: torch.Generator) -> tuple[nn.Module, torch.Tensor]:
    """A random nn.Linear(D, 1) with bias and a batch of N inputs, float64."""
    n, d = (int(v) for v in torch.randint(2, 7, (2,), generator=generator))
    model = nn.Linear(d, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, d, generator=generator, dtype=torch.float64))
        model.bias.copy_(torch.randn(1, generator=generator, dtype=torch.float64))
    return model, torch.randn(n, d, generator=generator, dtype=torch.float64)


def _float32_case() -> Case:
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]]))
        model.bias.fill_(4.0)
    return Case(
        model,
        torch.tensor([[1.0, 3.0, -2.0]]),
        label="a float32 model and input (3 features, bias 4)",
    )


def _reference(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return gradient_x_input(model, x, target=0)


@checker
def check_linear_contributions(linear_contributions) -> Feedback:
    """``linear_contributions(model, x)``: each feature's share w_i x_i of f(x) = w.x + b,
    for an ``nn.Linear(D, 1)`` and a batch x of shape (N, D); the result shaped like x."""
    cases = random_cases(_linear_case, seeds=(0, 1, 2)) + [_float32_case()]
    return check_function(
        linear_contributions,
        _reference,
        cases,
        name="linear_contributions",
        forbid=(gradient_x_input, saliency, integrated_gradients),
        hint="model.weight has shape (1, D); multiply its row by x (broadcasting over the "
        "batch) and leave the bias out: it belongs to no feature.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch00-linear-contributions": Coded(
        check_linear_contributions,
        "linear_contributions",
        points=2,
        written=1,
        rubric="- 1 point: the bias belongs to no feature: it is left out, so the shares "
        "add up to f(x) - b",
    ),
}
