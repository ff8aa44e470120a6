"""Chapter 1's checkers: they pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl

from .test_exercises import BOOK, solution_namespace

CHAPTER = BOOK / "01_linear_models.ipynb"


def test_nearest_root_checker_passes_the_books_solution():
    namespace = solution_namespace(CHAPTER, "ch01-nearest-root")
    assert xl.exercises.ch01.check_nearest_root(namespace["nearest_root"])


def _without_bias(model, x):
    w = model.weight[0].detach()
    return x - (x @ w)[:, None] / (w @ w) * w


def _unit_step(model, x):
    w = model.weight[0].detach()
    return x - model(x).detach() / w.norm() * w


@pytest.mark.parametrize(
    "mistake, detail", [(_without_bias, "wrong values"), (_unit_step, "wrong values")]
)
def test_nearest_root_checker_explains_typical_mistakes(mistake, detail):
    feedback = xl.exercises.ch01.check_nearest_root(mistake)
    assert not feedback and detail in feedback.title and "||w||^2" in feedback.hint


def test_taylor_terms_checker_passes_the_books_solution():
    namespace = solution_namespace(CHAPTER, "ch01-taylor-terms")
    assert xl.exercises.ch01.check_taylor_terms(namespace["taylor_terms"])


def _gradient_at_x(model, x, root):
    x = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(x)[:, 0].sum(), x)
    return (x.detach() - root) * gradient


def _times_x(model, x, root):
    root = root.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(root)[:, 0].sum(), root)
    return x * gradient


@pytest.mark.parametrize("mistake", [_gradient_at_x, _times_x])
def test_taylor_terms_checker_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch01.check_taylor_terms(mistake)
    assert (
        not feedback
        and "wrong values" in feedback.title
        and "at the root (not at x)" in feedback.hint
    )
    assert any("case" in detail for detail in feedback.details)
