"""Checkers for chapter 9, the spectral view: expected frequency by hand, and SmoothGrad's Gaussian gain.

* :func:`check_expected_frequency`: EF = sum_w |w| S(w) / sum_w S(w) of maps (N, H, W), written
  with torch.fft, against :func:`xai_lib.spectral.expected_frequency` on random maps of square and
  non-square, even and odd sizes, and on a sinusoid whose EF is known.
* :func:`check_smoothgrad_gain`: the factor exp(-2 pi^2 sigma^2 nu^2) by which Gaussian input
  noise of std sigma multiplies a Fourier component of frequency nu of the function explained
  (the Fourier transform of the noise density); the reference is that formula.
"""

from __future__ import annotations

import math

import torch

from ..analysis.spectral import expected_frequency, power_spectrum, radial_profile
from .cases import Case, random_cases
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _maps_case(generator: torch.Generator) -> tuple:
    """N random maps of a random size (H, W between 5 and 20), float64, not zero-mean."""
    n, h, w = (int(v) for v in torch.randint(5, 21, (3,), generator=generator))
    return (
        torch.randn(n % 4 + 1, h, w, generator=generator, dtype=torch.float64) + 0.3,
    )


def _sinusoid_case() -> Case:
    size, k = 16, 3
    wave = torch.cos(
        2 * math.pi * k * torch.arange(size, dtype=torch.float64) / size
    )  # (W,)
    return Case(
        wave.expand(1, size, size).clone(),
        label="a zero-mean cosine with 3 periods across 16 x 16 (EF 3/16)",
    )


@checker
def check_expected_frequency(my_expected_frequency) -> Feedback:
    """``my_expected_frequency(a)``: maps (N, H, W) -> (N,), EF in cycles per pixel over the full
    spectrum of each map."""
    cases = [_sinusoid_case()] + random_cases(_maps_case, seeds=(0, 1, 2, 3))
    return check_function(
        my_expected_frequency,
        lambda a: expected_frequency(a),
        cases,
        name="my_expected_frequency",
        forbid=(expected_frequency, power_spectrum, radial_profile),
        rtol=1e-7,
        atol=1e-10,
        hint="S = |torch.fft.fft2(a)|^2 (the squared modulus, over the last two dims); the frequency of each "
        "cell is |w| = sqrt(fy^2 + fx^2) with fy = torch.fft.fftfreq(H)[:, None] and fx = "
        "torch.fft.fftfreq(W)[None, :] (cycles per pixel, not integer steps); then sum |w| S over "
        "each map and divide by the sum of S.",
    )


def _gain_case(generator: torch.Generator) -> tuple:
    """Frequencies nu (K,) in [0, 4) and one noise std sigma in [0.02, 0.5), float64."""
    nu = 4 * torch.rand(
        int(torch.randint(3, 9, (1,), generator=generator)),
        generator=generator,
        dtype=torch.float64,
    )
    sigma = round(
        0.02 + 0.48 * float(torch.rand(1, generator=generator, dtype=torch.float64)), 3
    )
    return nu, sigma


def _gain(nu: torch.Tensor, sigma: float) -> torch.Tensor:
    return torch.exp(-2 * math.pi**2 * sigma**2 * nu**2)


@checker
def check_smoothgrad_gain(smoothgrad_gain) -> Feedback:
    """``smoothgrad_gain(nu, sigma)``: for frequencies nu (K,) in cycles per unit of input and a noise
    std sigma, the factor (K,) by which SmoothGrad's averaging multiplies each frequency's term."""
    cases = random_cases(_gain_case, seeds=(0, 1, 2))
    cases.append(
        Case(
            torch.tensor([0.0, 1.0], dtype=torch.float64),
            0.0,
            label="no noise (sigma = 0)",
        )
    )
    return check_function(
        smoothgrad_gain,
        _gain,
        cases,
        name="smoothgrad_gain",
        rtol=1e-7,
        atol=1e-12,
        hint="average cos(2 pi nu (x + eps)) over eps ~ N(0, sigma^2): the answer is the characteristic "
        "function of the Gaussian at 2 pi nu, E[exp(i t eps)] = exp(-sigma^2 t^2 / 2) with t = 2 pi nu.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch09-expected-frequency": Coded(
        check_expected_frequency, "my_expected_frequency", points=2
    ),
    "ch09-smoothgrad-gain": Coded(
        check_smoothgrad_gain,
        "smoothgrad_gain",
        points=2,
        written=1,
        rubric="- 1 point: derives exp(-2π²σ²ν²): the term with sin(2πνε) averages to zero "
        "(odd in ε) and E[cos(tε)] = exp(-σ²t²/2) with t = 2πν",
    ),
    "ch09-band": Written(
        3,
        "- 1 point: (a) the derivative of log ν - 2π²σ²ν² vanishes at ν² = 1/(4π²σ²)\n"
        "- 1 point: (b) σ = 0.15 gives ν* = 1/(0.3π) ≈ 1.06 cycles per unit of the value "
        "range: one oscillation as the input moves across its whole range\n"
        "- 1 point: (c) the square keeps every component's energy at every noise level, so "
        "no band is cut off: all frequencies, weighted by ν²",
    ),
    "ch09-ranks": Written(
        3,
        "- 1 point: (a) a constant adds c HW to the zero frequency only: EF(a + c) = "
        "e ΣS / (ΣS + c² H² W²)\n"
        "- 1 point: (b) Grad-CAM and occlusion maps are mostly positive: their large S(0) "
        "makes their plain EF small whatever their pattern\n"
        "- 1 point: (c) a strictly increasing g keeps the ranks, so the rank EF is equal; "
        "example: a huge spike and a barely largest value get the same rank EF",
    ),
}
