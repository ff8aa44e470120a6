"""Local faithfulness and stability: how a map relates to the model near x.

Yeh, Hsieh, Suggala, Inouye and Ravikumar, "On the (In)fidelity and Sensitivity of
Explanations" (NeurIPS 2019), the two measures captum implements as
``captum.metrics.infidelity`` and ``sensitivity_max``:

* :func:`infidelity`: E_I[(I . Phi(x) - (f(x) - f(x - I)))^2] over Gaussian perturbations I,
  one value per sample: how well the map, read as a linear model of the output, predicts the
  change of the output when x moves a little. The gradient of a linear model scores 0, and at
  small perturbations the gradient of any smooth model tends to 0; a map smoothed after the
  fact explains a smoother function and pays here, which region-removal metrics (deletion,
  insertion, MuFidelity) cannot show.
* :func:`sensitivity_max`: max over perturbations d in an L-infinity ball of radius r of
  ||Phi(x + d) - Phi(x)|| / ||Phi(x)||: how much the map itself changes when x moves a little.

Both draw their perturbations from ``seed`` in the library's way (:class:`NoiseDraws`: the same
seed gives the same perturbations, and the same result, for any ``batch_size``; seed=None
draws fresh ones from a private generator: the global RNG is never used) and score the model's raw output for the target (pass the function you explain,
e.g. a model with a LogSoftmax on top, as ``model``).
"""

from __future__ import annotations

import inspect
import math

import torch

from .._core import (
    NoiseDraws,
    batches,
    check_batch_size,
    check_bool,
    check_input,
    check_model,
    check_nonnegative,
    check_positive_int,
    check_seed,
    get_method,
    preserved,
    resolve_target,
)
from .deletion_insertion import _check_attribution, _target_scores


def _check_scale(value, name: str) -> float:
    value = check_nonnegative(value, name)
    if value == 0:
        raise ValueError(
            f"{name} must be > 0 (a perturbation of size 0 measures nothing)"
        )
    return value


def infidelity(
    model,
    x,
    attribution,
    target=None,
    *,
    sigma: float = 0.1,
    n: int = 32,
    normalize: bool = True,
    relative: bool = False,
    seed: int | None = None,
    batch_size=None,
) -> torch.Tensor:
    """Infidelity of Yeh et al. (2019) with Gaussian perturbations, one value per sample (N,).

    With I = sigma * z, z standard normal shaped like x, s = sum(I * attribution) and
    delta = f(x) - f(x - I) (f the model's raw output for the target):
    ``normalize=False``: E[(s - delta)^2]; ``normalize=True``: the same with the map first
    rescaled by the optimal factor beta = E[s delta] / E[s^2] (so the score does not depend on
    the map's scale), i.e. E[(beta s - delta)^2], as ``captum.metrics.infidelity(...,
    normalize=True)`` computes it (beta = 0 where E[s^2] = 0). Expectations are means over the
    ``n`` perturbations. Lower is better; the gradient of a linear model scores 0.

    ``relative=True`` divides by E[delta^2]: with ``normalize=True`` the value lies in [0, 1],
    one minus the share of the output changes that the (rescaled) map predicts, comparable
    between models and perturbation scales (NaN where the output never changed). ``sigma`` is the noise standard deviation in the
    input's units (images in [0, 1]: a fraction of the value range). ``attribution``: shaped
    like x, or (N, 1, H, W) for images (a per-pixel score, counted for each channel of its
    pixel). ``target``: None (the argmax on x), an int or one class per sample. The same
    ``seed`` gives the same value for any ``batch_size`` (perturbed copies per forward pass).
    """
    check_model(model)
    check_input(x)
    x = x.detach()
    attribution = _check_attribution(attribution, x)
    sigma = _check_scale(sigma, "sigma")
    check_positive_int(n, "n")
    check_bool(normalize, "normalize")
    check_bool(relative, "relative")
    check_seed(seed)
    check_batch_size(batch_size)
    samples = x.shape[0]
    draws = NoiseDraws(x, seed)
    with preserved(model):
        # per perturbation and sample: s = I . attribution and delta = f(x) - f(x - I),
        # (n, N), made inside the guard (under the caller's inference_mode: read-only here)
        s = x.new_empty(n, samples)
        delta = x.new_empty(n, samples)
        target = resolve_target(model, x, target, batch_size)
        clean = _target_scores(model, x, target, False, batch_size)  # (N,)
        for chunk in batches(
            n, samples, batch_size, x[0].numel(), x.device, "infidelity"
        ):
            sample = chunk.sample
            perturbation = sigma * draws.rows(chunk.part)  # (Q, *F)
            perturbed = _target_scores(
                model, x[sample] - perturbation, target[sample], False
            )
            delta.view(-1)[chunk.part] = clean[sample] - perturbed
            s.view(-1)[chunk.part] = (
                (perturbation * attribution[sample]).flatten(1).sum(1)
            )
    if normalize:
        ss, sd = s.square().mean(0), (s * delta).mean(0)  # (N,)
        beta = torch.where(ss > 0, sd / torch.where(ss > 0, ss, 1), 0)
        s = beta * s
    value = (s - delta).square().mean(0)  # (N,)
    dd = delta.square().mean(0)
    if not relative:
        return value
    # NaN where the output did not change under any perturbation: nothing to predict
    return torch.where(dd > 0, value / torch.where(dd > 0, dd, 1), math.nan)


