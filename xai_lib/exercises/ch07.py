"""Checkers for chapter 7, propagation methods.

* :func:`check_guided_relu`: Guided Backprop's ReLU written as a ``torch.autograd.Function``.
  Its forward pass must be the ReLU; the input gradient of small MLPs and CNNs whose ReLUs are
  the student's ``GuidedReLU.apply`` is compared with :func:`xai_lib.guided_backprop` on the same
  networks with ``nn.ReLU`` modules.
* :func:`check_grad_cam`: Grad-CAM by hand, ``my_grad_cam(model, layer, x, target)``, against
  :func:`xai_lib.grad_cam` with ``layer=layer``, on small CNNs and several layers.
"""

from __future__ import annotations

import torch
from torch import nn

from ..methods.propagation import (
    _GuidedReLU,
    grad_cam,
    guided_backprop,
    guided_grad_cam,
)
from .cases import Case, describe, random_parameters
from .checks import check_function, compare
from .feedback import Feedback, checker
from .table import Coded, Written


class _Apply(nn.Module):
    """A module that applies an autograd Function: the student's ReLU in place of nn.ReLU."""

    def __init__(self, function) -> None:
        super().__init__()
        self.function = function

    def forward(self, z):
        return self.function.apply(z)


def _mlp(generator: torch.Generator) -> tuple:
    model = random_parameters(
        nn.Sequential(
            nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3)
        ),
        generator,
    )
    x = torch.randn(5, 6, generator=generator, dtype=torch.float64)
    return (
        model,
        x,
        torch.randint(0, 3, (5,), generator=generator),
        "the input gradient of an MLP 6-10-8-3 on 5 inputs",
    )


def _cnn(generator: torch.Generator) -> tuple:
    model = random_parameters(
        nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(6 * 4 * 4, 3),
        ),
        generator,
    )
    x = torch.rand(3, 2, 8, 8, generator=generator, dtype=torch.float64)
    return (
        model,
        x,
        torch.randint(0, 3, (3,), generator=generator),
        "the input gradient of a CNN (conv-ReLU-maxpool-conv-ReLU-linear) on 3 images",
    )


def _relu_cases() -> list[Case]:
    cases = []
    for seed, make in ((0, _mlp), (1, _mlp), (2, _cnn), (3, _cnn)):
        model, x, target, label = make(torch.Generator().manual_seed(seed))
        cases.append(Case(model, x, target, label=f"{label} (seed {seed})"))
    return cases


def _with_function(model: nn.Sequential, function) -> nn.Sequential:
    """A copy of a Sequential model with every nn.ReLU replaced by ``function.apply``."""
    return nn.Sequential(
        *[_Apply(function) if isinstance(m, nn.ReLU) else m for m in model]
    )


class _GradientThrough:
    """d model(x)[i, target[i]] / dx with the student's Function in place of every ReLU.

    ``__code__`` is that of the student's forward, so an exception raised in their code is reported
    with their own line (see checks._student_error).
    """

    def __init__(self, function) -> None:
        self.function = function
        self.__code__ = getattr(function.forward, "__code__", None)

    def __call__(self, model, x, target):
        x = x.detach().requires_grad_(True)
        scores = _with_function(model, self.function)(x)
        (grad,) = torch.autograd.grad(scores[torch.arange(len(x)), target].sum(), x)
        return grad


_RELU_HINT = (
    "forward: return z.clamp(min=0) and keep what backward needs with ctx.save_for_backward; backward: "
    "let through only the positive part of the incoming gradient, and only where the forward input "
    "was positive (both conditions at once)"
)


