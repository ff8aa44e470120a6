"""Self-explaining models: the GAM's and the bag of local features' explanations are exact."""

import pytest
import torch
from torch import nn

from xai_lib import models
from xai_lib.models import fit
from xai_lib.self_explaining import (
    GAM,
    BagOfLocalFeatures,
    Window,
    receptive_field,
)

from .helpers import assert_untouched, snapshot


def gam(features=5, classes=3, seed=0) -> GAM:
    torch.manual_seed(seed)
    model = GAM(features, classes, hidden=8).double()
    with (
        torch.no_grad()
    ):  # non-zero constants, so that the bias matters in the sums below
        model.bias2.normal_()
        model.bias.normal_()
    return model


def batch(n=6, d=5, seed=1) -> torch.Tensor:
    return torch.randn(
        n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


# --------------------------------------------------------------------------- the GAM


def test_gam_explanation_sums_to_the_output_minus_the_bias():
    model, x = gam(), batch()
    out = model(x)
    for target in (0, 2):
        r = model.explain(x, target)
        assert r.shape == x.shape and r.dtype == x.dtype and not r.requires_grad
        torch.testing.assert_close(
            r.sum(1), out[:, target] - model.bias[target].detach()
        )


def test_gam_explains_the_predicted_class_by_default():
    model, x = gam(), batch()
    predicted = model(x).argmax(1)
    torch.testing.assert_close(model.explain(x), model.explain(x, predicted))


def test_gam_contribution_depends_on_its_own_feature_only():
    model, x = gam(), batch()
    moved = x.clone()
    moved[:, 3] += 1.5
    change = (model.explain(moved, 1) - model.explain(x, 1)).abs()
    assert change[:, 3].min() > 0
    assert torch.equal(
        change[:, [0, 1, 2, 4]], torch.zeros_like(change[:, [0, 1, 2, 4]])
    )


def test_gam_shape_functions_are_its_contributions_on_a_grid():
    model = gam()
    grid = torch.linspace(-3, 3, 7, dtype=torch.float64)
    shapes = model.shape_functions(grid)  # (7, D, K)
    assert shapes.shape == (7, 5, 3)
    torch.testing.assert_close(
        shapes[:, 2, 1], model.contributions(grid[:, None].expand(-1, 5))[:, 2, 1]
    )


def test_centering_keeps_the_outputs_and_zeroes_the_mean_contributions():
    model, x = gam(), batch(n=40)
    before = model(x).detach()
    model.center_(x)
    torch.testing.assert_close(model(x).detach(), before)
    torch.testing.assert_close(
        model.contributions(x).mean(0).detach(), torch.zeros(5, 3, dtype=torch.float64)
    )


def test_gam_explain_leaves_the_model_untouched_and_works_without_grad():
    model, x = gam(), batch()
    model.train()
    before = snapshot(model)
    with torch.no_grad():
        model.explain(x)
    assert_untouched(model, before)


@pytest.mark.parametrize(
    "x, target, message",
    [
        (torch.randn(4, 3, dtype=torch.float64), None, r"shape \(N, 5\)"),
        (torch.randn(5, dtype=torch.float64), None, "batch first"),
        (torch.ones(2, 5, dtype=torch.long), None, "floating-point"),
        (torch.randn(2, 5, dtype=torch.float64), 3, "out of range"),
    ],
)
def test_gam_rejects_bad_inputs(x, target, message):
    model = gam()
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.explain(x, target)
    assert_untouched(model, before)


def test_gam_rejects_bad_sizes_and_grids():
    with pytest.raises(ValueError, match="features"):
        GAM(0)
    with pytest.raises(ValueError, match="1-D floating-point"):
        gam().shape_functions(torch.zeros(3, 2))


# --------------------------------------------------------------------------- receptive fields


@pytest.mark.parametrize(
    "trunk, window",
    [
        (nn.Conv2d(3, 4, 5), Window(5, 1, 0)),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
            Window(4, 2, 1),
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 4, 3, dilation=2)),
            Window(11, 2, 0),
        ),
        (
            models.CNN().features,
            Window(22, 8, 7),
        ),  # 3 + 1, + 2 * 2 + 2, + 4 * 2 + 4 pixels; padding 1 + 2 + 4
    ],
)
def test_receptive_field_of_known_stacks(trunk, window):
    assert receptive_field(trunk) == window


def test_receptive_field_matches_the_gradient_support():
    torch.manual_seed(0)
    trunk = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.AvgPool2d(2),
        nn.Conv2d(2, 1, 5, stride=2, padding=2),
    ).double()
    size, stride, offset = receptive_field(trunk)
    x = torch.randn(1, 1, 24, 24, dtype=torch.float64, requires_grad=True)
    out = trunk(x)
    for a, b in ((0, 0), (1, 2), (out.shape[2] - 1, out.shape[3] - 1)):
        (grad,) = torch.autograd.grad(out[0, 0, a, b], x, retain_graph=True)
        rows = grad[0, 0].abs().sum(1).nonzero()[:, 0]
        cols = grad[0, 0].abs().sum(0).nonzero()[:, 0]
        top, left = a * stride - offset, b * stride - offset
        assert rows.min() == max(top, 0) and rows.max() == min(top + size, 24) - 1
        assert cols.min() == max(left, 0) and cols.max() == min(left + size, 24) - 1


@pytest.mark.parametrize(
    "trunk, message",
    [
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), "cannot follow a Flatten"),
        (nn.Conv2d(1, 1, (3, 5)), "square kernels only"),
        (nn.Conv2d(1, 1, 3, padding="same"), "numeric padding"),
    ],
)
def test_receptive_field_rejects_what_it_cannot_follow(trunk, message):
    with pytest.raises(ValueError, match=message):
        receptive_field(trunk)


