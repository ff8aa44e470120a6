"""Checkers for chapter 11, filtering out high frequencies: an ideal low-pass filter and aliasing.

* :func:`check_low_pass`: the student's ideal circular low-pass filter against
  ``xl.spectral.low_pass(a, cutoff, kind="ideal")`` on maps of odd and even sizes with leading
  dimensions, with cutoffs that fall between and exactly on frequencies of the grid.
* :func:`check_aliased_frequency`: the frequency at which a subsampled cosine appears, against the
  peak of the spectrum of an actually subsampled cosine (so the reference is a measurement, not a
  formula).
"""

from __future__ import annotations

import math

import torch

from ..analysis.spectral import low_pass
from .cases import Case, random_cases
from .checks import check_function, compare
from .feedback import Feedback, checker
from .table import Coded, Written


def _maps_case(generator: torch.Generator) -> tuple[torch.Tensor, float]:
    """Random float64 maps (B, H, W) with H, W in 5..12 (odd and even) and a cutoff in (0.05, 0.5]."""
    b = int(torch.randint(1, 4, (1,), generator=generator))
    h, w = (int(v) for v in torch.randint(5, 13, (2,), generator=generator))
    cutoff = 0.05 + 0.45 * float(
        torch.rand((), generator=generator, dtype=torch.float64)
    )
    return torch.randn(b, h, w, generator=generator, dtype=torch.float64), cutoff


def _fixed_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(11)
    maps = torch.randn(2, 3, 8, 8, generator=generator, dtype=torch.float64)
    return [
        # a diagonal frequency (1/8, 1/8) has radius 0.177 > 0.15 although both components are below it
        Case(
            maps,
            0.15,
            label="maps (2, 3, 8, 8) float64, cutoff 0.15 (a square would keep the diagonal (1/8, 1/8))",
        ),
        # 0.25 = 2/8: the frequencies exactly on the cutoff must be kept
        Case(
            maps,
            0.25,
            label="maps (2, 3, 8, 8) float64, cutoff 0.25 exactly on the grid's frequency 2/8",
        ),
        Case(
            torch.randn(4, 6, generator=generator),
            0.3,
            label="one float32 map (4, 6), cutoff 0.3",
        ),
    ]


def _reference_low_pass(a: torch.Tensor, cutoff: float) -> torch.Tensor:
    return low_pass(a, cutoff, kind="ideal")


@checker
def check_low_pass(my_low_pass) -> Feedback:
    """``my_low_pass(a, cutoff)``: the ideal circular low-pass of maps (..., H, W), cutoff in cycles
    per pixel, shaped like ``a`` and in its dtype."""
    cases = _fixed_cases() + random_cases(_maps_case, seeds=(0, 1, 2))
    return check_function(
        my_low_pass,
        _reference_low_pass,
        cases,
        name="my_low_pass",
        forbid=(low_pass,),
        rtol=1e-4,
        atol=1e-5,
        hint="torch.fft.fftfreq(n) gives cycles per pixel (not indices); keep the coefficients "
        "with sqrt(fy**2 + fx**2) <= cutoff, a disk over both axes, and return the .real "
        "part of the inverse transform",
    )


def _measured_alias(f: float, stride: int, length: int = 1200) -> float:
    """Subsample cos(2 pi f n) by ``stride`` and read the frequency of its spectral peak.

    1200 samples hold a whole number of periods of every case's cosine, before and after
    subsampling, so the peak falls exactly on a frequency bin.
    """
    n = torch.arange(length, dtype=torch.float64)
    kept = torch.cos(2 * math.pi * f * n)[::stride]  # (length / stride,)
    power = torch.fft.rfft(kept).abs()
    frequencies = torch.fft.rfftfreq(kept.numel(), dtype=torch.float64)
    return round(float(frequencies[int(power.argmax())]), 9)


_ALIAS_CASES = (
    (0.1, 2),
    (0.2, 2),
    (0.3, 2),
    (0.4, 2),
    (0.5, 2),
    (0.375, 2),
    (0.1, 3),
    (0.3, 3),
    (0.45, 4),
)


@checker
def check_aliased_frequency(aliased_frequency) -> Feedback:
    """``aliased_frequency(f, stride)``: where cos(2 pi f n) appears, in cycles per new sample in
    [0, 1/2], after keeping every ``stride``-th sample."""
    hint = (
        "measured on the new grid a frequency f becomes stride * f cycles per new sample; a sampled "
        "cosine cannot show more than 1/2, and stride * f and its distance to the nearest integer "
        "give the same samples"
    )
    if not callable(aliased_frequency):
        return Feedback.failure(
            "aliased_frequency should be a function",
            [f"got {type(aliased_frequency).__name__}"],
            "pass the function itself, without calling it",
        )
    for f, stride in _ALIAS_CASES:
        expected = _measured_alias(f, stride)
        try:
            got = aliased_frequency(f, stride)
        except NotImplementedError:
            return Feedback.failure(
                "aliased_frequency is not written yet",
                ["replace `raise NotImplementedError` with your solution"],
                hint,
            )
        except Exception as error:  # the student's code: report, never raise
            return Feedback.failure(
                "aliased_frequency raised an exception",
                [f"{type(error).__name__}: {error}", f"on f={f}, stride={stride}"],
                hint,
            )
        result = compare(
            got,
            expected,
            name=f"aliased_frequency({f}, {stride})",
            rtol=0,
            atol=1e-3,
            hint=hint,
        )
        if not result:
            result.details.append(
                f"a cosine of {f} cycles per sample, subsampled by {stride}, shows its spectral "
                f"peak at {expected:.4g} cycles per new sample"
            )
            return result
    return Feedback.success(
        f"aliased_frequency is correct on all {len(_ALIAS_CASES)} cases"
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch11-ideal-low-pass": Coded(check_low_pass, "my_low_pass", points=2),
    "ch11-aliased-frequency": Coded(
        check_aliased_frequency,
        "aliased_frequency",
        points=2,
        written=2,
        rubric="- 1 point: with stride 2 the frequencies f ≤ 1/4 survive (as 2f per new "
        "sample); f = 0.4 appears at 0.2 cycles per new sample\n"
        "- 1 point: f = 1/4 lands on the new Nyquist limit 1/2, while f = 1/2 (the "
        "alternation +1, -1, ...) lands on 0: every second sample is the same",
    ),
    "ch11-ringing": Written(
        3,
        "- 1 point: (a) sinc is negative on (1, 2), (3, 4), ...: a sharp cut gives "
        "oscillating tails, so a bright spot gets a ring of negative attribution\n"
        "- 1 point: (b) the Gaussian's transform is a Gaussian, positive everywhere: no "
        "rings, at the price of a soft cut\n"
        "- 1 point: (c) the Gaussian should score at least as well, at lower cutoffs: its "
        "gain is still e^(-1/2) ≈ 0.61 at |ω| = c",
    ),
    "ch11-metric-choice": Written(
        2,
        "- 1 point: insertion pushes the cutoff low (a blob rebuilds the object), deletion "
        "can prefer high cutoffs (a few sharp pixels destroy the evidence): the choices "
        "move apart\n"
        "- 1 point: a ranking of methods is only as meaningful as its metric: report "
        "several metrics, or one chosen beforehand, with their spread",
    ),
}
