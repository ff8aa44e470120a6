"""Occlusion and RISE against captum, analytic cases, the RISE paper's masks and hand-built models."""

import numpy as np
import pytest
import torch
from captum.attr import Occlusion
from skimage.transform import resize
from torch import nn

import xai_lib as xl
from tests.helpers import (
    assert_untouched,
    small_cnn,
    snapshot,
    torchvision_model,
)
from xai_lib.methods.perturbation import _RiseMasks


class LooksAt(nn.Module):
    """Two logits: gain * (mean of x over a rectangle, all channels, minus offset) and 0."""

    def __init__(
        self, rows: slice, cols: slice, gain: float = 1.0, offset: float = 0.0
    ) -> None:
        super().__init__()
        self.rows, self.cols, self.gain, self.offset = rows, cols, gain, offset

    def forward(self, x):
        score = self.gain * (
            x[:, :, self.rows, self.cols].mean(dim=(1, 2, 3)) - self.offset
        )
        return torch.stack([score, torch.zeros_like(score)], dim=1)


def captum_occlusion(model, x, target, window, steps, baseline):
    """captum's Occlusion in float64: its sums of drops over its count of windows covering each pixel.

    (Its own averaging divides after a cast to float32.) The counts come from captum too, as the
    "drops" of a function that falls by one whenever anything in the input changed.
    """
    options = {
        "sliding_window_shapes": (x.shape[1], *window),
        "strides": (x.shape[1], *steps),
        "baselines": baseline,
    }
    sums = Occlusion(model)
    sums.use_weights = False
    counts = Occlusion(lambda z: -(z != x).flatten(1).any(1).to(z.dtype))
    counts.use_weights = False
    return sums.attribute(
        x, target=target, perturbations_per_eval=7, **options
    ) / counts.attribute(x, **options)


@pytest.fixture
def cnn_and_images():
    model = small_cnn().eval()
    x = torch.randn(
        3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    return model, x


# --------------------------------------------------------------------------- occlusion


@pytest.mark.parametrize(
    "patch, stride", [(4, 2), (3, 2), (5, 3), ((2, 4), (1, 3)), (4, None), (16, 1)]
)
def test_occlusion_equals_captum(cnn_and_images, patch, stride):
    model, x = cnn_and_images
    window = patch if isinstance(patch, tuple) else (patch, patch)
    steps = (
        window
        if stride is None
        else stride
        if isinstance(stride, tuple)
        else (stride, stride)
    )
    ours = xl.occlusion(model, x, [0, 1, 2], patch=patch, stride=stride, value=0.3)
    theirs = captum_occlusion(model, x, torch.tensor([0, 1, 2]), window, steps, 0.3)
    assert ours.shape == (3, 1, 16, 16)
    torch.testing.assert_close(
        theirs, theirs[:, :1].expand_as(theirs)
    )  # all channels occluded together
    torch.testing.assert_close(ours, theirs[:, :1], rtol=0, atol=1e-12)
    averaged = Occlusion(model).attribute(
        x,
        sliding_window_shapes=(3, *window),
        strides=(3, *steps),
        baselines=0.3,
        target=torch.tensor([0, 1, 2]),
    )
    torch.testing.assert_close(ours.float(), averaged[:, :1])


def test_occlusion_baseline_tensor_equals_captum(cnn_and_images):
    model, x = cnn_and_images
    baseline = torch.rand(
        1, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    ours = xl.occlusion(model, x, 1, patch=4, stride=2, baseline=baseline)
    theirs = captum_occlusion(model, x, 1, (4, 4), (2, 2), baseline)
    torch.testing.assert_close(ours, theirs[:, :1], rtol=0, atol=1e-12)
    constant = torch.full((1, 3, 1, 1), 0.3, dtype=torch.float64)
    torch.testing.assert_close(
        xl.occlusion(model, x, 1, patch=4, baseline=constant),
        xl.occlusion(model, x, 1, patch=4, value=0.3),
        rtol=0,
        atol=1e-12,
    )


def test_occlusion_of_single_pixels_is_gradient_x_input_for_a_linear_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4)).double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    expected = xl.aggregate(
        xl.gradient_x_input(model, x, 3), "sum"
    )  # sum_c w_c x_c per pixel
    torch.testing.assert_close(
        xl.occlusion(model, x, 3, patch=1), expected, rtol=0, atol=1e-12
    )


def test_occlusion_sees_only_the_region_the_model_looks_at():
    model = LooksAt(slice(4, 8), slice(8, 12)).double()
    x = (
        torch.rand(
            2,
            3,
            16,
            16,
            dtype=torch.float64,
            generator=torch.Generator().manual_seed(0),
        )
        + 0.5
    )
    a = xl.occlusion(model, x, 0, patch=4, stride=4)
    # with stride = patch the windows tile the image: exactly one window holds the region
    expected = torch.zeros_like(a)
    expected[:, :, 4:8, 8:12] = model(x)[:, 0, None, None, None]
    torch.testing.assert_close(a, expected, rtol=0, atol=1e-12)


