"""Scores for explanations: is an attribution faithful to the model, does it find the object?

Faithfulness (does removing what the map calls important change the output?):

* ``deletion`` / ``insertion`` (Petsiuk, Das and Saenko, RISE, BMVC 2018): units (pixels with
  all their channels, tokens, or features) are switched from x to a baseline (deletion) or from
  a baseline to x (insertion) in order of decreasing channel-summed attribution; the score is
  the trapezoid area under the target's softmax probability over the fraction switched (0 to 1).
  Deletion: lower is better; insertion: higher is better. ``*_curve`` give the curves.
* ``mu_fidelity`` (Bhatt, Weller and Moura, IJCAI 2020): random subsets of grid cells are set to
  a baseline; the score is the correlation, over subsets, between the attribution mass removed
  and the drop of the target's output. Defaults follow Xplique: a 9x9 grid, each cell removed
  with probability 0.2, baseline 0, Spearman correlation (sources/README.md).
* ``completeness_error``: |sum of the attribution - (f(x) - f(baseline))|, zero for methods
  that satisfy completeness (IG with enough steps, LRP-0 on bias-free ReLU nets).

Localization (does the map point at the ground-truth object?): ``pointing_game`` (Zhang et al.,
ECCV 2016) and ``relevance_mass`` (Arras, Osman and Samek, Information Fusion 2022).

Sanity: ``model_randomization`` (Adebayo et al., "Sanity checks for saliency maps", NeurIPS
2018): cascading re-initialization of the layers from the top, on a copy of the model, with the
Spearman rank correlation between the original and the randomized maps.

Statistics shared with the spectral tools: ``ranks`` (average ranks of ties, as
scipy.stats.rankdata), ``pearson`` and ``spearman`` over the last dimension.
"""

from __future__ import annotations

import copy
import math

import torch
from torch.nn import functional as F

from ._core import (
    broadcast_baseline,
    check_batch_size,
    check_choice,
    check_input,
    check_model,
    check_positive_int,
    chunks,
    find_module,
    get_method,
    predict,
    preserved,
    progress,
    resolve_target,
    select_outputs,
)
from .aggregation import AGGREGATIONS, aggregate

CORRELATIONS = ("spearman", "pearson")

#: The "blur" baseline is a Gaussian blur whose std is this fraction of the image's larger side:
#: strong enough to wipe out the object's detail, as the blurred canvas of RISE's insertion.
BLUR_SIGMA_FRACTION = 1 / 16


# --------------------------------------------------------------------------- statistics


def ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n along the last dimension; tied values share their average rank.

    The same numbers as ``scipy.stats.rankdata(values, axis=-1)`` (method "average"), batched.
    """
    n = values.shape[-1]
    flat = values.reshape(-1, n)  # (B, n)
    ordered, order = flat.sort(dim=1, stable=True)
    position = torch.arange(n, device=values.device).expand_as(flat)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    # every position of a run of ties sees the run's first and last position
    first = torch.where(starts, position, 0).cummax(dim=1).values
    last = torch.where(ends, position, n).flip(1).cummin(dim=1).values.flip(1)
    average = (first + last).to(values.dtype) / 2 + 1  # (B, n) in sorted order
    result = torch.empty_like(average).scatter_(1, order, average)
    return result.reshape(values.shape)


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last dimension; NaN where either side is constant."""
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    return (a * b).sum(-1) / (a.square().sum(-1) * b.square().sum(-1)).sqrt()


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation along the last dimension (Pearson of average ranks)."""
    return pearson(ranks(a), ranks(b))


# --------------------------------------------------------------------------- units and inputs


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


def _gaussian_blur(x: torch.Tensor) -> torch.Tensor:
    """x (N, C, H, W) blurred with std BLUR_SIGMA_FRACTION * max(H, W), edges replicated."""
    sigma = BLUR_SIGMA_FRACTION * max(x.shape[-2:])
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-offsets.square() / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    out = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(
        out, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels
    )  # along W
    return F.conv2d(
        out, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels
    )  # along H


def _baseline(baseline, x: torch.Tensor) -> torch.Tensor:
    """A number, a tensor broadcastable to x, or "blur" (images) -> a tensor shaped like x."""
    if isinstance(baseline, str):
        check_choice(baseline, "baseline", ("blur",))
        if x.dim() != 4:
            raise ValueError(
                f"baseline='blur' needs images (N, C, H, W), got x of shape {tuple(x.shape)}"
            )
        return _gaussian_blur(x)
    return broadcast_baseline(baseline, x)


def _target_scores(
    model, inputs: torch.Tensor, target: torch.Tensor, softmax: bool, batch_size=None
) -> torch.Tensor:
    """The target's output (softmax probability or raw) on a batch, without gradients."""
    out = predict(model, inputs, batch_size)
    if out.dim() == 1:
        out = out[:, None]  # a scalar-output model
    return select_outputs(out.softmax(dim=1) if softmax else out, target)[0].to(
        inputs.dtype
    )


