"""Chapter 6's checkers: piece counting and SmoothGrad by a loop pass the book's solutions and
explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "06_shattered_smoothgrad.ipynb"


def slopes(model, low, high, points):
    xs = torch.linspace(low, high, points, dtype=torch.float64)[:, None]
    with torch.no_grad():
        values = model(xs).reshape(-1)
    return values.diff() / ((high - low) / (points - 1))


def kinks_not_pieces(model, low, high, points):
    """Counts the kinks, forgetting that k kinks make k + 1 pieces."""
    s = slopes(model, low, high, points)
    return int((s.diff().abs() > 1e-6 * s.abs().max()).sum())


def sign_changes_only(model, low, high, points):
    """Counts only the changes of the slope's sign: misses the kinks at the ends of a flat part."""
    s = slopes(model, low, high, points)
    return int((s[1:].sign() != s[:-1].sign()).sum()) + 1


def smoothgrad_loop(model, x, target, sigma, n, seed, *, relative=True, average=True):
    generator = torch.Generator().manual_seed(seed)
    rows = torch.arange(len(x))
    flat = x.flatten(1)
    value_range = (flat.max(1).values - flat.min(1).values).view(
        -1, *[1] * (x.dim() - 1)
    )
    scale = sigma * value_range if relative else sigma
    total = torch.zeros_like(x)
    for _ in range(n):
        noisy = (
            x + scale * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        ).requires_grad_(True)
        (grad,) = torch.autograd.grad(model(noisy)[rows, target].sum(), noisy)
        total += grad
    return total / n if average else total


def test_count_pieces_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch06-count-pieces")
    feedback = xl.exercises.ch06.check_count_pieces(namespace["count_pieces"])
    assert feedback, str(feedback)


@pytest.mark.parametrize("mistake", [kinks_not_pieces, sign_changes_only])
def test_count_pieces_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch06.check_count_pieces(mistake)
    assert not feedback and "expected" in feedback.title
    assert "k + 1 pieces" in feedback.hint
    assert any("on case" in line for line in feedback.details)


def test_count_pieces_wants_a_number():
    feedback = xl.exercises.ch06.check_count_pieces(
        lambda model, low, high, points: "16"
    )
    assert not feedback and "number" in feedback.title


def test_smoothgrad_passes_the_books_solution_and_the_reference_loop():
    namespace = solution_namespace(NOTEBOOK, "ch06-smoothgrad-loop")
    feedback = xl.exercises.ch06.check_smoothgrad(namespace["my_smoothgrad"])
    assert feedback, str(feedback)
    assert xl.exercises.ch06.check_smoothgrad(smoothgrad_loop)


def test_smoothgrad_explains_absolute_noise():
    feedback = xl.exercises.ch06.check_smoothgrad(
        lambda model, x, target, sigma, n, seed: smoothgrad_loop(
            model, x, target, sigma, n, seed, relative=False
        )
    )
    assert not feedback and "wrong values" in feedback.title
    assert "sigma * (max - min)" in feedback.hint


def test_smoothgrad_explains_a_missing_division():
    feedback = xl.exercises.ch06.check_smoothgrad(
        lambda model, x, target, sigma, n, seed: smoothgrad_loop(
            model, x, target, sigma, n, seed, average=False
        )
    )
    assert not feedback and any("times" in line for line in feedback.details)
    assert "divide by n" in feedback.hint