# --------------------------------------------------------------------------- bag of local features


def bag(layers=5, seed=0) -> BagOfLocalFeatures:
    torch.manual_seed(seed)
    cnn = models.CNN(channels=(4, 6, 8), hidden=8).double().eval()
    return BagOfLocalFeatures.on_cnn(cnn, layers, hidden=8)


def images(n=3, size=20, seed=2) -> torch.Tensor:
    return torch.rand(
        n,
        3,
        size,
        size,
        generator=torch.Generator().manual_seed(seed),
        dtype=torch.float64,
    )


@pytest.mark.parametrize("layers", [2, 5, 9])
def test_evidence_map_averages_to_the_logit(layers):
    model, x = bag(layers), images()
    torch.testing.assert_close(model.evidence(x).mean((2, 3)), model(x))


@pytest.mark.parametrize("layers", [2, 5, 9])
def test_pixel_explanation_sums_to_the_logit(layers):
    model, x = bag(layers), images()
    out = model(x).detach()
    r = model.explain(x, 4)
    assert r.shape == (3, 1, 20, 20) and r.dtype == x.dtype and not r.requires_grad
    torch.testing.assert_close(r.sum((1, 2, 3)), out[:, 4])
    torch.testing.assert_close(model.explain(x), model.explain(x, out.argmax(1)))


def test_pixel_relevance_spreads_each_window_over_its_own_pixels():
    model, x = bag(5), images(n=1)
    maps = model.evidence(x).detach()  # (1, K, h, w)
    size, stride, offset = model.window
    one_window = torch.zeros_like(maps[:, :1])
    one_window[0, 0, 2, 3] = 1.0
    model.evidence = lambda x: one_window.expand(
        -1, maps.shape[1], -1, -1
    )  # evidence 1 in one window only
    r = model.explain(x, 0)[0, 0]
    top, left = 2 * stride - offset, 3 * stride - offset
    inside = torch.zeros_like(r, dtype=torch.bool)
    inside[max(top, 0) : top + size, max(left, 0) : left + size] = True
    assert (r[inside] > 0).all() and (r[~inside] == 0).all()
    torch.testing.assert_close(
        r.sum(), torch.tensor(1.0 / one_window.numel(), dtype=r.dtype)
    )


def test_evidence_depends_only_on_the_window():
    model, x = bag(5), images(n=1, size=24)
    size, stride, offset = model.window
    moved = x.clone()
    moved[:, :, 16:, 16:] = (
        0.5  # far from window (0, 0), which covers pixels up to size - offset
    )
    before, after = model.evidence(x).detach(), model.evidence(moved).detach()
    assert torch.equal(before[..., 0, 0], after[..., 0, 0])
    assert not torch.equal(before[..., -1, -1], after[..., -1, -1])


def test_on_cnn_copies_a_frozen_trunk_and_leaves_the_cnn_untouched():
    torch.manual_seed(0)
    cnn = models.CNN(channels=(4, 6, 8), hidden=8)
    before = snapshot(cnn)
    model = BagOfLocalFeatures.on_cnn(cnn, 8)
    assert model.window == Window(18, 4, 7)
    assert not any(p.requires_grad for p in model.trunk.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    with torch.no_grad():
        model.trunk[0].weight.add_(1.0)
    assert_untouched(cnn, before)


def test_fit_trains_the_head_only():
    model = bag(5).float()
    trunk = {k: v.clone() for k, v in model.trunk.state_dict().items()}
    x = torch.rand(48, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.arange(48) % 6
    x[y == 0, 0] += 1.0  # a learnable signal: class 0 is redder
    losses = model.fit(x, y, epochs=8, lr=1e-2, batch_size=24)
    assert len(losses) == 8 and losses[-1] < losses[0]
    assert all(torch.equal(v, model.trunk.state_dict()[k]) for k, v in trunk.items())
    assert not model.training


def test_bag_explain_leaves_the_model_untouched():
    model, x = bag(5), images()
    model.train()
    before = snapshot(model)
    model.explain(x)
    assert_untouched(model, before)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: bag(5).explain(torch.rand(2, 3, 16, dtype=torch.float64)),
            r"\(N, C, H, W\)",
        ),
        (lambda: bag(5).explain(images(), 6), "out of range"),
        (
            lambda: BagOfLocalFeatures.on_cnn(nn.Conv2d(3, 3, 3), 2),
            "xai_lib.models.CNN",
        ),
        (lambda: BagOfLocalFeatures.on_cnn(models.CNN(), 10), "from 1 to 9"),
        (lambda: BagOfLocalFeatures(nn.Linear(3, 3), 3, 2), "cannot follow a Linear"),
    ],
)
def test_bag_rejects_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- training


def toy_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long()


@pytest.mark.parametrize("outputs", [1, 2])
def test_fit_learns_and_is_reproducible(outputs):
    x, y = toy_problem()
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(2, outputs)
        losses = fit(model, x, y, epochs=20, lr=0.05, batch_size=16, seed=3)
        states.append(model.state_dict())
        assert losses[-1] < 0.5 * losses[0] and not model.training
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": torch.zeros(5, dtype=torch.long)}, r"shape \(64,\)"),
        ({"y": torch.zeros(64)}, "integer labels"),
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, message):
    x, y = toy_problem()
    arguments = {"y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        fit(nn.Linear(2, 2), x, **arguments)
