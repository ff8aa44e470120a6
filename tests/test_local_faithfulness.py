"""Infidelity and max-sensitivity (Yeh et al., 2019): analytic cases and captum.metrics.

captum gets exactly the perturbations the library draws (``NoiseDraws`` of the same seed,
arranged as captum repeats the samples: each sample's copies next to each other), so both
compute the same numbers in float64.
"""

import functools
import math

import pytest
import torch
from captum.metrics import infidelity as captum_infidelity
from captum.metrics import sensitivity_max as captum_sensitivity_max
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, snapshot
from xai_lib._core import NoiseDraws


def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return (
        nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.Softplus(beta=3),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(32, 5),
        )
        .double()
        .eval()
    )


def images(n: int = 4, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 8, 8, generator=generator, dtype=torch.float64)


def linear_model() -> nn.Module:
    torch.manual_seed(2)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4)).double().eval()


def captum_layout(x: torch.Tensor, seed: int, n: int) -> torch.Tensor:
    """The library's draws d = 0..n-1 of x's shape, as captum orders copies: (N * n, *F)."""
    draws = NoiseDraws(x, seed)
    stacked = torch.stack([draws(d).clone() for d in range(n)])  # (n, N, *F)
    return stacked.transpose(0, 1).reshape(-1, *x.shape[1:])


# --------------------------------------------------------------------------- infidelity


@pytest.mark.parametrize("normalize", [True, False])
def test_infidelity_of_a_linear_models_gradient_is_zero(normalize):
    model, x = linear_model(), images()
    gradient = xl.saliency(model, x, 1)
    value = xl.metrics.infidelity(
        model, x, gradient, 1, sigma=0.3, n=16, normalize=normalize, seed=0
    )
    assert value.shape == (4,)
    assert (
        value.abs().max() < 1e-26
    )  # exactly 0 up to float64 rounding of f differences
    # any other map of the same model is not
    other = xl.metrics.infidelity(model, x, torch.ones_like(x), 1, sigma=0.3, seed=0)
    assert (other > 1e-3).all()


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("target", [None, 2, [0, 4, 1, 3]])
def test_infidelity_equals_captum_given_the_same_perturbations(normalize, target):
    model, x = small_cnn(), images()
    attribution = xl.gradient_x_input(model, x, target)
    sigma, n, seed = 0.2, 12, 5
    noise = sigma * captum_layout(x, seed, n)

    def perturb(inputs):
        assert inputs.shape == noise.shape  # all copies at once
        return noise, inputs - noise

    resolved = model(x).argmax(dim=1) if target is None else target
    expected = captum_infidelity(
        model,
        perturb,
        x,
        attribution,
        target=resolved,
        n_perturb_samples=n,
        normalize=normalize,
    )
    ours = xl.metrics.infidelity(
        model, x, attribution, target, sigma=sigma, n=n, normalize=normalize, seed=seed
    )
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-14)


def test_infidelity_of_pixel_maps_counts_the_score_for_every_channel():
    model, x = small_cnn(), images()
    pixels = xl.saliency(model, x).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    expanded = pixels.expand_as(x)
    torch.testing.assert_close(
        xl.metrics.infidelity(model, x, pixels, seed=3),
        xl.metrics.infidelity(model, x, expanded, seed=3),
    )


def test_normalized_infidelity_ignores_the_scale_of_the_map_and_relative_lies_in_0_1():
    model, x = small_cnn(), images()
    a = xl.saliency(model, x)
    base = xl.metrics.infidelity(model, x, a, seed=1)
    torch.testing.assert_close(xl.metrics.infidelity(model, x, 7.5 * a, seed=1), base)
    raw = xl.metrics.infidelity(model, x, 7.5 * a, seed=1, normalize=False)
    assert (raw > base).all()
    relative = xl.metrics.infidelity(model, x, a, seed=1, relative=True)
    assert ((relative >= 0) & (relative <= 1)).all()
    # a map unrelated to the model explains nothing of the output changes: close to 1
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(9)).double()
    unrelated = xl.metrics.infidelity(model, x, noise, seed=1, relative=True, n=64)
    assert (unrelated > relative).all()


def test_gradient_infidelity_vanishes_with_the_perturbation_for_a_smooth_model():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.Tanh(), nn.Linear(16, 3))
    model = model.double().eval()
    x = images()
    gradient = xl.saliency(model, x, 0)
    values = [
        xl.metrics.infidelity(model, x, gradient, 0, sigma=s, seed=0, relative=True)
        for s in (0.3, 0.03, 0.003)
    ]
    assert (values[0] > values[1]).all() and (values[1] > values[2]).all()
    assert values[2].max() < 1e-3


def test_infidelity_same_seed_same_result_for_any_batch_size_and_global_rng_untouched():
    model, x = small_cnn(), images(5)
    a = xl.saliency(model, x)
    before_model, before_x = snapshot(model), x.clone()
    state = torch.get_rng_state()
    results = [
        xl.metrics.infidelity(model, x, a, sigma=0.1, n=7, seed=11, batch_size=b)
        for b in (None, 1, 3, 35, 1000)
    ]
    for other in results[1:]:
        torch.testing.assert_close(other, results[0], rtol=1e-12, atol=1e-15)
    other_seed = xl.metrics.infidelity(model, x, a, n=7, seed=12)
    assert not torch.allclose(other_seed, results[0])
    unseeded = [xl.metrics.infidelity(model, x, a, n=7) for _ in range(2)]
    assert not torch.equal(unseeded[0], unseeded[1])  # fresh draws each call
    assert torch.equal(torch.get_rng_state(), state)
    assert_untouched(model, before_model)
    assert torch.equal(x, before_x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sigma": 0}, "sigma"),
        ({"sigma": -1.0}, "sigma"),
        ({"n": 0}, "n must"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"normalize": "yes"}, "normalize"),
        ({"relative": 1}, "relative"),
        ({"batch_size": 0}, "batch_size"),
        ({"target": 9}, "out of range"),
    ],
)
def test_infidelity_bad_options_raise_value_error(kwargs, message):
    model, x = small_cnn(), images(2)
    with pytest.raises(ValueError, match=message):
        xl.metrics.infidelity(model, x, torch.ones_like(x), **kwargs)