def test_occlusion_same_for_any_batch_size_and_gaps_score_zero(cnn_and_images):
    model, x = cnn_and_images
    reference = xl.occlusion(model, x, 2, patch=3, stride=2)
    for batch_size in (1, 5, 64, 10_000):
        torch.testing.assert_close(
            xl.occlusion(model, x, 2, patch=3, stride=2, batch_size=batch_size),
            reference,
            rtol=0,
            atol=1e-12,
        )
    gaps = xl.occlusion(
        model, x, 2, patch=2, stride=4
    )  # windows at 0, 4, 8, 12: pixels 2-3, 6-7, ... uncovered
    assert gaps[:, :, 2:4].abs().max() == 0 and gaps[:, :, :, 6:8].abs().max() == 0
    assert gaps[:, :, :2, :2].abs().max() > 0


def test_occlusion_default_target_is_argmax(cnn_and_images):
    model, x = cnn_and_images
    torch.testing.assert_close(
        xl.occlusion(model, x, patch=4),
        xl.occlusion(model, x, model(x).argmax(1), patch=4),
    )


@pytest.mark.parametrize(
    "options",
    [
        {"patch": 0},
        {"patch": (2,)},
        {"patch": "4"},
        {"patch": 17},
        {"patch": (4, 20)},
        {"patch": 2.5},
        {"stride": 0},
        {"stride": (1, 0)},
        {"value": torch.tensor(0.5)},
        {"value": float("nan")},
        {"value": True},
        {"value": 0.5, "baseline": torch.zeros(1, 3, 1, 1)},
        {"baseline": torch.zeros(2, 3, 5, 5)},
        {"batch_size": 0},
    ],
)
def test_occlusion_rejects_bad_options(cnn_and_images, options):
    model, x = cnn_and_images
    with pytest.raises(ValueError):
        xl.occlusion(model, x, 0, **options)


# --------------------------------------------------------------------------- RISE


def test_rise_masks_follow_the_paper():
    """Upsampled with skimage as in the paper's code and cropped at the same shifts: the same masks,
    except within half a cell of the upsampled grid's edge (skimage reflects there, torch repeats)."""
    size, cell = (20, 28), 4
    masks = _RiseMasks(size, 50, cell, 0.5, 0, "cpu", torch.float64)
    ours = masks(0, 50)[:, 0].numpy()
    cell_h, cell_w = masks.cell_size  # 5 and 7
    assert masks.upsampled == ((cell + 1) * cell_h, (cell + 1) * cell_w)
    for m in range(50):
        paper = resize(
            masks.grids[m, 0].numpy(),
            masks.upsampled,
            order=1,
            mode="reflect",
            anti_aliasing=False,
        )
        top, left = masks.shifts[m].tolist()
        assert 0 <= top < cell_h and 0 <= left < cell_w
        crop = paper[top : top + size[0], left : left + size[1]]
        rows = slice(
            cell_h // 2 + 1 - top, masks.upsampled[0] - cell_h // 2 - 1 - top
        )  # clear of the edges
        cols = slice(
            cell_w // 2 + 1 - left, masks.upsampled[1] - cell_w // 2 - 1 - left
        )
        rows, cols = (
            slice(max(0, rows.start), rows.stop),
            slice(max(0, cols.start), cols.stop),
        )
        np.testing.assert_allclose(
            ours[m][rows, cols], crop[rows, cols], rtol=0, atol=1e-12
        )
    assert len({tuple(s) for s in masks.shifts.tolist()}) > 10  # the shifts vary


def test_rise_masks_statistics():
    masks = xl.rise_masks((32, 32), 2000, cell=8, p=0.3, seed=0, dtype=torch.float64)
    assert masks.shape == (2000, 1, 32, 32)
    assert masks.min() >= 0 and masks.max() <= 1
    assert (
        abs(masks.mean().item() - 0.3) < 0.01
    )  # bilinear weights sum to one: E[M(u)] = p
    torch.testing.assert_close(
        masks, xl.rise_masks((32, 32), 2000, cell=8, p=0.3, seed=0, dtype=torch.float64)
    )
    assert not torch.equal(
        masks, xl.rise_masks((32, 32), 2000, cell=8, p=0.3, seed=1, dtype=torch.float64)
    )
    torch.testing.assert_close(
        xl.rise_masks((32, 32), 5, p=1.0), torch.ones(5, 1, 32, 32)
    )


