"""Propagation methods: Deconvnet, Guided Backprop, Grad-CAM and Guided Grad-CAM.

Deconvnet (Zeiler and Fergus, 2014) and Guided Backprop (Springenberg et al., 2015) are the
gradient with a different backward pass through every ReLU. With R the signal arriving at a
ReLU's output and z its input:

* gradient:        R * (z > 0)
* Deconvnet:       max(R, 0)              (the forward mask is ignored)
* Guided Backprop: max(R, 0) * (z > 0)

Every ReLU the forward pass applies is modified, call by call: ``nn.ReLU`` modules (in place
or not, used at one place or several) and the functional forms ``F.relu``, ``torch.relu``,
``Tensor.relu`` and their in-place versions alike, through a torch function mode that reroutes
each call through an autograd function with that backward (the way LRP follows functional
sums). A model that applies no ReLU gets the plain gradient, with a warning.

Grad-CAM (Selvaraju et al., 2017) weighs the feature maps A^k of a convolutional layer by
alpha_k, the spatial mean of d f / d A^k, and keeps ReLU(sum_k alpha_k A^k), upsampled
bilinearly to the input size. Guided Grad-CAM multiplies it with Guided Backprop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from .._core import (
    Hooks,
    attribution_method,
    check_image_batch,
    find_module,
    gradient,
    run_model,
    select_outputs,
    warn,
)

# --------------------------------------------------------------------------- modified ReLU backward


class _DeconvnetReLU(torch.autograd.Function):
    """ReLU forward; backward max(R, 0), whatever the sign of the input."""

    @staticmethod
    def forward(ctx, z):
        return z.clamp_min(0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp_min(0)


class _GuidedReLU(torch.autograd.Function):
    """ReLU forward; backward max(R, 0) where the input was positive, 0 elsewhere."""

    @staticmethod
    def forward(ctx, z):
        out = z.clamp_min(0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad.clamp_min(0) * (out > 0)


@attribution_method("deconvnet", family="propagation")
def deconvnet(model, x, target=None):
    """The gradient of f_target with every ReLU passing back max(R, 0); shaped like x."""
    return _modified_relu_gradient(model, x, target, _DeconvnetReLU, "deconvnet")


@attribution_method("guided_backprop", family="propagation")
def guided_backprop(model, x, target=None):
    """The gradient of f_target with every ReLU passing back max(R, 0) * (z > 0); shaped like x."""
    return _modified_relu_gradient(model, x, target, _GuidedReLU, "guided_backprop")


def _modified_relu_gradient(model, x, target, rule, method_name: str) -> torch.Tensor:
    mode = _ModifiedReLUs(rule)
    with mode:
        grad, _ = gradient(model, x, target)
    if mode.calls == 0:
        warn(
            f"{method_name}: the model applied no ReLU (nn.ReLU, F.relu, torch.relu or "
            "Tensor.relu, in place or not) that Python can see, so nothing was modified and "
            "the result is the plain gradient",
            UserWarning,
        )
    return grad


#: The functions that apply a ReLU; nn.ReLU calls F.relu.
_RELUS = {F.relu, torch.relu, torch.Tensor.relu}
_INPLACE_RELUS = {torch.relu_, torch.Tensor.relu_}


class _ModifiedReLUs(TorchFunctionMode):
    """A torch function mode in which every ReLU call computes ``rule.apply(z)`` instead.

    Forward values are unchanged. An in-place ReLU writes its result into its input, as it
    would have (code may rely on that), after ``rule`` has seen the input.
    """

    def __init__(self, rule) -> None:
        super().__init__()
        self.rule = rule
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _RELUS or func in _INPLACE_RELUS:
            z = args[0] if args else kwargs["input"]
            inplace = func in _INPLACE_RELUS or bool(
                args[1] if len(args) > 1 else kwargs.get("inplace", False)
            )
            if isinstance(z, torch.Tensor) and z.is_floating_point():
                self.calls += 1
                out = self.rule.apply(z)
                return z.copy_(out) if inplace else out
        return func(*args, **kwargs)


# --------------------------------------------------------------------------- Grad-CAM


@attribution_method("grad_cam", family="propagation", returns="pixels")
def grad_cam(model, x, target=None, *, layer=None, upsample: bool = True):
    """ReLU(sum_k alpha_k A^k) at ``layer``: (N, 1, H, W), or (N, 1, h, w) with ``upsample=False``.

    ``layer`` is a module of the model or its dotted name (as in ``named_modules()``); None
    takes the last ``nn.Conv2d``. Its output must be (N, C, h, w) and it must run once per
    forward pass. The map is upsampled bilinearly (align_corners=False) to x's H x W.
    """
    check_image_batch(x)
    if not isinstance(upsample, bool):
        raise ValueError(f"upsample must be True or False, got {upsample!r}")
    activation, grad = _activation_and_gradient(
        model, x, target, _cam_layer(model, layer)
    )  # (N, C, h, w) each
    alpha = grad.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    cam = (alpha * activation).sum(dim=1, keepdim=True).clamp_min(0)  # (N, 1, h, w)
    if upsample:
        cam = F.interpolate(
            cam, size=x.shape[-2:], mode="bilinear", align_corners=False
        )  # (N, 1, H, W)
    return cam.to(x.dtype)


@attribution_method("guided_grad_cam", family="propagation")
def guided_grad_cam(model, x, target=None, *, layer=None):
    """Guided Backprop times the upsampled Grad-CAM map of ``layer``: shaped like x."""
    check_image_batch(x)
    return guided_backprop(model, x, target) * grad_cam(model, x, target, layer=layer)


def _cam_layer(model: nn.Module, layer) -> nn.Module:
    if layer is not None:
        return find_module(model, layer)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(
            "the model has no nn.Conv2d layer; pass layer= (a module or its dotted name)"
        )
    return convs[-1]


def _activation_and_gradient(
    model, x, target, layer: nn.Module
) -> tuple[torch.Tensor, torch.Tensor]:
    """The output A of ``layer`` on x and d f_target / d A, both (N, C, h, w).

    A is cut from the graph below it, so the backward pass stops at the layer and works
    whatever the parameters' requires_grad flags.
    """
    activations = []

    def capture(module, args, output):
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            shape = (
                tuple(output.shape)
                if isinstance(output, torch.Tensor)
                else type(output).__name__
            )
            raise ValueError(
                f"Grad-CAM needs a layer whose output is (N, C, h, w); the chosen "
                f"{type(module).__name__} gives {shape}"
            )
        activation = output.detach().requires_grad_(True)
        activations.append(activation)
        # the network goes on with a copy: an in-place op after the layer (ReLU(inplace=True)) would
        # otherwise overwrite A and differentiate with respect to its own output
        return activation.clone()

    with Hooks() as hooks, torch.enable_grad():
        hooks.add(layer.register_forward_hook(capture))
        output = run_model(model, x)
        if len(activations) != 1:
            raise ValueError(
                f"the chosen {type(layer).__name__} ran {len(activations)} times in one forward "
                "pass; Grad-CAM needs a layer that runs exactly once"
            )
        selected, _ = select_outputs(output, target)
        (grad,) = torch.autograd.grad(selected.sum(), activations[0])
    return activations[0].detach(), grad
