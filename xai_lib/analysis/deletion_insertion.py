"""Deletion and insertion (Petsiuk, Das and Saenko, RISE, BMVC 2018), and the preparation that
every region-removal metric shares.

* ``deletion`` / ``insertion``: units (pixels with all their channels, tokens, or features) are
  switched from x to a baseline (deletion) or from a baseline to x (insertion) in order of
  decreasing channel-summed attribution; the score is the trapezoid area under the target's
  softmax probability over the fraction switched (0 to 1). Deletion: lower is better;
  insertion: higher is better. ``*_curve`` give the curves.
* The shared preparation, also used by :mod:`.mu_fidelity`, :mod:`.faithfulness`
  (``completeness_error``) and :mod:`.local_faithfulness`: checking x and the attribution,
  one score per unit, unit masks broadcast to x, and the target's output without gradients.

All are reached as ``xl.metrics.<name>`` (and from :mod:`.faithfulness`).
"""

from __future__ import annotations

import torch

from .._core import (
    DegenerateMapWarning,
    batches,
    check_batch_size,
    check_bool,
    check_input,
    check_model,
    check_positive_int,
    predict,
    preserved,
    resolve_target,
    select_outputs,
    warn,
)
from .._core.alerts import samples as _samples
from ..methods.baselines import baseline_like


def _check_x(x) -> torch.Tensor:
    check_input(x)
    if x.dim() not in (2, 3, 4):
        raise ValueError(
            f"x must be vectors (N, D), tokens (N, T, E) or images (N, C, H, W), got shape {tuple(x.shape)}"
        )
    return x.detach()


def _check_attribution(attribution, x: torch.Tensor) -> torch.Tensor:
    """An attribution shaped like x (or (N, 1, H, W) for images), on x's device and dtype."""
    check_input(attribution, "attribution")
    pixel_map = x.dim() == 4 and attribution.shape == (x.shape[0], 1, *x.shape[2:])
    if attribution.shape != x.shape and not pixel_map:
        raise ValueError(
            f"attribution of shape {tuple(attribution.shape)} does not fit x of shape {tuple(x.shape)}; "
            "expected x's shape" + (" or (N, 1, H, W)" if x.dim() == 4 else "")
        )
    return attribution.detach().to(device=x.device, dtype=x.dtype)


def _unit_scores(attribution: torch.Tensor) -> torch.Tensor:
    """One score per switchable unit: (N, D) features, (N, T) tokens or (N, H*W) pixels."""
    if attribution.dim() == 2:
        return attribution
    if attribution.dim() == 3:
        return attribution.sum(
            dim=2
        )  # (N, T, E) -> (N, T): a token's embedding moves as one
    return attribution.sum(dim=1).flatten(
        1
    )  # (N, C, H, W) -> (N, H*W): a pixel's channels move as one


