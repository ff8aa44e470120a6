"""Faithfulness, localization and sanity metrics on models whose exact attribution is known."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import rankdata, spearmanr
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, requires_cuda, small_cnn, snapshot
from xai_lib import baselines, metrics, stats
from xai_lib.analysis import mu_fidelity

SHAPE = (3, 8, 8)


def linear_images(bias: bool = True, classes: int = 3, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(math.prod(SHAPE), classes, bias=bias)
    ).double()


def two_class_linear(seed: int = 0) -> nn.Module:
    """Logits (<w, x>, -<w, x>): the probability of class 0 is sigmoid(2 <w, x>), monotone in <w, x>."""
    torch.manual_seed(seed)
    w = torch.randn(math.prod(SHAPE), dtype=torch.float64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(w.numel(), 2, bias=False)).double()
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([w, -w]) / 4)
    return model


def images(n: int = 4, seed: int = 1) -> torch.Tensor:
    return torch.randn(
        n, *SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


class Recorder(nn.Module):
    """Wraps a model and keeps every input batch it sees."""

    def __init__(self, model):
        super().__init__()
        self.model, self.seen = model, []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.model(x)


# --------------------------------------------------------------------------- statistics


def test_ranks_and_correlations_match_scipy():
    g = torch.Generator().manual_seed(0)
    values = torch.randint(0, 6, (4, 5, 30), generator=g).double()  # many ties
    np.testing.assert_array_equal(
        stats.ranks(values).numpy(), rankdata(values.numpy(), axis=-1)
    )
    a, b = (
        torch.randn(3, 40, generator=g, dtype=torch.float64),
        torch.randn(3, 40, generator=g, dtype=torch.float64),
    )
    b = b + a
    for i in range(3):
        assert stats.pearson(a, b)[i].item() == pytest.approx(
            np.corrcoef(a[i], b[i])[0, 1], rel=1e-12
        )
        assert stats.spearman(a.round(), b)[i].item() == pytest.approx(
            spearmanr(a[i].round(), b[i])[0], rel=1e-12
        )
    assert torch.isnan(stats.pearson(torch.ones(1, 5), torch.randn(1, 5)))


# --------------------------------------------------------------------------- deletion and insertion


def test_exact_attribution_beats_its_negation_and_any_other():
    model = two_class_linear()
    x = images(6)
    exact = xl.gradient_x_input(
        model, x, 0
    )  # each pixel's exact contribution to <w, x>
    for name in ("deletion", "insertion"):
        score = getattr(metrics, name)
        ours, negated = score(model, x, exact, 0), score(model, x, -exact, 0)
        assert ours.shape == (6,) and ((ours >= 0) & (ours <= 1)).all()
        assert ((ours < negated) if name == "deletion" else (ours > negated)).all()
        # removing the largest contributions first is optimal at every step, whatever the order
        for seed in range(3):
            other = torch.randn(
                x.shape,
                dtype=torch.float64,
                generator=torch.Generator().manual_seed(seed),
            )
            rival = score(model, x, other, 0)
            assert (
                (ours <= rival + 1e-12)
                if name == "deletion"
                else (ours >= rival - 1e-12)
            ).all()


def test_curves_analytically():
    """All-ones weights and image: the raw output counts the pixels left, step by step."""
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(math.prod(SHAPE), 1, bias=False)
    ).double()
    nn.init.ones_(model[1].weight)
    x = torch.ones(2, *SHAPE, dtype=torch.float64)
    attribution = torch.randn(x.shape, dtype=torch.float64)
    fractions, curve = metrics.deletion_curve(
        model, x, attribution, 0, steps=4, softmax=False
    )
    torch.testing.assert_close(fractions, torch.linspace(0, 1, 5, dtype=torch.float64))
    expected = 3.0 * torch.tensor(
        [64, 48, 32, 16, 0], dtype=torch.float64
    )  # 3 channels x pixels left
    torch.testing.assert_close(curve, expected.expand(2, -1))
    _, curve = metrics.insertion_curve(
        model, x, attribution, 0, steps=4, softmax=False, baseline=0.5
    )
    torch.testing.assert_close(
        curve, (expected.flip(0) + 0.5 * (192 - expected.flip(0))).expand(2, -1)
    )
    area = metrics.deletion(model, x, attribution, 0, steps=4, softmax=False)
    torch.testing.assert_close(area, torch.full((2,), 96.0, dtype=torch.float64))


def test_curve_endpoints_are_the_input_and_the_baseline():
    model, x = (
        small_cnn(channels=3).eval(),
        torch.randn(3, 3, 16, 16, dtype=torch.float64),
    )
    a = xl.saliency(model, x, 1)
    probability = model(x).softmax(1)[:, 1].detach()
    _, deletion = metrics.deletion_curve(model, x, a, 1, steps=8)
    _, insertion = metrics.insertion_curve(model, x, a, 1, steps=8, baseline="blur")
    torch.testing.assert_close(deletion[:, 0], probability)
    torch.testing.assert_close(insertion[:, -1], probability)
    torch.testing.assert_close(
        deletion[:, -1], model(torch.zeros_like(x)).softmax(1)[:, 1].detach()
    )
    blurred = baselines.blur(x)
    torch.testing.assert_close(
        insertion[:, 0], model(blurred).softmax(1)[:, 1].detach()
    )
    constant = torch.full((1, 3, 16, 16), 0.7, dtype=torch.float64)
    torch.testing.assert_close(
        baselines.blur(constant), constant
    )  # a blur keeps constants


def test_all_channels_of_a_pixel_switch_together():
    recorder = Recorder(linear_images())
    x = images(2)
    attribution = torch.zeros_like(x)
    attribution[:, 1] = torch.randn(
        2, 8, 8, dtype=torch.float64
    )  # only one channel carries scores
    metrics.deletion(recorder, x, attribution, 0, steps=5, baseline=0.0)
    for batch in recorder.seen:
        removed = batch == 0
        assert (removed.all(dim=1) | (~removed).all(dim=1)).all()


def test_pixel_maps_equal_channel_sums_and_results_do_not_depend_on_batch_size():
    model, x = (
        small_cnn(channels=3).eval(),
        torch.randn(3, 3, 16, 16, dtype=torch.float64),
    )
    a = xl.gradient_x_input(model, x, 2)
    reference = metrics.insertion(model, x, a, 2, steps=7)
    torch.testing.assert_close(
        metrics.insertion(model, x, a.sum(1, keepdim=True), 2, steps=7), reference
    )
    for batch_size in (1, 5, 100):
        torch.testing.assert_close(
            metrics.insertion(model, x, a, 2, steps=7, batch_size=batch_size),
            reference,
            rtol=0,
            atol=1e-12,
        )


def test_vectors_and_tokens():
    model = relu_mlp(d_in=6)
    x = torch.randn(5, 6, dtype=torch.float64)
    exact = xl.gradient_x_input(
        nn.Sequential(nn.Linear(6, 2, bias=False)).double(), x, 0
    )
    assert metrics.deletion(model, x, exact, 0, steps=6).shape == (5,)
    tokens = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).double()
    t = torch.randn(2, 4, 3, dtype=torch.float64)
    recorder = Recorder(tokens)
    metrics.deletion(recorder, t, torch.randn_like(t), 0, steps=4)
    for batch in recorder.seen:  # a token's embedding is removed as a whole
        removed = batch == 0
        assert (removed.all(dim=2) | (~removed).all(dim=2)).all()


# --------------------------------------------------------------------------- MuFidelity and completeness


@pytest.mark.parametrize("correlation", ["spearman", "pearson"])
def test_gradient_x_input_has_mu_fidelity_one_on_a_linear_model(correlation):
    model = linear_images()
    x = images()
    a = xl.gradient_x_input(model, x, 1)
    score = metrics.mu_fidelity(model, x, a, 1, seed=0, correlation=correlation, n=64)
    torch.testing.assert_close(
        score, torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-12
    )
    noisy = metrics.mu_fidelity(
        model, x, a + torch.randn_like(a), 1, seed=0, correlation=correlation, n=64
    )
    assert (noisy < 0.99).all()


def test_mu_fidelity_seeded_and_independent_of_batch_size():
    model, x = (
        small_cnn(channels=3).eval(),
        torch.randn(2, 3, 16, 16, dtype=torch.float64),
    )
    a = xl.saliency(model, x, 0)
    reference = metrics.mu_fidelity(model, x, a, 0, n=20, seed=3)
    for batch_size in (1, 7, 1000):
        torch.testing.assert_close(
            metrics.mu_fidelity(model, x, a, 0, n=20, seed=3, batch_size=batch_size),
            reference,
            rtol=0,
            atol=1e-12,
        )
    assert not torch.equal(reference, metrics.mu_fidelity(model, x, a, 0, n=20, seed=4))
    assert metrics.mu_fidelity(
        model, x, a, 0, n=20, seed=3, softmax=True, baseline="blur"
    ).shape == (2,)


def test_mu_fidelity_subsets_are_grid_cells():
    removed = mu_fidelity._random_subsets(
        torch.zeros(1, 1, 18, 18), 0.3, 50, 3, seed=0
    )  # 3 x 3 cells of 6 x 6
    cells = removed.view(50, 3, 6, 3, 6)
    assert torch.equal(
        cells.all(dim=4).all(dim=2), cells.any(dim=4).any(dim=2)
    )  # each cell all in or all out
    assert 0.15 < removed.double().mean() < 0.45


def test_completeness_error():
    model = linear_images()
    x = images()
    baseline = torch.full((1, *SHAPE), 0.3, dtype=torch.float64)
    ig = xl.integrated_gradients(model, x, 2, baseline=baseline, steps=4)
    error = metrics.completeness_error(model, x, ig, 2, baseline)
    torch.testing.assert_close(
        error, torch.zeros(4, dtype=torch.float64), rtol=0, atol=1e-12
    )
    gxi = xl.gradient_x_input(model, x, 2)
    assert (
        metrics.completeness_error(model, x, gxi, 2).abs().max() < 1e-12
    )  # f(x) - f(0) = <w, x>
    zeros = torch.zeros_like(x)
    gap = (model(x) - model(baseline))[:, 2].detach().abs()
    torch.testing.assert_close(
        metrics.completeness_error(model, x, zeros, 2, baseline), gap
    )


# --------------------------------------------------------------------------- localization


def test_pointing_game():
    a = torch.zeros(3, 2, 6, 6, dtype=torch.float64)
    a[:, 0, 1, 1] = 5.0  # the maximum at (1, 1)
    mask = torch.zeros(3, 6, 6, dtype=torch.bool)
    mask[0, 1, 1] = True  # hit
    mask[1, 4, 4] = True  # miss, 3 * sqrt(2) = 4.24 pixels away
    with pytest.raises(ValueError, match="mask of sample 2 is empty"):
        metrics.pointing_game(a, mask)  # sample 2 has no object to point at
    a, mask = a[:2], mask[:2]
    assert metrics.pointing_game(a, mask).tolist() == [1.0, 0.0]
    assert metrics.pointing_game(a, mask[:, None].float(), tolerance=4).tolist() == [
        1.0,
        0.0,
    ]
    assert metrics.pointing_game(a, mask, tolerance=5).tolist() == [1.0, 1.0]


def test_relevance_mass():
    a = torch.zeros(2, 1, 4, 4, dtype=torch.float64)
    a[:, 0, 0, 0], a[:, 0, 0, 1], a[:, 0, 3, 3], a[:, 0, 2, 2] = 2.0, 1.0, 1.0, -5.0
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, :2, :2] = 1
    torch.testing.assert_close(
        metrics.relevance_mass(a, mask), torch.tensor([0.75, 0.75], dtype=torch.float64)
    )
    with pytest.warns(xl.DegenerateMapWarning, match="no positive relevance"):
        assert torch.isnan(metrics.relevance_mass(-a.abs(), mask)).all()


# --------------------------------------------------------------------------- model randomization


def test_model_randomization():
    model = small_cnn(channels=3).eval()
    x = torch.randn(
        3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    before = snapshot(model)
    names, correlations, maps = metrics.model_randomization(
        model, x, "saliency", return_maps=True
    )
    assert_untouched(model, before)
    assert (
        names == ["7", "3", "0"]
        and correlations.shape == (3, 3)
        and maps.shape == (3, *x.shape)
    )
    assert correlations[-1].abs().max() < 0.9
    again = metrics.model_randomization(model, x, xl.saliency, layers=["7", "3", "0"])[
        1
    ]
    torch.testing.assert_close(again, correlations)

    def edge_detector(
        model, x, target=None
    ):  # ignores the model: the sanity check must catch it
        return x.diff(dim=-1, prepend=x[..., :1])

    _, blind = metrics.model_randomization(model, x, edge_detector)
    torch.testing.assert_close(blind, torch.ones(3, 3, dtype=torch.float64))


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, x, a: metrics.deletion(m, x, a[:, :2], 0), "does not fit"),
        (lambda m, x, a: metrics.deletion(m, x, a, 0, steps=0), "steps"),
        (lambda m, x, a: metrics.insertion(m, x, a, 0, baseline="noise"), "baseline"),
        (lambda m, x, a: metrics.insertion(m, x, a, 7), "out of range"),
        (lambda m, x, a: metrics.deletion(m, x, a.long(), 0), "floating-point"),
        (lambda m, x, a: metrics.mu_fidelity(m, x, a, 0, subset=1.0), "subset"),
        (lambda m, x, a: metrics.mu_fidelity(m, x, a, 0, grid=0), "grid"),
        (
            lambda m, x, a: metrics.mu_fidelity(m, x, a, 0, correlation="kendall"),
            "correlation",
        ),
        (
            lambda m, x, a: metrics.mu_fidelity(
                m, x[:, :, 0, 0], a[:, :, 0, 0], 0, baseline="blur"
            ),
            "blur",
        ),
        (
            lambda m, x, a: metrics.completeness_error(
                m, x, a, 0, baseline=torch.ones(2, 2)
            ),
            "broadcast",
        ),
        (
            lambda m, x, a: metrics.pointing_game(a, torch.ones(4, 8, 7)),
            "mask of shape",
        ),
        (
            lambda m, x, a: metrics.pointing_game(a, torch.ones(4, 8, 8), tolerance=-1),
            "tolerance",
        ),
        (
            lambda m, x, a: metrics.relevance_mass(a[:, 0], torch.ones(4, 8, 8)),
            r"\(N, C, H, W\)",
        ),
        (lambda m, x, a: metrics.relevance_mass(a, [[1.0]]), "torch.Tensor"),
        (
            lambda m, x, a: metrics.model_randomization(m, x, layers=["9"]),
            "no submodule",
        ),
        (
            lambda m, x, a: metrics.model_randomization(m, x, layers=["0"]),
            "reset_parameters",
        ),
        (
            lambda m, x, a: metrics.model_randomization(m, x, method="nope"),
            "unknown method",
        ),
    ],
)
def test_bad_inputs_raise_value_error_and_leave_the_model_untouched(call, message):
    model = linear_images()
    model.train()
    x = images()
    a = torch.randn_like(x)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        call(model, x, a)
    assert_untouched(model, before)


def test_model_untouched_and_no_grad_ok():
    model = small_cnn(channels=3)
    model.train()
    model[0].weight.requires_grad_(False)
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    a = torch.randn_like(x)
    before, x_before = snapshot(model), x.clone()
    with torch.no_grad():
        for score in (
            metrics.deletion(model, x, a, steps=3),
            metrics.insertion(model, x, a, steps=3),
            metrics.mu_fidelity(model, x, a, n=5, seed=0),
            metrics.completeness_error(model, x, a),
        ):
            assert (
                score.shape == (2,)
                and score.dtype == x.dtype
                and not score.requires_grad
            )
        metrics.model_randomization(model, x, "saliency")
    assert_untouched(model, before)
    assert torch.equal(x, x_before)


@requires_cuda
def test_cuda_matches_cpu():
    model, x = (
        small_cnn(channels=3).eval(),
        torch.randn(2, 3, 16, 16, dtype=torch.float64),
    )
    a = xl.saliency(model, x, 1)
    gpu_model, gx, ga = small_cnn(channels=3).eval().cuda(), x.cuda(), a.cuda()
    for name, options in [
        ("deletion", {"steps": 5}),
        ("insertion", {"steps": 5, "baseline": "blur"}),
        ("mu_fidelity", {"n": 16, "seed": 0}),
        ("completeness_error", {}),
    ]:
        fn = getattr(metrics, name)
        gpu = fn(gpu_model, gx, ga, 1, **options)
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(
            gpu.cpu(), fn(model, x, a, 1, **options), rtol=1e-7, atol=1e-9
        )
    hits = metrics.pointing_game(ga, (gx[:, 0] > 0))
    assert hits.device.type == "cuda"
    names, correlations = metrics.model_randomization(gpu_model, gx, "saliency")
    assert correlations.device.type == "cuda" and len(names) == 3
