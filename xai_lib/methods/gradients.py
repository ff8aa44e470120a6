"""The gradient family: saliency, Gradient x Input, Integrated Gradients and SmoothGrad.

* Saliency: the gradient d f_c / d x (Simonyan et al., 2014; Baehrens et al., 2010).
* Gradient x Input: x * d f_c / d x, the first-order Taylor term at the root 0
  (Shrikumar et al., 2016; Montavon's tutorial slides).
* Integrated Gradients: (x - x') * integral_0^1 grad f(x' + a (x - x')) da
  (Sundararajan, Taly and Yan, 2017), batched over the path points.
* SmoothGrad: the average of any method over noisy copies of x (Smilkov et al., 2017);
  ``reduce="mean_square"`` gives SmoothGrad^2 and ``reduce="var"`` VarGrad (Adebayo et al.,
  2018). As in captum's NoiseTunnel it wraps any method, so IG+SmoothGrad is one call.
"""

from __future__ import annotations

import numpy as np
import torch

from .._core import (
    NoiseDraws,
    attribution_method,
    batches,
    check_batch_size,
    check_choice,
    check_nonnegative,
    check_positive_int,
    derived_seed,
    get_method,
    gradient,
    resolve_target,
    takes_option,
)
from .baselines import baseline_like

PATH_RULES = ("midpoint", "trapezoid", "gausslegendre")
SMOOTHGRAD_REDUCTIONS = ("mean", "mean_square", "var")


@attribution_method("saliency", family="gradient")
def saliency(model, x, target=None, *, abs: bool = False):
    """d f_target / d x, shaped like x. ``abs=True`` gives |gradient| as in Simonyan et al."""
    grad, _ = gradient(model, x, target)
    return grad.abs() if abs else grad


@attribution_method("gradient_x_input", family="gradient")
def gradient_x_input(model, x, target=None):
    """x * d f_target / d x: each feature's term of the Taylor expansion at the root 0."""
    grad, _ = gradient(model, x, target)
    return x.detach() * grad


