"""xl.lrp on whole networks: LRP-0 = Gradient x Input, canonization, residual sums, the `rules`
argument, clear errors, and the model left as it was found."""

import warnings

import pytest
import torch
import torchvision
from torch import nn
from torch.nn import functional as F
from zennit import rules as zr
from zennit.layer import Sum
from zennit.torchvision import ResNetCanonizer

import xai_lib as xl
from tests.helpers import assert_untouched, relu_mlp, requires_cuda, small_cnn, snapshot
from tests.test_lrp_rules import exact_division, zennit_lrp
from xai_lib import models
from xai_lib import rules as R
from xai_lib.relevance.layers import linear_map
from xai_lib.relevance.ledger import Ledger


def randomize_batch_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random running statistics and affine parameters, so folding BatchNorm is not the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(0.5 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(1 + 0.5 * torch.randn(c, generator=g))
                m.bias.copy_(0.5 * torch.randn(c, generator=g))
    return model.eval()


def torchvision_model(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return randomize_batch_norms(
        getattr(torchvision.models, name)(weights=None, num_classes=10)
    ).double()


def images(n=2, size=32, seed=1):
    return torch.rand(
        n,
        3,
        size,
        size,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(seed),
    )


# --------------------------------------------------------------------------- LRP-0 = Gradient x Input


@pytest.mark.parametrize("name", ["vgg11_bn", "resnet18"])
def test_lrp0_equals_gradient_x_input_on_torchvision(name):
    model, x = (
        torchvision_model(name),
        images(size=32 if name == "vgg11_bn" else 16),
    )  # vgg pools 5 times
    expected = xl.gradient_x_input(model, x)
    for canonize in (True, False):
        torch.testing.assert_close(
            xl.lrp(model, x, rules=R.Zero(), canonize=canonize),
            expected,
            rtol=1e-9,
            atol=1e-15,
        )


def test_resnet50_lrp0_equals_gradient_x_input():
    torch.manual_seed(0)
    model = randomize_batch_norms(
        torchvision.models.resnet50(weights=None, num_classes=10)
    )
    x = images(
        n=1, size=16
    ).float()  # float32 and 16 px: resnet50 in float64 is slow on a CPU
    expected = xl.gradient_x_input(model, x, 3)
    torch.testing.assert_close(
        xl.lrp(model, x, 3, rules=R.Zero()),
        expected,
        rtol=0,
        atol=1e-5 * expected.abs().max().item(),
    )


def test_vgg16_runs_the_tutorial_composite():
    torch.manual_seed(0)
    model, x = (
        torchvision.models.vgg16(weights=None, num_classes=10).eval(),
        images().float(),
    )
    relevance = xl.lrp(model, x, 1, rules=R.layered(model, first=R.ZBox(0.0, 1.0)))
    assert (
        relevance.shape == x.shape
        and relevance.dtype == torch.float32
        and torch.isfinite(relevance).all()
    )


def test_lrp0_equals_gradient_x_input_on_the_library_models():
    torch.manual_seed(0)
    x = images(n=3)
    for model in (
        models.ResNet(classes=5),
        models.ResNet(classes=5, bn=False),
        models.CNN(classes=5),
        models.MLP(3 * 32 * 32, 5),
    ):
        model = randomize_batch_norms(model.double())
        torch.testing.assert_close(
            xl.lrp(model, x, rules=R.Zero()),
            xl.gradient_x_input(model, x),
            rtol=1e-9,
            atol=1e-15,
            msg=type(model).__name__,
        )
    text = (
        models.TextClassifier(vocab_size=20).double().eval()
    )  # Conv1d over time, max over time
    embeddings = text.embed(torch.randint(1, 20, (3, 7)))
    torch.testing.assert_close(
        xl.lrp(text, embeddings, rules=R.Zero()),
        xl.gradient_x_input(text, embeddings),
        rtol=1e-9,
        atol=1e-15,
    )


class FunctionalBlock(nn.Module):
    """Residual arithmetic written in forward(): sums, in-place sums, scaling, functional ReLU.

    (FunctionalNet adds functional pooling: max, mean, adaptive average, indexing, cat.)
    """

    def __init__(self, channels=4):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn(self.conv1(x)))
        out = self.conv2(out) / 2
        out += x  # Tensor.add_
        out = torch.add(out, 0.5 * x, alpha=2) - 0.1 * self.conv1(x)
        return torch.relu(out - 1.0)


class FunctionalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block = FunctionalBlock()
        self.head = nn.Linear(4 + 4 * 2 * 2 + 4, 3)

    def forward(self, x):
        out = self.block(F.relu(self.stem(x)))  # (N, 4, 8, 8)
        pooled = [
            F.max_pool2d(out, 2).mean((2, 3)),  # (N, 4)
            torch.flatten(F.adaptive_avg_pool2d(out, 2), 1),  # (N, 16)
            out[:, :, ::2, ::2].amax((2, 3)),
        ]  # (N, 4)
        return self.head(torch.cat(pooled, 1))


def test_lrp0_equals_gradient_x_input_with_arithmetic_between_modules():
    torch.manual_seed(0)
    model, x = randomize_batch_norms(FunctionalNet().double()), images(n=3, size=8)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )


def test_shared_modules_and_inplace_relu():
    torch.manual_seed(0)
    relu, linear = nn.ReLU(inplace=True), nn.Linear(6, 6)
    model = nn.Sequential(
        nn.Linear(6, 6), relu, linear, relu, linear, relu, nn.Linear(6, 2)
    ).double()
    x = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )
    x = images(size=16)
    torch.testing.assert_close(
        xl.lrp(small_cnn(inplace=True).eval(), x, rules=R.Gamma()),
        xl.lrp(small_cnn().eval(), x, rules=R.Gamma()),
        rtol=0,
        atol=0,
    )


class IgnoresInPlaceResult(nn.Module):
    """An in-place activation module whose result the forward ignores: it reads z again."""

    def __init__(self, activation: nn.Module, conv: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3) if conv else nn.Linear(4, 4)
        self.act, self.fc = activation, nn.Linear(4, 2)

    def forward(self, x):
        z = self.conv(x)
        self.act(z)  # changes z in place: the model explained is fc(mean(act(conv(x))))
        return self.fc(z.mean((2, 3)) if z.dim() == 4 else z)


@pytest.mark.parametrize(
    "activation", [nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True)]
)
@pytest.mark.parametrize("conv", [True, False], ids=["read_between", "read_by_a_layer"])
def test_an_in_place_module_whose_result_is_ignored_raises(activation, conv):
    """LRP ran the module on a copy, so z kept its old values: it explained fc(mean(conv(x)))
    (0.03 off Gradient x Input, with no error). Now z is retired, as by F.relu(z, inplace=True)."""
    torch.manual_seed(0)
    model = IgnoresInPlaceResult(activation, conv).double().eval()
    x = torch.randn(2, 3, 8, 8) if conv else torch.randn(2, 4)
    with pytest.raises(ValueError, match="changed in place .* is read again"):
        xl.lrp(model, x.double(), 0, rules=R.Zero())