def _takes(fn, option: str) -> bool:
    info = getattr(fn, "info", None)
    if info is not None and option in ("seed", "batch_size"):
        return info.seeded if option == "seed" else info.batched
    try:
        return option in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def sensitivity_max(
    method,
    model,
    x,
    target=None,
    *,
    radius: float = 0.02,
    n: int = 10,
    seed: int | None = None,
    batch_size=None,
    **options,
) -> torch.Tensor:
    """Max-sensitivity of Yeh et al. (2019), one value per sample (N,): lower is more stable.

    max over ``n`` perturbations d, uniform in the L-infinity ball of ``radius`` (each input
    number moved by at most ``radius``, in the input's units), of ||Phi(x + d) - Phi(x)|| /
    ||Phi(x)||, Frobenius norms over each sample's map, as ``captum.metrics.sensitivity_max``
    computes it with its default perturbations (a map with norm 0 is divided by 1, as there).

    ``method``: a METHODS name or a function with the common signature, called with
    ``options`` for the same targets on x and on every perturbed copy (``target=None``: the
    argmax on the clean x, kept for the copies, so each map explains the same decision). The
    method is called on one batch of N copies per perturbation, shaped like x, so a seeded
    method draws the same internal noise for x and for its copies; ``batch_size`` is handed
    to the method when it takes one. ``seed`` is this function's own: seed a seeded method by
    passing it as ``functools.partial(xl.smoothgrad, seed=0)``. The same ``seed`` gives the
    same value for any ``batch_size``. Saliency of a linear model scores 0.
    """
    explain = get_method(method)
    check_model(model)
    check_input(x)
    x = x.detach()
    radius = _check_scale(radius, "radius")
    check_positive_int(n, "n")
    check_seed(seed)
    check_batch_size(batch_size)
    if batch_size is not None and _takes(explain, "batch_size"):
        options = {**options, "batch_size": batch_size}
    samples = x.shape[0]
    draws = NoiseDraws(x, seed)
    with preserved(model):
        target = resolve_target(model, x, target, batch_size)
        original = explain(model, x, target, **options).detach()  # (N, *A)
        norm = original.flatten(1).norm(dim=1)
        norm = torch.where(norm == 0, torch.ones_like(norm), norm)
        worst = torch.full_like(norm, -math.inf)
        # one chunk per perturbation: the method sees batches shaped like x
        for chunk in batches(
            n, samples, samples, x[0].numel(), x.device, "sensitivity_max"
        ):
            d = int(chunk.variant[0])
            # a uniform draw in [-1, 1] from a standard normal one: erf(z / sqrt 2)
            shift = radius * torch.erf(draws(d) / math.sqrt(2))
            moved = explain(model, x + shift, target, **options).detach()
            change = (moved - original).flatten(1).norm(dim=1) / norm
            worst = torch.maximum(worst, change)
    return worst