def test_infidelity_rejects_a_misfit_attribution():
    model, x = small_cnn(), images(2)
    with pytest.raises(ValueError, match="does not fit"):
        xl.metrics.infidelity(model, x, torch.ones(2, 3, 4, 4).double())


# --------------------------------------------------------------------------- max-sensitivity


def test_sensitivity_max_of_saliency_of_a_linear_model_is_zero():
    model, x = linear_model(), images()
    value = xl.metrics.sensitivity_max("saliency", model, x, 3, radius=0.5, n=6, seed=0)
    assert value.shape == (4,) and torch.equal(value, torch.zeros(4, dtype=x.dtype))


@pytest.mark.parametrize("method", ["saliency", "gradient_x_input", "guided_backprop"])
def test_sensitivity_max_equals_captum_given_the_same_perturbations(method):
    model, x = small_cnn(), images()
    radius, n, seed = 0.05, 6, 2
    target = model(x).argmax(dim=1)
    shifts = radius * torch.erf(captum_layout(x, seed, n) / math.sqrt(2))

    def perturb(inputs, perturb_radius):
        assert inputs.shape == shifts.shape and perturb_radius == radius
        return inputs + shifts

    def explain(inputs, target):
        if isinstance(inputs, tuple):  # the clean inputs come, and go back, as a tuple
            return (xl.METHODS[method](model, inputs[0], target),)
        return xl.METHODS[method](model, inputs, target)

    expected = captum_sensitivity_max(
        explain,
        x,
        perturb_func=perturb,
        perturb_radius=radius,
        n_perturb_samples=n,
        target=target,
    )
    ours = xl.metrics.sensitivity_max(method, model, x, radius=radius, n=n, seed=seed)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-14)


def test_sensitivity_max_perturbations_are_uniform_in_the_linf_ball():
    model, x = small_cnn(), images(64)

    def identity(model, x, target=None):
        return x  # the map is the input: the sensitivity is ||d|| / ||x||

    radius = 0.04
    value = xl.metrics.sensitivity_max(identity, model, x, radius=radius, n=1, seed=0)
    shift = radius * torch.erf(NoiseDraws(x, 0)(0) / math.sqrt(2))
    assert shift.abs().max() <= radius
    # uniform on [-r, r]: E|d| = r / 2, E d^2 = r^2 / 3
    assert abs(shift.abs().mean().item() - radius / 2) < 0.01 * radius
    assert abs(shift.square().mean().item() - radius**2 / 3) < 0.02 * radius**2
    expected = shift.flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)
    torch.testing.assert_close(value, expected)


def test_sensitivity_max_explains_the_clean_decision_and_passes_options():
    model, x = small_cnn(), images(3)
    calls = []

    def spy(model, x, target=None, *, scale=1.0):
        calls.append((x.shape[0], target.clone(), scale))
        return scale * xl.saliency(model, x, target)

    xl.metrics.sensitivity_max(spy, model, x, n=4, seed=0, scale=2.0)
    clean = model(x).argmax(dim=1)
    assert len(calls) == 5 and all(shape == 3 for shape, _, _ in calls)
    assert all(torch.equal(t, clean) and s == 2.0 for _, t, s in calls)


def test_sensitivity_max_seeds_batch_size_and_state():
    model, x = small_cnn(), images(5)
    before_model, before_x = snapshot(model), x.clone()
    state = torch.get_rng_state()
    results = [
        xl.metrics.sensitivity_max(
            "integrated_gradients", model, x, n=3, seed=4, batch_size=b, steps=8
        )
        for b in (None, 1, 7)
    ]
    for other in results[1:]:
        torch.testing.assert_close(other, results[0], rtol=1e-10, atol=1e-14)
    # a seeded method sees batches shaped like x: the same internal noise for x and copies
    smoothgrad = functools.partial(xl.smoothgrad, n=4, seed=0)  # the method's own seed
    seeded = [
        xl.metrics.sensitivity_max(smoothgrad, model, x, n=3, seed=4, batch_size=b)
        for b in (None, 2)
    ]
    torch.testing.assert_close(seeded[0], seeded[1], rtol=1e-10, atol=1e-14)
    assert torch.equal(torch.get_rng_state(), state)
    assert_untouched(model, before_model)
    assert torch.equal(x, before_x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"radius": 0}, "radius"),
        ({"n": -1}, "n must"),
        ({"seed": "a"}, "seed"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"method": "nonsense"}, "unknown method"),
    ],
)
def test_sensitivity_max_bad_options_raise_value_error(kwargs, message):
    model, x = small_cnn(), images(2)
    method = kwargs.pop("method", "saliency")
    with pytest.raises(ValueError, match=message):
        xl.metrics.sensitivity_max(method, model, x, **kwargs)