def test_an_in_place_module_whose_result_is_used_is_explained():
    """x = relu(x) and friends: LRP-0 = Gradient x Input with in-place ReLU and LeakyReLU, and
    an in-place Dropout (a no-op in eval mode) may even be ignored."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(6, 6), nn.Linear(6, 6), nn.Linear(6, 2)
            self.relu, self.leaky = (
                nn.ReLU(inplace=True),
                nn.LeakyReLU(0.2, inplace=True),
            )
            self.drop = nn.Dropout(0.5, inplace=True)

        def forward(self, x):
            h = self.relu(self.a(x))
            self.drop(h)  # eval mode: h unchanged
            return self.c(self.leaky(self.b(h)) + h)

    torch.manual_seed(0)
    model, x = Net().double().eval(), torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )


class KeywordSkip(nn.Module):
    """A skip connection written with keyword arguments, ``between(h, g)`` in forward()."""

    def __init__(self, between):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 3)
        self.between = between

    def forward(self, x):
        h = F.relu(self.a(x))
        g = F.relu(self.b(h))
        return self.c(self.between(h, g))


KEYWORD_FORMS = {
    "torch.add(h, other=g)": lambda h, g: torch.add(h, other=g),
    "h.add(other=g)": lambda h, g: h.add(other=g),
    "torch.add(input=h, other=g, alpha=2)": lambda h, g: torch.add(
        input=h, other=g, alpha=2
    ),
    "torch.sub(input=h, other=g)": lambda h, g: torch.sub(input=h, other=g),
    "h.sub(other=g, alpha=0.5)": lambda h, g: h.sub(other=g, alpha=0.5),
    "torch.sum(input=h, dim=1, keepdim=True)": (
        lambda h, g: torch.sum(input=h, dim=1, keepdim=True) + g
    ),
    "torch.mean(input=h, dim=1, keepdim=True)": (
        lambda h, g: g + torch.mean(input=h, dim=1, keepdim=True)
    ),
    "torch.mul(input=h, other=2)": lambda h, g: torch.mul(input=h, other=2) + g,
    "h.mul(other=2)": lambda h, g: h.mul(other=2) + g,
    "torch.div(input=h, other=2)": lambda h, g: torch.div(input=h, other=2) + g,
    "torch.relu(input=h)": lambda h, g: torch.relu(input=h - 0.1) + g,
    "F.avg_pool1d(input=h, kernel_size=2)": (
        lambda h, g: (
            g + F.avg_pool1d(input=h[:, None], kernel_size=2).flatten(1).sum(1, True)
        )
    ),
}


@pytest.mark.parametrize("form", KEYWORD_FORMS)
def test_keyword_forms_of_operations_between_modules(form):
    """torch.add(h, other=g), h.add(other=g), torch.sum(input=h, ...) raised IndexError;
    torch.mul(input=h, other=2) claimed h was multiplied by a non-constant."""
    torch.manual_seed(0)
    model = KeywordSkip(KEYWORD_FORMS[form]).double().eval()
    x = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-12,
        atol=1e-12,
    )


def test_conv1d_dropout_and_scalar_output():
    torch.manual_seed(0)
    model = (
        nn.Sequential(
            nn.Conv1d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.AvgPool1d(2),
            nn.Flatten(),
            nn.Linear(16, 1),
            nn.Flatten(0),
        )
        .double()
        .eval()
    )  # (N, 2, 8) -> (N,)
    x = torch.randn(3, 2, 8, dtype=torch.float64)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )


# --------------------------------------------------------------------------- convolutions as maps

PADDINGS = [
    # (padding, padding_mode): "same" with even kernels pads the odd pixel after
    (1, "zeros"),
    ("same", "zeros"),
    ("valid", "zeros"),
    (2, "reflect"),
    ("same", "reflect"),
    (1, "replicate"),
    ("same", "replicate"),
    (2, "circular"),
    ("same", "circular"),
]


# torch's own note on padding="same" with even kernels, raised by the module's forward too
SAME_PADDING_NOTE = "ignore:Using padding='same' with even kernel:UserWarning"


@pytest.mark.filterwarnings(SAME_PADDING_NOTE)
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("padding, mode", PADDINGS, ids=lambda v: str(v))
def test_the_convolution_map_is_the_modules_forward(dims, padding, mode):
    """layers.linear_map computes a Conv module's forward with public torch functions only."""
    conv_type = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
    torch.manual_seed(0)
    kernel = (4, 3, 2)[:dims]  # an even kernel: "same" pads asymmetrically
    stride = 1 if padding == "same" else (1, 2, 1)[:dims]
    groups = 2 if dims == 2 else 1
    conv = conv_type(
        4,
        6,
        kernel,
        stride=stride,
        padding=padding,
        dilation=(2, 1, 1)[:dims],
        groups=groups,
        padding_mode=mode,
    ).double()
    x = torch.randn(2, 4, *(7, 6, 5)[:dims], dtype=torch.float64)
    forward = linear_map(conv).forward
    torch.testing.assert_close(
        forward(x, conv.weight, conv.bias), conv(x), rtol=0, atol=0
    )
    torch.testing.assert_close(
        forward(x, conv.weight, None), conv(x) - conv.bias.view(1, -1, *[1] * dims)
    )


