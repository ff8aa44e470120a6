"""Chapter 3's checkers pass the book's solutions and explain typical mistakes."""

import math

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "03_perturbation.ipynb"


def test_feature_occlusion_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch03-feature-occlusion")
    assert xl.exercises.ch03.check_feature_occlusion(namespace["feature_occlusion"])


def _occlude(model, x, target, value, sign=1.0, fill_all=False):
    with torch.no_grad():
        clean = model(x)[:, target]
        scores = torch.empty_like(x)
        for i in range(x.shape[1]):
            occluded = torch.full_like(x, value) if fill_all else x.clone()
            occluded[:, i] = value
            scores[:, i] = sign * (clean - model(occluded)[:, target])
    return scores


@pytest.mark.parametrize(
    "mistake, title, detail",
    [
        (
            lambda m, x, t, v: _occlude(m, x, t, v, sign=-1.0),
            "wrong values",
            "sign flipped",
        ),
        (lambda m, x, t, v: _occlude(m, x, t, 0.0), "wrong values", "differ"),
        (
            lambda m, x, t, v: _occlude(m, x, t, v).sum(1),
            "wrong shape",
            "expected (2, 5)",
        ),
        (
            lambda m, x, t, v: _occlude(m, x, t, v).float(),
            "dtype float32",
            "input's dtype",
        ),
    ],
)
def test_feature_occlusion_checker_explains_typical_mistakes(mistake, title, detail):
    feedback = xl.exercises.ch03.check_feature_occlusion(mistake)
    assert not feedback and title in feedback.title
    assert any(detail in d for d in feedback.details), feedback.details
    assert "clean minus occluded" in feedback.hint


def test_feature_occlusion_checker_reports_in_place_changes():
    def occlude_in_place(model, x, target, value):
        clean = model(x)[:, target].detach()
        scores = torch.empty_like(x)
        for i in range(x.shape[1]):
            kept = x[:, i].clone()
            x[:, i] = value
            scores[:, i] = clean - model(x)[:, target].detach()
            x[:, i] = kept + 1.0  # restores the wrong value
        return scores

    feedback = xl.exercises.ch03.check_feature_occlusion(occlude_in_place)
    assert not feedback


def test_occlusion_passes_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch03-occlusion-passes")
    assert xl.exercises.ch03.check_occlusion_passes(namespace["occlusion_passes"])


@pytest.mark.parametrize(
    "mistake, title",
    [
        (
            lambda size, patch, stride: ((size - patch) // stride + 1) ** 2 + 1,
            "is 37, expected 50",
        ),
        (
            lambda size, patch, stride: (math.ceil((size - patch) / stride) + 1) ** 2,
            "is 16, expected 17",
        ),
        (lambda size, patch, stride: (size // stride) ** 2 + 1, "is 65, expected 50"),
    ],
)
def test_occlusion_passes_checker_explains_typical_mistakes(mistake, title):
    feedback = xl.exercises.ch03.check_occlusion_passes(mistake)
    assert not feedback and title in feedback.title, feedback
    assert "math.ceil" in feedback.hint and "clean image" in feedback.hint
