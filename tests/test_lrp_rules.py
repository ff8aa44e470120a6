"""LRP rules against a hand-worked example, a slow textbook re-implementation and zennit.

The textbook version below forms every contribution c_jk explicitly (convolutions through
unfold), loops over the layers of a Sequential and applies the formulas of the LRP tutorial
(Montavon et al., 2019) in float64: nothing in it shares code with xai_lib's gradient trick.
"""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from zennit import rules as zr
from zennit.attribution import Gradient
from zennit.composites import (
    LayerMapComposite,
    MixedComposite,
    NameMapComposite,
    SpecialFirstLayerMapComposite,
)
from zennit.types import Activation, AvgPool, Convolution
from zennit.types import Linear as ZennitLinear

import xai_lib as xl
from xai_lib import rules as R

# --------------------------------------------------------------------------- the textbook


def _split(spec):
    """A textbook spec ("gamma", 0.25, {"stabilizer": 0.01}) -> name, parameters, options."""
    name, *params = spec
    options = params.pop() if params and isinstance(params[-1], dict) else {}
    return name, params, options


def _dense_relevance(spec, a, weight, bias, relevance, mask):
    """One layer in matrix form, per output position p: inputs a (N, J, P), weight (K, J), bias (K,),
    output relevance (N, K, P); ``mask`` (N, J, P) marks real inputs (0 at zero padding)."""
    name, params, options = _split(spec)
    stabilizer = options.get("stabilizer", 1e-6)
    products = (
        a[:, :, None] * weight.T[None, :, :, None]
    )  # (N, J, K, P): c_jk = a_j w_jk

    def share(c, b, eps, r=relevance):
        z = c.sum(1) + b[None, :, None]  # (N, K, P)
        if eps == 0:
            s = torch.where(z == 0, torch.zeros_like(z), r / z)
        else:
            s = r / (z + eps * torch.where(z >= 0, 1.0, -1.0).double())
        return (c * s[:, None]).sum(2)  # (N, J, P)

    if name in ("zero", "epsilon"):
        return share(products, bias, params[0] if name == "epsilon" else 0.0)
    if name == "gamma" and options.get("generalized"):
        # an output z > 0 boosts the positive contributions, an output z < 0 the negative ones
        (g,) = params
        z = products.sum(1) + bias[None, :, None]
        up = share(
            products + g * products.clamp(min=0),
            bias + g * bias.clamp(min=0),
            stabilizer,
            torch.where(z > 0, relevance, 0.0),
        )
        down = share(
            products + g * products.clamp(max=0),
            bias + g * bias.clamp(max=0),
            stabilizer,
            torch.where(z < 0, relevance, 0.0),
        )
        return up + down
    if name == "gamma":
        (g,) = params
        return share(
            a[:, :, None] * (weight + g * weight.clamp(min=0)).T[None, :, :, None],
            bias + g * bias.clamp(min=0),
            stabilizer,
        )
    if name == "zplus":
        return share(products.clamp(min=0), bias.clamp(min=0), stabilizer)
    if name == "alphabeta":
        alpha, beta = params
        result = alpha * share(products.clamp(min=0), bias.clamp(min=0), stabilizer)
        return (
            result - beta * share(products.clamp(max=0), bias.clamp(max=0), stabilizer)
            if beta
            else result
        )
    if name == "zbox":
        low, high = params  # already in the (N, J, P) layout
        c = (
            products
            - low[:, :, None] * weight.clamp(min=0).T[None, :, :, None]
            - high[:, :, None] * weight.clamp(max=0).T[None, :, :, None]
        )
        return share(c, torch.zeros_like(bias), stabilizer)
    if name == "flat":
        c = mask[:, :, None].expand_as(products).clone()
        return share(c, torch.zeros_like(bias), stabilizer)
    raise AssertionError(name)


def _layout(t, layer):
    """A (N, C, H, W) tensor as the receptive-field columns (N, C*kh*kw, P) a conv layer sees."""
    return F.unfold(t, layer.kernel_size, padding=layer.padding, stride=layer.stride)


