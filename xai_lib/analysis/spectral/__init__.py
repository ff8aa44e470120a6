"""The spectral view of attribution maps: power spectra, expected frequency, tails, low-pass filters.

* ``power_spectrum`` and ``radial_profile``: |FFT2|^2 of maps over their last two dims, and its
  mean over rings of equal frequency, in cycles per pixel (0 to 0.5).
* ``expected_frequency`` (EF) and ``delta_ef``: the attribution-complexity measure of Mehrpanah,
  Gamba, Smith and Azizpour, "On the complexity-faithfulness trade-off of gradient-based
  explanations" (ICCV 2025); ``rank=True`` reproduces the normalization of the
  paper's code.
* ``tail_exponent``: the power-law decay alpha of the radial profile, S(f) ~ f^-alpha.
* ``summary``: expected frequency, radial profile and tail exponent at once, from one FFT.
* ``low_pass`` and ``optimal_cutoff``: the ideal circular (or Gaussian) low-pass filter of
  FORGrad, Muzellec, Fel et al., "Gradient strikes back: how filtering out high frequencies
  improves explanations" (2023), with the cutoff chosen to maximize a
  faithfulness metric on a set of samples.
* ``forgrad``: FORGrad exactly as Xplique implements it, the ideal low-pass of the
  channel-averaged magnitude |mean_C a|, an unsigned map (N, 1, H, W).

Maps are real tensors (..., H, W); every function is batched over the leading dims, runs where
the maps are (torch.fft on CPU or CUDA) and keeps their dtype. Frequencies are in cycles per
pixel: a map with k periods across its W pixels has frequency k / W; 0.5 is the Nyquist limit.
Spectra are computed on the half plane (rfft2) with each column counted as often as it appears
in the full spectrum, which gives the full-plane numbers at half the cost.

The code, one concept per module: :mod:`.measures` (spectrum, profile, EF, tail exponent),
:mod:`.one_fft` (``summary``), :mod:`.filters` (``low_pass``, ``forgrad``,
``optimal_cutoff``), on top of :mod:`.half_plane` (the map check, the half-plane grid and the
power sums they share).
"""

from .filters import (
    DEFAULT_CUTOFFS,
    FILTERS,
    LOW_PASS_KINDS,
    forgrad,
    low_pass,
    optimal_cutoff,
)
from .half_plane import DENSE_RINGS, SPECTRUM_CHUNK_BYTES
from .measures import (
    delta_ef,
    expected_frequency,
    power_spectrum,
    radial_profile,
    tail_exponent,
)
from .one_fft import SpectralSummary, summary

# in the order of the API page (as the names were defined when this was one module)
__all__ = [
    "LOW_PASS_KINDS",
    "DEFAULT_CUTOFFS",
    "power_spectrum",
    "radial_profile",
    "expected_frequency",
    "delta_ef",
    "tail_exponent",
    "SPECTRUM_CHUNK_BYTES",
    "DENSE_RINGS",
    "SpectralSummary",
    "summary",
    "low_pass",
    "forgrad",
    "FILTERS",
    "optimal_cutoff",
]