def path_nodes(
    steps: int, rule: str = "midpoint", dtype=torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quadrature nodes alpha in [0, 1] and weights (summing to 1) for the IG path integral.

    ``midpoint`` puts a node in the middle of each of ``steps`` equal cells (error O(1/steps^2),
    and exact for the piecewise-constant gradients of ReLU networks whenever the kinks fall on
    cell edges); ``trapezoid`` uses both ends; ``gausslegendre`` is captum's default.
    """
    check_positive_int(steps, "steps")
    check_choice(rule, "rule", PATH_RULES)
    if rule == "midpoint":
        alphas = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
        weights = torch.full((steps,), 1.0 / steps, dtype=torch.float64)
    elif rule == "trapezoid":
        if steps == 1:
            raise ValueError("the trapezoid rule needs steps >= 2")
        alphas = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
        weights = torch.full((steps,), 1.0 / (steps - 1), dtype=torch.float64)
        weights[[0, -1]] /= 2
    else:
        nodes, w = np.polynomial.legendre.leggauss(steps)  # on [-1, 1]
        alphas = torch.as_tensor((nodes + 1) / 2)
        weights = torch.as_tensor(w / 2)
    return alphas.to(dtype), weights.to(dtype)


@attribution_method("integrated_gradients", family="gradient")
def integrated_gradients(
    model,
    x,
    target=None,
    *,
    baseline=None,
    steps: int = 64,
    rule: str = "midpoint",
    batch_size=None,
):
    """Integrated Gradients from ``baseline`` (zeros by default) to x.

    The N * steps path points are generated and differentiated in chunks of at most
    ``batch_size`` points, so memory does not grow with ``steps``.
    """
    check_batch_size(batch_size)
    alphas, weights = path_nodes(steps, rule, dtype=x.dtype)
    alphas, weights = alphas.to(x.device), weights.to(x.device)
    x = x.detach()
    baseline = baseline_like(baseline, x)
    target = resolve_target(model, x, target, batch_size)
    delta = x - baseline  # (N, *F)
    n = x.shape[0]
    feature_dims = (1,) * (x.dim() - 1)
    total = torch.zeros_like(x)  # (N, *F): sum over steps of weight * gradient
    for chunk in batches(steps, n, batch_size, x[0].numel(), x.device, "IG"):
        step, sample = chunk.variant, chunk.sample
        a = alphas[step].view(-1, *feature_dims)  # (P, 1, ..., 1)
        path = baseline[sample] + a * delta[sample]  # (P, *F)
        grad, _ = gradient(model, path, target[sample])
        total.index_add_(0, sample, grad * weights[step].view(-1, *feature_dims))
    return delta * total


@attribution_method("smoothgrad", family="gradient")
def smoothgrad(
    model,
    x,
    target=None,
    *,
    method="saliency",
    n: int = 32,
    sigma: float = 0.15,
    reduce: str = "mean",
    seed: int | None = None,
    relative: bool = True,
    batch_size=None,
    **method_options,
):
    """Average ``method`` over ``n`` copies of x with Gaussian noise (SmoothGrad and relatives).

    sigma is the noise standard deviation as a fraction of each sample's value range
    (max - min), as in Smilkov et al.; with ``relative=False`` it is the standard deviation
    itself (for inputs whose range means nothing, e.g. a single feature). ``reduce``: ``"mean"`` (SmoothGrad), ``"mean_square"``
    (SmoothGrad^2) or ``"var"`` (VarGrad). The target defaults to the argmax on the clean x.
    ``batch_size`` caps the noisy copies given to ``method`` at once; the same ``seed`` gives
    the same result for any batch_size. A seeded ``method`` (``"rise"``) gets a seed derived
    from ``seed`` unless ``seed`` is among the extra options, so every noisy copy sees the same
    masks and the result is reproducible too. ``method`` may return another shape than x
    (``"grad_cam"``, ``"occlusion"``, ``"rise"``: (N, 1, H, W)); the result has its shape.
    """
    inner = get_method(method)
    if (
        seed is not None
        and "seed" not in method_options
        and takes_option(inner, "seed")
    ):
        method_options = {**method_options, "seed": derived_seed(seed, 1)}
    check_positive_int(n, "n")
    check_nonnegative(sigma, "sigma")
    check_choice(reduce, "reduce", SMOOTHGRAD_REDUCTIONS)
    check_batch_size(batch_size)
    x = x.detach()
    target = resolve_target(model, x, target, batch_size)
    samples = x.shape[0]
    feature_dims = (1,) * (x.dim() - 1)
    flat = x.reshape(samples, -1)  # (N, F)
    if relative:
        value_range = flat.max(dim=1).values - flat.min(dim=1).values  # (N,)
        if sigma > 0 and (value_range == 0).any():
            raise ValueError(
                "sigma is relative to each sample's value range (max - min), and some samples are "
                "constant (range 0), so they would get no noise: pass relative=False to give "
                "sigma as the noise's standard deviation"
            )
        scale = (sigma * value_range).view(-1, *feature_dims)  # (N, 1, ...)
    else:
        scale = torch.full(
            (samples, *feature_dims), sigma, dtype=x.dtype, device=x.device
        )
    draws = NoiseDraws(x, seed)
    # (N, *A): sums over the copies, A the method's output shape
    total: torch.Tensor | None = None
    total_sq: torch.Tensor | None = None
    for chunk in batches(n, samples, batch_size, x[0].numel(), x.device, "SmoothGrad"):
        sample = chunk.sample
        noisy = x[sample] + scale[sample] * draws.rows(chunk.part)  # (Q, *F)
        a = inner(model, noisy, target[sample], **method_options)  # (Q, *A)
        if total is None:
            total = a.new_zeros(samples, *a.shape[1:])
            total_sq = torch.zeros_like(total) if reduce != "mean" else None
        total.index_add_(0, sample, a)
        if total_sq is not None:
            total_sq.index_add_(0, sample, a * a)
    assert total is not None  # n >= 1 copies of a non-empty batch: at least one chunk
    mean = total / n
    if reduce == "mean":
        return mean
    assert total_sq is not None  # summed for every reduction but "mean"
    mean_square = total_sq / n
    if reduce == "mean_square":
        return mean_square
    return (mean_square - mean * mean).clamp_min(0)
