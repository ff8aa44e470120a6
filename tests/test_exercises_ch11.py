"""Chapter 11's checkers pass the book's solutions and explain typical mistakes."""

import pytest
import torch

import xai_lib as xl
from tests.test_exercises import BOOK, solution_namespace

NOTEBOOK = BOOK / "11_filtering.ipynb"


# --------------------------------------------------------------------------- the ideal low-pass filter


def test_low_pass_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch11-ideal-low-pass")
    assert xl.exercises.ch11.check_low_pass(namespace["my_low_pass"])


def _filtered(a, keep):
    return torch.fft.ifft2(torch.fft.fft2(a) * keep).real


def _frequencies(a, unit=1.0):
    h, w = a.shape[-2:]
    fy = torch.fft.fftfreq(h, d=unit, dtype=a.dtype)[:, None]
    fx = torch.fft.fftfreq(w, d=unit, dtype=a.dtype)[None, :]
    return fy, fx


def square_filter(a, cutoff):
    fy, fx = _frequencies(a)
    return _filtered(a, (fy.abs() <= cutoff) & (fx.abs() <= cutoff))


def strict_inequality(a, cutoff):
    fy, fx = _frequencies(a)
    return _filtered(a, (fy**2 + fx**2).sqrt() < cutoff)


def index_units(a, cutoff):
    fy, fx = _frequencies(
        a, unit=1 / a.shape[-1]
    )  # periods per map instead of cycles per pixel
    return _filtered(a, (fy**2 + fx**2).sqrt() <= cutoff)


def complex_result(a, cutoff):
    fy, fx = _frequencies(a)
    return torch.fft.ifft2(torch.fft.fft2(a) * ((fy**2 + fx**2).sqrt() <= cutoff))


@pytest.mark.parametrize(
    "mistake, title",
    [
        (square_filter, "wrong values"),
        (strict_inequality, "wrong values"),
        (index_units, "wrong values"),
        (complex_result, "dtype complex128, expected float64"),
    ],
)
def test_low_pass_checker_explains_typical_mistakes(mistake, title):
    feedback = xl.exercises.ch11.check_low_pass(mistake)
    assert not feedback and title in feedback.title
    assert "a disk over both axes" in feedback.hint


def test_low_pass_checker_names_the_square_case():
    feedback = xl.exercises.ch11.check_low_pass(square_filter)
    assert any("a square would keep the diagonal" in d for d in feedback.details), (
        feedback.details
    )


def test_low_pass_checker_reports_exceptions_kindly():
    def broken(a, cutoff):
        raise RuntimeError("oops")

    feedback = xl.exercises.ch11.check_low_pass(broken)
    assert not feedback and "raised an exception" in feedback.title
    assert any("RuntimeError: oops" in d for d in feedback.details)


# --------------------------------------------------------------------------- aliasing


def test_aliased_frequency_checker_passes_the_books_solution():
    namespace = solution_namespace(NOTEBOOK, "ch11-aliased-frequency")
    assert xl.exercises.ch11.check_aliased_frequency(namespace["aliased_frequency"])


@pytest.mark.parametrize(
    "mistake, title",
    [
        (
            lambda f, stride: stride * f,
            "aliased_frequency(0.3, 2) is 0.6, expected 0.4",
        ),  # never folded
        (
            lambda f, stride: min(stride * f, 0.5),
            "aliased_frequency(0.3, 2) is 0.5, expected 0.4",
        ),  # clipped
        (
            lambda f, stride: abs(stride * f - round(stride * f)) / stride,
            "aliased_frequency(0.1, 2) is 0.1, expected 0.2",
        ),
    ],
)
def test_aliased_frequency_checker_explains_typical_mistakes(mistake, title):
    feedback = xl.exercises.ch11.check_aliased_frequency(mistake)
    assert not feedback and feedback.title == title
    assert "spectral peak" in feedback.details[-1] and "stride * f" in feedback.hint


def test_aliased_frequency_checker_reports_exceptions_and_non_functions():
    feedback = xl.exercises.ch11.check_aliased_frequency(lambda f, stride: 1 / 0)
    assert not feedback and "raised an exception" in feedback.title
    assert any("ZeroDivisionError" in d for d in feedback.details)
    assert (
        "should be a function" in xl.exercises.ch11.check_aliased_frequency(0.2).title
    )


def test_the_alias_reference_is_a_measurement():
    # the checker's reference reads the spectral peak of an actually subsampled cosine
    measured = xl.exercises.ch11._measured_alias
    assert measured(0.4, 2) == pytest.approx(0.2)
    assert measured(0.5, 2) == 0.0
    assert measured(0.1, 2) == pytest.approx(0.2)
