"""Faithfulness: does removing what the map calls important change the output?

The metrics live in one module each and are gathered here (and in ``xl.metrics``):

* ``deletion`` / ``insertion`` and their ``*_curve`` (Petsiuk, Das and Saenko, RISE, BMVC
  2018): in :mod:`.deletion_insertion`, with the preparation every metric shares.
* ``mu_fidelity`` (Bhatt, Weller and Moura, IJCAI 2020): in :mod:`.mu_fidelity`.
* ``completeness_error`` (defined here): |sum of the attribution - (f(x) - f(baseline))|, zero
  for methods that satisfy completeness, the axiom of Sundararajan, Taly and Yan (ICML 2017)
  (IG with enough steps, LRP-0 on bias-free ReLU nets).

:data:`FIDELITY_METRICS` (defined here) names the region-removal metrics for
:func:`xai_lib.spectral.optimal_cutoff`.
"""

from __future__ import annotations

import torch

from .._core import preserved, resolve_target
from .deletion_insertion import (
    _prepare,
    _target_scores,
    deletion,
    deletion_curve,
    insertion,
    insertion_curve,
)
from .mu_fidelity import CORRELATIONS, mu_fidelity

__all__ = [
    "CORRELATIONS",
    "FIDELITY_METRICS",
    "completeness_error",
    "deletion",
    "deletion_curve",
    "insertion",
    "insertion_curve",
    "mu_fidelity",
]


def completeness_error(
    model, x, attribution, target=None, baseline=None, *, batch_size=None
) -> torch.Tensor:
    """|sum of the attribution - (f_target(x) - f_target(baseline))| per sample, on raw outputs.

    ``baseline``: None (zeros), a number or a tensor broadcastable to x, as for IG.
    """
    if isinstance(baseline, str):
        raise ValueError(
            f"baseline must be None, a number or a tensor, got {baseline!r}"
        )
    x, attribution, reference = _prepare(model, x, attribution, baseline, batch_size)
    with preserved(model) as model:
        target = resolve_target(model, x, target, batch_size)
        gap = _target_scores(model, x, target, False, batch_size) - _target_scores(
            model, reference, target, False, batch_size
        )
    return (attribution.flatten(1).sum(1) - gap).abs()


#: metric name -> (function, +1 when higher is better else -1)
FIDELITY_METRICS = {
    "deletion": (deletion, -1),
    "insertion": (insertion, 1),
    "mu_fidelity": (mu_fidelity, 1),
}