def padded_cnn(mode: str, seed: int = 0) -> nn.Sequential:
    """Convolutions with ``padding_mode=mode``, padding="same" (even kernel, dilation) and groups."""
    torch.manual_seed(seed)
    return (
        nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode),
            nn.ReLU(),
            nn.Conv2d(4, 6, (4, 3), padding="same", dilation=(1, 2), padding_mode=mode),
            nn.Conv2d(6, 4, 3, padding=(2, 1), stride=2, groups=2, padding_mode=mode),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 5 * 4, 5),
        )
        .double()
        .eval()
    )


@pytest.mark.filterwarnings(SAME_PADDING_NOTE)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_lrp0_equals_gradient_x_input_for_every_padding_mode(mode):
    model, x = padded_cnn(mode), images(n=3, size=8)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )


@pytest.mark.filterwarnings(SAME_PADDING_NOTE)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular"])
def test_rules_on_padded_and_grouped_convolutions_equal_zennit(mode):
    """zennit runs each module's own forward with modified weights, padding included.

    zB on the first layer stacks its three terms into one convolution; the grouped layer
    (alpha-beta on signed inputs: two terms per sign) runs them one by one.
    """
    model, x = padded_cnn(mode), images(n=3, size=8) - 0.5  # inside the box below
    target = [0, 2, 4]
    rules = {
        "0": R.ZBox(-0.5, 0.5),
        "2": R.Gamma(
            0.25, generalized=True
        ),  # its outputs of both signs carry relevance
        "3": R.AlphaBeta(2, 1),
        "6": R.Epsilon(0.1),
    }
    theirs = zennit_lrp(
        model,
        x,
        target,
        [],
        name_map=[
            (["0"], zr.ZBox(-0.5, 0.5)),
            (["2"], zr.Gamma(0.25)),
            (["3"], zr.AlphaBeta(2, 1)),
            (["6"], zr.Epsilon(0.1)),
        ],
    )
    torch.testing.assert_close(
        xl.lrp(model, x, target, rules=rules), theirs, rtol=1e-12, atol=1e-15
    )


def test_stacked_terms_on_token_inputs_equal_zennit():
    """A Linear on (N, T, E) inputs stacks terms along the last dim, not dim 1."""

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.mix = nn.Linear(4, 6), nn.Linear(6, 6)
            self.relu, self.head = nn.ReLU(), nn.Linear(5 * 6, 3)

        def forward(self, x):  # mix sees inputs of both signs
            return self.head(torch.flatten(self.relu(self.mix(self.embed(x))), 1))

    torch.manual_seed(0)
    model = Tokens().double().eval()
    x = torch.rand(3, 5, 4, dtype=torch.float64)
    rules = {"embed": R.ZBox(0.0, 1.0), "mix": R.ZPlus(), "head": R.Zero()}
    theirs = zennit_lrp(
        model,
        x,
        [0, 1, 2],
        [(nn.Linear, zr.Epsilon(exact_division))],
        name_map=[(["embed"], zr.ZBox(0.0, 1.0)), (["mix"], zr.ZPlus())],
    )
    torch.testing.assert_close(
        xl.lrp(model, x, [0, 1, 2], rules=rules), theirs, rtol=1e-12, atol=1e-15
    )


# --------------------------------------------------------------------------- canonization


