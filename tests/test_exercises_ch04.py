"""Chapter 4's checkers pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "04_gradients.ipynb"


def _gradient(model, x, target):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).gather(1, target[:, None]).sum(), x)
    return grad


def test_saliency_map_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch04-saliency-map")
    assert xl.exercises.ch04.check_saliency_map(namespace["saliency_map"])


@pytest.mark.parametrize(
    "mistake, title, detail",
    [
        (
            lambda m, x, t: _gradient(m, x, t).amax(dim=1, keepdim=True),
            "wrong values",
            "differ",
        ),  # no abs
        (
            lambda m, x, t: _gradient(m, x, t).abs().sum(dim=1, keepdim=True),
            "wrong values",
            "differ",
        ),
        (
            lambda m, x, t: _gradient(m, x, t).abs().amax(dim=1),
            "wrong shape",
            "keepdim",
        ),
        (
            lambda m, x, t: _gradient(m, x, t).abs(),
            "wrong shape",
            "expected (2, 1, 8, 8)",
        ),
    ],
)
def test_saliency_map_checker_explains_typical_mistakes(mistake, title, detail):
    feedback = xl.exercises.ch04.check_saliency_map(mistake)
    assert not feedback and title in feedback.title
    assert any(detail in d for d in feedback.details), feedback.details
    assert "gather" in feedback.hint and "dim=1" in feedback.hint


def test_saliency_map_checker_reports_an_exception_in_the_students_code():
    def saliency_map(model, x, target):
        return torch.autograd.grad(
            model(x)[:, target].sum(), x
        )  # x does not require grad

    feedback = xl.exercises.ch04.check_saliency_map(saliency_map)
    assert not feedback and feedback.title == "saliency_map raised an exception"


def _embedding_gradient(model, tokens, target):
    embeddings = model.embed(tokens).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(embeddings)[:, target].sum(), embeddings)
    return embeddings.detach(), grad


def test_token_contributions_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch04-token-contributions")
    assert xl.exercises.ch04.check_token_contributions(namespace["token_contributions"])


@pytest.mark.parametrize(
    "mistake, title, detail",
    [
        (
            lambda m, t, c: _embedding_gradient(m, t, c)[1].sum(-1),
            "wrong values",
            "differ",
        ),  # saliency
        (
            lambda m, t, c: _embedding_gradient(m, t, c)[1].norm(dim=-1),
            "wrong values",
            "differ",
        ),
        (
            lambda m, t, c: torch.mul(*_embedding_gradient(m, t, c)),
            "wrong shape",
            "expected (4, 3)",
        ),
        (
            lambda m, t, c: -torch.mul(*_embedding_gradient(m, t, c)).sum(-1),
            "wrong values",
            "sign flipped",
        ),
    ],
)
def test_token_contributions_checker_explains_typical_mistakes(mistake, title, detail):
    feedback = xl.exercises.ch04.check_token_contributions(mistake)
    assert not feedback and title in feedback.title
    assert any(detail in d for d in feedback.details), feedback.details
    assert "embeddings, not the token ids" in feedback.hint


def test_token_contributions_checker_explains_differentiating_token_ids():
    def token_contributions(model, tokens, target):
        tokens = tokens.requires_grad_(True)  # integers cannot require gradients
        return tokens

    feedback = xl.exercises.ch04.check_token_contributions(token_contributions)
    assert not feedback and feedback.title == "token_contributions raised an exception"
