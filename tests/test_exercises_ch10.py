"""Chapter 10's checkers pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "10_tradeoff.ipynb"


def test_ef_slope_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch10-ef-slope")
    assert xl.exercises.ch10.check_ef_slope(namespace["fit_ef_slope"])


def _fit(u, efs):
    slope = ((u - u.mean()) * (efs - efs.mean())).sum() / (u - u.mean()).square().sum()
    return slope.item(), (efs.mean() - slope * u.mean()).item()


@pytest.mark.parametrize(
    "mistake, title",
    [
        (lambda b, e: _fit(b, e), "result[0]"),  # no logarithm
        (lambda b, e: _fit(torch.log10(b), e), "result[0]"),  # log10 instead of ln
        (lambda b, e: _fit(torch.log(b), e)[::-1], "result[0]"),  # (intercept, slope)
        (lambda b, e: _fit(torch.log(b), e)[0], "sequence of 2 values"),
    ],
)
def test_ef_slope_checker_explains_typical_mistakes(mistake, title):
    feedback = xl.exercises.ch10.check_ef_slope(mistake)
    assert not feedback and title in feedback.title
    assert "natural log" in feedback.hint


def test_delta_ef_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch10-delta-ef")
    assert xl.exercises.ch10.check_delta_ef(namespace["my_delta_ef"])


def _own_targets(model, x, beta):
    # the surrogate explains its own prediction instead of the ReLU model's
    a = xl.saliency(model, x).sum(dim=1)
    b = xl.saliency(xl.activations.smooth(model, beta), x).sum(dim=1)
    ef = xl.spectral.expected_frequency
    return (ef(a) - ef(b)).abs()


def _channels_kept(model, x, beta):
    target = model(x).argmax(dim=1)
    a = xl.saliency(model, x, target)  # (N, C, H, W): one EF per channel
    b = xl.saliency(xl.activations.smooth(model, beta), x, target)
    ef = xl.spectral.expected_frequency
    return (ef(a) - ef(b)).abs()


def _signed(model, x, beta):
    target = model(x).argmax(dim=1)
    a = xl.saliency(model, x, target).sum(dim=1)
    b = xl.saliency(xl.activations.smooth(model, beta), x, target).sum(dim=1)
    return xl.spectral.expected_frequency(a) - xl.spectral.expected_frequency(b)


@pytest.mark.parametrize(
    "mistake, title",
    [
        (_own_targets, "wrong values"),
        (_channels_kept, "wrong shape"),
        (_signed, "wrong values"),
    ],
)
def test_delta_ef_checker_explains_typical_mistakes(mistake, title):
    feedback = xl.exercises.ch10.check_delta_ef(mistake)
    assert not feedback and title in feedback.title
    assert "ReLU model" in feedback.hint


def _library_delta_ef(model, x, beta):
    target = model(x).argmax(dim=1)
    a = xl.saliency(model, x, target).sum(dim=1)
    b = xl.saliency(xl.activations.smooth(model, beta), x, target).sum(dim=1)
    return xl.spectral.delta_ef(a, b)  # right values, but not by hand


def test_delta_ef_checker_refuses_the_library_function():
    feedback = xl.exercises.ch10.check_delta_ef(_library_delta_ef)
    assert not feedback
    assert (
        "calls xl.spectral.delta_ef" in feedback.title and "by hand" in feedback.title
    )