def merged(model: nn.Sequential) -> nn.Sequential:
    """The same network with every BatchNorm folded by hand into the Linear/Conv2d before it."""
    layers = []
    for layer in model:
        if not isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layers.append(layer)
            continue
        previous = layers[-1]
        if isinstance(previous, nn.Linear):
            folded = nn.Linear(previous.in_features, previous.out_features)
        else:
            folded = nn.Conv2d(
                previous.in_channels,
                previous.out_channels,
                previous.kernel_size,
                previous.stride,
                previous.padding,
            )
        scale = layer.weight / torch.sqrt(
            layer.running_var + layer.eps
        )  # per output channel
        with torch.no_grad():
            folded.double().weight.copy_(
                previous.weight * scale.view(-1, *[1] * (previous.weight.dim() - 1))
            )
            folded.bias.copy_((previous.bias - layer.running_mean) * scale + layer.bias)
        layers[-1] = folded
    return nn.Sequential(*layers).eval()


def bn_cnn():
    torch.manual_seed(0)
    return randomize_batch_norms(
        nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(32, 10),
            nn.BatchNorm1d(10),
            nn.ReLU(),
            nn.Linear(10, 4),
        ).double()
    )


@pytest.mark.parametrize(
    "rules",
    [R.Gamma(0.5), R.ZPlus(), R.AlphaBeta(2, 1), R.Epsilon(0.1), R.Flat(), "layered"],
    ids=repr,
)
def test_batch_norm_canonization_equals_lrp_on_the_hand_merged_model(rules):
    model, x = bn_cnn(), images(n=3, size=16)
    hand = merged(model)
    torch.testing.assert_close(hand(x), model(x))
    ours = R.layered(model, first=R.ZBox(0.0, 1.0)) if rules == "layered" else rules
    theirs = R.layered(hand, first=R.ZBox(0.0, 1.0)) if rules == "layered" else rules
    torch.testing.assert_close(
        xl.lrp(model, x, rules=ours),
        xl.lrp(hand, x, rules=theirs),
        rtol=1e-9,
        atol=1e-14,
    )
    if not isinstance(
        rules, R.Flat
    ):  # (Flat passes relevance through a BatchNorm of its own unchanged)
        # explaining the BatchNorms as layers of their own is a different explanation
        assert not torch.allclose(
            xl.lrp(model, x, rules=ours, canonize=False), xl.lrp(hand, x, rules=theirs)
        )


def test_batch_norm_whose_input_also_feeds_elsewhere_is_not_folded():
    class Fork(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.relu = (
                nn.Conv2d(3, 3, 3, padding=1),
                nn.BatchNorm2d(3),
                nn.ReLU(),
            )
            self.head = nn.Linear(3 * 8 * 8, 2)

        def forward(self, x):
            z = self.conv(x)
            return self.head(torch.flatten(self.relu(self.bn(z) + z), 1))

    torch.manual_seed(0)
    model, x = randomize_batch_norms(Fork().double()), images(size=8)
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Gamma()),
        xl.lrp(model, x, rules=R.Gamma(), canonize=False),
    )
    torch.testing.assert_close(
        xl.lrp(model, x, rules=R.Zero()),
        xl.gradient_x_input(model, x),
        rtol=1e-9,
        atol=1e-15,
    )


def test_resnet18_equals_zennit_resnet_canonizer():
    """zennit folds BatchNorms but leaves their eps in place (x / sqrt(1 + eps)); with eps = 0 the two agree."""
    model, x = torchvision_model("resnet18"), images(size=16)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 0.0
    target = model(x).argmax(1)
    before = snapshot(model)
    ours = xl.lrp(
        model, x, target, rules={nn.Conv2d: R.ZPlus(), nn.Linear: R.Epsilon(0.01)}
    )
    assert_untouched(
        model, before
    )  # BatchNorms folded only in the explanation, never in the model
    theirs = zennit_lrp(
        model,
        x,
        target,
        [
            (Sum, zr.Norm(stabilizer=exact_division)),
            (nn.Conv2d, zr.ZPlus()),
            (nn.Linear, zr.Epsilon(0.01)),
        ],
        canonizers=[ResNetCanonizer()],
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-15)