@checker
def check_guided_relu(GuidedReLU) -> Feedback:
    """``GuidedReLU``: a torch.autograd.Function, ReLU forward, backward max(R, 0) * (z > 0)."""
    if not (
        isinstance(GuidedReLU, type) and issubclass(GuidedReLU, torch.autograd.Function)
    ):
        return Feedback.failure(
            "GuidedReLU should be a subclass of torch.autograd.Function",
            [f"got {describe(GuidedReLU)}"],
            "class GuidedReLU(torch.autograd.Function): with @staticmethod forward(ctx, z) "
            "and @staticmethod backward(ctx, grad); pass the class itself, not GuidedReLU.apply",
        )
    z = torch.randn(
        4, 7, generator=torch.Generator().manual_seed(5), dtype=torch.float64
    )
    try:
        forward = GuidedReLU.apply(z.clone())
    except NotImplementedError:
        return Feedback.failure(
            "GuidedReLU is not written yet",
            ["replace `raise NotImplementedError` with your solution"],
            _RELU_HINT,
        )
    except Exception as error:  # the student's code: report any failure kindly
        return Feedback.failure(
            "GuidedReLU.apply(z) raised an exception in the forward pass",
            [f"{type(error).__name__}: {error}"],
            _RELU_HINT,
        )
    forward_ok = compare(
        forward,
        z.clamp(min=0),
        name="GuidedReLU.apply(z)",
        hint="the forward pass of Guided Backprop is the ordinary ReLU, max(z, 0)",
    )
    if not forward_ok:
        return forward_ok
    student = _GradientThrough(GuidedReLU)
    return check_function(
        student,
        lambda model, x, target: guided_backprop(model, x, target),
        _relu_cases(),
        name="GuidedReLU",
        forbid=(guided_backprop, _GuidedReLU.forward, _GuidedReLU.backward),
        rtol=1e-6,
        atol=1e-9,
        hint=_RELU_HINT,
    )


def _grad_cam_cases() -> list[Case]:
    cases = []
    for seed, layer_index in ((0, 4), (1, 3), (2, 1)):
        generator = torch.Generator().manual_seed(seed)
        model = random_parameters(
            nn.Sequential(
                nn.Conv2d(3, 6, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(6, 8, 3, padding=1),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(2),
                nn.Flatten(),
                nn.Linear(32, 4),
            ),
            generator,
        )
        x = torch.rand(3, 3, 12, 12, generator=generator, dtype=torch.float64)
        target = torch.randint(0, 4, (3,), generator=generator)
        layer = model[layer_index]
        cases.append(
            Case(
                model,
                layer,
                x,
                target,
                label=f"a small CNN on 3 images of 12 x 12, layer {layer_index} "
                f"({type(layer).__name__}, seed {seed})",
            )
        )
    return cases


@checker
def check_grad_cam(my_grad_cam) -> Feedback:
    """``my_grad_cam(model, layer, x, target)``: ReLU(sum_k alpha_k A^k) at the module ``layer``,
    alpha_k the spatial mean of d f_target / d A^k, upsampled bilinearly to x's size: (N, 1, H, W)."""
    return check_function(
        my_grad_cam,
        lambda model, layer, x, target: grad_cam(model, x, target, layer=layer),
        _grad_cam_cases(),
        name="my_grad_cam",
        forbid=(grad_cam, guided_grad_cam),
        rtol=1e-6,
        atol=1e-9,
        hint="alpha_k is the MEAN of the gradient over the h x w positions of channel k; weigh the channels, sum "
        "over them (keepdim=True), keep the positive part (ReLU), then upsample with "
        "F.interpolate(cam, size=x.shape[-2:], mode='bilinear', align_corners=False)",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch07-guided-relu": Coded(check_guided_relu, "GuidedReLU", points=2),
    "ch07-grad-cam": Coded(check_grad_cam, "my_grad_cam", points=3),
    "ch07-deconvnet-input": Written(
        3,
        "- 1 point: the backward pass starts from the one-hot vector of class c and maps it "
        "with transposed weights, which do not depend on x\n"
        "- 1 point: Deconvnet's rule max(R, 0) looks only at the signal, not at the forward "
        "input, so by induction the map depends on the weights and c alone\n"
        "- 1 point: max-pooling's switches are where the input enters; without them the map "
        "is a fixed pattern per class: a visualization, not an explanation",
    ),
    "ch07-cam": Written(
        3,
        "- 1 point: ∂f_c/∂A^k_ij = w^c_k/(hw), so α^c_k = w^c_k/(hw)\n"
        "- 1 point: Grad-CAM = ReLU(Σ_k w^c_k A^k)/(hw): the class activation map, rectified "
        "and rescaled\n"
        "- 1 point: the shapes CNN flattens into dense layers with a weight per position, so "
        "the gradient varies with position and averaging it into one α loses where each "
        "feature map mattered",
    ),
}