@torch.no_grad()
def textbook_lrp(model: nn.Sequential, x, target, specs):
    """LRP with explicit per-layer formulas; ``specs[i]`` is the rule of layer i, e.g. ("gamma", 0.25)."""
    activations = [x]
    for layer in model:
        activations.append(layer(activations[-1]))
    out = activations[-1]
    relevance = torch.zeros_like(out)
    relevance[range(len(x)), target] = out[range(len(x)), target]
    for i in reversed(range(len(model))):
        layer, a = model[i], activations[i]
        bias = layer.bias if getattr(layer, "bias", None) is not None else None
        if isinstance(layer, nn.Linear):
            bias = (
                torch.zeros(layer.out_features, dtype=x.dtype) if bias is None else bias
            )
            spec = specs[i]
            if spec[0] == "zbox":
                _, bounds, options = _split(spec)
                spec = (
                    "zbox",
                    *(
                        torch.as_tensor(v, dtype=x.dtype).expand_as(a)[:, :, None]
                        for v in bounds
                    ),
                    options,
                )
            relevance = _dense_relevance(
                spec,
                a[:, :, None],
                layer.weight,
                bias,
                relevance[:, :, None],
                torch.ones_like(a)[:, :, None],
            )[:, :, 0]
        elif isinstance(layer, nn.Conv2d):
            bias = (
                torch.zeros(layer.out_channels, dtype=x.dtype) if bias is None else bias
            )
            spec = specs[i]
            if spec[0] == "zbox":
                _, bounds, options = _split(spec)
                spec = (
                    "zbox",
                    *(
                        _layout(
                            torch.as_tensor(v, dtype=x.dtype).expand_as(a).contiguous(),
                            layer,
                        )
                        for v in bounds
                    ),
                    options,
                )
            cols = _layout(a, layer)  # (N, J, P)
            flat_out = relevance.flatten(2)  # (N, K, H'W')
            r_cols = _dense_relevance(
                spec,
                cols,
                layer.weight.flatten(1),
                bias,
                flat_out,
                _layout(torch.ones_like(a), layer),
            )
            relevance = F.fold(
                r_cols,
                a.shape[-2:],
                layer.kernel_size,
                padding=layer.padding,
                stride=layer.stride,
            )
        elif isinstance(layer, nn.MaxPool2d):  # winner takes all
            _, index = F.max_pool2d(a, layer.kernel_size, return_indices=True)
            relevance = F.max_unpool2d(
                relevance, index, layer.kernel_size, output_size=a.shape[-2:]
            )
        elif isinstance(layer, nn.AvgPool2d):  # in proportion to each input
            k = layer.kernel_size
            block_sum = F.avg_pool2d(a, k) * k * k
            share = torch.where(
                block_sum == 0, torch.zeros_like(block_sum), relevance / block_sum
            )
            relevance = a * share.repeat_interleave(k, -1).repeat_interleave(k, -2)
        elif isinstance(layer, nn.Flatten):
            relevance = relevance.reshape(a.shape)
        else:
            assert isinstance(layer, (nn.ReLU, nn.Dropout)), (
                layer
            )  # activations pass relevance on
    return relevance


def textbook_cnn(bias=True, seed=0):
    torch.manual_seed(seed)
    return (
        nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1, bias=bias),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16 -> 8 px
            nn.Conv2d(6, 8, 3, padding=1, stride=2, bias=bias),
            nn.ReLU(),  # 8 -> 4 px
            nn.Conv2d(8, 8, 3, padding=1, bias=bias),
            nn.ReLU(),
            nn.AvgPool2d(2),  # 4 -> 2 px
            nn.Flatten(),
            nn.Linear(32, 10, bias=bias),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(10, 4, bias=bias),
        )
        .double()
        .eval()
    )


