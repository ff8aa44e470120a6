"""Chapter 9's checkers pass the book's solutions and explain typical mistakes."""

import math

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "09_spectral_view.ipynb"


def test_expected_frequency_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch09-expected-frequency")
    assert xl.exercises.ch09.check_expected_frequency(
        namespace["my_expected_frequency"]
    )


def _expected_frequency(a, steps=False, squared=True):
    spectrum = torch.fft.fft2(a).abs()
    power = spectrum.square() if squared else spectrum
    h, w = a.shape[-2:]
    fy = torch.fft.fftfreq(h, d=1 / h if steps else 1.0, dtype=a.dtype)[:, None]
    fx = torch.fft.fftfreq(w, d=1 / w if steps else 1.0, dtype=a.dtype)[None, :]
    radius = (fy.square() + fx.square()).sqrt()
    return (power * radius).sum(dim=(-2, -1)) / power.sum(dim=(-2, -1))


@pytest.mark.parametrize(
    "mistake, detail",
    [
        (
            lambda a: _expected_frequency(a, steps=True),
            "yours 3, expected 0.1875",
        ),  # integer frequency steps
        (
            lambda a: _expected_frequency(a, squared=False),
            "differ",
        ),  # |F| instead of |F|^2
        (lambda a: _expected_frequency(a).float(), None),  # the wrong dtype
        (lambda a: _expected_frequency(a)[:, None], None),  # the wrong shape
    ],
)
def test_expected_frequency_checker_explains_typical_mistakes(mistake, detail):
    feedback = xl.exercises.ch09.check_expected_frequency(mistake)
    assert not feedback
    if detail:
        assert any(detail in d for d in feedback.details), feedback.details
    assert "cycles per pixel" in feedback.hint


def test_smoothgrad_gain_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch09-smoothgrad-gain")
    assert xl.exercises.ch09.check_smoothgrad_gain(namespace["smoothgrad_gain"])


@pytest.mark.parametrize(
    "mistake",
    [
        lambda nu, sigma: torch.exp(
            -(sigma**2) * nu**2 / 2
        ),  # forgot the 2 pi of cycles
        lambda nu, sigma: torch.exp(
            -2 * math.pi**2 * sigma * nu**2
        ),  # sigma instead of its square
        lambda nu, sigma: torch.exp(-2 * math.pi**2 * sigma**2 * nu**2).float(),
    ],
)
def test_smoothgrad_gain_checker_explains_typical_mistakes(mistake):
    feedback = xl.exercises.ch09.check_smoothgrad_gain(mistake)
    assert not feedback and "characteristic function" in feedback.hint


def test_smoothgrad_gain_reference_is_what_smoothgrad_measures():
    """The checker's formula is the gain xl.smoothgrad really applies to a wave (Monte Carlo, 1000 draws)."""
    nu = torch.tensor([0.5, 1.5], dtype=torch.float64)

    class Waves(torch.nn.Module):
        def forward(self, x):
            return torch.sin(
                2 * math.pi * nu * x
            )  # (N, 1) -> (N, 2): one wave per output

    x = torch.zeros(2, 1, dtype=torch.float64)
    measured = xl.smoothgrad(
        Waves(), x, torch.tensor([0, 1]), sigma=0.2, n=1000, seed=0, relative=False
    )[:, 0] / (2 * math.pi * nu)
    torch.testing.assert_close(
        measured, xl.exercises.ch09._gain(nu, 0.2), atol=0.08, rtol=0
    )
