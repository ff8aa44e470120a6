"""Checkers for chapter 6, shattered gradients and SmoothGrad.

* :func:`check_count_pieces`: count the linear pieces of a 1-D piecewise-linear network on a
  grid, against :func:`xai_lib.shattered.count_linear_pieces`, on sawtooth networks of several
  depths and intervals and on a ReLU ramp whose slope changes without changing sign; every
  kink falls on a grid point.
* :func:`check_smoothgrad`: SmoothGrad written as a loop over noise draws, against
  :func:`xai_lib.smoothgrad` with the same seed (the draws are specified in the exercise, so the
  two agree to rounding).
"""

from __future__ import annotations

import torch
from torch import nn

from ..analysis.shattered import count_linear_pieces, linear_pieces, sawtooth
from ..methods.gradients import smoothgrad
from .cases import Case, random_cases, random_parameters
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _piece_cases() -> list:
    cases = [
        Case(
            sawtooth(depth).double(),
            0.0,
            1.0,
            2**10 + 1,
            label=f"sawtooth depth {depth} on [0, 1]",
        )
        for depth in (1, 2, 4)
    ]
    # outside [0, 1] the sawtooth is flat: two more pieces; grid step 2^-10 keeps the kinks on grid points
    cases.append(
        Case(
            sawtooth(3).double(),
            -0.5,
            1.5,
            2**11 + 1,
            label="sawtooth depth 3 on [-0.5, 1.5]",
        )
    )
    cases.append(
        Case(
            sawtooth(5).double(),
            0.25,
            0.75,
            2**9 + 1,
            label="sawtooth depth 5 on [0.25, 0.75]",
        )
    )
    cases.append(
        Case(
            _rising_ramp(),
            -0.25,
            1.0,
            1281,
            label="ReLU(x) + 2 ReLU(x - 0.5) - 3 ReLU(x - 0.75) "
            "on [-0.25, 1]: slopes 0, 1, 3, 0",
        )
    )
    return cases


def _rising_ramp() -> nn.Module:
    """ReLU(x) + 2 ReLU(x - 0.5) - 3 ReLU(x - 0.75): a kink where the slope changes but keeps its sign."""
    first, last = nn.Linear(1, 3), nn.Linear(3, 1)
    model = nn.Sequential(first, nn.ReLU(), last).double()
    with torch.no_grad():
        first.weight.fill_(1.0)
        first.bias.copy_(torch.tensor([0.0, -0.5, -0.75]))
        last.weight.copy_(torch.tensor([[1.0, 2.0, -3.0]]))
        last.bias.zero_()
    return model.eval()


@checker
def check_count_pieces(count_pieces) -> Feedback:
    """``count_pieces(model, low, high, points)``: the number of linear pieces (an int) of a 1-D
    piecewise-linear model on [low, high], from its values on ``points`` equally spaced inputs
    (the kinks fall on grid points)."""
    return check_function(
        count_pieces,
        lambda model, low, high, points: count_linear_pieces(model, low, high, points),
        _piece_cases(),
        name="count_pieces",
        forbid=(count_linear_pieces, linear_pieces),
        hint="take the slope of every grid cell (differences of the values over the step), count the places "
        "where the slope changes (by more than rounding, say 1e-6 of the largest slope), and remember "
        "that k kinks cut an interval into k + 1 pieces; return a Python int.",
    )


def _vector_case(generator: torch.Generator) -> tuple:
    """A ReLU MLP (D -> 8 -> 3), N inputs, targets, a noise level, n draws and a seed."""
    n, d = (int(v) for v in torch.randint(2, 6, (2,), generator=generator))
    model = random_parameters(
        nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 3)), generator
    )
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    target = torch.randint(0, 3, (n,), generator=generator)
    sigma = round(float(torch.empty(1).uniform_(0.05, 0.3, generator=generator)), 2)
    draws = int(torch.randint(2, 6, (1,), generator=generator))
    seed = int(torch.randint(0, 1000, (1,), generator=generator))
    return model, x, target, sigma, draws, seed


def _image_case() -> Case:
    generator = torch.Generator().manual_seed(11)
    model = random_parameters(
        nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(3 * 5 * 5, 2),
        ),
        generator,
    )
    x = (
        torch.rand(3, 1, 5, 5, generator=generator, dtype=torch.float64)
        * torch.tensor([1.0, 2.0, 4.0]).view(3, 1, 1, 1).double()
    )
    return Case(
        model,
        x,
        torch.tensor([0, 1, 1]),
        0.2,
        4,
        3,
        label="a small CNN on three 1x5x5 images of different value ranges, sigma 0.2, n 4, seed 3",
    )


def _reference(model, x, target, sigma, n, seed):
    return smoothgrad(model, x, target, n=n, sigma=sigma, seed=seed)


@checker
def check_smoothgrad(my_smoothgrad) -> Feedback:
    """``my_smoothgrad(model, x, target, sigma, n, seed)``: the mean over n noise draws of the
    gradient of ``model(x + noise)[i, target[i]]``, with noise of standard deviation sigma times
    each sample's value range (max - min), drawn as
    ``torch.randn(x.shape, generator=generator, dtype=x.dtype)`` from
    ``generator = torch.Generator().manual_seed(seed)``, one draw per iteration."""
    cases = random_cases(_vector_case, seeds=(0, 1, 2)) + [_image_case()]
    return check_function(
        my_smoothgrad,
        _reference,
        cases,
        name="my_smoothgrad",
        forbid=(smoothgrad,),
        rtol=1e-6,
        atol=1e-9,
        hint="scale the noise per sample: std = sigma * (max - min) of that sample's values (flatten each "
        "sample, take max and min over its features); draw the noise in order, one torch.randn of x's "
        "shape per iteration from one seeded generator; average the n gradients (divide by n).",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch06-count-pieces": Coded(check_count_pieces, "count_pieces", points=2),
    "ch06-smoothgrad-loop": Coded(check_smoothgrad, "my_smoothgrad", points=3),
    "ch06-relu-smoothing": Written(
        2,
        "- 1 point: E[f'(x + ε)] = P(ε > -x) = Φ(x/σ), the standard normal CDF: a smooth "
        "step\n"
        "- 1 point: 1/2 at x = 0 and Φ(1) ≈ 0.84 at x = σ instead of 1: SmoothGrad is "
        "biased within a few σ of every kink",
    ),
    "ch06-price": Written(
        2,
        "- 1 point: the noise falls like 1/√T: ten times less needs 100 times more samples, "
        "T = 1600, about 200 seconds\n"
        "- 1 point: halving σ changes what is estimated (less smoothing, back towards the "
        "shattered gradient), not the noise of the estimate: separate knobs",
    ),
    "ch06-sawtooth-induction": Written(
        3,
        "- 1 point: base case: g has two pieces of slope ±2, each onto [0, 1]\n"
        "- 1 point: step: g splits each piece of g^d where it crosses 1/2, giving 2^(d+1) "
        "pieces of slope ±2^(d+1)\n"
        "- 1 point: one hidden layer has at most one kink per unit, so it needs at least "
        "2^d - 1 units (against 2d in the deep network)",
    ),
}
