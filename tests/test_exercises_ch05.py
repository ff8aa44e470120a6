"""Chapter 5's checker: passes the book's Integrated Gradients solution, explains typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "05_integrated_gradients.ipynb"


def gradient_sum(model, x, target, baseline, alphas):
    """sum_k grad f(baseline + alpha_k (x - baseline)) for the given nodes: the mistakes' common part."""
    rows = torch.arange(len(x))
    total = torch.zeros_like(x)
    for alpha in alphas:
        point = (baseline + alpha * (x - baseline)).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(point)[rows, target].sum(), point)
        total += grad
    return total


def right_riemann(model, x, target, baseline, steps):
    """The slides' right Riemann sum alpha_k = k / steps: not the midpoint rule the exercise asks for."""
    return (
        (x - baseline)
        * gradient_sum(
            model, x, target, baseline, [(k + 1) / steps for k in range(steps)]
        )
        / steps
    )


def no_difference_factor(model, x, target, baseline, steps):
    """The average gradient without the factor (x - baseline)."""
    return (
        gradient_sum(
            model, x, target, baseline, [(k + 0.5) / steps for k in range(steps)]
        )
        / steps
    )


def from_zero(model, x, target, baseline, steps):
    """The path from 0 instead of from the baseline."""
    return (
        x
        * gradient_sum(
            model,
            x,
            target,
            torch.zeros_like(x),
            [(k + 0.5) / steps for k in range(steps)],
        )
        / steps
    )


def test_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch05-integrated-gradients")
    feedback = xl.exercises.ch05.check_integrated_gradients(
        namespace["my_integrated_gradients"]
    )
    assert feedback, str(feedback)


@pytest.mark.parametrize("mistake", [right_riemann, no_difference_factor, from_zero])
def test_checker_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch05.check_integrated_gradients(mistake)
    assert not feedback
    assert "wrong values" in feedback.title
    assert "midpoints" in feedback.hint and "(x - baseline)" in feedback.hint
    assert any("on case" in line for line in feedback.details)


def test_checker_reports_a_crash_and_a_missing_return():
    assert (
        "None"
        in xl.exercises.ch05.check_integrated_gradients(
            lambda model, x, target, baseline, steps: None
        ).title
    )
    crashed = xl.exercises.ch05.check_integrated_gradients(
        lambda model, x, target, baseline, steps: 1 / 0
    )
    assert not crashed and "ZeroDivisionError" in str(crashed)
