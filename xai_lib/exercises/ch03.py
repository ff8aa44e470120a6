"""Checkers for chapter 3, perturbation: occlusion of single features, and its cost in forward passes.

* :func:`check_feature_occlusion`: R_i = f_target(x) - f_target(x with feature i set to a value),
  for vectors; the reference is :func:`xai_lib.occlusion` run on the features laid out as a
  1 x D image with 1 x 1 windows.
* :func:`check_occlusion_passes`: the number of forward passes occlusion makes on one square
  image; the reference counts the images :func:`xai_lib.occlusion` really runs the model on.
"""

from __future__ import annotations

import torch
from torch import nn

from ..methods.perturbation import occlusion
from .cases import Case, occlude_features, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


class _MaxOfFeatures(nn.Module):
    """f(x) = max_i x_i: one output, the case where removing a single feature may change nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=1, keepdim=True)  # (N, D) -> (N, 1)


def _mlp_case(generator: torch.Generator) -> tuple:
    """A ReLU MLP (D -> 8 -> 3) with random float64 weights, N inputs, a target and a fill value."""
    n, d = (int(v) for v in torch.randint(2, 6, (2,), generator=generator))
    model = nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 3)).double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(
                torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
            )
    x = torch.randn(n, d, generator=generator, dtype=torch.float64)
    target = int(torch.randint(0, 3, (1,), generator=generator))
    value = round(float(torch.randn(1, generator=generator, dtype=torch.float64)), 2)
    return model, x, target, value


def _max_case() -> Case:
    x = torch.tensor([[3.0, 3.0, 0.0], [3.0, 1.0, 0.0]], dtype=torch.float64)
    return Case(
        _MaxOfFeatures(),
        x,
        0,
        0.0,
        label="f(x) = max(x1, x2, x3) at (3, 3, 0) and (3, 1, 0), value 0",
    )


def _reference_occlusion(model, x, target, value):
    return occlude_features(model, x, target, value=value)


@checker
def check_feature_occlusion(feature_occlusion) -> Feedback:
    """``feature_occlusion(model, x, target, value)``: for a model of vectors and x of shape
    (N, D), R[n, i] = f(x_n)[target] - f(x_n with feature i set to value)[target], shaped like x."""
    cases = random_cases(_mlp_case, seeds=(0, 1, 2)) + [_max_case()]
    return check_function(
        feature_occlusion,
        _reference_occlusion,
        cases,
        name="feature_occlusion",
        forbid=(occlusion,),
        rtol=1e-7,
        atol=1e-10,
        hint="for each feature i, copy x (x.clone()), set column i of the copy to value, and subtract the "
        "occluded output from the clean one (clean minus occluded: a drop is positive); pick the "
        "target column of the model's (N, classes) output.",
    )


class _CountingSum(nn.Module):
    """Sums each image to one output and counts the images it is run on."""

    def __init__(self):
        super().__init__()
        self.images = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.images += x.shape[0]
        return x.flatten(1).sum(dim=1, keepdim=True)  # (N, C, H, W) -> (N, 1)


def _counted_passes(size: int, patch: int, stride: int) -> int:
    model = _CountingSum()
    occlusion(model, torch.zeros(1, 1, size, size), 0, patch=patch, stride=stride)
    return model.images


_PASS_CASES = (
    (32, 8, 8, "32 px, patch 8, stride 8: the windows tile the image"),
    (32, 8, 4, "32 px, patch 8, stride 4"),
    (32, 4, 2, "32 px, patch 4, stride 2"),
    (
        30,
        8,
        4,
        "30 px, patch 8, stride 4: the last window sticks out and is cut at the border",
    ),
    (64, 16, 6, "64 px, patch 16, stride 6"),
    (10, 10, 3, "a patch as large as the image"),
    (7, 1, 1, "every pixel on its own"),
)


@checker
def check_occlusion_passes(occlusion_passes) -> Feedback:
    """``occlusion_passes(size, patch, stride)``: how many images xl.occlusion runs the model on to
    explain one size x size image with square windows (stride <= patch), the clean image included."""
    cases = [
        Case(size, patch, stride, label=label)
        for size, patch, stride, label in _PASS_CASES
    ]
    return check_function(
        occlusion_passes,
        _counted_passes,
        cases,
        name="occlusion_passes",
        forbid=(occlusion,),
        hint="count the window positions along one side, 0, stride, 2 stride, ... until a window reaches "
        "the far border (the last one may stick out: round up, math.ceil), square that for the two "
        "axes, and add the one pass on the clean image.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch03-feature-occlusion": Coded(
        check_feature_occlusion,
        "feature_occlusion",
        points=2,
        written=1,
        rubric="- 1 point: on max(x_1, x_2, x_3) at (3, 3, 0) every score is 0: removing "
        "either of two equal maxima changes nothing",
    ),
    "ch03-occlusion-passes": Coded(
        check_occlusion_passes, "occlusion_passes", points=2
    ),
    "ch03-additive": Written(
        3,
        "- 1 point: (a) only g_i differs between x and x_{-i}, so R_i = g_i(x_i) - g_i(b_i), "
        "and the sum is f(x) - f(b)\n"
        "- 1 point: (b) at (3, 3) Σ R = 0 while f(x) - f(0) = 3; at (3, 1) R = (2, 0), "
        "Σ R = 2 ≠ 3\n"
        "- 1 point: (b) the Shapley values at (3, 3) are 1.5 each (the mean of 0 and 3 over "
        "the two orders), adding up to 3",
    ),
    "ch03-rise-normalization": Written(
        3,
        "- 1 point: for a constant model E[c M(u)] = c p, so dividing by p gives c\n"
        "- 1 point: E[f M(u)] = p E[f | M(u) = 1]; without the division the map is p times "
        "smaller (the same picture, its values no longer a probability)\n"
        "- 1 point: masking makes hidden pixels black: on a black object hiding changes "
        "nothing, the zero filler's blindness",
    ),
}
