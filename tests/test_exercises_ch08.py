"""Chapter 8's checkers: LRP-epsilon by hand for a two-layer MLP and the gamma rule for one dense
layer pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "08_lrp.ipynb"


def sign(z):
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def lrp_epsilon_variant(
    model, x, target, eps, *, start="score", stabilizer="signed", bias=True
):
    first, _, second = model
    with torch.no_grad():
        z1 = first(x) if bias else x @ first.weight.T
        a1 = first(x).clamp(min=0)
        z2 = second(a1) if bias else a1 @ second.weight.T
        rows = torch.arange(len(x))
        relevance = torch.zeros_like(z2)
        relevance[rows, target] = second(a1)[rows, target] if start == "score" else 1.0

        def step(a, layer, z, r):
            denominator = z + eps * sign(z) if stabilizer == "signed" else z + eps
            return a * ((r / denominator) @ layer.weight)

        return step(x, first, z1, step(a1, second, z2, relevance))


def test_lrp_epsilon_passes_the_books_solution_and_the_reference_variant():
    namespace = solution_namespace(NOTEBOOK, "ch08-lrp-epsilon")
    feedback = xl.exercises.ch08.check_lrp_epsilon(namespace["my_lrp_epsilon"])
    assert feedback, str(feedback)
    assert xl.exercises.ch08.check_lrp_epsilon(lrp_epsilon_variant)


@pytest.mark.parametrize(
    "mistake", [dict(start="one"), dict(stabilizer="plus"), dict(bias=False)]
)
def test_lrp_epsilon_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch08.check_lrp_epsilon(
        lambda *args: lrp_epsilon_variant(*args, **mistake)
    )
    assert not feedback and "wrong values" in feedback.title
    assert "sign(z_k)" in feedback.hint and "not with 1" in feedback.hint
    assert any("on case" in line for line in feedback.details)


def test_lrp_epsilon_wants_the_input_shape():
    feedback = xl.exercises.ch08.check_lrp_epsilon(
        lambda *args: lrp_epsilon_variant(*args).sum(1)
    )
    assert not feedback and "wrong shape" in feedback.title


def gamma_variant(
    a, weight, bias, relevance, gamma, *, boost_bias=True, boosted_denominator=True
):
    boosted = weight + gamma * weight.clamp(min=0)
    boosted_bias = bias + gamma * bias.clamp(min=0) if boost_bias else bias
    z = a @ (boosted if boosted_denominator else weight).T + (
        boosted_bias if boosted_denominator else bias
    )
    z = z + 1e-6 * sign(z)
    return a * ((relevance / z) @ boosted)


def test_gamma_layer_passes_the_books_solution_and_the_reference_variant():
    namespace = solution_namespace(NOTEBOOK, "ch08-gamma-layer")
    feedback = xl.exercises.ch08.check_gamma_layer(namespace["gamma_layer"])
    assert feedback, str(feedback)
    assert xl.exercises.ch08.check_gamma_layer(gamma_variant)


@pytest.mark.parametrize(
    "mistake", [dict(boost_bias=False), dict(boosted_denominator=False)]
)
def test_gamma_layer_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch08.check_gamma_layer(
        lambda *args: gamma_variant(*args, **mistake)
    )
    assert not feedback and "wrong values" in feedback.title
    assert "AND the bias" in feedback.hint and "boosted parameters" in feedback.hint


def test_gamma_layer_reference_conserves_without_bias():
    """The checker's reference itself: without bias, the input relevance sums to the output relevance."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(4, 5, generator=generator, dtype=torch.float64)
    weight = (
        torch.randn(3, 5, generator=generator, dtype=torch.float64) + 1.0
    )  # denominators far from 0
    relevance = torch.rand(4, 3, generator=generator, dtype=torch.float64)
    result = xl.exercises.ch08._gamma_reference(
        a, weight, torch.zeros(3, dtype=torch.float64), relevance, 0.5
    )
    assert torch.allclose(result.sum(1), relevance.sum(1), rtol=1e-5)
