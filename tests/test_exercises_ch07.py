"""Chapter 7's checkers: the Guided Backprop ReLU as an autograd Function and Grad-CAM by hand pass
the book's solutions and explain typical mistakes."""

import pytest
import torch
from torch.nn import functional as F

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "07_propagation.ipynb"


class DeconvnetReLU(torch.autograd.Function):
    """Deconvnet's rule: forgets the forward mask."""

    @staticmethod
    def forward(ctx, z):
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class PlainReLU(torch.autograd.Function):
    """The ordinary gradient: forgets to rectify the backward signal."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (z > 0)


class IdentityForward(torch.autograd.Function):
    """A wrong forward pass: no ReLU at all."""

    @staticmethod
    def forward(ctx, z):
        return z.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class ForgetsToSave(torch.autograd.Function):
    """Reads ctx.saved_tensors without having saved anything."""

    @staticmethod
    def forward(ctx, z):
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad.clamp(min=0) * (z > 0)


def test_guided_relu_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch07-guided-relu")
    feedback = xl.exercises.ch07.check_guided_relu(namespace["GuidedReLU"])
    assert feedback, str(feedback)


@pytest.mark.parametrize("mistake", [DeconvnetReLU, PlainReLU])
def test_guided_relu_explains_a_wrong_backward_rule(mistake):
    feedback = xl.exercises.ch07.check_guided_relu(mistake)
    assert not feedback and "wrong values" in feedback.title
    assert "both conditions" in feedback.hint
    assert any("on case" in line for line in feedback.details)


def test_guided_relu_checks_the_forward_pass_first():
    feedback = xl.exercises.ch07.check_guided_relu(IdentityForward)
    assert not feedback and feedback.title.startswith("GuidedReLU.apply(z)")
    assert "ordinary ReLU" in feedback.hint


def test_guided_relu_reports_an_exception_in_backward_with_the_students_line():
    feedback = xl.exercises.ch07.check_guided_relu(ForgetsToSave)
    assert not feedback and "raised an exception" in feedback.title
    assert any("in backward" in line for line in feedback.details)


@pytest.mark.parametrize(
    "wrong", [lambda: torch.relu, lambda: DeconvnetReLU.apply, lambda: 3]
)
def test_guided_relu_wants_the_function_class(wrong):
    feedback = xl.exercises.ch07.check_guided_relu(wrong())
    assert not feedback and "subclass of torch.autograd.Function" in feedback.title


def cam_parts(model, layer, x, target):
    """The layer's output and the gradient of the selected scores with respect to it."""
    captured = []
    handle = layer.register_forward_hook(
        lambda module, inputs, output: captured.append(output)
    )
    try:
        scores = model(x)
    finally:
        handle.remove()
    (grad,) = torch.autograd.grad(
        scores[torch.arange(len(x)), target].sum(), captured[0]
    )
    return captured[0], grad


def grad_cam_variant(
    model, layer, x, target, *, pool="mean", relu=True, upsample="bilinear"
):
    activation, grad = cam_parts(model, layer, x, target)
    alpha = (
        grad.mean(dim=(2, 3), keepdim=True)
        if pool == "mean"
        else grad.sum(dim=(2, 3), keepdim=True)
    )
    cam = (alpha * activation).sum(dim=1, keepdim=True)
    cam = cam.clamp(min=0) if relu else cam
    if upsample == "bilinear":
        cam = F.interpolate(
            cam, size=x.shape[-2:], mode="bilinear", align_corners=False
        )
    elif upsample == "nearest":
        cam = F.interpolate(cam, size=x.shape[-2:], mode="nearest")
    return cam.detach()


def test_grad_cam_passes_the_books_solution_and_the_reference_variant():
    namespace = solution_namespace(NOTEBOOK, "ch07-grad-cam")
    feedback = xl.exercises.ch07.check_grad_cam(namespace["my_grad_cam"])
    assert feedback, str(feedback)
    assert xl.exercises.ch07.check_grad_cam(grad_cam_variant)


def test_grad_cam_explains_summed_gradients():
    feedback = xl.exercises.ch07.check_grad_cam(
        lambda *args: grad_cam_variant(*args, pool="sum")
    )
    assert not feedback and any("times" in line for line in feedback.details)
    assert "MEAN of the gradient" in feedback.hint


def test_grad_cam_explains_a_missing_relu():
    feedback = xl.exercises.ch07.check_grad_cam(
        lambda *args: grad_cam_variant(*args, relu=False)
    )
    assert not feedback and "wrong values" in feedback.title
    assert "ReLU" in feedback.hint


def test_grad_cam_explains_missing_or_nearest_upsampling():
    missing = xl.exercises.ch07.check_grad_cam(
        lambda *args: grad_cam_variant(*args, upsample=None)
    )
    assert not missing and "wrong shape" in missing.title
    nearest = xl.exercises.ch07.check_grad_cam(
        lambda *args: grad_cam_variant(*args, upsample="nearest")
    )
    assert not nearest and "bilinear" in nearest.hint