def _prepare(model, x, attribution, target, baseline, batch_size):
    """Validate the common arguments -> (x, attribution, baseline like x, target LongTensor (N,))."""
    check_model(model)
    x = _check_x(x)
    attribution = _check_attribution(attribution, x)
    check_batch_size(batch_size)
    canvas = _baseline(baseline, x)
    return x, attribution, canvas, resolve_target(model, x, target, batch_size)


# --------------------------------------------------------------------------- deletion / insertion


def _switch_curve(
    model, x, attribution, target, steps, baseline, softmax, batch_size, insert: bool
):
    """Scores of the target as units switch in order of attribution: (fractions, (N, steps+1))."""
    check_positive_int(steps, "steps")
    x, attribution, canvas, target = _prepare(
        model, x, attribution, target, baseline, batch_size
    )
    scores = _unit_scores(attribution)  # (N, U)
    n, units = scores.shape
    order = scores.argsort(dim=1, descending=True, stable=True)
    position = torch.empty_like(order).scatter_(
        1, order, torch.arange(units, device=x.device).expand(n, -1)
    )
    fractions = torch.linspace(0, 1, steps + 1, dtype=x.dtype, device=x.device)
    switched = torch.round(
        fractions.double() * units
    ).long()  # (steps+1,) units switched at each step
    curve = torch.empty(n * (steps + 1), dtype=x.dtype, device=x.device)
    parts = list(chunks(n * (steps + 1), batch_size, x[0].numel(), x.device))
    with preserved(model):
        # point p of the flattened curves is sample p // (steps+1) at step p % (steps+1)
        for part in progress(parts, len(parts), "insertion" if insert else "deletion"):
            points = torch.arange(part.start, part.stop, device=x.device)
            sample, step = points // (steps + 1), points % (steps + 1)
            moved = _expand_units(
                position[sample] < switched[step][:, None], x
            )  # (P, U) -> x-like
            if insert:
                inputs = torch.where(moved, x[sample], canvas[sample])
            else:
                inputs = torch.where(moved, canvas[sample], x[sample])
            curve[part] = _target_scores(model, inputs, target[sample], softmax)
    return fractions, curve.view(n, steps + 1)


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
    of the U units (pixels, tokens or features) removed. ``baseline``: a number, a tensor
    broadcastable to x, or ``"blur"`` (images). ``softmax=False`` scores the raw output instead.
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


# --------------------------------------------------------------------------- MuFidelity


def _random_subsets(
    x: torch.Tensor, subset: float, n: int, grid: int, seed: int | None
) -> torch.Tensor:
    """n random unit masks (n, U), True where removed; for images, cells of a grid x grid layout.

    Drawn on the CPU from ``seed``, so the subsets are the same on every device and batch size.
    """
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    if x.dim() != 4:
        return (
            torch.rand(n, x.shape[1], generator=generator, dtype=torch.float64) < subset
        ).to(x.device)
    cells = (
        torch.rand(n, 1, grid, grid, generator=generator, dtype=torch.float64) < subset
    )
    pixels = F.interpolate(
        cells.double(), size=x.shape[2:], mode="nearest"
    )  # (n, 1, H, W)
    return (pixels.flatten(1) > 0.5).to(x.device)  # (n, H*W)


