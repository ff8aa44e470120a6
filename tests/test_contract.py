"""The method contract, one table over ``xl.METHODS`` (issue 15).

As captum generates its cross-cutting tests from one config, every property here runs for
every method, from :data:`CASES` (method -> the options that keep it small and fast).
A method added to ``xl.METHODS`` fails :func:`test_every_method_is_in_the_table` until it has
a row. Then targeted tests, one section per item of the issue, each failing before the fix.
"""

from __future__ import annotations

import copy
import inspect
import math
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn

import xai_lib as xl
from tests.helpers import assert_untouched, requires_cuda, snapshot
from xai_lib._core import guard

# --------------------------------------------------------------------------- the table

#: method -> options making it small; every property below runs for each.
CASES = {
    "saliency": {},
    "gradient_x_input": {},
    "integrated_gradients": {"steps": 6},
    "smoothgrad": {"n": 4, "seed": 0},
    "occlusion": {"patch": 4},
    "rise": {"n_masks": 24, "cell": 4, "seed": 0},
    "deconvnet": {},
    "guided_backprop": {},
    "grad_cam": {},
    "guided_grad_cam": {},
    "lrp": {},
    "spectral_lens": {"n": 2, "sigmas": [0.05, 0.2], "seed": 0},
}

#: methods that need no backward pass (they work on a model built in inference mode)
FORWARD_ONLY = {"occlusion", "rise"}

#: methods that refuse a model writing its input in place, with a ValueError (LRP follows the
#: forward pass operation by operation and cannot follow an in-place write)
REFUSE_INPLACE_INPUT = {"lrp"}

NAMES = sorted(CASES)
CLASSES = 5


def cnn(seed: int = 0, *, norm: bool = False) -> nn.Module:
    """A float64 CNN for 3 x 16 x 16 images; ``norm``: BatchNorm after each conv and Dropout."""
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 6, 3, padding=1)]
    layers += [nn.BatchNorm2d(6)] if norm else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1)]
    layers += [nn.BatchNorm2d(8)] if norm else []
    layers += [nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()]
    layers += [nn.Dropout(0.5)] if norm else []
    layers += [nn.Linear(32, CLASSES)]
    model = nn.Sequential(*layers).double()
    if norm:  # running statistics away from their initial (0, 1)
        with torch.no_grad():
            for _ in range(3):
                model(torch.rand(8, 3, 16, 16, dtype=torch.float64) * 2 + 0.5)
    return model.eval()


def images(n: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.rand(
        n, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


def run(name: str, model, x, target=0, **extra):
    return xl.METHODS[name](model, x, target, **{**CASES[name], **extra})


@pytest.fixture(scope="module")
def net():
    return cnn(norm=True)


@pytest.fixture
def x():
    return images()


def test_every_method_is_in_the_table():
    assert set(CASES) == set(xl.METHODS)


@pytest.mark.parametrize("name", NAMES)
def test_model_x_and_global_rng_untouched(name, net, x):
    model = copy.deepcopy(net)
    for p in model.parameters():
        p.grad = torch.ones_like(p)  # .grad must stay as it was, not only stay None
    model[0].weight.requires_grad_(False)
    model.register_forward_hook(
        lambda module, args, output: None
    )  # the user's hooks stay
    before, x_before, rng = snapshot(model), x.clone(), torch.get_rng_state()
    a = run(name, model, x)
    assert_untouched(model, before)
    assert torch.equal(x, x_before)
    assert torch.equal(torch.get_rng_state(), rng), "the global RNG advanced"
    assert not a.requires_grad and a.grad_fn is None
    assert a.dtype == x.dtype and torch.isfinite(a).all()
    info = xl.METHODS[name].info
    expected = x.shape if info.returns == "input" else (3, 1, 16, 16)
    assert a.shape == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda x: x * math.nan, "NaN"),
        (lambda x: x / 0, "NaN or infinite"),
        (lambda x: x.long(), "floating-point"),
        (lambda x: x[0, 0, 0], "batch first"),
        (lambda x: x[:0], "empty batch"),
        (lambda x: x.tolist(), "torch.Tensor"),
    ],
)
def test_bad_inputs_raise_and_leave_the_model(name, net, x, bad, message):
    before = snapshot(net)
    with pytest.raises(ValueError, match=message):
        run(name, net, bad(x))
    assert_untouched(net, before)


