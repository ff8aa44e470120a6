"""Data that ships inside other packages, loaded offline: scikit-learn's 8x8 handwritten digits
and the natural photos bundled with scikit-image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch.nn import functional as F

from .._core import check_choice, check_positive_int
from .splits import _split_indices


class Photos(NamedTuple):
    images: torch.Tensor  # (N, 3, size, size) float32 in [0, 1]
    names: list  # N photo names


def digits(split: str = "all"):
    """scikit-learn's bundled 8x8 digits -> (images (N, 1, 8, 8) float32 in [0, 1], labels (N,)).

    ``split``: "all" (1797 images), or the fixed "train" / "test" part of :func:`train_test_split`.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images / 16.0).float()[
        :, None
    ]  # (N, 8, 8) -> (N, 1, 8, 8)
    labels = torch.from_numpy(bunch.target).long()
    index = _split_indices(len(labels), split)
    return images[index], labels[index]


# Photos whose files ship inside scikit-image's wheel (skimage/data/), so nothing is fetched.
PHOTO_NAMES = (
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "rocket",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
)


def photos(size: int = 224, names: Sequence[str] | None = None) -> Photos:
    """scikit-image's bundled photos, centre-cropped square and resized -> Photos(images, names).

    Grey photos are repeated over three channels, so all images are (3, size, size) in [0, 1].
    """
    from skimage import data as skdata

    check_positive_int(size, "size")
    names = list(PHOTO_NAMES if names is None else names)
    for name in names:
        check_choice(name, "photo name", PHOTO_NAMES)
    images = [
        _square(torch.from_numpy(getattr(skdata, name)()), size) for name in names
    ]
    return Photos(torch.stack(images), names)


def _square(picture: torch.Tensor, size: int) -> torch.Tensor:
    """A uint8 (H, W) or (H, W, C) picture -> (3, size, size) float32 in [0, 1]."""
    picture = picture.float() / 255
    picture = (
        picture[None] if picture.dim() == 2 else picture.permute(2, 0, 1)[:3]
    )  # (C, H, W)
    picture = picture.expand(3, -1, -1)
    side = min(picture.shape[1:])
    top, left = (picture.shape[1] - side) // 2, (picture.shape[2] - side) // 2
    crop = picture[:, top : top + side, left : left + side]
    resized = F.interpolate(
        crop[None],
        size=(size, size),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    )
    return resized[0].clamp(0, 1)
