"""Shattered gradients: deep ReLU networks whose gradients oscillate faster than we can look.

Following Balduzzi et al., "The shattered gradients problem: if resnets are the answer, then
what is the question?" (ICML 2017), and the construction of Montavon's tutorial slides:

* ``sawtooth(depth)``: the tent map g(x) = 2 ReLU(x) - 4 ReLU(x - 0.5) composed ``depth``
  times, as a width-2 ReLU network; on [0, 1] it has 2^depth linear pieces of slope +-2^depth,
  so its gradient flips sign 2^depth - 1 times.
* ``linear_pieces`` / ``count_linear_pieces``: the slopes and the number of the linear pieces of
  any 1-D piecewise-linear model on an interval, found from slope changes on a fine grid.
* ``gradient_autocorrelation``: the autocorrelation of df/dx along a line of inputs, Balduzzi
  et al.'s picture of shattering: it decays slowly for shallow nets (brown noise) and drops
  at once for deep ones (white noise).
* ``shatteredness``: 1 - the mean correlation between the gradient at x and the gradients at
  nearby inputs x + radius * noise, for inputs of any shape: 0 for a linear model, near 1 when
  nearby gradients are unrelated.
"""

from __future__ import annotations

import torch
from torch import nn

from .._core import (
    NoiseDraws,
    as_target_tensor,
    batches,
    check_batch_size,
    check_input,
    check_model,
    check_nonnegative,
    check_positive_int,
    gradient,
    predict,
    preserved,
    resolve_target,
)
from .stats import pearson