@pytest.mark.parametrize("probabilities", [True, False])
def test_rise_equals_its_formula(cnn_and_images, probabilities):
    model, x = cnn_and_images
    n_masks, p = 40, 0.4
    masks = xl.rise_masks(
        (16, 16), n_masks, cell=4, p=p, seed=7, dtype=torch.float64
    )  # (M, 1, H, W)
    target = torch.tensor([4, 0, 2])
    expected = []
    for image, t in zip(x, target):
        outputs = model(image * masks)  # (M, classes)
        scores = (outputs.softmax(1) if probabilities else outputs)[:, t]  # (M,)
        expected.append((scores[:, None, None, None] * masks).sum(0) / (n_masks * p))
    ours = xl.rise(
        model,
        x,
        target,
        n_masks=n_masks,
        cell=4,
        p=p,
        seed=7,
        probabilities=probabilities,
    )
    torch.testing.assert_close(ours, torch.stack(expected).detach(), rtol=0, atol=1e-12)


def test_rise_same_seed_same_result_for_any_batch_size(cnn_and_images):
    model, x = cnn_and_images
    reference = xl.rise(model, x, 1, n_masks=30, cell=4, seed=3)
    for batch_size in (1, 4, 31, 1000):
        torch.testing.assert_close(
            xl.rise(model, x, 1, n_masks=30, cell=4, seed=3, batch_size=batch_size),
            reference,
            rtol=0,
            atol=1e-12,
        )
    assert not torch.equal(reference, xl.rise(model, x, 1, n_masks=30, cell=4, seed=4))


def test_rise_keeping_everything_gives_the_probability(cnn_and_images):
    model, x = cnn_and_images
    a = xl.rise(model, x, 3, n_masks=5, p=1.0, seed=0)  # every mask is all ones
    probability = model(x).softmax(1)[:, 3].detach()
    torch.testing.assert_close(
        a, probability[:, None, None, None].expand(-1, 1, 16, 16), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("probabilities", [True, False])
def test_rise_finds_the_region_a_model_looks_at(probabilities):
    region = (slice(4, 12), slice(20, 28))
    # the probability of class 0 rises steeply once more than half of the region is visible
    model = LooksAt(*region, gain=10.0, offset=0.5).double()
    x = torch.ones(1, 3, 32, 32, dtype=torch.float64)
    a = xl.rise(model, x, 0, n_masks=500, cell=8, seed=0, probabilities=probabilities)[
        0, 0
    ]
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[region] = True
    assert inside.flatten()[a.flatten().argmax()]
    assert a[inside].mean() > a[~inside].mean() + 3 * a[~inside].std()
    top = a.flatten().topk(int(inside.sum())).indices
    assert inside.flatten()[top].float().mean() > 0.75


@pytest.mark.parametrize(
    "options",
    [
        {"n_masks": 0},
        {"n_masks": 2.0},
        {"cell": 0},
        {"p": 0.0},
        {"p": 1.5},
        {"p": True},
        {"seed": 1.5},
        {"probabilities": "yes"},
        {"batch_size": -1},
    ],
)
def test_rise_rejects_bad_options(cnn_and_images, options):
    model, x = cnn_and_images
    with pytest.raises(ValueError):
        xl.rise(model, x, 0, **options)


# --------------------------------------------------------------------------- both


@pytest.mark.parametrize("architecture", ["vgg11", "resnet18"])
def test_torchvision_models(architecture):
    model = torchvision_model(architecture)
    before = snapshot(model)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    occluded = xl.occlusion(model, x, patch=16)
    assert occluded.shape == (2, 1, 32, 32) and torch.isfinite(occluded).all()
    saliency = xl.rise(model, x, n_masks=8, cell=4, seed=0)
    assert saliency.shape == (2, 1, 32, 32) and torch.isfinite(saliency).all()
    assert_untouched(model, before)


@pytest.mark.parametrize(
    "model_factory", [lambda: xl.models.CNN(), lambda: xl.models.ResNet()]
)
def test_project_models(model_factory):
    torch.manual_seed(0)
    model = model_factory().eval()
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(xl.occlusion(model, x, patch=8, stride=4)).all()
    assert torch.isfinite(xl.rise(model, x, n_masks=16, seed=0)).all()


def test_occlusion_never_evaluates_a_window_past_the_border():
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(x.shape[0])
            return x.flatten(1).sum(1, keepdim=True)

    x = torch.rand(1, 1, 32, 32, dtype=torch.float64)
    a = xl.occlusion(Counting(), x, 0, patch=4, stride=8)
    assert (
        sum(calls) == 1 + 4 * 4
    )  # the clean pass and the 16 windows starting at 0, 8, 16, 24
    assert a.shape == (1, 1, 32, 32)
    assert (
        a[0, 0, 28:].abs().max() == 0 and a[0, 0, :, 28:].abs().max() == 0
    )  # after the last window
    # each window's drop (the sum it removes) covers its pixels; pixels between windows score 0
    torch.testing.assert_close(a[0, 0, :4, :4], x[0, 0, :4, :4].sum().expand(4, 4))
    assert a[0, 0, 4:8].abs().max() == 0