def _expand_units(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (P, U) unit mask -> broadcastable to (P, *x.shape[1:])."""
    if x.dim() == 2:
        return mask
    if x.dim() == 3:
        return mask[:, :, None]  # (P, T, 1)
    return mask.view(-1, 1, *x.shape[2:])  # (P, 1, H, W)


def _target_scores(
    model, inputs: torch.Tensor, target: torch.Tensor, softmax: bool, batch_size=None
) -> torch.Tensor:
    """The target's output (softmax probability or raw) on a batch, without gradients."""
    out = predict(model, inputs, batch_size)
    if out.dim() == 1:
        out = out[:, None]  # a scalar-output model
    if softmax and out.dim() == 2 and out.shape[1] == 1:
        raise ValueError(
            "softmax=True on a model with one output: the softmax of one logit is always 1, "
            "so every attribution would score the same; pass softmax=False to score the raw "
            "output"
        )
    return select_outputs(out.softmax(dim=1) if softmax else out, target)[0].to(
        inputs.dtype
    )


def _prepare(model, x, attribution, baseline, batch_size):
    """Validate the common arguments -> (x, attribution, baseline like x).

    The target is resolved inside the guard (a forward pass when it is None), by the caller.
    """
    check_model(model)
    x = _check_x(x)
    attribution = _check_attribution(attribution, x)
    check_batch_size(batch_size)
    canvas = baseline_like(baseline, x)
    return x, attribution, canvas


def _switch_curve(
    model, x, attribution, target, steps, baseline, softmax, batch_size, insert: bool
):
    """Scores of the target as units switch in order of attribution: (fractions, (N, steps+1))."""
    check_positive_int(steps, "steps")
    check_bool(softmax, "softmax")
    x, attribution, canvas = _prepare(model, x, attribution, baseline, batch_size)
    scores = _unit_scores(attribution)  # (N, U)
    n, units = scores.shape
    constant = (scores == scores[:, :1]).all(dim=1)
    if constant.any():
        warn(
            f"{'insertion' if insert else 'deletion'}: the attribution of {_samples(constant)} "
            "is constant (e.g. all zero), so it ranks nothing; its units are switched in "
            "index order (ties always go by index), which scores an arbitrary order",
            DegenerateMapWarning,
        )
    order = scores.argsort(dim=1, descending=True, stable=True)
    position = torch.empty_like(order).scatter_(
        1, order, torch.arange(units, device=x.device).expand(n, -1)
    )
    fractions = torch.linspace(0, 1, steps + 1, dtype=x.dtype, device=x.device)
    switched = torch.round(
        fractions.double() * units
    ).long()  # (steps+1,) units switched at each step
    desc = "insertion" if insert else "deletion"
    with preserved(model) as model:
        # made inside the guard: under the caller's inference_mode it would be read-only here
        curve = torch.empty(steps + 1, n, dtype=x.dtype, device=x.device)
        target = resolve_target(model, x, target, batch_size)
        for chunk in batches(steps + 1, n, batch_size, x[0].numel(), x.device, desc):
            step, sample = chunk.variant, chunk.sample
            moved = position[sample] < switched[step][:, None]  # (P, U)
            moved = _expand_units(moved, x)  # broadcastable to (P, *x.shape[1:])
            if insert:
                inputs = torch.where(moved, x[sample], canvas[sample])
            else:
                inputs = torch.where(moved, canvas[sample], x[sample])
            scores = _target_scores(model, inputs, target[sample], softmax)
            curve.view(-1)[chunk.part] = scores
    return fractions, curve.T  # (N, steps + 1)


def deletion_curve(
    model,
    x,
    attribution,
    target=None,
    steps: int = 20,
    *,
    baseline=0.0,
    softmax: bool = True,
    batch_size=None,
):
    """The target's probability as the most important units are set to ``baseline``, step by step.

    Returns (fractions (steps+1,) from 0 to 1, curves (N, steps+1)); step k has round(k U / steps)
    of the U units (pixels, tokens or features) removed. Units of equal attribution are removed
    in index order (row-major for pixels); a constant map (all zero, say) ranks nothing and is
    scored in that order, with a :class:`DegenerateMapWarning`. ``baseline``: a number, a
    tensor broadcastable to x, or ``"blur"`` (images). ``softmax=False`` scores the raw output
    instead; ``softmax=True`` needs a model with at least two outputs (the softmax of one
    logit is 1 whatever the input).
    """
    return _switch_curve(
        model,
        x,
        attribution,
        target,
        steps,
        baseline,
        softmax,
        batch_size,
        insert=False,
    )


def insertion_curve(
    model,
    x,
    attribution,
    target=None,
    steps: int = 20,
    *,
    baseline=0.0,
    softmax: bool = True,
    batch_size=None,
):
    """The target's probability as the most important units are put back on a ``baseline`` canvas.

    The mirror of :func:`deletion_curve`: step 0 is the baseline, step ``steps`` is x.
    """
    return _switch_curve(
        model, x, attribution, target, steps, baseline, softmax, batch_size, insert=True
    )


def deletion(
    model,
    x,
    attribution,
    target=None,
    steps: int = 20,
    *,
    baseline=0.0,
    softmax: bool = True,
    batch_size=None,
) -> torch.Tensor:
    """Area under the deletion curve, one value per sample in [0, 1] (lower is better)."""
    fractions, curve = deletion_curve(
        model,
        x,
        attribution,
        target,
        steps,
        baseline=baseline,
        softmax=softmax,
        batch_size=batch_size,
    )
    return torch.trapezoid(curve, fractions, dim=1)


def insertion(
    model,
    x,
    attribution,
    target=None,
    steps: int = 20,
    *,
    baseline=0.0,
    softmax: bool = True,
    batch_size=None,
) -> torch.Tensor:
    """Area under the insertion curve, one value per sample in [0, 1] (higher is better)."""
    fractions, curve = insertion_curve(
        model,
        x,
        attribution,
        target,
        steps,
        baseline=baseline,
        softmax=softmax,
        batch_size=batch_size,
    )
    return torch.trapezoid(curve, fractions, dim=1)
