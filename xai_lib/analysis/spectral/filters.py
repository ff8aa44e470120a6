"""Low-pass filters of attribution maps and the cutoff that makes them most faithful (FORGrad).

* ``low_pass``: the ideal circular (or Gaussian) low-pass filter of FORGrad, Muzellec, Fel et
  al., "Gradient strikes back: how filtering out high frequencies improves explanations"
  (2023), on maps (..., H, W), cutoff in cycles per pixel.
* ``forgrad``: FORGrad exactly as Xplique implements it, the ideal low-pass of the
  channel-averaged magnitude |mean_C a|, an unsigned map (N, 1, H, W).
* ``optimal_cutoff``: the cutoff chosen to maximize a faithfulness metric on a set of samples,
  for either filter (:data:`FILTERS`), among :data:`DEFAULT_CUTOFFS` by default.
"""

from __future__ import annotations

import math

import torch

from ..._core import (
    DegenerateMapWarning,
    check_bool,
    check_choice,
    check_image_batch,
    check_input,
    check_model,
    get_method,
    progress,
    resolve_target,
    warn,
)
from ..faithfulness import FIDELITY_METRICS
from .half_plane import _check_maps, _half_plane

LOW_PASS_KINDS = ("ideal", "gaussian")

DEFAULT_CUTOFFS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def _check_cutoff(cutoff) -> float:
    if (
        isinstance(cutoff, bool)
        or not isinstance(cutoff, (int, float))
        or not 0 < cutoff <= 0.5
    ):
        raise ValueError(
            f"cutoff must be a frequency in (0, 0.5] cycles per pixel, got {cutoff!r}"
        )
    return float(cutoff)


def low_pass(a, cutoff: float, kind: str = "ideal") -> torch.Tensor:
    """Low-pass filter maps (..., H, W) in the Fourier domain, cutoff in cycles per pixel.

    ``"ideal"``: keep the frequencies with |w| <= cutoff, remove the rest (FORGrad's circular
    filter). ``"gaussian"``: multiply the spectrum by exp(-|w|^2 / (2 cutoff^2)), i.e. cutoff is
    the filter's standard deviation in frequency. Periodic boundaries, as the FFT implies.
    """
    a = _check_maps(a)
    cutoff = _check_cutoff(cutoff)
    check_choice(kind, "kind", LOW_PASS_KINDS)
    h, w = a.shape[-2:]
    radius, _ = _half_plane(h, w, a)
    if kind == "ideal":
        # a relative margin so that a frequency k/n given as the cutoff counts as inside
        gain = (radius <= cutoff * (1 + 1e-9)).to(a.dtype)
    else:
        gain = torch.exp(-radius.square() / (2 * cutoff**2))
    return torch.fft.irfft2(torch.fft.rfft2(a) * gain, s=(h, w))


def forgrad(a, cutoff: float) -> torch.Tensor:
    """FORGrad, as Xplique implements it: the low-passed magnitude of maps (N, C, H, W).

    (N, C, H, W) -> (N, 1, H, W) = |low_pass(|mean over C of a|, cutoff, kind="ideal")|:
    average the channels, take the absolute value, keep the frequencies with |w| <= cutoff
    (cycles per pixel, as everywhere here; Xplique's ``sigma`` in frequency bins of a
    size-S map is ``cutoff = sigma / S``, and cutoffs stop at the Nyquist frequency 0.5, so
    Xplique's ``sigma`` above ``S / 2``, which also keeps the corners of the spectrum, has no
    counterpart here), and take the absolute value of the inverse
    transform. The result is an unsigned map of evidence magnitude; filtering a signed map
    per channel (:func:`low_pass`) is a different operation. Odd sizes are filtered exactly
    (Xplique resizes them back bicubically instead). Muzellec, Fel et al., "Gradient strikes
    back" (2023), tune the cutoff per model, method and metric on validation images and
    report scores on other images (:func:`optimal_cutoff` with ``filter="forgrad"``).
    """
    if isinstance(a, torch.Tensor) and a.dim() != 4:
        raise ValueError(f"a must be maps (N, C, H, W), got shape {tuple(a.shape)}")
    a = _check_maps(a, min_dim=4)
    magnitude = a.mean(dim=1, keepdim=True).abs()  # (N, 1, H, W)
    return low_pass(magnitude, cutoff, kind="ideal").abs()


#: the map filters :func:`optimal_cutoff` can tune: name -> function (maps, cutoff, kind)
FILTERS = {
    "low_pass": lambda a, cutoff, kind: low_pass(a, cutoff, kind),
    "forgrad": lambda a, cutoff, kind: forgrad(a, cutoff),
}