def textbook_mlp(bias=True, seed=0):
    torch.manual_seed(seed)
    return (
        nn.Sequential(
            nn.Linear(5, 12, bias=bias),
            nn.ReLU(),
            nn.Linear(12, 8, bias=bias),
            nn.ReLU(),
            nn.Linear(8, 3, bias=bias),
        )
        .double()
        .eval()
    )


def _ours(spec):
    name, params, options = _split(spec)
    return {
        "zero": R.Zero,
        "epsilon": R.Epsilon,
        "gamma": R.Gamma,
        "zplus": R.ZPlus,
        "alphabeta": R.AlphaBeta,
        "zbox": R.ZBox,
        "flat": R.Flat,
    }[name](*params, **options)


def _same_rule_everywhere(model, spec):
    """Textbook specs and xai_lib rules (by module name) giving every Linear/Conv the rule ``spec``."""
    specs = {i: spec for i, m in enumerate(model) if isinstance(m, R.LAYERS)}
    return specs, {str(i): _ours(spec) for i, spec in specs.items()}


SINGLE_RULES = [
    ("zero",),
    ("epsilon", 0.5),
    ("gamma", 0.25),
    ("zplus",),
    ("alphabeta", 2.0, 1.0),
    ("alphabeta", 1.0, 0.0),
    ("flat",),
    # per-rule stabilizers (0: exact division) and the generalized gamma rule
    ("gamma", 0.5, {"stabilizer": 0.3}),
    ("gamma", 0.25, {"stabilizer": 0.0}),
    ("gamma", 0.25, {"generalized": True}),
    ("gamma", 1.0, {"generalized": True, "stabilizer": 0.1}),
    ("zplus", {"stabilizer": 0.5}),
    ("alphabeta", 2.0, 1.0, {"stabilizer": 0.2}),
    ("flat", {"stabilizer": 0.0}),
]


def _spec_id(spec) -> str:
    name, params, options = _split(spec)
    return "_".join(
        [name, *map(str, params), *(f"{k}={v}" for k, v in options.items())]
    )


@pytest.mark.parametrize("make", [textbook_mlp, textbook_cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("spec", SINGLE_RULES, ids=_spec_id)
def test_every_rule_equals_the_textbook(make, spec):
    model = make()
    shape = (3, 5) if make is textbook_mlp else (3, 3, 16, 16)
    x = torch.randn(
        shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )  # signed inputs
    target = [0, 1, 2]
    specs, rules = _same_rule_everywhere(model, spec)
    torch.testing.assert_close(
        xl.lrp(model, x, target, rules=rules),
        textbook_lrp(model, x, target, specs),
        rtol=1e-10,
        atol=1e-13,
    )


def test_zplus_is_alphabeta_one_zero():
    model, x = textbook_cnn(), torch.rand(2, 3, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(
        xl.lrp(model, x, 1, rules=R.ZPlus()),
        xl.lrp(model, x, 1, rules=R.AlphaBeta(1, 0)),
        rtol=0,
        atol=1e-15,
    )


@pytest.mark.parametrize("bounds", [(-1.0, 2.0), "per_channel", "like_x"])
def test_zbox_first_layer_and_layered_composite_equal_the_textbook(bounds):
    model = textbook_cnn()
    g = torch.Generator().manual_seed(2)
    if bounds == "per_channel":
        low = -torch.rand(1, 3, 1, 1, dtype=torch.float64, generator=g)
        high = 1 + torch.rand(1, 3, 1, 1, dtype=torch.float64, generator=g)
    elif bounds == "like_x":
        low = -torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=g)
        high = 1 + torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=g)
    else:
        low, high = bounds
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=g)  # inside the box
    # the tutorial's recipe: zB first, gamma lower, epsilon middle, LRP-0 for the dense top
    specs = {
        0: ("zbox", low, high),
        3: ("gamma", 0.25),
        5: ("epsilon", 0.25),
        9: ("zero",),
        12: ("zero",),
    }
    rules = R.layered(model, first=R.ZBox(low, high))
    assert {k: repr(v) for k, v in rules.items()} == {
        str(i): repr(_ours(s)) for i, s in specs.items()
    }
    torch.testing.assert_close(
        xl.lrp(model, x, [3, 0], rules=rules),
        textbook_lrp(model, x, [3, 0], specs),
        rtol=1e-10,
        atol=1e-13,
    )