def _linear(weight, bias) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def sawtooth(depth: int) -> nn.Sequential:
    """The tent map g(x) = 2 ReLU(x) - 4 ReLU(x - 0.5), composed ``depth`` times: (N, 1) -> (N, 1).

    Layer 1 computes the two hidden units [ReLU(x), ReLU(x - 0.5)] of the first g; each further
    Linear feeds g = 2 h1 - 4 h2 straight into the next g's units, and the last one outputs g.
    Weights are exact in float32 and float64 (call ``.double()`` for float64).
    """
    check_positive_int(depth, "depth")
    layers = [_linear([[1.0], [1.0]], [0.0, -0.5]), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [_linear([[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5]), nn.ReLU()]
    layers.append(_linear([[2.0, -4.0]], [0.0]))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- 1-D models on a line


def _check_interval(low, high) -> tuple[float, float]:
    for value, name in ((low, "low"), (high, "high")):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not abs(value) < float("inf")
        ):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low < high:
        raise ValueError(
            f"the interval needs low < high, got low={low!r}, high={high!r}"
        )
    return float(low), float(high)


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """Where and in which float dtype the model computes (float32 on the CPU if it has no parameters)."""
    tensor = next(
        (
            t
            for t in list(model.parameters()) + list(model.buffers())
            if t.is_floating_point()
        ),
        None,
    )
    return (
        (torch.float32, torch.device("cpu"))
        if tensor is None
        else (tensor.dtype, tensor.device)
    )


def _one_d_outputs(model: nn.Module, xs: torch.Tensor, batch_size) -> torch.Tensor:
    """f(x) for a 1-D model on points xs (P,) -> (P,); the model maps (N, 1) to (N, 1) or (N,)."""
    out = predict(model, xs[:, None], batch_size)
    if out.numel() != xs.numel():
        raise ValueError(
            f"a 1-D model must map (N, 1) to (N, 1) or (N,), got outputs of shape {tuple(out.shape)}"
        )
    return out.reshape(-1)


def linear_pieces(
    model,
    low: float = 0.0,
    high: float = 1.0,
    points: int = 2**16 + 1,
    *,
    rtol: float = 1e-6,
    batch_size=None,
) -> torch.Tensor:
    """The slopes of the linear pieces of a 1-D piecewise-linear model on [low, high], left to right.

    The model is evaluated (in its own dtype and on its device; float64 is the robust choice) on
    ``points`` equally spaced inputs. Each grid cell has a slope; a kink changes the slope of the
    cells next to it: one change when it sits on a grid point, two in a row when it falls inside
    a cell, so every run of consecutive changes is one kink. A change counts when it exceeds
    ``rtol`` times the largest |slope| and the rounding noise of the dtype. A piece's slope is the
    mean over its cells untouched by a kink. The default grid, 2^16 cells, puts the sawtooth's
    kinks exactly on grid points. Kinks closer than about two cells apart raise a ValueError.
    """
    low, high = _check_interval(low, high)
    check_positive_int(points, "points")
    if points < 3:
        raise ValueError(
            f"points must be at least 3 to see a slope change, got {points}"
        )
    check_nonnegative(rtol, "rtol")
    check_batch_size(batch_size)
    check_model(model)
    dtype, device = _model_dtype_device(model)
    xs = torch.linspace(low, high, points, dtype=dtype, device=device)
    with preserved(model):
        ys = _one_d_outputs(model, xs, batch_size)
    step = (high - low) / (points - 1)
    slopes = ys.diff() / step  # (points-1,) one per grid cell
    noise = 64 * torch.finfo(dtype).eps * ys.abs().max() / step
    changes = slopes.diff().abs() > torch.maximum(
        rtol * slopes.abs().max(), noise
    )  # (points-2,) at inner points
    before = torch.cat([changes.new_zeros(1), changes])  # change at the cell's left end
    after = torch.cat([changes, changes.new_zeros(1)])  # change at the cell's right end
    run_starts = changes & ~before[:-1]
    piece = torch.cat(
        [run_starts.new_zeros(1, dtype=torch.long), run_starts.long().cumsum(0)]
    )  # (points-1,)
    clean = ~before & ~after
    count = int(piece[-1]) + 1
    total = torch.zeros(count, dtype=dtype, device=device).index_add_(
        0, piece[clean], slopes[clean]
    )
    cells = torch.zeros(count, dtype=dtype, device=device).index_add_(
        0, piece[clean], torch.ones_like(slopes[clean])
    )
    if (cells == 0).any():
        raise ValueError(
            f"kinks lie closer than the grid can separate; raise points above {points}"
        )
    return total / cells


def count_linear_pieces(
    model,
    low: float = 0.0,
    high: float = 1.0,
    points: int = 2**16 + 1,
    *,
    rtol: float = 1e-6,
    batch_size=None,
) -> int:
    """How many linear pieces a 1-D piecewise-linear model has on [low, high] (see linear_pieces)."""
    return len(
        linear_pieces(model, low, high, points, rtol=rtol, batch_size=batch_size)
    )


def gradient_autocorrelation(
    model,
    low: float = 0.0,
    high: float = 1.0,
    points: int = 256,
    target=0,
    *,
    max_lag: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Autocorrelation of df/dx along ``points`` inputs on [low, high]: (lags (L,), acf (L,)).

    The inputs sit at the middles of ``points`` equal cells, so none falls on a sawtooth kink.
    acf[k] = sum_i (g_i - m)(g_{i+k} - m) / sum_i (g_i - m)^2, the usual (biased) estimator,
    with g = d f_target / d x and m its mean; lags 0..max_lag (default points // 2). NaN when the
    gradient is constant (a linear model). For the sawtooth of depth d on [0, 1] with 256
    points, acf[1] = (255 - 2 (2^d - 1)) / 256 for d <= 7.
    """
    low, high = _check_interval(low, high)
    check_positive_int(points, "points")
    max_lag = points // 2 if max_lag is None else max_lag
    if (
        isinstance(max_lag, bool)
        or not isinstance(max_lag, int)
        or not 0 <= max_lag < points
    ):
        raise ValueError(f"max_lag must be an integer in [0, points), got {max_lag!r}")
    check_model(model)
    dtype, device = _model_dtype_device(model)
    xs = low + (torch.arange(points, dtype=dtype, device=device) + 0.5) * (
        (high - low) / points
    )
    t = as_target_tensor(target, points, device)
    with preserved(model):
        _one_d_outputs(model, xs[:1], None)  # a clear error for models that are not 1-D
        grad, _ = gradient(model, xs[:, None], t)
    g = grad.reshape(-1) - grad.mean()
    acf = (
        torch.stack([(g[: points - k] * g[k:]).sum() for k in range(max_lag + 1)])
        / g.square().sum()
    )
    return torch.arange(max_lag + 1, device=device), acf


def shatteredness(
    model,
    x,
    target=None,
    radius: float = 0.01,
    n: int = 16,
    *,
    seed: int | None = None,
    batch_size=None,
) -> torch.Tensor:
    """1 - mean correlation between the gradient at x and at ``n`` nearby inputs, per sample.

    Nearby inputs are x + radius * noise with standard normal noise (``radius`` is absolute, in
    x's units). The correlation is Pearson's over the input features, so x needs at least 2
    features per sample (for 1-D models use :func:`gradient_autocorrelation`). 0 for a linear
    model; around 1 when the gradients of neighbours are unrelated, as for a shattered net.
    The target defaults to the argmax at x and is kept for the neighbours. Same seed, same result,
    for any batch_size.
    """
    check_model(model)
    x = check_input(x).detach()
    if x[0].numel() < 2:
        raise ValueError(
            "shatteredness correlates gradients over features: x needs at least 2 features per "
            "sample; for 1-D models use gradient_autocorrelation"
        )
    check_nonnegative(radius, "radius")
    check_positive_int(n, "n")
    check_batch_size(batch_size)
    samples = x.shape[0]
    with preserved(model):
        target = resolve_target(model, x, target, batch_size)
        clean, _ = gradient(model, x, target)
        draws = NoiseDraws(x, seed)
        correlation = torch.zeros(samples, dtype=x.dtype, device=x.device)
        for chunk in batches(
            n, samples, batch_size, x[0].numel(), x.device, "neighbours"
        ):
            sample = chunk.sample
            neighbours = x[sample] + radius * draws.rows(chunk.part)  # (Q, *F)
            grad, _ = gradient(model, neighbours, target[sample])
            similarity = pearson(grad.flatten(1), clean[sample].flatten(1))  # (Q,)
            correlation.index_add_(0, sample, similarity)
    return 1 - correlation / n
