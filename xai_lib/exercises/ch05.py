"""Checkers for chapter 5, Integrated Gradients: the path integral as a midpoint Riemann sum, by hand.

The reference is :func:`xai_lib.integrated_gradients` with ``rule="midpoint"``; the cases are
small float64 ReLU networks (with biases, so Integrated Gradients differs from Gradient x Input),
random baselines and a few step counts, on feature vectors and on tiny images.
"""

from __future__ import annotations

import torch
from torch import nn

from ..methods.gradients import integrated_gradients
from .cases import Case, random_cases, random_parameters
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _vector_case(generator: torch.Generator) -> tuple:
    """A ReLU MLP (D -> 8 -> 8 -> 3) with biases, N inputs, a random baseline, target and steps."""
    n, d = (int(v) for v in torch.randint(2, 6, (2,), generator=generator))
    model = random_parameters(
        nn.Sequential(
            nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)
        ),
        generator,
    )
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    baseline = torch.randn(n, d, generator=generator, dtype=torch.float64) / 4
    target = torch.randint(0, 3, (n,), generator=generator)
    steps = int(torch.randint(2, 9, (1,), generator=generator))
    return model, x, target, baseline, steps


def _image_case() -> Case:
    generator = torch.Generator().manual_seed(5)
    model = random_parameters(
        nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 3 * 3, 2),
        ),
        generator,
    )
    x = torch.rand(2, 2, 6, 6, generator=generator, dtype=torch.float64)
    return Case(
        model,
        x,
        torch.tensor([0, 1]),
        torch.zeros_like(x),
        16,
        label="a small CNN on two 2x6x6 images, zero baseline, 16 steps",
    )


def _one_step_case() -> Case:
    generator = torch.Generator().manual_seed(7)
    model, x, target, baseline, _ = _vector_case(generator)
    return Case(
        model,
        x,
        target,
        baseline,
        1,
        label="steps=1: the gradient at the path's midpoint only",
    )


def _reference(model, x, target, baseline, steps):
    return integrated_gradients(
        model, x, target, baseline=baseline, steps=steps, rule="midpoint"
    )


@checker
def check_integrated_gradients(my_integrated_gradients) -> Feedback:
    """``my_integrated_gradients(model, x, target, baseline, steps)``: Integrated Gradients of
    ``model(x)[i, target[i]]`` from ``baseline`` (shaped like x) to x, with the midpoint rule's
    ``steps`` nodes alpha_k = (k + 1/2) / steps; the result shaped like x."""
    cases = random_cases(_vector_case, seeds=(0, 1, 2)) + [
        _one_step_case(),
        _image_case(),
    ]
    return check_function(
        my_integrated_gradients,
        _reference,
        cases,
        name="my_integrated_gradients",
        forbid=(integrated_gradients,),
        rtol=1e-6,
        atol=1e-9,
        hint="evaluate the gradient at baseline + alpha_k (x - baseline) for the cell midpoints "
        "alpha_k = (k + 1/2) / steps, k = 0 .. steps - 1 (not the right ends k / steps), average "
        "those gradients, and multiply the average by (x - baseline).",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch05-integrated-gradients": Coded(
        check_integrated_gradients, "my_integrated_gradients", points=3
    ),
    "ch05-midpoint-kink": Written(
        3,
        "- 1 point: IG(3; 0) = 3 · 1/3 = 1 = f(3) - f(0) (the gradient is 1 for α < 1/3, "
        "then 0)\n"
        "- 1 point: the midpoint rule gives 3⌈m/3 - 1/2⌉/m, exact for m a multiple of 3 "
        "(the kink falls on a cell edge)\n"
        "- 1 point: otherwise 3j/(3j + 1) or 3(j + 1)/(3j + 2): the error is exactly 1/m",
    ),
    "ch05-degree-k": Written(
        2,
        "- 1 point: t ∇f(tx) = t^k ∇f(x) gives ∇f(αx) = α^(k-1) ∇f(x), and integrating "
        "α^(k-1) gives IG = x ⊙ ∇f(x) / k\n"
        "- 1 point: for x_1 x_2 at (a, b) Gradient x Input (ab, ab) sums to 2 f(x), IG "
        "(ab/2, ab/2) to f(x) - f(0): only IG is complete",
    ),
    "ch05-blind-baseline": Written(
        2,
        "- 1 point: every attribution carries the factor x_i - x'_i: black pixels get 0 "
        "under the black baseline, the background under the 'background only' baseline\n"
        "- 1 point: yes: a baseline that agrees with the input on pixel i zeroes it however "
        "much the network relies on it (sensitivity speaks only of features that differ)",
    ),
}
