"""MuFidelity (Bhatt, Weller and Moura, "Evaluating and aggregating feature-based model
explanations", IJCAI 2020): does the attribution mass of random subsets predict the output drop?

* ``mu_fidelity``: random subsets of grid cells are set to a baseline; the score is the
  correlation, over subsets, between the attribution mass removed and the drop of the target's
  output. Defaults follow Xplique's: a 9x9 grid, each cell removed with probability 0.2,
  baseline 0, Spearman correlation.
* ``_random_subsets``: the subsets, drawn on the CPU from a seed, so they are the same on every
  device and batch size.

It shares the preparation of :mod:`.deletion_insertion`; reached as ``xl.metrics.mu_fidelity``
(and from :mod:`.faithfulness`).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .._core import (
    DegenerateMapWarning,
    batches,
    check_bool,
    check_choice,
    check_positive_int,
    preserved,
    resolve_target,
    seed_generator,
    warn,
)
from .._core.alerts import samples as _samples
from .deletion_insertion import _expand_units, _prepare, _target_scores, _unit_scores
from .stats import pearson, spearman

CORRELATIONS = ("spearman", "pearson")


def _random_subsets(
    x: torch.Tensor, subset: float, n: int, grid: int, seed: int | None
) -> torch.Tensor:
    """n random unit masks (n, U), True where removed; for images, cells of a grid x grid layout.

    Drawn on the CPU from ``seed``, so the subsets are the same on every device and batch size.
    """
    # on the CPU; seed=None: fresh OS entropy, never the global RNG
    generator = seed_generator(seed)
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
    ``correlation``: ``"spearman"`` (Xplique's choice) or ``"pearson"`` (Bhatt et al.). A
    correlation is undefined where the masses do not vary over the subsets (an all-zero map) or
    the drops do not (the model ignores the removed cells): those samples get NaN, with a
    :class:`DegenerateMapWarning` naming them. Same seed, same result, for any batch_size;
    ``seed=None`` draws fresh subsets without touching the global RNG.
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
    check_bool(softmax, "softmax")
    x, attribution, canvas = _prepare(model, x, attribution, baseline, batch_size)
    removed = _random_subsets(x, subset, n, grid, seed)  # (n, U)
    mass = _unit_scores(attribution) @ removed.to(x.dtype).T  # (N, n)
    samples = x.shape[0]
    with preserved(model) as model:
        # made inside the guard: under the caller's inference_mode it would be read-only here
        perturbed = torch.empty(n, samples, dtype=x.dtype, device=x.device)
        target = resolve_target(model, x, target, batch_size)
        full = _target_scores(model, x, target, softmax, batch_size)
        for chunk in batches(
            n, samples, batch_size, x[0].numel(), x.device, "mu_fidelity"
        ):
            draw, sample = chunk.variant, chunk.sample
            removed_units = _expand_units(removed[draw], x)
            inputs = torch.where(removed_units, canvas[sample], x[sample])
            scores = _target_scores(model, inputs, target[sample], softmax)
            perturbed.view(-1)[chunk.part] = scores
    drop = full[:, None] - perturbed.T  # (N, n)
    flat_mass = (mass == mass[:, :1]).all(dim=1)
    flat_drop = (drop == drop[:, :1]).all(dim=1)
    for flat, what in (
        (
            flat_mass,
            "the attribution mass removed does not vary over the subsets (e.g. an "
            "all-zero map)",
        ),
        (flat_drop & ~flat_mass, "the output drop does not vary over the subsets"),
    ):
        if flat.any():
            warn(
                f"mu_fidelity: for {_samples(flat)} {what}, so the correlation is undefined: "
                "NaN",
                DegenerateMapWarning,
            )
    value = spearman(mass, drop) if correlation == "spearman" else pearson(mass, drop)
    return torch.where(flat_mass | flat_drop, torch.full_like(value, torch.nan), value)
