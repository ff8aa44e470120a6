"""Chapter 12's checkers pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "12_evaluation.ipynb"


# --------------------------------------------------------------------------- deletion


@pytest.fixture(scope="module")
def my_deletion():
    return solution_namespace(NOTEBOOK, "ch12-deletion")["my_deletion"]


def test_deletion_checker_passes_the_books_solution(my_deletion):
    assert xl.exercises.ch12.check_deletion(my_deletion)


def deletion_curves(
    model,
    x,
    attribution,
    target,
    steps,
    *,
    descending=True,
    softmax=True,
    per_channel=False,
):
    """A deletion with switchable mistakes: -> (fractions (steps+1,), curves (N, steps+1))."""
    n, c, h, w = x.shape
    scores = (
        attribution.flatten(1) if per_channel else attribution.sum(1).flatten(1)
    )  # (N, units)
    units = scores.shape[1]
    order = scores.argsort(dim=1, descending=descending)
    curves = torch.empty(n, steps + 1, dtype=x.dtype)
    with torch.no_grad():
        for k in range(steps + 1):
            removed = torch.zeros(n, units, dtype=torch.bool)
            removed.scatter_(1, order[:, : k * units // steps], True)
            shape = (n, c, h, w) if per_channel else (n, 1, h, w)
            out = model(x.masked_fill(removed.view(shape), 0.0))
            out = out.softmax(1) if softmax else out
            curves[:, k] = out[torch.arange(n), target]
    return torch.linspace(0, 1, steps + 1, dtype=x.dtype), curves


def area(**mistakes):
    def score(model, x, attribution, target, steps):
        fractions, curves = deletion_curves(
            model, x, attribution, target, steps, **mistakes
        )
        return torch.trapezoid(curves, fractions, dim=1)

    return score


def mean_of_points(model, x, attribution, target, steps):
    return deletion_curves(model, x, attribution, target, steps)[1].mean(dim=1)


def test_the_mistake_free_variant_is_correct():
    assert xl.exercises.ch12.check_deletion(area())


@pytest.mark.parametrize(
    "mistake",
    [
        area(descending=False),  # least important first: an insertion-like order
        area(softmax=False),  # the logit instead of the probability
        area(per_channel=True),  # channels ranked and removed one by one
        mean_of_points,  # a plain mean instead of the trapezoid rule
    ],
)
def test_deletion_checker_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch12.check_deletion(mistake)
    assert not feedback and "wrong values" in feedback.title
    assert any("on case" in d for d in feedback.details)
    assert "torch.trapezoid" in feedback.hint and "softmax" in feedback.hint


def test_deletion_checker_catches_a_wrong_shape():
    def keepdim(model, x, attribution, target, steps):
        return area()(model, x, attribution, target, steps)[:, None]

    feedback = xl.exercises.ch12.check_deletion(keepdim)
    assert not feedback and "wrong shape" in feedback.title


def test_deletion_cases_have_whole_pixel_counts():
    for seed in range(4):
        *_, steps = xl.exercises.ch12._deletion_case(
            torch.Generator().manual_seed(seed)
        )
        assert 36 % steps == 0


# --------------------------------------------------------------------------- relevance mass


def test_relevance_mass_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch12-relevance-mass")
    assert xl.exercises.ch12.check_relevance_mass(namespace["my_relevance_mass"])


def positive_part_per_channel(attribution, mask):
    positive = attribution.clamp_min(0).sum(dim=1).flatten(1)
    return (positive * mask.flatten(1)).sum(1) / positive.sum(1)


def signed(attribution, mask):
    total = attribution.sum(dim=1).flatten(1)
    return (total * mask.flatten(1)).sum(1) / total.sum(1)


def share_of_pixels(attribution, mask):
    positive = attribution.sum(dim=1).clamp_min(0).flatten(1)
    return ((positive > 0) & mask.flatten(1)).sum(1).to(attribution.dtype) / (
        positive > 0
    ).sum(1)


@pytest.mark.parametrize(
    "mistake", [positive_part_per_channel, signed, share_of_pixels]
)
def test_relevance_mass_checker_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch12.check_relevance_mass(mistake)
    assert not feedback and "wrong values" in feedback.title
    assert "sum the channels first" in feedback.hint
