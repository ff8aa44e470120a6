"""Checkers for chapter 10, the complexity-faithfulness trade-off: the EF-versus-beta slope, and delta EF.

* :func:`check_ef_slope`: the least-squares line EF = slope * ln(beta) + intercept through points
  (beta_i, EF_i); the reference solves the normal equations with torch.linalg.lstsq.
* :func:`check_delta_ef`: |EF(gradient of the ReLU model) - EF(gradient of its beta-smooth
  surrogate)| per image, both for the ReLU model's predicted class, on channel-summed maps; the
  reference calls :func:`xai_lib.saliency`, :func:`xai_lib.activations.smooth` and
  :func:`xai_lib.spectral.delta_ef`, on small random CNNs from :mod:`xai_lib.models`.
"""

from __future__ import annotations

import torch

from .. import models
from .._core import predict
from ..analysis.spectral import delta_ef
from ..methods.gradients import saliency
from ..models.activations import smooth
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _fit(betas: torch.Tensor, efs: torch.Tensor) -> tuple[float, float]:
    design = torch.stack([betas.log(), torch.ones_like(betas)], dim=1)  # (K, 2)
    slope, intercept = torch.linalg.lstsq(design, efs[:, None]).solution[:, 0]
    return float(slope), float(intercept)


def _points_case(generator: torch.Generator) -> tuple:
    """K betas spread over (0.5, 100) and noisy EFs rising with ln(beta), float64."""
    k = int(torch.randint(4, 9, (1,), generator=generator))
    betas = (
        torch.exp(
            torch.empty(k, dtype=torch.float64).uniform_(-0.7, 4.6, generator=generator)
        )
        .sort()
        .values
    )
    efs = (
        0.2
        + 0.02 * betas.log()
        + 0.005 * torch.randn(k, generator=generator, dtype=torch.float64)
    )
    return betas, efs


@checker
def check_ef_slope(fit_ef_slope) -> Feedback:
    """``fit_ef_slope(betas, efs)``: 1-D float64 tensors of equal length -> (slope, intercept) of the
    least-squares line EF = slope * ln(beta) + intercept."""
    cases = random_cases(_points_case, seeds=(0, 1, 2))
    cases.append(
        Case(
            torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64),
            torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64),
            label="points exactly on a line in ln(beta): betas 1, 2, 4, 8, EF 0.1 to 0.4",
        )
    )
    return check_function(
        fit_ef_slope,
        _fit,
        cases,
        name="fit_ef_slope",
        rtol=1e-6,
        atol=1e-9,
        hint="regress EF on u = ln(beta) (torch.log, the natural log; not beta itself, not log10): "
        "slope = cov(u, EF) / var(u) and intercept = mean(EF) - slope * mean(u); return two numbers.",
    )


def _cnn_case(generator: torch.Generator) -> tuple:
    """A random float64 ReLU CNN on 16 px images, N images and a sharpness beta."""
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    model = (
        models.CNN(in_channels=3, classes=4, channels=(4, 8), hidden=8, grid=2)
        .double()
        .eval()
    )
    n = int(torch.randint(3, 6, (1,), generator=generator))
    x = torch.rand(n, 3, 16, 16, generator=generator, dtype=torch.float64)
    beta = [0.5, 1.0, 3.0][int(torch.randint(0, 3, (1,), generator=generator))]
    return model, x, beta


def _delta_ef(model, x, beta) -> torch.Tensor:
    target = predict(model, x).argmax(1)
    relu_map = saliency(model, x, target).sum(1)  # (N, C, H, W) -> (N, H, W)
    smooth_map = saliency(smooth(model, beta), x, target).sum(1)
    return delta_ef(relu_map, smooth_map)


@checker
def check_delta_ef(my_delta_ef) -> Feedback:
    """``my_delta_ef(model, x, beta)``: for a ReLU model and images x (N, C, H, W), the (N,) values
    |EF(a) - EF(a_beta)|, a and a_beta the channel-summed saliency maps of the model and of
    ``xl.activations.smooth(model, beta)``, both for the ReLU model's predicted class."""
    # seeds 5 and 8 hold images where the surrogate predicts another class than the ReLU model
    cases = random_cases(_cnn_case, seeds=(5, 8, 0))
    return check_function(
        my_delta_ef,
        _delta_ef,
        cases,
        name="my_delta_ef",
        forbid=(delta_ef,),
        rtol=1e-6,
        atol=1e-10,
        hint="take target = model(x).argmax(1) once, from the ReLU model, and pass it to both saliency "
        "calls (the surrogate may predict another class); sum each map over channels (.sum(1)) and "
        "use xl.spectral.delta_ef, which takes the absolute difference of the two EFs.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch10-ef-slope": Coded(
        check_ef_slope,
        "fit_ef_slope",
        points=2,
        written=1,
        rubric="- 1 point: without the logarithm the slope is tiny and the line misses the "
        "steep rise between β = 1 and 5: the betas span two orders of magnitude",
    ),
    "ch10-delta-ef": Coded(
        check_delta_ef,
        "my_delta_ef",
        points=2,
        written=1,
        rubric="- 1 point: ΔEF compares two explanations of the same decision; the "
        "surrogate's own prediction may be another class, mixing a change of smoothness "
        "with a change of question",
    ),
    "ch10-kink": Written(
        3,
        "- 1 point: (a) d/dz s(βz) = β s(βz)(1 - s(βz)) and s(v)(1 - s(v)) = sech²(v/2)/4\n"
        "- 1 point: (b) u = βz/2 and the given integral yield (2π²ξ/β) / sinh(2π²ξ/β)\n"
        "- 1 point: (c) the limit 1 is the flat spectrum of a Dirac delta: ReLU networks "
        "can carry arbitrarily high frequencies, softplus damps those beyond ξ ≈ β/(2π²)",
    ),
    "ch10-surrogate": Written(
        3,
        "- 1 point: (a) softplus_β(z) - ReLU(z) = log(1 + e^(-β|z|))/β: positive, largest "
        "(log 2/β) at z = 0\n"
        "- 1 point: (b) each inactive unit outputs up to log 2 ≈ 0.69 instead of 0, shifting "
        "the next layers' pre-activations, which were fitted to exact zeros; the network "
        "trained with softplus fitted its weights to these outputs\n"
        "- 1 point: (c) neither: the surrogate keeps the weights but not the function, the "
        "trained network keeps the task but is another network",
    ),
}
