"""Checks of the arguments every public function takes, each failing with a ValueError that
names the problem: the model, batch-first float inputs, integers, numbers, choices, flags
(:func:`check_bool`: ``abs="no"`` is refused, not read as True) and seeds (:func:`check_seed`:
None or an int in [0, 2**63)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn


def check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_input(x, name: str = "x", min_dim: int = 2) -> torch.Tensor:
    """A batch-first float tensor with finite values, or a ValueError saying what is wrong."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() < min_dim:
        raise ValueError(
            f"{name} must be batch first with at least {min_dim} dimensions "
            f"(e.g. (N, D) or (N, C, H, W)), got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)})")
    # a finite sum proves every value finite (NaN and inf propagate) at a fraction of the cost
    if not torch.isfinite(x.sum()) and not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_image_batch(x, name: str = "x") -> torch.Tensor:
    """Like :func:`check_input`, for methods that need (N, C, H, W) images."""
    check_input(x, name)
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be an image batch (N, C, H, W), got shape {tuple(x.shape)}"
        )
    return x


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_batch_size(batch_size) -> int | None:
    return None if batch_size is None else check_positive_int(batch_size, "batch_size")


def check_nonnegative(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_bool(value, name: str) -> bool:
    """True or False, nothing else: ``abs="no"`` or ``abs=1`` is a ValueError, not a truthy flag."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


#: Seeds are integers in [0, SEED_LIMIT): what every torch generator takes.
SEED_LIMIT = 2**63


def check_seed(seed, name: str = "seed") -> int | None:
    """None (fresh randomness, drawn without touching the global RNG) or an int in [0, 2**63)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            f"{name} must be None or an integer in [0, 2**63), got {seed!r} "
            f"({type(seed).__name__})"
        )
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {seed!r}")
    return seed


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        )
    return value


def check_differentiable(model: nn.Module) -> nn.Module:
    """A model whose backward pass can run: no parameter or buffer is an inference tensor."""
    for t in itertools.chain(model.parameters(), model.buffers()):
        if t.is_inference():
            raise ValueError(
                "the model's parameters or buffers were created under torch.inference_mode(), "
                "so no gradient can pass through them; build or load the model outside "
                "inference mode (torch.no_grad() is fine for that) to explain it with a "
                "gradient-based method (the perturbation methods, occlusion and rise, work)"
            )
    return model