def test_hand_worked_example():
    """x = (1, 2), hidden h = relu(W x) = (3, 3), f = h1 + h2 = 6 (worked out on paper)."""
    model = nn.Sequential(
        nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False)
    ).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, 2.0]]))
        model[2].weight.fill_(1.0)
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    expected = {
        R.Zero(): [0.0, 6.0],  # = x * gradient = (1, 2) * (0, 3)
        R.Gamma(1.0): [4 / 7, 38 / 7],  # hidden 2 sees weights (-1, 4): (-1, 8) / 7 * 3
        R.ZPlus(): [
            1.0,
            5.0,
        ],  # hidden 2 keeps only its positive contribution 4: (0, 3)
        R.Epsilon(1.0): [
            0.0,
            27 / 7,
        ],  # 6 of relevance shrinks to 6 * 6/7, then each hidden's 18/7 by 3/4
        R.Flat(): [3.0, 3.0],
    }
    for rule, value in expected.items():
        torch.testing.assert_close(
            xl.lrp(model, x, 0, rules=rule),
            torch.tensor([value], dtype=torch.float64),
            rtol=1e-6,
            atol=1e-12,
            msg=repr(rule),
        )  # rtol: the rules' 1e-6 stabilizer


CONSERVING = [
    R.Zero(),
    R.Gamma(0.25),
    R.Gamma(3.0),
    R.ZPlus(),
    R.Flat(),
    {"0": R.ZBox(0.0, 100.0), nn.Linear: R.Zero(), nn.Conv2d: R.Zero()},
]


@pytest.mark.parametrize(
    "make, rules",
    [
        (make, rules)
        for make in (textbook_mlp, textbook_cnn)
        for rules in CONSERVING
        if not (make is textbook_cnn and isinstance(rules, R.Flat))
    ],
    ids=lambda v: (
        v.__name__ if callable(v) and not isinstance(v, R.Rule) else repr(v)[:12]
    ),
)
def test_conservation_on_bias_free_networks(make, rules):
    """Sum of input relevance = f_target(x): every layer hands on exactly what it receives.

    Up to the stabilizer's 1e-6 / z per layer: inputs in [0, 100] keep z far above 1e-6. Not
    tested: AlphaBeta, which loses its beta part at neurons without negative contributions, and
    Flat below average pooling, whose all-zero blocks pass no relevance on.
    """
    model = make(bias=False)
    x = 100 * torch.rand(
        (4, 5) if make is textbook_mlp else (4, 3, 16, 16), dtype=torch.float64
    )
    target = model(x).argmax(1)
    relevance = xl.lrp(model, x, target, rules=rules)
    f = model(x).gather(1, target[:, None])[:, 0].detach()
    torch.testing.assert_close(relevance.flatten(1).sum(1), f, rtol=1e-5, atol=1e-12)


def test_epsilon_interpolates_from_lrp0_to_nothing():
    model, x = textbook_mlp(bias=False), torch.rand(4, 5, dtype=torch.float64)
    f = model(x)[:, 0].detach()
    torch.testing.assert_close(
        xl.lrp(model, x, 0, rules=R.Epsilon(0.0)).sum(1), f
    )  # conserved
    torch.testing.assert_close(
        xl.lrp(model, x, 0, rules=R.Epsilon(0.0)), xl.lrp(model, x, 0, rules=R.Zero())
    )
    assert (
        xl.lrp(model, x, 0, rules=R.Epsilon(1e9)).abs().max() < 1e-12 * f.abs().max()
    )  # all absorbed


