"""SpectralLens: SmoothGrad aggregated over a range of noise scales instead of one.

Mehrpanah, Englesson and Azizpour, "On spectral properties of gradient-based explanation
methods" (ECCV 2024), read SmoothGrad's Gaussian noise as a Gaussian low-pass
filter on the function being explained: averaging the gradient over x + eps, eps ~ N(0, s^2 I),
multiplies each Fourier component of frequency xi of the function by exp(-2 pi^2 s^2 |xi|^2).
Each noise scale keeps a different band, so the explanation changes with s, and how it changes
depends on the image and the model. One of their remedies is to aggregate over scales rather
than pick one; they call it SpectralLens.

``spectral_lens(model, x, target=None, *, sigmas=DEFAULT_SIGMAS, n=16, reduce="mean_square")``
averages :func:`xai_lib.smoothgrad` over the noise scales ``sigmas`` with equal weights. As both
reductions offered are expectations, this is the expectation under a Gaussian scale mixture,
x + s * range(x) * eps with s drawn uniformly from ``sigmas``: in the Fourier domain the filter is
the mean of the Gaussians exp(-2 pi^2 s^2 |xi|^2), which no single scale reproduces. The equal
weights over a geometric grid of scales are this library's choice; the paper's own weighting
may differ.
"""

from __future__ import annotations

import math

import torch

from .._core import (
    SEED_LIMIT,
    attribution_method,
    check_batch_size,
    check_choice,
    check_positive_int,
    resolve_target,
)
from .gradients import smoothgrad

#: A geometric grid from faint to strong noise, as fractions of each sample's value range.
DEFAULT_SIGMAS = (0.025, 0.05, 0.1, 0.2, 0.4)

#: The SmoothGrad reductions that are expectations (so averaging them over scales is one too).
LENS_REDUCTIONS = ("mean", "mean_square")


def _check_sigmas(sigmas) -> tuple[float, ...]:
    if (
        isinstance(sigmas, (str, bytes))
        or not isinstance(sigmas, (list, tuple))
        or not sigmas
    ):
        raise ValueError(
            f"sigmas must be a non-empty list of noise scales >= 0, got {sigmas!r}"
        )
    for s in sigmas:
        if (
            isinstance(s, bool)
            or not isinstance(s, (int, float))
            or not 0 <= s < math.inf
        ):
            raise ValueError(
                f"every noise scale in sigmas must be a finite number >= 0, got {s!r}"
            )
    return tuple(float(s) for s in sigmas)


@attribution_method("spectral_lens", family="gradient")
def spectral_lens(
    model,
    x,
    target=None,
    *,
    sigmas=DEFAULT_SIGMAS,
    n: int = 16,
    reduce: str = "mean_square",
    method="saliency",
    seed: int | None = None,
    return_scales: bool = False,
    batch_size=None,
    **method_options,
):
    """The mean over ``sigmas`` of ``smoothgrad(model, x, target, sigma=s, n=n, reduce=reduce)``.

    ``sigmas``: noise scales, each a fraction of each sample's value range (as SmoothGrad's
    ``sigma``); ``n`` noisy copies per scale; ``reduce``: ``"mean_square"`` (SmoothGrad^2, the
    default: its maps have no sign to flip between scales) or ``"mean"`` (SmoothGrad). The scale
    k uses the seed ``seed + k``, so the same seed gives the same result; ``method``,
    ``batch_size`` and further options are passed to :func:`xai_lib.smoothgrad`. The target
    defaults to the argmax on the clean x, the same for every scale. ``return_scales=True``
    also returns the map of every scale, stacked: (lens, maps (K, *lens.shape)).
    """
    if "sigma" in method_options:
        raise ValueError(
            "spectral_lens takes sigmas= (a list of noise scales), not sigma=; for one scale "
            f"write sigmas=[{method_options['sigma']!r}] (or call xl.smoothgrad(..., sigma=...))"
        )
    sigmas = _check_sigmas(sigmas)
    if seed is not None and seed + len(sigmas) - 1 >= SEED_LIMIT:
        raise ValueError(
            f"seed must leave room for one seed per scale (seed + {len(sigmas) - 1} < 2**63), "
            f"got {seed!r}"
        )
    check_positive_int(n, "n")
    check_choice(reduce, "reduce", LENS_REDUCTIONS)
    check_batch_size(batch_size)
    if not isinstance(return_scales, bool):
        raise ValueError(f"return_scales must be True or False, got {return_scales!r}")
    x = x.detach()
    target = resolve_target(model, x, target, batch_size)
    scales = torch.stack(
        [
            smoothgrad(
                model,
                x,
                target,
                method=method,
                n=n,
                sigma=sigma,
                reduce=reduce,
                seed=None if seed is None else seed + k,
                batch_size=batch_size,
                **method_options,
            )
            for k, sigma in enumerate(sigmas)
        ]
    )  # (K, *map shape)
    lens = scales.mean(dim=0)
    return (lens, scales) if return_scales else lens