def test_residual_sum_splits_in_proportion():
    """f = w . relu(x) + w . relu(-x) summed in forward(): each branch keeps the relevance it produced."""

    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.relu_a, self.relu_b = (
                nn.Linear(2, 2),
                nn.Linear(2, 2),
                nn.ReLU(),
                nn.ReLU(),
            )
            self.out = nn.Linear(2, 1, bias=False)

        def forward(self, x):
            return self.out(self.relu_a(self.a(x)) + self.relu_b(self.b(x)))

    model = TwoBranches().double()
    with torch.no_grad():
        model.a.weight.copy_(torch.eye(2)), model.a.bias.zero_()
        model.b.weight.copy_(3 * torch.eye(2)), model.b.bias.zero_()
        model.out.weight.fill_(1.0)
    x = torch.tensor(
        [[1.0, 2.0]], dtype=torch.float64
    )  # branches (1, 2) and (3, 6), f = 12
    # Gamma on the output layer sees (4, 8) and hands out (4, 8); the sum splits 4 into 1 + 3
    relevance = xl.lrp(
        model, x, 0, rules={"out": R.Gamma(1.0), "a": R.Zero(), "b": R.Zero()}
    )
    torch.testing.assert_close(
        relevance, torch.tensor([[4.0, 8.0]], dtype=torch.float64), rtol=1e-6, atol=0
    )


# --------------------------------------------------------------------------- the rules argument


def test_rules_given_as_rule_dict_or_function_agree():
    model, x = small_cnn().eval(), images(size=16)
    by_type = {nn.Conv2d: R.Gamma(0.25), nn.Linear: R.Epsilon(0.1)}
    by_name = {"0": R.Gamma(0.25), "3": R.Gamma(0.25), "7": R.Epsilon(0.1)}

    def by_function(name, module):
        return (
            R.Gamma(0.25)
            if isinstance(module, nn.Conv2d)
            else R.Epsilon(0.1)
            if name == "7"
            else None
        )

    reference = xl.lrp(model, x, 2, rules=by_type)
    for rules in (
        by_name,
        by_function,
        {"0": R.Gamma(0.25), nn.Conv2d: R.Gamma(0.25), nn.Linear: R.Epsilon(0.1)},
    ):
        torch.testing.assert_close(
            xl.lrp(model, x, 2, rules=rules), reference, rtol=0, atol=0
        )
    # names before types; unnamed layers get the default Epsilon(1e-6)
    mixed = xl.lrp(model, x, 2, rules={"3": R.Zero(), nn.Conv2d: R.Gamma(0.25)})
    explicit = xl.lrp(
        model, x, 2, rules={"0": R.Gamma(0.25), "3": R.Zero(), "7": R.Epsilon(1e-6)}
    )
    torch.testing.assert_close(mixed, explicit, rtol=0, atol=0)
    torch.testing.assert_close(
        xl.lrp(model, x, 2), xl.lrp(model, x, 2, rules=R.Epsilon(1e-6)), rtol=0, atol=0
    )


def test_lrp_is_registered_and_independent_of_the_batch():
    model, x = bn_cnn(), images(n=4, size=16)
    assert xl.METHODS["lrp"] is xl.lrp
    rules = R.layered(model, first=R.ZBox(0.0, 1.0))
    together = xl.lrp(model, x, [0, 1, 2, 3], rules=rules)
    alone = torch.cat([xl.lrp(model, x[i : i + 1], i, rules=rules) for i in range(4)])
    torch.testing.assert_close(together, alone, rtol=1e-12, atol=1e-15)
    assert torch.equal(
        xl.lrp(model, x, rules=rules), xl.lrp(model, x, model(x).argmax(1), rules=rules)
    )


# --------------------------------------------------------------------------- errors and state


class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 3), nn.Linear(4, 3)

    def forward(self, x):
        return self.a(x) * torch.sigmoid(self.b(x))


class StaleInPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 3), nn.Linear(4, 3)

    def forward(self, x):
        out = self.a(x)
        out.add_(
            self.b(x)
        )  # the result is not bound to a name: LRP must not silently use the old out
        return out


class BatchNormNet(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.fc, self.out = nn.Linear(4, 3), nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(3, **options)

    def forward(self, x):
        return self.out(self.bn(self.fc(x)))


ERRORS = [
    (lambda: nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)), {}, r"'1' \(Softmax\)"),
    (
        lambda: nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)),
        {},
        r"'1' \(Tanh\)",
    ),
    (lambda: Gated(), {}, r"sigmoid in the forward of the model \(Gated\)"),
    (lambda: StaleInPlace(), {}, "in place"),
    (
        lambda: BatchNormNet(track_running_stats=False).eval(),
        {},
        r"'bn' \(BatchNorm1d\) does not keep \(track_running_stats=False\)",
    ),
    (lambda: relu_mlp(d_in=4), {"rules": {"9": R.Zero()}}, "no submodule named '9'"),
    (lambda: relu_mlp(d_in=4), {"rules": {"1": R.Zero()}}, "ReLU, which takes no rule"),
    (lambda: relu_mlp(d_in=4), {"rules": {3: R.Zero()}}, "keys of rules"),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": {nn.ReLU: R.Gamma()}},
        "the key ReLU, a module type which takes no rule",
    ),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": R.Gamma},
        r"rules=Gamma is a class: pass an instance, e.g. Gamma\(\)",
    ),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": {nn.Linear: R.Epsilon}},
        r"Epsilon is a class: pass an instance, e.g. Epsilon\(\)",
    ),
    (lambda: relu_mlp(d_in=4), {"samples": None}, "no option 'samples'"),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": {nn.Linear: "gamma"}},
        "must be an xl.rules.Rule",
    ),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": lambda name, module: 0.25},
        "rules function returned 0.25",
    ),
    (lambda: relu_mlp(d_in=4), {"rules": "epsilon"}, "rules must be None"),
    (lambda: relu_mlp(d_in=4), {"canonize": "yes"}, "canonize must be"),
    (
        lambda: relu_mlp(d_in=4),
        {"rules": {"0": R.ZBox(torch.zeros(5), 1.0)}},
        "does not broadcast",
    ),
]


@pytest.mark.parametrize(
    "make, options, message",
    ERRORS,
    ids=[
        "softmax",
        "tanh",
        "gating",
        "stale_in_place",
        "batch_norm_without_statistics",
        "unknown_name",
        "rule_for_relu",
        "bad_key",
        "rule_for_relu_type",
        "rule_class",
        "rule_class_in_dict",
        "samples_is_no_option",
        "bad_rule",
        "bad_function",
        "bad_rules",
        "bad_canonize",
        "zbox_shape",
    ],
)
def test_errors_name_the_problem_and_leave_the_model_untouched(make, options, message):
    torch.manual_seed(0)
    model = make().double()
    x = torch.randn(3, 4, dtype=torch.float64)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        xl.lrp(model, x, 0, **options)
    assert_untouched(model, before)


def test_lstm_is_named():
    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = nn.LSTM(4, 3, batch_first=True), nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(self.lstm(x)[0][:, -1])

    with pytest.raises(ValueError, match=r"'lstm' \(LSTM\)"):
        xl.lrp(Recurrent(), torch.randn(2, 5, 4))


def test_bad_inputs_and_targets_raise():
    model = relu_mlp()
    with pytest.raises(ValueError, match="target"):
        xl.lrp(model, torch.randn(2, 6, dtype=torch.float64), 9)
    with pytest.raises(ValueError, match="NaN"):
        xl.lrp(model, torch.full((2, 6), float("nan"), dtype=torch.float64))


