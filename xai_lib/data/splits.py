"""Fixed train/test splits of the bundled datasets."""

from __future__ import annotations

import torch

from .._core import check_choice, check_positive_int, seed_generator

SPLITS = ("all", "train", "test")


TEST_FRACTION = 0.25


SPLIT_SEED = 0


def train_test_split(
    n: int, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
):
    """A fixed random split of range(n) -> (train indices, test indices), both sorted LongTensors."""
    check_positive_int(n, "n")
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be a number in (0, 1), got {test_fraction!r}"
        )
    order = torch.randperm(n, generator=seed_generator(seed))
    n_test = max(1, round(n * test_fraction))
    return order[n_test:].sort().values, order[:n_test].sort().values


def _split_indices(n: int, split: str) -> torch.Tensor:
    check_choice(split, "split", SPLITS)
    if split == "all":
        return torch.arange(n)
    train, test = train_test_split(n)
    return train if split == "train" else test
