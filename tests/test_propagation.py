"""Deconvnet, Guided Backprop, Grad-CAM and Guided Grad-CAM against captum, pytorch-grad-cam and
analytic cases; in-place and reused ReLU modules; hooks and model state after errors."""

import copy

import numpy as np
import pytest
import torch
from captum.attr import (
    Deconvolution,
    GuidedBackprop,
    GuidedGradCam,
    LayerAttribution,
    LayerGradCam,
)
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn
from torch.nn import functional as F

import xai_lib as xl
from tests.helpers import (
    assert_untouched,
    small_cnn,
    snapshot,
    torchvision_model,
)

RELU_METHODS = {
    "deconvnet": (xl.deconvnet, Deconvolution),
    "guided_backprop": (xl.guided_backprop, GuidedBackprop),
}


@pytest.fixture
def cnn_and_images():
    model = small_cnn().eval()
    x = torch.randn(
        3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    return model, x


class ReLUNet(nn.Module):
    """Conv-ReLU-Conv-ReLU-pool-Linear-ReLU-Linear with the same weights for any ReLU arrangement.

    ``relus``: "separate" (three nn.ReLU), "inplace" (three nn.ReLU(inplace=True)), "shared" (one
    nn.ReLU called three times), "shared_inplace", or "side_effect" (one shared in-place ReLU whose
    result the forward pass reads back from the input it overwrote).
    """

    def __init__(self, relus: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1, self.conv2 = (
            nn.Conv2d(3, 6, 3, padding=1),
            nn.Conv2d(6, 6, 3, padding=1),
        )
        self.fc1, self.fc2 = nn.Linear(6 * 4 * 4, 12), nn.Linear(12, 4)
        self.style = relus
        inplace = relus in ("inplace", "shared_inplace", "side_effect")
        if relus in ("separate", "inplace"):
            self.relus = nn.ModuleList([nn.ReLU(inplace=inplace) for _ in range(3)])
        else:
            shared = nn.ReLU(inplace=inplace)
            self.relus = nn.ModuleList([shared, shared, shared])
        self.double()

    def forward(self, x):
        h = self.conv1(x)
        if self.style == "side_effect":
            self.relus[0](h)  # relies on the in-place update of h
        else:
            h = self.relus[0](h)
        h = nn.functional.max_pool2d(self.relus[1](self.conv2(h)), 2).flatten(1)
        return self.fc2(self.relus[2](self.fc1(h)))


# --------------------------------------------------------------------------- Deconvnet, Guided Backprop


@pytest.mark.parametrize("name", RELU_METHODS)
def test_modified_relu_equals_captum(name, cnn_and_images):
    model, x = cnn_and_images
    ours, theirs = RELU_METHODS[name]
    with pytest.warns(UserWarning):  # captum warns that it sets hooks
        expected = theirs(model).attribute(x, target=torch.tensor([0, 3, 4]))
    torch.testing.assert_close(ours(model, x, [0, 3, 4]), expected, rtol=0, atol=1e-12)


def test_modified_relu_analytic_one_hidden_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 9), nn.ReLU(), nn.Linear(9, 3)).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    w1, b1, w2 = model[0].weight, model[0].bias, model[2].weight[1]
    active = (x @ w1.T + b1 > 0).double()  # (N, hidden)
    positive = w2.clamp_min(0)  # (hidden,)
    # Deconvnet ignores the forward pass: the same map for every input
    torch.testing.assert_close(
        xl.deconvnet(model, x, 1),
        (positive @ w1).expand(4, -1).detach(),
        rtol=0,
        atol=1e-12,
    )
    torch.testing.assert_close(
        xl.guided_backprop(model, x, 1),
        ((active * positive) @ w1).detach(),
        rtol=0,
        atol=1e-12,
    )
    torch.testing.assert_close(
        xl.saliency(model, x, 1), ((active * w2) @ w1).detach(), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("name", RELU_METHODS)
@pytest.mark.parametrize(
    "relus", ["inplace", "shared", "shared_inplace", "side_effect"]
)
def test_inplace_and_reused_relu_give_the_plain_result(name, relus):
    method = RELU_METHODS[name][0]
    plain, variant = ReLUNet("separate"), ReLUNet(relus)
    x = torch.randn(
        3, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(variant(x), plain(x))
    before = snapshot(variant)
    torch.testing.assert_close(
        method(variant, x, 2), method(plain, x, 2), rtol=0, atol=1e-12
    )
    assert_untouched(variant, before)
    assert not torch.equal(method(plain, x, 2), xl.saliency(plain, x, 2))


@pytest.fixture(scope="module")
def resnet_float64():
    return copy.deepcopy(torchvision_model("resnet18")).double()


@pytest.mark.parametrize("name", RELU_METHODS)
def test_modified_relu_on_resnet_equals_captum(name, resnet_float64):
    """torchvision's ResNet: in-place ReLUs, one module used twice per block, BatchNorm, skips."""
    x = torch.randn(
        2, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    ours, theirs = RELU_METHODS[name]
    with pytest.warns(UserWarning):
        expected = theirs(resnet_float64).attribute(x, target=3)
    torch.testing.assert_close(
        ours(resnet_float64, x, 3), expected, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", RELU_METHODS)
def test_warns_without_any_relu(name):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Softplus(), nn.Linear(6, 2)).double()
    x = torch.randn(3, 4, dtype=torch.float64)
    with pytest.warns(UserWarning, match="applied no ReLU"):
        a = RELU_METHODS[name][0](model, x, 0)
    torch.testing.assert_close(a, xl.saliency(model, x, 0))


class _MixedReLUs(nn.Module):
    """Conv-ReLU module, then a ReLU applied as a function: `how` picks which function."""

    def __init__(self, how: str):
        super().__init__()
        self.how = how
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3)
        self.relu2 = nn.ReLU(inplace=True)
        self.linear = nn.Linear(4 * 12 * 12, 3)

    def forward(self, x):
        h = self.conv2(self.relu(self.conv1(x)))
        if self.how == "module":
            h = self.relu2(h)
        elif self.how == "F.relu":
            h = F.relu(h)
        elif self.how == "F.relu_inplace":
            F.relu(h, inplace=True)
        elif self.how == "torch.relu":
            h = torch.relu(h)
        else:  # "Tensor.relu_"
            h.relu_()
        return self.linear(h.flatten(1))


@pytest.mark.parametrize("name", [*RELU_METHODS, "guided_grad_cam"])
@pytest.mark.parametrize(
    "how", ["F.relu", "F.relu_inplace", "torch.relu", "Tensor.relu_"]
)
def test_functional_relus_are_modified_like_modules(name, how):
    """Issue 15.3: a model mixing nn.ReLU and F.relu was modified at the modules only."""
    torch.manual_seed(0)
    modules = _MixedReLUs("module").double()
    functional = _MixedReLUs(how).double()
    functional.load_state_dict(modules.state_dict())
    x = torch.randn(3, 3, 16, 16, dtype=torch.float64)
    expected = xl.METHODS[name](modules, x, 0)
    assert not torch.allclose(expected, xl.saliency(modules, x, 0))
    torch.testing.assert_close(xl.METHODS[name](functional, x, 0), expected)


# --------------------------------------------------------------------------- Grad-CAM


def captum_grad_cam(model, layer, x, target, size=None):
    cam = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
    return cam if size is None else LayerAttribution.interpolate(cam, size, "bilinear")


def test_grad_cam_equals_captum(cnn_and_images):
    model, x = cnn_and_images
    target = torch.tensor([1, 0, 4])
    # default layer: the last Conv2d
    torch.testing.assert_close(
        xl.grad_cam(model, x, target),
        captum_grad_cam(model, model[3], x, target, (16, 16)),
        rtol=0,
        atol=1e-12,
    )
    low = xl.grad_cam(model, x, target, layer="0", upsample=False)
    assert low.shape == (3, 1, 16, 16)
    torch.testing.assert_close(
        low, captum_grad_cam(model, model[0], x, target), rtol=0, atol=1e-12
    )
    pooled = xl.grad_cam(model, x, target, layer=model[2], upsample=False)
    assert pooled.shape == (3, 1, 8, 8)
    torch.testing.assert_close(
        pooled, captum_grad_cam(model, model[2], x, target), rtol=0, atol=1e-12
    )


def test_grad_cam_on_resnet_equals_captum(resnet_float64):
    x = torch.randn(
        1, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(
        xl.grad_cam(resnet_float64, x, 5, layer="layer3"),
        captum_grad_cam(resnet_float64, resnet_float64.layer3, x, 5, (64, 64)),
        rtol=1e-9,
        atol=1e-12,
    )


def test_grad_cam_equals_pytorch_grad_cam_after_its_normalization(cnn_and_images):
    """pytorch-grad-cam rescales each map to [0, 1] and resizes with OpenCV (bilinear, half-pixel
    centres, float32): the same as ours up to that min-max scaling."""
    model, x = cnn_and_images
    with GradCAM(model=model, target_layers=[model[3]]) as cam:
        theirs = cam(
            input_tensor=x, targets=[ClassifierOutputTarget(c) for c in (1, 0, 4)]
        )  # (N, H, W)
    ours = xl.grad_cam(model, x, [1, 0, 4])[:, 0].numpy()
    low = ours.min(axis=(1, 2), keepdims=True)
    high = ours.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose((ours - low) / (high - low), theirs, rtol=0, atol=1e-5)


def test_grad_cam_with_inplace_relu_after_the_layer():
    x = torch.randn(
        2, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    plain, inplace = small_cnn().eval(), small_cnn(inplace=True).eval()
    torch.testing.assert_close(
        xl.grad_cam(inplace, x, 1), xl.grad_cam(plain, x, 1), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        xl.guided_grad_cam(inplace, x, 1),
        xl.guided_grad_cam(plain, x, 1),
        rtol=0,
        atol=1e-12,
    )


def test_grad_cam_needs_no_parameter_gradients(cnn_and_images):
    model, x = cnn_and_images
    expected = xl.grad_cam(model, x, 2)
    for p in model.parameters():
        p.requires_grad_(False)
    torch.testing.assert_close(xl.grad_cam(model, x, 2), expected)
    assert not any(p.requires_grad for p in model.parameters())


def test_guided_grad_cam_equals_captum(cnn_and_images):
    model, x = cnn_and_images
    target = torch.tensor([2, 2, 0])
    with pytest.warns(UserWarning):
        expected = GuidedGradCam(model, model[3]).attribute(
            x, target=target, interpolate_mode="bilinear"
        )
    torch.testing.assert_close(
        xl.guided_grad_cam(model, x, target), expected, rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        xl.guided_grad_cam(model, x, target, layer="3"), expected, rtol=0, atol=1e-12
    )


class TwiceConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.conv(torch.relu(self.conv(x))).mean(dim=(2, 3)))


@pytest.mark.parametrize(
    "model_factory, options, message",
    [
        (
            lambda: small_cnn(),
            {"layer": "features.9"},
            "no submodule named 'features.9'; valid names include",
        ),
        (lambda: small_cnn(), {"layer": nn.Conv2d(3, 8, 3)}, "not a submodule"),
        (lambda: small_cnn(), {"layer": 3}, "module or its dotted name"),
        (
            lambda: small_cnn(),
            {"layer": "6"},
            r"\(N, C, h, w\).*Flatten gives \(3, 32\)",
        ),
        (lambda: small_cnn(), {"layer": "7"}, r"\(N, C, h, w\)"),
        (lambda: small_cnn(), {"upsample": "yes"}, "upsample"),
        (
            lambda: nn.Sequential(nn.Flatten(), nn.Linear(768, 2)).double(),
            {},
            "no nn.Conv2d",
        ),
        (lambda: TwiceConv().double(), {}, "ran 2 times"),
    ],
)
def test_grad_cam_errors_leave_no_hooks(
    model_factory, options, message, cnn_and_images
):
    model, x = model_factory(), cnn_and_images[1]
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        xl.grad_cam(model, x, 0, **options)
    assert_untouched(model, before)


def test_layer_error_lists_valid_names():
    model = torchvision_model("resnet18")
    with pytest.raises(ValueError, match="layer4") as error:
        xl.grad_cam(model, torch.rand(1, 3, 32, 32), layer="layer_4")
    assert "layer4" in str(error.value)


# --------------------------------------------------------------------------- all four


@pytest.mark.parametrize("architecture", ["vgg11", "resnet18"])
def test_torchvision_models(architecture):
    model = torchvision_model(architecture)
    before = snapshot(model)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for name in ("deconvnet", "guided_backprop", "guided_grad_cam"):
        a = xl.METHODS[name](model, x)
        assert a.shape == x.shape and torch.isfinite(a).all() and a.abs().sum() > 0
    cam = xl.grad_cam(
        model, x, layer="features.8" if architecture == "vgg11" else "layer2"
    )
    assert (
        cam.shape == (2, 1, 32, 32) and torch.isfinite(cam).all() and (cam >= 0).all()
    )
    assert_untouched(model, before)


@pytest.mark.parametrize(
    "model_factory",
    [
        lambda: xl.models.CNN(),
        lambda: xl.models.ResNet(),
        lambda: xl.models.ResNet(bn=False, skip=False),
    ],
)
def test_project_models(model_factory):
    torch.manual_seed(0)
    model = model_factory().eval()
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for name in ("deconvnet", "guided_backprop", "guided_grad_cam"):
        a = xl.METHODS[name](model, x)
        assert a.shape == x.shape and torch.isfinite(a).all() and a.abs().sum() > 0
    cam = xl.grad_cam(model, x)
    assert (
        cam.shape == (2, 1, 32, 32) and torch.isfinite(cam).all() and (cam >= 0).all()
    )