def test_stabilizer_sign_of_zero_is_plus():
    z = torch.tensor([-2.0, -0.0, 0.0, 3.0], dtype=torch.float64)
    assert R.stabilize(z, 0.5).tolist() == [-2.5, 0.5, 0.5, 3.5]
    assert R.stabilize(torch.tensor([0.0]), 0.1).dtype == torch.float32
    assert (
        R.stabilize(z, 0.1)[3].item() == 3.1
    )  # eps kept in z's dtype, not rounded to float32
    assert R.ratio(torch.ones(2), torch.tensor([0.0, 4.0]), 0.0).tolist() == [0.0, 0.25]


# --------------------------------------------------------------------------- against zennit


def exact_division(
    z,
):  # zennit stabilizer that divides exactly, 0 where z = 0, as xai_lib's sums and pools do
    return torch.where(z == 0, torch.full_like(z, math.inf), z)


def zennit_lrp(
    model, x, target, layer_map, first_map=None, canonizers=None, name_map=None
):
    """zennit with the relevance of the target output set to its value, as xl.lrp does.

    ``name_map``: [(module names, rule)], matched before the type maps."""
    layer_map = [
        (Activation, zr.Pass()),
        (AvgPool, zr.Norm(stabilizer=exact_division)),
    ] + layer_map
    composite = (
        SpecialFirstLayerMapComposite(layer_map, first_map, canonizers=canonizers)
        if first_map
        else LayerMapComposite(layer_map, canonizers=canonizers)
    )
    if name_map:
        composite = MixedComposite([NameMapComposite(name_map), composite])
    onehot = torch.zeros_like(model(x))
    onehot[range(len(x)), target] = 1
    with Gradient(model, composite) as attributor:
        _, relevance = attributor(x, lambda out: out * onehot)
    return relevance


