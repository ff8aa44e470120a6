"""Checkers for chapter 12, evaluating explanations: a deletion score and a relevance mass by hand.

* :func:`check_deletion`: the student's deletion area against ``xl.metrics.deletion`` (baseline
  0, softmax probability, trapezoid rule) on small random CNNs, with step counts that divide the
  number of pixels, so that "the first k U / K pixels" is a whole number.
* :func:`check_relevance_mass`: the student's relevance mass against
  ``xl.metrics.relevance_mass`` on random signed attributions with several channels, where taking
  the positive part before or after summing the channels gives different answers.
"""

from __future__ import annotations

import torch
from torch import nn

from ..analysis.metrics import deletion, deletion_curve, relevance_mass
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written

_STEPS = (4, 6, 9, 12, 36)  # each divides the 6 x 6 = 36 pixels of the cases


def _tiny_cnn(generator: torch.Generator, channels: int, classes: int) -> nn.Module:
    """conv3x3 - ReLU - flatten - linear on 6 x 6 images, float64, random weights from ``generator``."""
    model = nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 36, classes),
    )
    model = model.double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(
                torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
                * 0.5
            )
    return model


def _deletion_case(generator: torch.Generator):
    """(model, x, attribution, target, steps): N in 2..4 images of C in 1..3 channels, 6 x 6 pixels."""
    n = int(torch.randint(2, 5, (1,), generator=generator))
    c = int(torch.randint(1, 4, (1,), generator=generator))
    classes = 3
    model = _tiny_cnn(generator, c, classes)
    x = (
        torch.rand(n, c, 6, 6, generator=generator, dtype=torch.float64) + 0.1
    )  # no pixel is already 0
    attribution = torch.randn(n, c, 6, 6, generator=generator, dtype=torch.float64)
    target = torch.randint(0, classes, (n,), generator=generator)
    steps = _STEPS[int(torch.randint(0, len(_STEPS), (1,), generator=generator))]
    return model, x, attribution, target, steps


def _reference_deletion(model, x, attribution, target, steps):
    return deletion(model, x, attribution, target, steps)


@checker
def check_deletion(my_deletion) -> Feedback:
    """``my_deletion(model, x, attribution, target, steps)``: the deletion area per image, (N,)."""
    cases = random_cases(_deletion_case, seeds=(0, 1, 2, 3))
    return check_function(
        my_deletion,
        _reference_deletion,
        cases,
        name="my_deletion",
        forbid=(deletion, deletion_curve),
        rtol=1e-6,
        atol=1e-9,
        hint="order the pixels by the channel sum, largest first; remove all channels of a "
        "pixel together; score the softmax probability of each image's target (not the "
        "logit) at k = 0..steps; and integrate with torch.trapezoid over the fractions "
        "k / steps, not a plain mean of the points",
    )


def _mass_case(generator: torch.Generator):
    """(attribution (N, C, 5, 5) signed float64, mask (N, 1, 5, 5) bool with 5..15 pixels on)."""
    n = int(torch.randint(2, 5, (1,), generator=generator))
    c = int(torch.randint(2, 4, (1,), generator=generator))
    attribution = torch.randn(n, c, 5, 5, generator=generator, dtype=torch.float64)
    mask = torch.zeros(n, 1, 25, dtype=torch.bool)
    for i in range(n):
        on = int(torch.randint(5, 16, (1,), generator=generator))
        mask[i, 0, torch.randperm(25, generator=generator)[:on]] = True
    return attribution, mask.view(n, 1, 5, 5)


def _reference_mass(attribution, mask):
    return relevance_mass(attribution, mask)


@checker
def check_relevance_mass(my_relevance_mass) -> Feedback:
    """``my_relevance_mass(attribution, mask)``: the share of the positive channel-summed relevance
    inside the mask, per image, (N,)."""
    cases = random_cases(_mass_case, seeds=(0, 1, 2))
    generator = torch.Generator().manual_seed(5)
    attribution = torch.randn(3, 3, 4, 4, generator=generator)
    mask = torch.rand(3, 1, 4, 4, generator=generator) > 0.5
    cases.append(
        Case(
            attribution,
            mask,
            label="float32 attribution (3, 3, 4, 4) and a random bool mask",
        )
    )
    return check_function(
        my_relevance_mass,
        _reference_mass,
        cases,
        name="my_relevance_mass",
        forbid=(relevance_mass,),
        rtol=1e-5,
        atol=1e-7,
        hint="sum the channels first, then keep the positive part (clamp_min(0)); divide the "
        "part inside the mask by the whole, per image",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch12-deletion": Coded(check_deletion, "my_deletion", points=3),
    "ch12-relevance-mass": Coded(check_relevance_mass, "my_relevance_mass", points=2),
    "ch12-input-as-map": Written(
        3,
        "- 1 point: it ranks pixels by brightness: good deletion, insertion and pointing "
        "scores on a light object, bad ones on a dark object: the scores depend on the data\n"
        "- 1 point: its rank correlation with Gradient x Input is positive (that method "
        "multiplies by x)\n"
        "- 1 point: the model-randomization check exposes it for certain: the map does not "
        "change when the weights are randomized",
    ),
    "ch12-chance": Written(
        3,
        "- 1 point: (a) with i.i.d. continuous values every pixel is equally likely to hold "
        "the maximum: pointing-game score q\n"
        "- 1 point: (a) the relevance mass tends to q (both sums concentrate around the "
        "pixel count times E[max(a, 0)])\n"
        "- 1 point: (b) the curve does not depend on the order: deletion and insertion "
        "areas are 1/2 for every map",
    ),
}