def _paired_means(per_sample: torch.Tensor) -> torch.Tensor:
    """Mean score per cutoff over the samples scored at every cutoff: (cutoffs, N) -> (cutoffs,).

    A sample whose score is NaN at some cutoff (a filtered map that is constant, say) is left
    out at all of them, so every cutoff is judged on the same samples; a warning says how
    many. No sample scored everywhere: a ValueError, as no cutoff can be called best.
    """
    defined = ~per_sample.isnan().any(dim=0)  # (N,)
    if not defined.any():
        raise ValueError(
            "optimal_cutoff: the metric is undefined (NaN) for every sample at some cutoff, so "
            "no cutoff can be called best; check the maps (all zero?) and the metric"
        )
    if not defined.all():
        warn(
            f"optimal_cutoff: {int((~defined).sum())} of {defined.numel()} samples scored NaN "
            "at some cutoff and are left out at every cutoff",
            DegenerateMapWarning,
        )
    return per_sample[:, defined].mean(dim=1)


def optimal_cutoff(
    model,
    x,
    target=None,
    method="saliency",
    cutoffs=DEFAULT_CUTOFFS,
    metric="deletion",
    *,
    kind: str = "ideal",
    higher_is_better: bool = True,
    method_options=None,
    metric_options=None,
    return_scores: bool = False,
    filter: str = "low_pass",
    attribution=None,
):
    """The low-pass cutoff that makes ``method``'s maps most faithful on the samples x (FORGrad).

    The maps are computed once (``method``: a METHODS name or a function with the common
    signature, with ``method_options``; or given as ``attribution``, maps of x already
    computed for this target, and then ``method`` is not called), filtered at each cutoff by
    ``filter``: ``"low_pass"`` (:func:`low_pass` of the maps as they are, with ``kind``) or
    ``"forgrad"`` (:func:`forgrad`: the ideal low-pass of the channel-averaged magnitude,
    the paper's filter; ``kind`` must then be ``"ideal"``), and scored
    by ``metric`` averaged over the samples: ``"deletion"`` (lower is better), ``"insertion"``,
    ``"mu_fidelity"``, or a function ``metric(model, x, attribution, target, **metric_options)``
    returning one score per sample (``higher_is_better`` says which way it points). The target
    defaults to the model's argmax and is the same for every cutoff; x must be images
    (N, C, H, W). Returns the best cutoff,
    and with ``return_scores=True`` also the mean score per cutoff (in the metric's own units).
    """
    check_bool(higher_is_better, "higher_is_better")
    check_bool(return_scores, "return_scores")
    if callable(metric):
        score, sign = metric, 1 if higher_is_better else -1
    else:
        check_choice(metric, "metric", tuple(FIDELITY_METRICS))
        score, sign = FIDELITY_METRICS[metric]
    if not isinstance(cutoffs, (list, tuple)) or not cutoffs:
        raise ValueError(
            f"cutoffs must be a non-empty list of frequencies in (0, 0.5], got {cutoffs!r}"
        )
    cutoffs = [_check_cutoff(c) for c in cutoffs]
    check_choice(kind, "kind", LOW_PASS_KINDS)
    check_choice(filter, "filter", tuple(FILTERS))
    if filter == "forgrad" and kind != "ideal":
        raise ValueError(
            f'filter="forgrad" is an ideal low-pass filter; got kind={kind!r}'
        )
    check_model(model)
    x = check_image_batch(x).detach()
    target = resolve_target(model, x, target)
    if attribution is None:
        explain = get_method(method)
        attribution = explain(model, x, target, **(method_options or {}))
    else:
        check_input(attribution, "attribution", min_dim=4)
        if attribution.shape[0] != x.shape[0] or attribution.shape[2:] != x.shape[2:]:
            raise ValueError(
                f"attribution of shape {tuple(attribution.shape)} does not fit x of shape "
                f"{tuple(x.shape)}: expected maps (N, C or 1, H, W) of the same samples"
            )
        attribution = attribution.detach()
    smooth = FILTERS[filter]
    # (cutoffs, N); samples undefined at some cutoff are left out at all of them (_paired_means)
    scores = torch.stack(
        [
            score(
                model,
                x,
                smooth(attribution, c, kind),
                target,
                **(metric_options or {}),
            )
            for c in progress(cutoffs, len(cutoffs), "cutoffs")
        ]
    )
    scores = _paired_means(scores)
    best = cutoffs[
        int(torch.nan_to_num(sign * scores, nan=-math.inf).argmax())
    ]  # NaN scores never win
    return (best, scores) if return_scores else best