def mu_fidelity(
    model,
    x,
    attribution,
    target=None,
    subset: float = 0.2,
    n: int = 128,
    baseline=0.0,
    *,
    grid: int = 9,
    seed: int | None = None,
    correlation: str = "spearman",
    softmax: bool = False,
    batch_size=None,
) -> torch.Tensor:
    """MuFidelity: correlation between attribution mass removed and output drop, per sample.

    ``n`` random subsets: images are cut into ``grid`` x ``grid`` cells and each cell is removed
    (set to ``baseline``) with probability ``subset``, independently, as in Xplique; tokens and
    features are removed one by one with that probability. For each subset the attribution mass
    is the sum of the attribution over the removed units, and the drop is f_target(x) -
    f_target(x with the subset removed), on the raw outputs (``softmax=True``: probabilities).
    ``correlation``: ``"spearman"`` (Xplique's choice) or ``"pearson"`` (Bhatt et al.). NaN where
    the masses or the drops do not vary. Same seed, same result, for any batch_size.
    """
    if (
        isinstance(subset, bool)
        or not isinstance(subset, (int, float))
        or not 0 < subset < 1
    ):
        raise ValueError(
            f"subset must be a fraction strictly between 0 and 1, got {subset!r}"
        )
    check_positive_int(n, "n")
    check_positive_int(grid, "grid")
    check_choice(correlation, "correlation", CORRELATIONS)
    x, attribution, canvas, target = _prepare(
        model, x, attribution, target, baseline, batch_size
    )
    removed = _random_subsets(x, subset, n, grid, seed)  # (n, U)
    mass = _unit_scores(attribution) @ removed.to(x.dtype).T  # (N, n)
    samples = x.shape[0]
    perturbed = torch.empty(samples * n, dtype=x.dtype, device=x.device)
    parts = list(chunks(samples * n, batch_size, x[0].numel(), x.device))
    with preserved(model):
        full = _target_scores(model, x, target, softmax, batch_size)
        # point p is sample p // n under subset p % n
        for part in progress(parts, len(parts), "mu_fidelity"):
            points = torch.arange(part.start, part.stop, device=x.device)
            sample, draw = points // n, points % n
            inputs = torch.where(
                _expand_units(removed[draw], x), canvas[sample], x[sample]
            )
            perturbed[part] = _target_scores(model, inputs, target[sample], softmax)
    drop = full[:, None] - perturbed.view(samples, n)  # (N, n)
    return spearman(mass, drop) if correlation == "spearman" else pearson(mass, drop)


# --------------------------------------------------------------------------- completeness


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
    x, attribution, reference, target = _prepare(
        model, x, attribution, target, baseline, batch_size
    )
    with preserved(model):
        gap = _target_scores(model, x, target, False, batch_size) - _target_scores(
            model, reference, target, False, batch_size
        )
    return (attribution.flatten(1).sum(1) - gap).abs()


# --------------------------------------------------------------------------- localization


def _pixel_maps_and_masks(
    attribution, mask, how: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) attribution and (N, H, W) or (N, 1, H, W) mask -> (N, H, W) map and bool mask."""
    check_input(attribution, "attribution")
    if attribution.dim() != 4:
        raise ValueError(
            f"attribution must be (N, C, H, W) maps, got shape {tuple(attribution.shape)}"
        )
    check_choice(how, "how", AGGREGATIONS)
    n, _, h, w = attribution.shape
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.shape not in ((n, h, w), (n, 1, h, w)):
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not fit attribution of shape {tuple(attribution.shape)}; "
            f"expected ({n}, {h}, {w}) or ({n}, 1, {h}, {w})"
        )
    if mask.is_complex() or (
        mask.is_floating_point() and not torch.isfinite(mask).all()
    ):
        raise ValueError(
            "mask must hold finite real values (True / nonzero inside the object)"
        )
    pooled = aggregate(attribution, how)[:, 0]  # (N, H, W)
    return pooled, mask.reshape(n, h, w).to(attribution.device) != 0


def pointing_game(
    attribution, mask, *, tolerance: int = 0, how: str = "sum"
) -> torch.Tensor:
    """1.0 where the map's maximum falls on the object, else 0.0; NaN where the mask is empty.

    The map is the attribution pooled over channels with ``how`` (see ``xl.aggregate``). A hit
    within ``tolerance`` pixels of the mask counts (Zhang et al. allow 15 px on full images).
    Average over samples with ``torch.nanmean``.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(
            f"tolerance must be an integer >= 0 (pixels), got {tolerance!r}"
        )
    pooled, inside = _pixel_maps_and_masks(attribution, mask, how)
    n, h, w = pooled.shape
    if tolerance:
        offsets = torch.arange(
            -tolerance, tolerance + 1, device=inside.device, dtype=torch.float64
        )
        disk = (
            offsets[:, None].square() + offsets[None, :].square() <= tolerance**2
        ).double()
        inside = (
            F.conv2d(inside[:, None].double(), disk[None, None], padding=tolerance)[
                :, 0
            ]
            > 0
        )
    peak = pooled.flatten(1).argmax(dim=1)  # (N,)
    hit = inside.flatten(1).gather(1, peak[:, None])[:, 0].to(attribution.dtype)
    empty = ~(mask.reshape(n, -1) != 0).any(dim=1).to(hit.device)
    return torch.where(empty, torch.full_like(hit, math.nan), hit)