PAIRS = [
    (R.Epsilon(1e-6), zr.Epsilon(1e-6)),
    (R.Epsilon(0.3), zr.Epsilon(0.3)),
    (R.ZPlus(), zr.ZPlus()),
    (R.AlphaBeta(2, 1), zr.AlphaBeta(2, 1)),
    (R.Flat(), zr.Flat()),
    (R.Gamma(0.25), zr.Gamma(0.25)),
    # the per-rule stabilizer is zennit's
    (R.ZPlus(stabilizer=0.3), zr.ZPlus(stabilizer=0.3)),
    (R.AlphaBeta(2, 1, stabilizer=0.3), zr.AlphaBeta(2, 1, stabilizer=0.3)),
    (R.Flat(stabilizer=0.3), zr.Flat(stabilizer=0.3)),
    (R.Gamma(0.5, stabilizer=0.1), zr.Gamma(0.5, stabilizer=0.1)),
]


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[repr(p[0]) for p in PAIRS])
def test_rules_equal_zennit(ours, theirs):
    # zennit's Gamma is generalized to negative inputs and outputs; the two agree on the
    # non-negative inputs and positive outputs of a ReLU network, so the test uses x >= 0.
    model, x = textbook_cnn(), torch.rand(3, 3, 16, 16, dtype=torch.float64)
    target = [0, 1, 3]
    rules = (
        {nn.Conv2d: ours, nn.Linear: R.Zero()} if isinstance(ours, R.Gamma) else ours
    )
    layer_map = (
        [(Convolution, theirs), (nn.Linear, zr.Epsilon(exact_division))]
        if isinstance(ours, R.Gamma)
        else [(ZennitLinear, theirs)]
    )
    torch.testing.assert_close(
        xl.lrp(model, x, target, rules=rules),
        zennit_lrp(model, x, target, layer_map),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize("stabilizer", [1e-6, 0.05])
def test_zbox_gamma_epsilon_equals_zennit_epsilon_gamma_box(stabilizer):
    model = textbook_cnn()
    low, high = (
        -torch.ones(1, 3, 1, 1, dtype=torch.float64),
        2 * torch.ones(1, 3, 1, 1, dtype=torch.float64),
    )
    x = torch.rand(3, 3, 16, 16, dtype=torch.float64)
    rules = {
        "0": R.ZBox(low, high, stabilizer=stabilizer),
        nn.Conv2d: R.Gamma(0.25),
        nn.Linear: R.Epsilon(1e-6),
    }
    theirs = zennit_lrp(
        model,
        x,
        [0, 1, 2],
        [(Convolution, zr.Gamma(0.25)), (nn.Linear, zr.Epsilon(1e-6))],
        first_map=[(Convolution, zr.ZBox(low, high, stabilizer=stabilizer))],
    )
    torch.testing.assert_close(
        xl.lrp(model, x, [0, 1, 2], rules=rules), theirs, rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("make", [textbook_mlp, textbook_cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("gamma, stabilizer", [(0.25, 1e-6), (1.0, 0.1)])
def test_generalized_gamma_equals_zennit_on_inputs_of_both_signs(
    make, gamma, stabilizer
):
    """zennit's Gamma is the generalized rule; on signed inputs, and at outputs < 0 of every
    layer (the top included), the original rule differs from it."""
    model = make()
    shape = (3, 5) if make is textbook_mlp else (3, 3, 16, 16)
    x = torch.randn(
        shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
    )
    target = [0, 1, 2]
    ours = R.Gamma(gamma, stabilizer=stabilizer, generalized=True)
    theirs = zennit_lrp(
        model, x, target, [(ZennitLinear, zr.Gamma(gamma, stabilizer=stabilizer))]
    )
    torch.testing.assert_close(
        xl.lrp(model, x, target, rules=ours), theirs, rtol=1e-12, atol=1e-15
    )
    original = xl.lrp(model, x, target, rules=R.Gamma(gamma, stabilizer=stabilizer))
    assert not torch.allclose(original, theirs)


def test_zbox_stabilizer_equals_the_textbook():
    model = textbook_cnn()
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    specs = {i: ("zero",) for i, m in enumerate(model) if isinstance(m, R.LAYERS)}
    specs[0] = ("zbox", -1.0, 2.0, {"stabilizer": 0.5})
    rules = {str(i): _ours(spec) for i, spec in specs.items()}
    torch.testing.assert_close(
        xl.lrp(model, x, [1, 2], rules=rules),
        textbook_lrp(model, x, [1, 2], specs),
        rtol=1e-10,
        atol=1e-13,
    )


class WSquare(R.Rule):
    """The w^2 rule (Montavon et al., 2017), written with the public layer API of rules.py."""

    def relevance(self, layer, relevance):
        bias = None if layer.bias is None else layer.bias**2
        squares = layer.contribution(torch.ones_like(layer.x), layer.weight**2, bias)
        return squares.redistribute(relevance, R.DEFAULT_STABILIZER)


def test_a_custom_rule_plugs_in():
    model, x = textbook_cnn(), torch.rand(3, 3, 16, 16, dtype=torch.float64)
    rules = {"0": WSquare(), nn.Conv2d: R.Gamma(0.25), nn.Linear: R.Epsilon(1e-6)}
    theirs = zennit_lrp(
        model,
        x,
        [0, 1, 2],
        [(Convolution, zr.Gamma(0.25)), (nn.Linear, zr.Epsilon(1e-6))],
        first_map=[(Convolution, zr.WSquare())],
    )
    torch.testing.assert_close(
        xl.lrp(model, x, [0, 1, 2], rules=rules), theirs, rtol=1e-12, atol=1e-15
    )


# --------------------------------------------------------------------------- rule objects and layered


def few_samples_per_chunk(monkeypatch, size: int) -> None:
    """The automatic chunk (batch_size=None) of this test: ``size`` samples of 3 x 16 x 16."""
    from xai_lib._core import batching

    monkeypatch.setattr(batching, "AUTO_CPU_SCALE", 3 * 16 * 16 * size**2)
    monkeypatch.setattr(batching, "AUTO_MIN_SAMPLES", 1)


def assert_same(result, expected):
    """Equal up to rounding (a chunk's convolutions and matrix products may sum in another order)."""
    scale = float(expected.abs().max())
    torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-12 * scale)


def test_zbox_bounds_per_sample_follow_the_chunks(monkeypatch):
    """Bounds shaped like x raised "does not broadcast" as soon as the batch ran in chunks."""
    model, n = textbook_cnn(), 5
    x = torch.rand(n, 3, 16, 16, dtype=torch.float64)
    low, high = x - 0.1 - torch.rand_like(x), x + 0.1 + torch.rand_like(x)
    h = model[:3](x)  # the input of conv "3", after the max pool: bounds per sample too
    h_low, h_high = h - 0.5, h + torch.rand_like(h)
    rules = {
        "0": R.ZBox(low, high),
        "3": R.ZBox(h_low, h_high),
        nn.Conv2d: R.Gamma(0.25),
        nn.Linear: R.Epsilon(1e-6),
    }
    target = [0, 1, 2, 3, 0]
    whole = xl.lrp(model, x, target, rules=rules, batch_size=n)
    assert_same(xl.lrp(model, x, target, rules=rules, batch_size=2), whole)
    assert_same(xl.lrp(model, x, target, rules=rules, batch_size=1), whole)
    calls = []
    model[0].register_forward_hook(lambda *_: calls.append(1))
    few_samples_per_chunk(monkeypatch, 2)
    assert_same(xl.lrp(model, x, target, rules=rules), whole)
    assert len(calls) == 3  # the automatic chunks: 2 + 2 + 1 samples
    theirs = zennit_lrp(
        model,
        x,
        target,
        [(Convolution, zr.Gamma(0.25)), (nn.Linear, zr.Epsilon(1e-6))],
        first_map=[(Convolution, zr.ZBox(low, high))],
        name_map=[(["3"], zr.ZBox(h_low, h_high))],
    )
    torch.testing.assert_close(whole, theirs, rtol=1e-12, atol=1e-15)


def test_zbox_bounds_not_per_sample_are_not_cut():
    """Bounds of fewer dims than the layer's input broadcast as they are, even where their
    first dim happens to be the number of samples (5 features of 5 samples)."""
    model, n = textbook_mlp(), 5
    x = torch.rand(n, 5, dtype=torch.float64)
    for low, high in [
        (-torch.rand(5, dtype=torch.float64), 1 + torch.rand(5, dtype=torch.float64)),
        (-torch.rand(1, 5, dtype=torch.float64), 1.0),
        (x - 0.1, x + 0.1),
    ]:
        rules = {"0": R.ZBox(low, high), nn.Linear: R.Zero()}
        whole = xl.lrp(model, x, 0, rules=rules, batch_size=n)
        assert_same(xl.lrp(model, x, 0, rules=rules, batch_size=2), whole)
        theirs = zennit_lrp(
            model,
            x,
            [0] * n,
            [(nn.Linear, zr.Epsilon(exact_division))],
            # zennit takes bounds per sample (of x's shape)
            first_map=[
                (
                    nn.Linear,
                    zr.ZBox(*(torch.as_tensor(b).expand_as(x) for b in (low, high))),
                )
            ],
        )
        torch.testing.assert_close(whole, theirs, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"samples 0 to 1 of 5"):
        xl.lrp(model, x, 0, rules={"0": R.ZBox(torch.zeros(4, 5), 1.0)}, batch_size=2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: R.Epsilon(-1),
        lambda: R.Epsilon(math.nan),
        lambda: R.Gamma(-0.1),
        lambda: R.AlphaBeta(2, 2),
        lambda: R.AlphaBeta(-1, -2),
        lambda: R.ZBox(1.0, 0.0),
        lambda: R.ZBox("a", 1.0),
        lambda: R.ZBox(torch.zeros(3), torch.ones(2)),
        lambda: R.ZBox(torch.tensor([0, 1]), 1.0),
        lambda: R.ZBox(math.inf, 1.0),
        lambda: R.ZBox(0.0, 1.0, stabilizer=-1e-6),
        lambda: R.Gamma(0.25, stabilizer=-1.0),
        lambda: R.Gamma(0.25, generalized="yes"),
        lambda: R.ZPlus(stabilizer=math.nan),
        lambda: R.AlphaBeta(2, 1, stabilizer=math.inf),
        lambda: R.Flat(stabilizer="small"),
    ],
)
def test_bad_rule_parameters_raise(make):
    with pytest.raises(ValueError):
        make()


def test_zbox_bounds_that_do_not_fit_the_layer_raise():
    model, x = textbook_cnn(), torch.rand(2, 3, 16, 16, dtype=torch.float64)
    with pytest.raises(ValueError, match="does not broadcast"):
        xl.lrp(model, x, 0, rules={"0": R.ZBox(torch.zeros(1, 4, 1, 1), 1.0)})


def test_rules_print_their_parameters():
    assert repr(R.Gamma(0.5)) == "Gamma(gamma=0.5)"
    assert repr(R.Zero()) == "Zero()"
    assert repr(R.AlphaBeta()) == "AlphaBeta(alpha=2.0, beta=1.0)"
    assert (
        repr(R.ZBox(torch.zeros(1, 3, 1, 1), 1.0))
        == "ZBox(low=tensor of shape (1, 3, 1, 1), high=1.0)"
    )
    # options at their defaults are left out
    assert repr(R.ZPlus()) == "ZPlus()" and repr(R.Flat()) == "Flat()"
    assert (
        repr(R.Gamma(0.5, stabilizer=0.01, generalized=True))
        == "Gamma(gamma=0.5, stabilizer=0.01, generalized=True)"
    )
    assert (
        repr(R.ZBox(0.0, 1.0, stabilizer=0.1))
        == "ZBox(low=0.0, high=1.0, stabilizer=0.1)"
    )
    assert (
        repr(R.AlphaBeta(stabilizer=0))
        == "AlphaBeta(alpha=2.0, beta=1.0, stabilizer=0.0)"
    )


def test_layered_on_vgg16_is_the_tutorial_assignment():
    from torchvision.models import vgg16

    with torch.device(
        "meta"
    ):  # only the structure matters: no memory, no initialization time
        model = vgg16(weights=None)
    rules = R.layered(model, first=R.ZBox(0.0, 1.0))
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    dense = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    assert [type(rules[n]).__name__ for n in convs] == ["ZBox"] + ["Gamma"] * 6 + [
        "Epsilon"
    ] * 6
    assert [type(rules[n]).__name__ for n in dense] == ["Zero"] * 3
    assert set(rules) == set(convs + dense)


def test_layered_splits_mlps_and_resnets_by_depth():
    rules = R.layered(
        textbook_mlp()
    )  # three layers: first, then the upper third rounded up is the top
    assert [type(r).__name__ for r in rules.values()] == ["Flat", "Epsilon", "Zero"]
    mlp = nn.Sequential(*[nn.Linear(4, 4) for _ in range(8)])
    assert [type(r).__name__ for r in R.layered(mlp).values()] == [
        "Flat",
        "Gamma",
        "Gamma",
        "Epsilon",
        "Epsilon",
        "Zero",
        "Zero",
        "Zero",
    ]
    from torchvision.models import resnet18

    with torch.device("meta"):
        model = resnet18(weights=None)
    names = [type(r).__name__ for r in R.layered(model).values()]
    assert names == ["Flat"] + ["Gamma"] * 9 + ["Epsilon"] * 10 + ["Zero"]
    with pytest.raises(ValueError, match="no Linear or Conv"):
        R.layered(nn.ReLU())
    with pytest.raises(ValueError, match="Rule"):
        R.layered(mlp, top="zero")
