"""The model families: shapes, activations as modules, beta-independent initialization, ablations."""

import math

import pytest
import torch
from torch import nn

import xai_lib as xl
from xai_lib import data, models
from xai_lib.activations import SoftplusBeta


def image_models(beta):
    return [
        models.CNN(beta=beta),
        models.ResNet(beta=beta),
        models.ResNet(bn=False, beta=beta),
        models.ResNet(skip=False, beta=beta),
        models.ResNet(bn=False, skip=False, beta=beta),
    ]


def activations_of(model):
    return [m for m in model.modules() if isinstance(m, (nn.ReLU, SoftplusBeta))]


@pytest.mark.parametrize("beta", [None, math.inf, 5.0])
def test_image_models_classify_32_and_64_px(beta):
    for model in image_models(beta):
        for size in (32, 64):
            assert model(torch.rand(2, 3, size, size)).shape == (2, 6)
    assert models.MLP(64, 10, beta=beta)(torch.rand(3, 1, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize(
    "beta, kind", [(None, nn.ReLU), (math.inf, nn.ReLU), (2.0, SoftplusBeta)]
)
def test_one_activation_module_per_use_site(beta, kind):
    for model in [
        *image_models(beta),
        models.MLP(64, 10, beta=beta),
        models.TextClassifier(20, beta=beta),
    ]:
        acts = activations_of(model)
        assert acts and all(type(a) is kind for a in acts)
        assert len({id(a) for a in acts}) == len(acts), "an activation module is reused"
        assert model.beta == (math.inf if beta is None else beta)


@pytest.mark.parametrize(
    "make",
    [
        lambda b: models.CNN(beta=b),
        lambda b: models.ResNet(bn=False, beta=b),
        lambda b: models.MLP(64, 10, beta=b),
    ],
)
def test_beta_changes_only_the_activation(make):
    # the same seed gives the same weights at any beta, and smoothing the ReLU model
    # (xl.activations.smooth) gives the softplus model: no activation hides in a forward()
    torch.manual_seed(0)
    relu = make(None).double()
    torch.manual_seed(0)
    soft = make(3.0).double()
    for (k, a), (_, b) in zip(relu.state_dict().items(), soft.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.rand(
        4,
        *((3, 32, 32) if not isinstance(relu, models.MLP) else (1, 8, 8)),
        dtype=torch.float64,
    )
    torch.testing.assert_close(xl.activations.smooth(relu, 3.0)(x), soft(x))


def test_first_layer_starts_at_unit_scale_on_pixels():
    # the initialization treats [0, 1] pixels as standardized, so a small beta still
    # sees pre-activations of order one
    torch.manual_seed(0)
    model = models.CNN(beta=1.0)
    pre = model.features[0](data.shapes(64, seed=0).images)
    assert 0.5 < pre.std() < 5 and pre.mean().abs() < 1


def test_resnet_ablations_switch_batchnorm_and_skips():
    plain = models.ResNet(bn=False, skip=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert all(block.shortcut is None and not block.skip for block in plain.blocks)
    full = models.ResNet()
    assert (
        sum(isinstance(m, nn.BatchNorm2d) for m in full.modules()) == 1 + 2 * 3 + 2
    )  # stem, blocks, projections
    assert all(
        isinstance(b, models.BasicBlock) and b.bn and b.skip for b in full.blocks
    )
    assert isinstance(full.blocks[0].shortcut, nn.Identity)


@pytest.mark.parametrize("skip", [True, False])
def test_basic_block_adds_its_input(skip):
    # with the residual branch silenced the block is act2(shortcut(x)) = ReLU(x), or ReLU(0)
    block = models.BasicBlock(4, 4, bn=False, skip=skip).double()
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(block(x), x.relu() if skip else torch.zeros_like(x))


def test_text_classifier_takes_tokens_or_embeddings():
    torch.manual_seed(0)
    model = (
        models.TextClassifier(len(data.VOCABULARY), embed_dim=8, channels=6)
        .double()
        .eval()
    )
    tokens = data.encode(["i am really happy", "this movie was not good"])
    embeddings = model.embed(tokens)
    assert embeddings.shape == (2, 5, 8)
    torch.testing.assert_close(model(tokens), model(embeddings))
    assert embeddings[0, 4].eq(0).all()  # padding embeds to zero
    grads = xl.saliency(model, embeddings.detach(), target=1)
    assert grads.shape == embeddings.shape
    with pytest.raises(ValueError, match=r"\(N, T, 8\)"):
        model.classify(torch.zeros(2, 5, 7, dtype=torch.float64))
    with pytest.raises(ValueError, match="tokens"):
        model.embed(torch.zeros(2, 5))


def test_build_and_bad_arguments():
    assert isinstance(models.build("cnn", classes=3), models.CNN)
    with pytest.raises(ValueError, match="known: cnn, mlp, resnet, text"):
        models.build("transformer")
    for bad in (
        lambda: models.CNN(channels=16),
        lambda: models.CNN(channels=()),
        lambda: models.MLP(0, 2),
        lambda: models.ResNet(classes=-1),
        lambda: models.TextClassifier(10, kernel=2),
        lambda: models.CNN(beta=0.0),
        lambda: models.MLP(4, 2, beta=-1.0),
    ):
        with pytest.raises(ValueError):
            bad()
