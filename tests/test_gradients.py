"""The gradient family against captum and against the axioms of Integrated Gradients."""

import math

import pytest
import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from torch import nn

import xai_lib as xl
from tests.helpers import relu_mlp, small_cnn


@pytest.fixture
def cnn_and_images():
    model = small_cnn().eval()
    x = torch.randn(
        4, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    return model, x


def test_saliency_equals_captum(cnn_and_images):
    model, x = cnn_and_images
    target = [0, 1, 2, 3]
    ours = xl.saliency(model, x, target)
    theirs = Saliency(model).attribute(x, target=torch.tensor(target), abs=False)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        xl.saliency(model, x, target, abs=True), theirs.abs(), rtol=0, atol=1e-12
    )


def test_gradient_x_input_equals_captum(cnn_and_images):
    model, x = cnn_and_images
    ours = xl.gradient_x_input(model, x, 2)
    theirs = InputXGradient(model).attribute(x, target=2)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)


def test_default_target_is_argmax(cnn_and_images):
    model, x = cnn_and_images
    argmax = model(x).argmax(1)
    torch.testing.assert_close(xl.saliency(model, x), xl.saliency(model, x, argmax))
    torch.testing.assert_close(
        xl.integrated_gradients(model, x, steps=8),
        xl.integrated_gradients(model, x, argmax, steps=8),
    )


def test_integrated_gradients_converges_to_captum_gauss_legendre():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 12), nn.Softplus(), nn.Linear(12, 3)).double()
    x = torch.randn(3, 5, dtype=torch.float64)
    baseline = torch.randn(1, 5, dtype=torch.float64)
    theirs = IntegratedGradients(model).attribute(
        x, baselines=baseline, target=1, n_steps=200
    )
    errors = [
        (xl.integrated_gradients(model, x, 1, baseline=baseline, steps=s) - theirs)
        .abs()
        .max()
        .item()
        for s in (4, 16, 64, 256)
    ]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-5
    ours_gl = xl.integrated_gradients(
        model, x, 1, baseline=baseline, steps=200, rule="gausslegendre"
    )
    torch.testing.assert_close(ours_gl, theirs, rtol=0, atol=1e-8)


@pytest.mark.parametrize("rule", ["midpoint", "trapezoid", "gausslegendre"])
def test_integrated_gradients_completeness_on_smooth_model(rule):
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 16),
        nn.Tanh(),
        nn.Linear(16, 16),
        xl.activations.SoftplusBeta(3.0),
        nn.Linear(16, 4),
    ).double()
    x = torch.randn(5, 6, dtype=torch.float64)
    baseline = torch.full((1, 6), 0.3, dtype=torch.float64)
    a = xl.integrated_gradients(model, x, 2, baseline=baseline, steps=128, rule=rule)
    gap = model(x)[:, 2] - model(baseline)[:, 2]
    torch.testing.assert_close(a.sum(1), gap.detach(), rtol=0, atol=1e-5)


def test_integrated_gradients_equals_gradient_x_input_for_homogeneous_relu_net():
    model = relu_mlp(
        bias=False
    )  # f(a x) = a f(x) for a > 0: the gradient is constant on the path
    x = torch.randn(6, 6, dtype=torch.float64)
    torch.testing.assert_close(
        xl.integrated_gradients(model, x, 1, steps=16),
        xl.gradient_x_input(model, x, 1),
        rtol=0,
        atol=1e-12,
    )


def test_sensitivity_counterexample():
    """f(x) = 1 - ReLU(1 - x) at x = 2: Gradient x Input misses the feature, IG credits it fully."""
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1)).double()
    with torch.no_grad():
        model[0].weight.fill_(-1.0), model[0].bias.fill_(1.0)
        model[2].weight.fill_(-1.0), model[2].bias.fill_(1.0)
    x = torch.tensor([[2.0]], dtype=torch.float64)
    assert model(x).item() == 1.0 and model(torch.zeros_like(x)).item() == 0.0
    assert xl.gradient_x_input(model, x, 0).item() == 0.0
    assert xl.integrated_gradients(model, x, 0, steps=64).item() == pytest.approx(
        1.0, abs=1e-12
    )


def test_integrated_gradients_same_for_any_batch_size(cnn_and_images):
    model, x = cnn_and_images
    reference = xl.integrated_gradients(model, x, 1, steps=20)
    for batch_size in (1, 7, 20, 33, 1000):
        torch.testing.assert_close(
            xl.integrated_gradients(model, x, 1, steps=20, batch_size=batch_size),
            reference,
            rtol=0,
            atol=1e-12,
        )