def test_model_and_input_untouched_and_no_grad_ok():
    model = bn_cnn()
    model[0].weight.requires_grad_(False)
    model(images(size=16)).sum().backward()  # .grad present: must stay as it is
    model.eval()
    before, x = snapshot(model), images(size=16)
    x_before = x.clone()
    with torch.no_grad():
        a = xl.lrp(model, x, 1, rules=R.layered(model, first=R.ZBox(0.0, 1.0)))
    assert a.shape == x.shape and a.dtype == x.dtype and not a.requires_grad
    assert_untouched(model, before)
    assert torch.equal(x, x_before)


class Recorder(nn.Module):
    """Conv + BatchNorm + an in-place skip sum, keeping every tensor it sees."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.seen = (
            nn.Conv2d(3, 3, 3, padding=1),
            nn.BatchNorm2d(3),
            [],
        )

    def forward(self, x):
        z = self.conv(x)
        out = self.bn(z)  # folds into conv: LRP must know that z came from conv
        self.seen += [x, z, out]
        out += x  # LRP computes it out of place and retires the old ``out``
        self.seen.append(out)
        return out


def test_lrp_writes_nothing_onto_tensors():
    """LRP's state lives in the call (its ledger): no attribute on the caller's x or on the
    tensors of the forward pass, also the one an in-place sum retired, and none left after."""
    torch.manual_seed(0)
    recorder = Recorder()
    model = randomize_batch_norms(
        nn.Sequential(
            nn.Conv2d(3, 3, 3, padding=1),
            nn.ReLU(),
            recorder,
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(3 * 8 * 8, 2),
        ).double()
    )
    x = images(size=8)
    relevance = xl.lrp(model, x, rules=R.Zero())
    assert len(recorder.seen) == 4
    for t in [x, relevance, *recorder.seen]:
        assert vars(t) == {}, vars(t)
    torch.testing.assert_close(relevance, xl.gradient_x_input(model, x))


def test_the_relevance_package_uses_public_torch_api_only():
    """No private torch attributes (``module._conv_forward``, ``torch._C``, ...), no state
    written onto tensors."""
    import pathlib
    import re

    package = pathlib.Path(xl.__file__).parent / "relevance"
    private = re.compile(
        r"_conv_forward|_reversed_padding|torch\._|nn\.modules\.|\._lrp_|setattr\("
    )
    for path in package.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not private.search(line), f"{path.name}:{number}: {line.strip()}"


def test_the_ledger_keeps_its_tensors_so_ids_are_not_reused():
    ledger = Ledger()
    produced = torch.ones(3, requires_grad=True)
    ledger.record_output(produced, "conv")
    assert ledger.layer_of(produced) == "conv" and ledger.reads(produced) == 0
    ledger.read(produced)
    ledger.read(torch.zeros(1))  # a tensor the ledger never saw: nothing to count
    assert ledger.reads(produced) == 1
    ids = {id(produced)}
    del produced  # the ledger holds it, so no new tensor can take its id
    for _ in range(100):
        t = torch.ones(3)
        assert id(t) not in ids and ledger.layer_of(t) is None
    retired = torch.ones(2)
    ledger.retire(retired)
    with pytest.raises(ValueError, match="changed in place"):
        ledger.read(retired)


def test_a_model_in_training_mode_is_explained_in_eval_mode():
    """The library's policy (the guard): eval mode for the call, training flags restored."""
    model, x = bn_cnn(), images(n=3, size=16)
    rules = R.layered(model, first=R.ZBox(0.0, 1.0))
    expected = xl.lrp(model, x, rules=rules)
    model.train()
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xl.TrainingModeWarning)
        torch.testing.assert_close(xl.lrp(model, x, rules=rules), expected)
    assert_untouched(model, before)


@requires_cuda
def test_cuda_matches_cpu():
    model, x = bn_cnn(), images(size=16)
    rules = R.layered(model, first=R.ZBox(0.0, 1.0))
    cpu = xl.lrp(model, x, 1, rules=rules)
    gpu = xl.lrp(model.cuda(), x.cuda(), 1, rules=rules)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-7, atol=1e-12)
