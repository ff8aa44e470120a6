"""Checkers for chapter 2, self-explaining models: occlusion scores and receptive fields.

* :func:`check_occlusion_scores`: f(x) - f(x with feature i set to a reference value), per
  feature; the reference is the library's occlusion with 1 x 1 patches, on the features laid
  out as a one-row image.
* :func:`check_receptive_field_size`: the window one output of a convolution stack sees; the
  reference is :func:`xai_lib.self_explaining.receptive_field` on that stack.
"""

from __future__ import annotations

import torch
from torch import nn

from ..methods.perturbation import occlusion
from ..models.self_explaining import GAM, receptive_field
from .cases import Case, occlude_features, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _occlusion_scores(
    model: nn.Module, x: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    return occlude_features(model, x, 0, baseline=reference)


def _gam_case(
    generator: torch.Generator,
) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A random GAM with one output, a batch x (N, D) and a reference (D,), float64."""
    n, d = (int(v) for v in torch.randint(2, 7, (2,), generator=generator))
    with torch.random.fork_rng(
        devices=[]
    ):  # building the model must not move the student's random stream
        model = GAM(d, 1, hidden=4).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))
    return (
        model,
        torch.randn(n, d, generator=generator, dtype=torch.float64),
        torch.randn(d, generator=generator, dtype=torch.float64),
    )


def _interaction_case() -> Case:
    """A model with an interaction, f(x) = max(x_1, x_2) + x_3: occlusion is not a GAM's explanation there."""

    class MaxPlus(nn.Module):
        def forward(self, x):
            return (torch.maximum(x[:, 0], x[:, 1]) + x[:, 2])[:, None]

    x = torch.tensor([[1.0, 1.0, 2.0], [3.0, -1.0, 0.5]], dtype=torch.float64)
    return Case(
        MaxPlus(),
        x,
        torch.zeros(3, dtype=torch.float64),
        label="f(x) = max(x_1, x_2) + x_3 (not a GAM), reference 0",
    )


@checker
def check_occlusion_scores(occlusion_scores) -> Feedback:
    """``occlusion_scores(model, x, reference)``: f(x) - f(x with x_i set to reference_i), (N, D),
    for a model with one output, x of shape (N, D) and reference of shape (D,)."""
    cases = random_cases(_gam_case, seeds=(0, 1)) + [_interaction_case()]
    return check_function(
        occlusion_scores,
        _occlusion_scores,
        cases,
        name="occlusion_scores",
        forbid=(occlusion,),
        rtol=1e-6,
        atol=1e-9,
        hint="for each feature i, copy x, set column i of the copy to reference[i], run the "
        "model, and subtract its output from f(x): the drop, f(x) - f(occluded), not "
        "the other way round, and one feature at a time.",
    )


_STACKS = (
    ([3], [1]),
    ([3, 3, 3], [1, 1, 1]),
    ([3, 2, 3, 2, 3, 2], [1, 2, 1, 2, 1, 2]),
    ([7, 3, 5], [2, 2, 1]),
    ([5, 1, 1], [1, 1, 1]),
)


def _receptive_field_size(kernel_sizes, strides) -> int:
    stack = nn.Sequential(
        *(nn.Conv2d(1, 1, k, stride=s) for k, s in zip(kernel_sizes, strides))
    )
    return receptive_field(stack).size


@checker
def check_receptive_field_size(receptive_field_size) -> Feedback:
    """``receptive_field_size(kernel_sizes, strides)`` -> int: the input window side that one
    output of a stack of convolutions with those kernel sizes and strides sees."""
    cases = [
        Case(
            list(kernels),
            list(strides),
            label=f"kernel sizes {kernels}, strides {strides}",
        )
        for kernels, strides in _STACKS
    ]
    return check_function(
        receptive_field_size,
        _receptive_field_size,
        cases,
        name="receptive_field_size",
        forbid=(receptive_field,),
        hint="a layer with kernel k widens the window by k - 1 of its own input steps, and one "
        "such step is the product of the strides of all earlier layers (not of this "
        "layer) in pixels.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch02-gam-occlusion": Coded(
        check_occlusion_scores,
        "occlusion_scores",
        points=2,
        written=1,
        rubric="- 1 point: only g_i changes when x_i is replaced, so R_i = g_i(x_i) - "
        "g_i(x̄_i): the shape function up to a constant that depends on the reference only",
    ),
    "ch02-receptive-field": Coded(
        check_receptive_field_size,
        "receptive_field_size",
        points=2,
        written=1,
        rubric="- 1 point: 11 convolutions (each 3x3 adds 2 pixels: 1 + 2n ≥ 22), all at "
        "full resolution",
    ),
    "ch02-max-not-gam": Written(
        2,
        "- 1 point: the interaction f(1,1) - f(1,0) - f(0,1) + f(0,0) is 0 for every GAM "
        "(the g terms cancel)\n"
        "- 1 point: it is 1 - 1 - 1 + 0 = -1 for the maximum, so no GAM fits the four points",
    ),
    "ch02-one-pixel": Written(
        2,
        "- 1 point: it sees only the colours of single pixels, which are random: little "
        "about the shape (at most the object's area), accuracy little above chance (1/6)\n"
        "- 1 point: its evidence maps are perfectly sharp and meaningless (the extreme end "
        "of the trade-off)",
    ),
}