def relevance_mass(attribution, mask, *, how: str = "sum") -> torch.Tensor:
    """Share of the positive relevance that falls inside the mask, per sample, in [0, 1].

    The relevance mass accuracy of Arras et al.: sum of the positive part of the pooled map
    (``how``, default the signed channel sum) inside the mask over its sum everywhere. NaN where
    the map has no positive relevance.
    """
    pooled, inside = _pixel_maps_and_masks(attribution, mask, how)
    positive = pooled.detach().clamp_min(0).flatten(1)  # (N, H*W)
    within = (positive * inside.flatten(1)).sum(1)
    total = positive.sum(1)
    return torch.where(total > 0, within / total, torch.full_like(total, math.nan))


# --------------------------------------------------------------------------- sanity check


def _randomizable_layers(model) -> list[str]:
    """Names of the modules that own parameters and can re-initialize them, top (output) first."""
    names = [
        name
        for name, m in model.named_modules()
        if hasattr(m, "reset_parameters")
        and any(True for _ in m.parameters(recurse=False))
    ]
    return names[::-1]


def _reinitialize(module, seed: int) -> None:
    """module.reset_parameters() with the global RNG seeded, leaving the global RNG as it was."""
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        module.reset_parameters()


def model_randomization(
    model,
    x,
    method="saliency",
    target=None,
    *,
    layers=None,
    absolute: bool = True,
    seed: int = 0,
    return_maps: bool = False,
    **method_options,
):
    """Cascading model-parameter randomization (Adebayo et al., 2018), on a deep copy.

    Layers are re-initialized one after another from the top (their ``reset_parameters``, seeded
    by ``seed``); after each, ``method`` (a METHODS name or a function with the common signature,
    called with ``method_options``) explains the same targets (default: the original model's
    argmax) and the map is compared with the original one by Spearman rank correlation per
    sample, on |a| when ``absolute``. A method that passes the check decorrelates fast.

    ``layers``: names (as in ``named_modules()``) in the order to randomize; None: every module
    with parameters and ``reset_parameters``, output side first. Returns (layer names,
    correlations (L, N)), plus the randomized maps (L, *x.shape) when ``return_maps``.
    """
    check_model(model)
    x = check_input(x).detach()
    explain = get_method(method)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    names = _randomizable_layers(model) if layers is None else list(layers)
    if not names:
        raise ValueError("the model has no layers with parameters to randomize")
    for name in names:
        if not hasattr(find_module(model, name), "reset_parameters"):
            raise ValueError(
                f"layer {name!r} has no reset_parameters() to randomize it with"
            )
    with preserved(model):
        target = resolve_target(model, x, target)
        original = explain(model, x, target, **method_options)
    randomized = copy.deepcopy(model)
    reference = original.abs() if absolute else original
    correlations, maps = [], []
    for i, name in enumerate(progress(names, len(names), "randomizing layers")):
        _reinitialize(find_module(randomized, name), seed + i)
        a = explain(randomized, x, target, **method_options)
        correlations.append(
            spearman(reference.flatten(1), (a.abs() if absolute else a).flatten(1))
        )
        if return_maps:
            maps.append(a)
    if return_maps:
        return names, torch.stack(correlations), torch.stack(maps)
    return names, torch.stack(correlations)