def test_integrated_gradients_baselines(cnn_and_images):
    model, x = cnn_and_images
    scalar = xl.integrated_gradients(model, x, 0, baseline=0.5, steps=8)
    tensor = xl.integrated_gradients(
        model, x, 0, baseline=torch.full((1, 3, 1, 1), 0.5, dtype=x.dtype), steps=8
    )
    torch.testing.assert_close(scalar, tensor)
    per_sample = xl.integrated_gradients(model, x, 0, baseline=x.flip(0), steps=8)
    assert per_sample.shape == x.shape
    # a baseline equal to x explains nothing
    assert xl.integrated_gradients(model, x, 0, baseline=x, steps=8).abs().max() == 0


def test_smoothgrad_reproducible_and_independent_of_batch_size(cnn_and_images):
    model, x = cnn_and_images
    for reduce in ("mean", "mean_square", "var"):
        a = xl.smoothgrad(model, x, 0, n=10, seed=3, reduce=reduce)
        torch.testing.assert_close(
            a, xl.smoothgrad(model, x, 0, n=10, seed=3, reduce=reduce)
        )
        torch.testing.assert_close(
            a,
            xl.smoothgrad(model, x, 0, n=10, seed=3, reduce=reduce, batch_size=3),
            rtol=0,
            atol=1e-12,
        )
    assert not torch.equal(
        xl.smoothgrad(model, x, 0, n=10, seed=3),
        xl.smoothgrad(model, x, 0, n=10, seed=4),
    )


def test_smoothgrad_sigma_zero_is_the_method(cnn_and_images):
    model, x = cnn_and_images
    torch.testing.assert_close(
        xl.smoothgrad(model, x, 1, n=3, sigma=0.0), xl.saliency(model, x, 1)
    )
    torch.testing.assert_close(
        xl.smoothgrad(model, x, 1, n=3, sigma=0.0, method="gradient_x_input"),
        xl.gradient_x_input(model, x, 1),
    )
    torch.testing.assert_close(
        xl.smoothgrad(
            model, x, 1, n=3, sigma=0.0, method="integrated_gradients", steps=4
        ),
        xl.integrated_gradients(model, x, 1, steps=4),
    )
    assert xl.smoothgrad(model, x, 1, n=3, sigma=0.0, reduce="var").abs().max() < 1e-12


def test_smoothgrad_matches_captum_noise_tunnel_statistically(cnn_and_images):
    """Same noise law (std = sigma * range): the two Monte-Carlo means agree to sampling error."""
    model, x = cnn_and_images
    x = x[:1]
    sigma, n = 0.15, 2000
    ours = xl.smoothgrad(model, x, 0, n=n, sigma=sigma, seed=0)
    stdev = sigma * (x.max() - x.min()).item()
    torch.manual_seed(1)
    theirs = NoiseTunnel(Saliency(model)).attribute(
        x, target=0, nt_type="smoothgrad", nt_samples=n, stdevs=stdev, abs=False
    )
    # per-feature spread of the single-sample gradients gives the Monte-Carlo standard error
    spread = xl.smoothgrad(model, x, 0, n=n, sigma=sigma, seed=0, reduce="var").sqrt()
    standard_error = math.sqrt(2 / n) * spread
    assert ((ours - theirs).abs() <= 5 * standard_error + 1e-9).float().mean() > 0.99
    assert torch.corrcoef(torch.stack([ours.flatten(), theirs.flatten()]))[0, 1] > 0.95


def test_smoothgrad_wraps_any_function(cnn_and_images):
    model, x = cnn_and_images
    calls = []

    def doubled_saliency(model, x, target=None):
        calls.append(x.shape[0])
        return 2 * xl.saliency(model, x, target)

    a = xl.smoothgrad(model, x, 0, method=doubled_saliency, n=5, seed=0)
    torch.testing.assert_close(a, 2 * xl.smoothgrad(model, x, 0, n=5, seed=0))
    assert sum(calls) == 5 * x.shape[0]


def test_smoothgrad_noise_relative_or_absolute():
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    x = torch.tensor(
        [[0.3], [0.7]], dtype=torch.float64
    )  # one feature: each sample's range is 0
    with pytest.raises(ValueError, match="relative=False"):
        xl.smoothgrad(model, x, 0, sigma=0.1)
    a = xl.smoothgrad(model, x, 0, sigma=0.1, relative=False, n=4000, seed=0)
    # E[f'(x + e)] for a smooth f differs from f'(x): the absolute noise was applied
    assert not torch.allclose(a, xl.saliency(model, x, 0), atol=1e-6)
    torch.testing.assert_close(
        xl.smoothgrad(model, x, 0, sigma=0.0), xl.saliency(model, x, 0)
    )
