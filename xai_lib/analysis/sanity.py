"""Sanity: ``model_randomization`` (Adebayo et al., "Sanity checks for saliency maps", NeurIPS
2018): cascading re-initialization of the layers from the top, on a copy of the model, with the
Spearman rank correlation between the original and the randomized maps.
"""

from __future__ import annotations

import copy

import torch

from .._core import (
    check_bool,
    check_input,
    check_model,
    check_seed,
    find_module,
    get_method,
    preserved,
    progress,
    resolve_target,
)
from .stats import spearman


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
    if seed is None:
        raise ValueError(
            "seed must be an integer in [0, 2**63) (it seeds the re-initialization)"
        )
    check_seed(seed)
    check_bool(absolute, "absolute")
    check_bool(return_maps, "return_maps")
    names = _randomizable_layers(model) if layers is None else list(layers)
    if not names:
        raise ValueError("the model has no layers with parameters to randomize")
    for name in names:
        if not hasattr(find_module(model, name), "reset_parameters"):
            raise ValueError(
                f"layer {name!r} has no reset_parameters() to randomize it with"
            )
    with preserved(model) as module:
        target = resolve_target(module, x, target)
        original = explain(module, x, target, **method_options)
        # copied in eval mode (the library's policy), eager; the original is left as it was
        randomized = copy.deepcopy(module)
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
