"""Chapter 2's checkers: they pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl

from .test_exercises import BOOK, solution_namespace

CHAPTER = BOOK / "02_self_explaining.ipynb"


def test_occlusion_checker_passes_the_books_solution():
    namespace = solution_namespace(CHAPTER, "ch02-gam-occlusion")
    assert xl.exercises.ch02.check_occlusion_scores(namespace["occlusion_scores"])


def _keep_only_feature_i(model, x, reference):
    # inserts feature i into the reference instead of removing it from x: the same for a GAM,
    # not for the checker's model with an interaction
    n, d = x.shape
    inserted = reference.expand(n, d, d).clone()  # (N, D, D): copy i of the reference
    inserted[:, torch.arange(d), torch.arange(d)] = x
    with torch.no_grad():
        return (
            model(inserted.reshape(n * d, d))[:, 0].reshape(n, d)
            - model(reference[None])[:, [0]]
        )


def _rise_not_drop(model, x, reference):
    n, d = x.shape
    occluded = x[:, None, :].repeat(1, d, 1)
    occluded[:, torch.arange(d), torch.arange(d)] = reference
    with torch.no_grad():
        return model(occluded.reshape(n * d, d))[:, 0].reshape(n, d) - model(x)[:, [0]]


@pytest.mark.parametrize(
    "mistake, detail",
    [
        (_keep_only_feature_i, "not a GAM"),
        (_rise_not_drop, "sign flipped"),
    ],
)
def test_occlusion_checker_explains_typical_mistakes(mistake, detail):
    feedback = xl.exercises.ch02.check_occlusion_scores(mistake)
    assert not feedback and "f(x) - f(occluded)" in feedback.hint
    assert any(detail in d for d in feedback.details), feedback.details


def test_receptive_field_checker_passes_the_books_solution():
    namespace = solution_namespace(CHAPTER, "ch02-receptive-field")
    assert xl.exercises.ch02.check_receptive_field_size(
        namespace["receptive_field_size"]
    )


def test_receptive_field_checker_explains_ignored_strides():
    feedback = xl.exercises.ch02.check_receptive_field_size(
        lambda kernels, strides: 1 + sum(k - 1 for k in kernels)
    )
    assert not feedback and "is 10, expected 22" in feedback.title
    assert (
        "strides" in feedback.details[-1] and "product of the strides" in feedback.hint
    )