class RaisesAfterRunning(nn.Module):
    """Runs the net (the method's hooks fire), changes its own flags, then fails."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        self.net(x)
        self.net[0].weight.requires_grad_(False)
        self.train()
        raise RuntimeError("broken model")


@pytest.mark.parametrize("name", NAMES)
def test_state_restored_when_the_model_raises(name, net, x):
    model = RaisesAfterRunning(copy.deepcopy(net)).eval()
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="broken model"):
        run(name, model, x)
    assert_untouched(model, before)  # flags, buffers and no hook left behind


@pytest.mark.parametrize("name", [n for n in NAMES if xl.METHODS[n].info.seeded])
def test_seed_none_leaves_the_global_rng_alone(name, net, x):
    rng = torch.get_rng_state()
    run(name, net, x, seed=None)
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "target, message",
    [
        (CLASSES, "out of range"),
        (-1, "negative"),
        (2**63, "out of range"),
        ([0, 1], "2 entries"),
        (1.5, "target"),
        (True, "bool"),
        ("0", "target"),
        (torch.tensor([0.0, 1.0, 2.0]), "integer"),
        (torch.zeros(3, 1, dtype=torch.long), "0- or 1-dimensional"),
        (torch.zeros(3, dtype=torch.long, device="meta"), "meta"),
    ],
)
def test_bad_targets_raise_and_leave_the_model(name, net, x, target, message):
    before = snapshot(net)
    with pytest.raises(ValueError, match=message):
        run(name, net, x, target)
    assert_untouched(net, before)


def warn_training_mode_again(monkeypatch, again: bool = True) -> None:
    """Reset (or spend) the once-per-process TrainingModeWarning for one test."""
    monkeypatch.setattr(guard, "_WARNED", {"training_mode": not again}, raising=False)


@pytest.mark.parametrize("name", NAMES)
def test_train_mode_is_explained_in_eval_mode(name, net, x, monkeypatch):
    """Issue 15.1: Dropout and batch statistics made results differ from call to call."""
    model = copy.deepcopy(net).train()
    before = snapshot(model)
    warn_training_mode_again(monkeypatch, False)  # the warning has its own tests
    first = run(name, model, x)
    second = run(name, model, x)
    assert_untouched(model, before)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    torch.testing.assert_close(first, run(name, net, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_same_result_for_any_batch_size(name, net, x):
    expected = run(name, net, x)
    for batch_size in (2, 5):  # chunks that cut samples, and uneven ones
        torch.testing.assert_close(
            run(name, net, x, batch_size=batch_size), expected, rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("name", NAMES)
def test_inside_no_grad_and_inference_mode(name, net, x):
    """Issue 15.9: torch.inference_mode() and inference tensors gave torch's errors."""
    expected = run(name, net, x)
    with torch.no_grad():
        torch.testing.assert_close(run(name, net, x), expected, rtol=0, atol=0)
    with torch.inference_mode():
        inside = run(name, net, x)
        x_inference = x.clone()
    torch.testing.assert_close(inside, expected, rtol=0, atol=0)
    assert not inside.is_inference()
    torch.testing.assert_close(run(name, net, x_inference), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_model_built_in_inference_mode(name, x):
    with torch.inference_mode():
        model = cnn(norm=True)
    if name in FORWARD_ONLY:
        torch.testing.assert_close(run(name, model, x), run(name, cnn(norm=True), x))
    else:
        with pytest.raises(ValueError, match="inference_mode"):
            run(name, model, x)


class TupleOutput(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        return logits, logits  # e.g. logits and features


@pytest.mark.parametrize("name", NAMES)
def test_tuple_outputs_are_named_and_can_be_picked(name, net, x):
    """Issue 15.8: a tuple output gave AttributeError: 'tuple' object has no attribute 'dim'."""
    model = TupleOutput(net)
    before = snapshot(model)
    with pytest.raises(
        ValueError, match=r"returned a tuple of 2 elements.*pick_output"
    ):
        run(name, model, x)
    assert_untouched(model, before)
    torch.testing.assert_close(
        run(name, xl.pick_output(model, 0), x), run(name, net, x), rtol=0, atol=0
    )


class WritesInput(nn.Module):
    """Subtracts 0.5 from its input in place, then runs the net."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        x.sub_(0.5)
        return self.net(x)


class ShiftsInput(WritesInput):
    """The same function, out of place."""

    def forward(self, x):
        return self.net(x - 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_a_model_writing_its_input_never_writes_the_callers(name, net, x):
    """Issue 15.7: the caller's x changed, or a leaf-variable error came from inside torch."""
    x_before = x.clone()
    if name in REFUSE_INPLACE_INPUT:
        with pytest.raises(ValueError, match="in place"):
            run(name, WritesInput(net), x)
    else:
        expected = run(name, ShiftsInput(net), x)
        torch.testing.assert_close(run(name, WritesInput(net), x), expected)
    assert torch.equal(x, x_before)


@pytest.fixture(scope="module")
def compiled(net):
    """torch.compile'd copies (dynamo only, no C compiler needed), each traced once by a call."""
    torch._dynamo.reset()
    wrapped = torch.compile(copy.deepcopy(net), backend="eager")
    in_place = copy.deepcopy(net)
    in_place.compile(backend="eager")
    nested = nn.Sequential(torch.compile(copy.deepcopy(net), backend="eager"))
    probe = images().requires_grad_(True)
    for model in (wrapped, in_place, nested):
        model(probe).sum().backward()  # the caller's own use traces the graph
    return {"torch.compile": wrapped, "module.compile": in_place, "nested": nested}


@pytest.mark.parametrize("kind", ["torch.compile", "module.compile", "nested"])
@pytest.mark.parametrize("name", NAMES)
def test_compiled_models_give_the_eager_result(name, kind, compiled, net, x):
    """Issue 15.2: Guided Backprop on a compiled model returned plain saliency."""
    model = compiled[kind]
    before = snapshot(model)
    run("saliency", model, x)  # an earlier call must not leave a graph behind
    torch.testing.assert_close(
        run(name, model, x), run(name, net, x), rtol=1e-10, atol=1e-12
    )
    assert_untouched(model, before)


@pytest.mark.parametrize("name", NAMES)
def test_options_are_validated(name, net, x):
    """Issue 15.10: abs="no" returned |gradient|; a wrong seed type gave torch's errors."""
    fn = xl.METHODS[name]
    with pytest.raises(ValueError, match="no option 'nonsense'|nonsense"):
        run(name, net, x, nonsense=1)
    with pytest.raises(ValueError, match="batch_size"):
        run(name, net, x, batch_size=0)
    flags = [
        p.name
        for p in list(inspect.signature(fn).parameters.values())[3:]
        if isinstance(p.default, bool)
    ]
    for flag in flags:
        with pytest.raises(ValueError, match=f"{flag} must be True or False"):
            run(name, net, x, **{flag: "no"})
    if fn.info.seeded:
        for seed in ("a", 1.5, True, -1, 2**63, 2**64):
            with pytest.raises(ValueError, match="seed must be"):
                run(name, net, x, seed=seed)


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out(name, net, x):
    a = run(name, copy.deepcopy(net).float(), x.float())
    assert a.dtype == torch.float32


@requires_cuda
@pytest.mark.parametrize("name", NAMES)
def test_cuda_equals_cpu(name, net, x):
    model = copy.deepcopy(net).cuda()
    before = snapshot(model)
    rng = torch.cuda.get_rng_state()
    a = run(name, model, x.cuda())
    assert a.device.type == "cuda"
    assert_untouched(model, before)
    assert torch.equal(torch.cuda.get_rng_state(), rng)
    torch.testing.assert_close(a.cpu(), run(name, net, x), rtol=1e-7, atol=1e-9)


@requires_cuda
def test_target_tensor_on_another_device(net, x):
    target = torch.tensor([0, 1, 2], device="cuda")
    torch.testing.assert_close(
        xl.saliency(net, x, target), xl.saliency(net, x, target.cpu())
    )


# --------------------------------------------------------------------------- 1. train mode


def _with_norm_in_train_mode():
    model = cnn(norm=True)
    reference = copy.deepcopy(model)  # eval mode
    return model.train(), reference


METRIC_CALLS = {
    "predict": lambda m, x: xl.predict(m, x),
    "deletion": lambda m, x: xl.metrics.deletion(m, x, images(3, 7), 0, steps=4),
    "insertion": lambda m, x: xl.metrics.insertion(m, x, images(3, 7), 0, steps=4),
    "mu_fidelity": lambda m, x: xl.metrics.mu_fidelity(
        m, x, images(3, 7), 0, n=8, seed=0
    ),
    "completeness_error": lambda m, x: xl.metrics.completeness_error(
        m, x, images(3, 7)
    ),
    "infidelity": lambda m, x: xl.metrics.infidelity(m, x, images(3, 7), n=4, seed=0),
    "sensitivity_max": lambda m, x: xl.metrics.sensitivity_max(
        "saliency", m, x, n=2, seed=0
    ),
    "model_randomization": lambda m, x: xl.metrics.model_randomization(
        m, x, layers=["10"]
    )[1],
    "optimal_cutoff": lambda m, x: xl.spectral.optimal_cutoff(
        m, x, None, "saliency", [0.1, 0.5], "insertion", return_scores=True
    )[1],
    "shatteredness": lambda m, x: xl.shattered.shatteredness(m, x, n=2, seed=0),
}


@pytest.mark.parametrize("name", sorted(METRIC_CALLS))
def test_metrics_and_spectral_helpers_use_eval_mode_too(name, x, monkeypatch):
    """Issue 15.1 and 15.6: metrics ran train-mode models, before the guard for the target."""
    warn_training_mode_again(monkeypatch, False)
    model, reference = _with_norm_in_train_mode()
    before = snapshot(model)
    rng = torch.get_rng_state()
    result = METRIC_CALLS[name](model, x)
    assert_untouched(model, before)  # BatchNorm's running statistics included
    assert torch.equal(torch.get_rng_state(), rng)
    torch.testing.assert_close(result, METRIC_CALLS[name](reference, x), equal_nan=True)


@pytest.mark.parametrize("name", sorted(METRIC_CALLS))
def test_metrics_work_under_inference_mode(name, net, x):
    """A caller under torch.inference_mode gets the same scores (result buffers used to be
    made in the caller's inference mode and written outside it)."""
    expected = METRIC_CALLS[name](net, x)
    with torch.inference_mode():
        result = METRIC_CALLS[name](net, x)
    torch.testing.assert_close(result, expected, equal_nan=True)


def test_training_mode_warning_names_the_policy_once(net, x, monkeypatch):
    warn_training_mode_again(monkeypatch)
    model = copy.deepcopy(net).train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xl.saliency(model, x)
        xl.metrics.deletion(model, x, images(3, 7), steps=2)
    training = [w for w in caught if w.category is xl.TrainingModeWarning]
    assert len(training) == 1
    message = str(training[0].message)
    assert "eval" in message and "BatchNorm2d" in message and "Dropout" in message
    assert training[0].filename == __file__  # points at the caller's line


def test_no_warning_when_training_mode_changes_nothing(x, monkeypatch):
    warn_training_mode_again(monkeypatch)
    model = cnn().train()  # no Dropout, no BatchNorm: train and eval compute the same
    with warnings.catch_warnings():
        warnings.simplefilter("error", xl.TrainingModeWarning)
        xl.saliency(model, x)
    assert model.training


def test_integrated_gradients_independent_of_batch_size_in_train_mode(x, monkeypatch):
    warn_training_mode_again(monkeypatch, False)
    model, reference = _with_norm_in_train_mode()
    expected = xl.integrated_gradients(reference, x, 0, steps=8)
    for batch_size in (None, 2):
        torch.testing.assert_close(
            xl.integrated_gradients(model, x, 0, steps=8, batch_size=batch_size),
            expected,
        )


def test_smoothgrad_in_train_mode_is_reproducible(x, monkeypatch):
    warn_training_mode_again(monkeypatch, False)
    model, _ = _with_norm_in_train_mode()
    rng = torch.get_rng_state()
    first = xl.smoothgrad(model, x, 0, n=4, seed=3)
    assert torch.equal(first, xl.smoothgrad(model, x, 0, n=4, seed=3))
    assert torch.equal(torch.get_rng_state(), rng)


# --------------------------------------------------------------------------- 4. detached


def test_integrated_gradients_detached_with_a_baseline_requiring_grad(net, x):
    baseline = torch.full_like(x, 0.1, requires_grad=True)
    a = xl.integrated_gradients(
        net, x.clone().requires_grad_(True), 0, baseline=baseline, steps=4
    )
    assert not a.requires_grad and a.grad_fn is None
    assert baseline.grad is None


# --------------------------------------------------------------------------- 5. degenerate maps

MASKS = torch.zeros(3, 1, 16, 16, dtype=torch.bool)
MASKS[:, :, 8:, 8:] = True  # a quarter of each image


def test_pointing_game_scores_a_constant_map_at_chance():
    """An all-zero map used to hit when the object covered pixel (0, 0)."""
    masks = MASKS.clone()
    masks[:, :, :8, :8] = True  # now covering pixel (0, 0): half the image
    with pytest.warns(xl.DegenerateMapWarning, match="samples 0, 1, 2 is constant"):
        hits = xl.metrics.pointing_game(torch.zeros(3, 1, 16, 16), masks)
    torch.testing.assert_close(hits, torch.full((3,), 0.5))


def test_pointing_game_ties_count_the_share_of_maxima_that_hit():
    a = torch.zeros(3, 1, 16, 16)
    a[:, :, 0, 0] = 1.0  # off the object
    a[:, :, 15, 15] = 1.0  # on it
    a[1, :, 0, 0] = 0.5  # sample 1: one maximum, on the object
    a[2, :, 15, 15] = 0.5  # sample 2: one maximum, off it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hits = xl.metrics.pointing_game(a, MASKS)
    torch.testing.assert_close(hits, torch.tensor([0.5, 1.0, 0.0]))


@pytest.mark.parametrize("metric", ["pointing_game", "relevance_mass"])
def test_localization_refuses_an_empty_mask(metric):
    masks = MASKS.clone()
    masks[1] = False
    with pytest.raises(ValueError, match="mask of sample 1 is empty"):
        getattr(xl.metrics, metric)(torch.rand(3, 1, 16, 16), masks)


def test_relevance_mass_of_a_map_without_positive_relevance_is_nan_with_a_warning():
    a = torch.rand(3, 1, 16, 16)
    a[0] = 0.0
    a[2] = -a[2]
    with pytest.warns(xl.DegenerateMapWarning, match="samples 0, 2 has no positive"):
        mass = xl.metrics.relevance_mass(a, MASKS)
    assert mass.isnan().tolist() == [True, False, True]


@pytest.mark.parametrize("metric", ["deletion", "insertion", "mu_fidelity"])
def test_softmax_over_one_output_is_refused(metric, x):
    """deletion/insertion returned 1.0 for any attribution of a one-output model."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(768, 1)).double()
    with pytest.raises(ValueError, match="softmax=False"):
        getattr(xl.metrics, metric)(model, x, torch.rand_like(x), softmax=True)
    assert getattr(xl.metrics, metric)(
        model, x, torch.rand_like(x), softmax=False
    ).shape == (3,)


@pytest.mark.parametrize("metric", ["deletion", "insertion"])
def test_deletion_warns_about_a_constant_map_and_breaks_ties_by_index(metric, net, x):
    with pytest.warns(xl.DegenerateMapWarning, match="ranks nothing"):
        flat = getattr(xl.metrics, metric)(net, x, torch.zeros_like(x), 0, steps=4)
    # ties go by index: the same as a map decreasing in raster order
    order = -torch.arange(256, dtype=x.dtype).view(1, 1, 16, 16).expand(3, 3, 16, 16)
    torch.testing.assert_close(
        flat, getattr(xl.metrics, metric)(net, x, order, 0, steps=4)
    )


def test_mu_fidelity_of_an_all_zero_map_is_nan_with_a_warning(net, x):
    a = torch.rand_like(x)
    a[1] = 0
    with pytest.warns(xl.DegenerateMapWarning, match="sample 1 the attribution mass"):
        scores = xl.metrics.mu_fidelity(net, x, a, 0, n=16, seed=0)
    assert scores.isnan().tolist() == [False, True, False]


def test_expected_frequency_and_delta_ef_warn_about_all_zero_maps():
    maps = torch.rand(4, 16, 16, dtype=torch.float64)
    maps[2] = 0
    with pytest.warns(xl.DegenerateMapWarning, match="1 of 4 maps are all zero"):
        ef = xl.spectral.expected_frequency(maps)
    assert ef.isnan().tolist() == [False, False, True, False]
    with pytest.warns(xl.DegenerateMapWarning, match="all zero"):
        assert xl.spectral.delta_ef(maps, torch.rand_like(maps)).isnan()[2]
    assert xl.spectral.expected_frequency(torch.ones(16, 16)) == 0  # constant: DC only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.isfinite(
            xl.spectral.expected_frequency(maps[:, None], rank=True)
        ).all()


def test_optimal_cutoff_refuses_when_every_score_is_nan(net, x):
    def undefined(model, x, attribution, target):
        return torch.full((x.shape[0],), math.nan, dtype=x.dtype)

    with pytest.raises(ValueError, match="undefined"):
        xl.spectral.optimal_cutoff(net, x, 0, "saliency", [0.1, 0.5], undefined)


def test_optimal_cutoff_compares_cutoffs_on_the_same_samples(net, x):
    calls = []

    def score(model, x, attribution, target):
        # sample 0 scores 10 at the first cutoff and is undefined at the second: left out at
        # both, the cutoffs tie (a mean over the samples each defines would favour the first)
        calls.append(1)
        first = len(calls) == 1
        return torch.tensor([10.0 if first else math.nan, 1.0, 2.0], dtype=x.dtype)

    with pytest.warns(xl.DegenerateMapWarning, match="1 of 3 samples"):
        best, scores = xl.spectral.optimal_cutoff(
            net, x, 0, "saliency", [0.1, 0.5], score, return_scores=True
        )
    torch.testing.assert_close(scores, torch.tensor([1.5, 1.5], dtype=x.dtype))


# --------------------------------------------------------------------------- 6. forward passes


class Counting(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net, self.calls = net, 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


def test_a_given_target_costs_no_forward_pass(net, x):
    model = Counting(net)
    xl.integrated_gradients(model, x, 0, steps=4, batch_size=12)
    assert model.calls == 1  # the path in one chunk; no pass to resolve the target
    model.calls = 0
    xl.integrated_gradients(model, x, None, steps=4, batch_size=12)
    assert model.calls == 2  # the argmax needs one
    with pytest.raises(ValueError, match="out of range"):
        xl.integrated_gradients(model, x, CLASSES, steps=4)


SINGLE_PASS = [
    "deconvnet",
    "grad_cam",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "lrp",
    "saliency",
]


def test_single_pass_methods_are_those_without_their_own_batch_size():
    own = {
        n
        for n in NAMES
        if "batch_size" in inspect.signature(xl.METHODS[n].__wrapped__).parameters
    }
    assert sorted(set(NAMES) - own) == SINGLE_PASS


@pytest.mark.parametrize("name", SINGLE_PASS)
def test_single_pass_methods_take_batch_size(name, net, x):
    """Saliency, Grad-CAM, LRP, ... ran all of x at once; now in chunks of batch_size."""
    model = Counting(net)
    expected = run(name, model, x)
    model.calls = 0
    torch.testing.assert_close(run(name, model, x, batch_size=1), expected)
    passes_per_chunk = 2 if name == "guided_grad_cam" else 1
    assert model.calls == 3 * passes_per_chunk
    assert "batch_size" in inspect.signature(xl.METHODS[name]).parameters


# --------------------------------------------------------------------------- 10. seeds, flags


@pytest.mark.parametrize(
    "call",
    [
        lambda seed: xl.data.shapes(2, seed=seed),
        lambda seed: xl.rise_masks((8, 8), 4, 2, seed=seed),
        lambda seed: xl.metrics.mu_fidelity(
            cnn(), images(), images(3, 7), 0, n=4, seed=seed
        ),
        lambda seed: xl.metrics.model_randomization(cnn(), images(), seed=seed),
    ],
)
@pytest.mark.parametrize("seed", ["a", 1.5, True, -1, 2**64])
def test_every_seed_is_validated_in_one_place(call, seed):
    with pytest.raises(ValueError, match="seed must be"):
        call(seed)


def test_seed_none_draws_fresh_noise_without_the_global_rng(net, x):
    rng = torch.get_rng_state()
    first = xl.smoothgrad(net, x, 0, n=2, seed=None)
    second = xl.smoothgrad(net, x, 0, n=2, seed=None)
    assert not torch.equal(first, second)
    xl.data.shapes(2, seed=None)
    xl.rise_masks((8, 8), 4, 2, seed=None)
    assert torch.equal(torch.get_rng_state(), rng)


def test_spectral_lens_seed_leaves_room_for_every_scale(net, x):
    with pytest.raises(ValueError, match="one seed per scale"):
        xl.spectral_lens(net, x, 0, sigmas=[0.1, 0.2], n=2, seed=2**63 - 1)


@pytest.mark.parametrize(
    "call, flag",
    [
        (
            lambda: xl.metrics.deletion(cnn(), images(), images(3, 7), softmax="no"),
            "softmax",
        ),
        (lambda: xl.spectral.expected_frequency(images(), rank=1), "rank"),
        (
            lambda: xl.metrics.model_randomization(cnn(), images(), absolute="yes"),
            "absolute",
        ),
        (lambda: xl.data.shapes(2, return_background="no"), "return_background"),
    ],
)
def test_flags_outside_the_methods_are_validated(call, flag):
    with pytest.raises(ValueError, match=f"{flag} must be True or False"):
        call()


# --------------------------------------------------------------------------- 11. smoothgrad


@pytest.mark.parametrize("inner", ["grad_cam", "occlusion", "rise"])
def test_smoothgrad_wraps_pixel_methods_on_color_images(inner, net, x):
    """smoothgrad(method="grad_cam" | "occlusion" | "rise") failed with a shape error."""
    options = {
        "grad_cam": {},
        "occlusion": {"patch": 4},
        "rise": {"n_masks": 16, "cell": 4},
    }
    a = xl.smoothgrad(net, x, 0, method=inner, n=3, seed=5, **options[inner])
    assert a.shape == (3, 1, 16, 16)
    torch.testing.assert_close(
        xl.smoothgrad(
            net, x, 0, method=inner, n=3, seed=5, batch_size=2, **options[inner]
        ),
        a,
    )
    # sigma = 0: the wrapped method itself (RISE with the seed smoothgrad gives it)
    plain = xl.smoothgrad(
        net, x, 0, method=inner, n=2, sigma=0.0, seed=5, **options[inner]
    )
    inner_seed = {"seed": xl._core.derived_seed(5, 1)} if inner == "rise" else {}
    torch.testing.assert_close(
        plain, xl.METHODS[inner](net, x, 0, **options[inner], **inner_seed)
    )


# --------------------------------------------------------------------------- 12. typos


def test_spectral_lens_names_the_sigma_typo(net, x):
    with pytest.raises(ValueError, match=r"sigmas=\[0.1\]"):
        xl.spectral_lens(net, x, 0, sigma=0.1, n=2)


def test_unknown_options_suggest_the_right_name(net, x):
    with pytest.raises(ValueError, match="did you mean 'steps'"):
        xl.integrated_gradients(net, x, 0, step=8)


# --------------------------------------------------------------------------- 13. viz, zoo


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_viz_refuses_maps_it_cannot_colour(value):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = torch.rand(16, 16)
    a[3, 4] = value
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="NaN or infinite"):
            xl.viz.heatmap(a, ax)
        with pytest.raises(ValueError, match="NaN or infinite"):
            xl.viz.overlay(torch.rand(3, 16, 16), a, ax)
    finally:
        plt.close(fig)


def test_overlay_refuses_a_map_of_another_size():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="upsample the map"):
            xl.viz.overlay(torch.rand(3, 16, 16), torch.rand(1, 4, 4), ax)
    finally:
        plt.close(fig)


def test_viz_is_reachable_as_an_attribute():
    code = "import xai_lib as xl; print(xl.viz.heatmap.__name__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "heatmap"


def test_zoo_loads_zoo_names_only(tmp_path):
    """A card and weights planted outside the zoo, named by a relative path, used to load."""
    import os
    import shutil

    from xai_lib.models import zoo

    for suffix in (".json", ".pt"):
        shutil.copy(zoo.WEIGHTS / f"shapes_cnn{suffix}", tmp_path / f"planted{suffix}")
    planted = os.path.relpath(
        tmp_path / "planted", zoo.WEIGHTS
    )  # "../../../tmp/.../planted"
    for name in (
        planted,
        str(tmp_path / "planted"),
        "weights/shapes_cnn",
        "shapes_cnn.pt",
    ):
        with pytest.raises(ValueError, match="no zoo model named"):
            xl.zoo.load(name)
        with pytest.raises(ValueError, match="no zoo model named"):
            xl.zoo.card(name)
