"""Checkers for chapter 1, explanations and linear models: roots and first-order Taylor terms.

* :func:`check_nearest_root`: the root of a linear model closest to each input.
* :func:`check_taylor_terms`: (x - root) times the gradient at the root, written with autograd;
  the reference is the library's saliency taken at the root.
"""

from __future__ import annotations

import torch
from torch import nn

from .._core.targets import gradient
from ..methods.gradients import gradient_x_input, saliency
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _linear_case(generator: torch.Generator) -> tuple[nn.Module, torch.Tensor]:
    """A random nn.Linear(D, 1) with a bias and a batch of N inputs, float64."""
    n, d = (int(v) for v in torch.randint(2, 7, (2,), generator=generator))
    model = nn.Linear(d, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, d, generator=generator, dtype=torch.float64))
        model.bias.copy_(2 * torch.randn(1, generator=generator, dtype=torch.float64))
    return model, torch.randn(n, d, generator=generator, dtype=torch.float64)


def _nearest_root(model: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    w = model.weight[0].detach()  # (D,)
    with torch.no_grad():
        return x - model(x) / (w @ w) * w  # (N, 1) * (D,) -> (N, D)


@checker
def check_nearest_root(nearest_root) -> Feedback:
    """``nearest_root(model, x)``: for an ``nn.Linear(D, 1)`` and a batch x (N, D), the root of
    f(x) = w.x + b closest to each row, shaped like x."""
    return check_function(
        nearest_root,
        _nearest_root,
        random_cases(_linear_case, seeds=(0, 1, 2)),
        name="nearest_root",
        hint="move from x along the normal w of the hyperplane w.x + b = 0, by the signed "
        "distance f(x) / ||w|| (so by f(x) / ||w||^2 times w); keep the bias in f(x).",
    )


def _network_case(
    generator: torch.Generator,
) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A small random softplus network (D -> 8 -> 2), a batch x and roots far enough from x that
    the gradients at x and at the roots differ."""
    n, d = (int(v) for v in torch.randint(2, 6, (2,), generator=generator))
    model = nn.Sequential(nn.Linear(d, 8), nn.Softplus(), nn.Linear(8, 2)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    root = x + torch.randn(n, d, generator=generator, dtype=torch.float64)
    return model, x, root


def _product_case() -> Case:
    class Product(nn.Module):
        def forward(self, x):
            return (x[:, 0] * x[:, 1])[:, None]

    return Case(
        Product(),
        torch.tensor([[2.0, 1.0]]),
        torch.tensor([[0.0, 1.0]]),
        label="f(x) = x_1 x_2 at x = (2, 1), root (0, 1): the terms are (2, 0)",
    )


def _taylor_terms(
    model: nn.Module, x: torch.Tensor, root: torch.Tensor
) -> torch.Tensor:
    return (x - root) * saliency(model, root, target=0)


@checker
def check_taylor_terms(taylor_terms) -> Feedback:
    """``taylor_terms(model, x, root)``: (x - root) * d f_0 / d x at root, for batches (N, D)."""
    cases = [_product_case()] + random_cases(_network_case, seeds=(0, 1, 2))
    return check_function(
        taylor_terms,
        _taylor_terms,
        cases,
        name="taylor_terms",
        forbid=(saliency, gradient_x_input, gradient),
        rtol=1e-6,
        atol=1e-9,
        hint="take the gradient of output 0 at the root (not at x): make root require "
        "gradients, run the model on it, and multiply the gradient by x - root.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch01-nearest-root": Coded(
        check_nearest_root,
        "nearest_root",
        points=2,
        written=2,
        rubric="- 1 point: derives x - x̃ = f(x) w / ||w||², hence R_i = w_i² f(x) / ||w||²\n"
        "- 1 point: judges it not sensible: the scores depend on x only through f(x) (the "
        "squared weights, rescaled), so an absent feature (x_i = 0) still gets credit",
    ),
    "ch01-taylor-terms": Coded(check_taylor_terms, "taylor_terms", points=2),
    "ch01-euler": Written(
        3,
        "- 1 point: differentiates f(tx) = t^k f(x) in t and sets t = 1: "
        "Σ_i x_i ∂_i f(x) = k f(x)\n"
        "- 1 point: x_1 x_2 has degree 2, so Gradient x Input sums to 2 f(x)\n"
        "- 1 point: ReLU networks without biases are positively homogeneous of degree 1 "
        "(max(0, tz) = t max(0, z) for t > 0); biases break it",
    ),
    "ch01-bias-feature": Written(
        2,
        "- 1 point: answer 1, the bias reported as the score of a pseudo-feature (the "
        "pixels' scores are still w_i x_i, adding up to f(x) - b)\n"
        "- 1 point: the constant feature is the same for every input, so its score says "
        "nothing about this input, only the model's prior for the class",
    ),
    "ch01-root-segment": Written(
        3,
        "- 1 point: towards the origin: root (√2, 1/√2), R = (√2 - 1, √2 - 1), sum ≈ 0.83, "
        "error ≈ 0.17\n"
        "- 1 point: towards (0, 1): root (1, 1), R = (1, 0), sum 1 = f(x), error 0 (f is "
        "linear along that segment)\n"
        "- 1 point: the direction of the search decides which features get credit, the "
        "curvature along the segment decides the error",
    ),
}
