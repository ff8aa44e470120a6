"""The shipped model zoo: it loads offline, its cards tell the truth, the grid and ablations exist."""

import math

import pytest
import torch

import xai_lib as xl
from tests.helpers import forbid_network
from xai_lib import data, zoo

# Not the training seed (0) nor the seed of the cards' test set (1): data no model has seen.
FRESH_SEED = 2
FRESH_SHAPES = 600
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def fresh_shapes():
    """Fresh shapes at each image size the zoo was trained on: size -> (images, labels)."""
    cache = {}

    def at(size: int):
        if size not in cache:
            images, labels, _ = data.shapes(FRESH_SHAPES, size=size, seed=FRESH_SEED)
            cache[size] = images, labels
        return cache[size]

    return at


def held_out(card, fresh_shapes):
    if card["dataset"] == "shapes":
        return fresh_shapes(card["data"]["test"]["size"])
    if card["dataset"] == "digits":
        return data.digits("test")
    test = data.sentences("test")
    return test.tokens, test.labels


def test_zoo_holds_the_promised_models():
    names = zoo.available()
    for required in ("shapes_cnn", "digits_mlp", "sentiment_cnn", "shapes_resnet"):
        assert required in names
    assert {zoo.card(n)["dataset"] for n in names} == {"shapes", "digits", "sentences"}


def test_beta_grid_of_the_shapes_cnn():
    grid = zoo.available(dataset="shapes", architecture="cnn")
    betas = sorted(zoo.card(n)["beta"] for n in grid)
    assert betas == [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, math.inf]
    assert zoo.card("shapes_cnn")["beta"] == math.inf
    # one architecture, one seed and one recipe: only beta differs
    cards = [zoo.card(n) for n in grid]
    assert (
        len({(str(c["kwargs"]), c["seed"], c["epochs"], c["params"]) for c in cards})
        == 1
    )


def resnet_cards(size: int) -> list:
    return [
        zoo.card(n)
        for n in zoo.available(dataset="shapes", architecture="resnet")
        if zoo.card(n)["data"]["train"]["size"] == size
    ]


def test_resnet_ablations_with_relu_and_smooth_activations():
    # 32 px: BatchNorm x skip connections at ReLU and at two softplus sharpnesses
    cards = resnet_cards(32)
    combos = sorted((c["bn"], c["skip"], c["beta"]) for c in cards)
    assert combos == sorted(
        (bn, skip, beta)
        for bn in (True, False)
        for skip in (True, False)
        for beta in (math.inf, 5.0, 1.0)
    )
    # one recipe: only the three switches differ
    recipe = {
        (c["seed"], c["epochs"], c["lr"], c["batch_size"], str(c["data"]))
        for c in cards
    }
    assert len(recipe) == 1


def test_larger_resnet_setting_at_64_px():
    cards = resnet_cards(64)
    combos = sorted((c["bn"], c["skip"], c["beta"]) for c in cards)
    assert combos == sorted(
        (bn, True, beta) for bn in (True, False) for beta in (math.inf, 1.0)
    )
    small = {(c["bn"], c["skip"], c["beta"]): c for c in resnet_cards(32)}
    for c in cards:  # the same network and recipe as its 32 px twin, on larger images
        twin = small[c["bn"], c["skip"], c["beta"]]
        assert c["params"] == twin["params"] and c["kwargs"] == twin["kwargs"]
        assert (c["seed"], c["epochs"], c["lr"]) == (
            twin["seed"],
            twin["epochs"],
            twin["lr"],
        )
        assert c["data"]["train"] == {**twin["data"]["train"], "size": 64}
        assert c["accuracy"] > 0.9


@pytest.mark.parametrize("name", zoo.available())
def test_model_loads_offline_and_keeps_its_card(name, fresh_shapes, monkeypatch):
    forbid_network(monkeypatch)
    card = zoo.card(name)
    for key in (
        "dataset",
        "architecture",
        "beta",
        "bn",
        "skip",
        "accuracy",
        "seed",
        "epochs",
        "params",
    ):
        assert key in card
    model = zoo.load(name)
    assert not any(m.training for m in model.modules())
    assert all(
        p.device.type == "cpu" and p.dtype == torch.float32 for p in model.parameters()
    )
    assert sum(p.numel() for p in model.parameters()) == card["params"]
    assert model.beta == card["beta"]
    x, y = held_out(card, fresh_shapes)
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert abs(accuracy - card["accuracy"]) <= TOLERANCE, (
        f"{name}: {accuracy:.3f} vs card {card['accuracy']:.3f}"
    )


def test_shapes_cnn_is_accurate():
    assert zoo.card("shapes_cnn")["accuracy"] > 0.9


def test_cards_are_fresh_dicts_and_loads_fresh_models():
    zoo.card("digits_mlp")["accuracy"] = -1
    assert zoo.card("digits_mlp")["accuracy"] > 0
    assert zoo.load("digits_mlp") is not zoo.load("digits_mlp")


def test_weights_are_small():
    total = sum(path.stat().st_size for path in zoo.WEIGHTS.glob("*.pt"))
    assert total < 20 * 2**20


def test_missing_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="available: .*shapes_cnn"):
        zoo.load("imagenet_resnet50")
    with pytest.raises(ValueError, match="no zoo model"):
        zoo.card(3)


def test_zoo_is_exported():
    assert xl.zoo is zoo and xl.data is data and xl.models is not None
