"""The book's data, all offline: synthetic shapes with true masks, digits, photos, sentences.

* :func:`shapes`: a synthetic image dataset drawn from a seed. One object per image (circle,
  square, triangle, cross, ring or diamond) at a random position, size, rotation and colour
  over a textured, noisy background, with the object's ground-truth mask, so an explanation
  can be checked against where the evidence really is.
* :func:`digits`: scikit-learn's bundled 8x8 handwritten digits.
* :func:`photos`: natural photos that ship inside scikit-image (none is fetched).
* :func:`sentences`: templated positive/negative sentences ("I am really happy", "this movie
  was not good") over a fixed vocabulary, for token attributions; :func:`encode`,
  :func:`decode` and :func:`tokenize` move between text and token ids.

Everything is deterministic: the same arguments give the same tensors. Fixed train/test splits
come from :func:`train_test_split`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch.nn import functional as F

from ._core import check_choice, check_positive_int, chunks

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring", "diamond")
SPLITS = ("all", "train", "test")
TEST_FRACTION = 0.25
SPLIT_SEED = 0

# Each pixel is rendered from SUPERSAMPLE x SUPERSAMPLE sub-pixels, so edges are anti-aliased
# and the mask (any sub-pixel covered) contains every pixel the object touches.
SUPERSAMPLE = 4
# Object radius as a fraction of the image side: large enough to read at 32 px.
RADIUS_RANGE = (0.17, 0.32)
# The object's brightness differs from the background's mean by at least this much.
MIN_CONTRAST = 0.25
RENDER_CHUNK = 256


class ShapesData(NamedTuple):
    images: torch.Tensor  # (N, 3, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (N,) long, index into SHAPE_CLASSES
    masks: torch.Tensor  # (N, 1, H, W) bool, True where the object covers the pixel


class Sentences(NamedTuple):
    texts: list  # N strings
    tokens: torch.Tensor  # (N, T) long, padded with PAD_ID
    labels: torch.Tensor  # (N,) long: 0 negative, 1 positive


class Photos(NamedTuple):
    images: torch.Tensor  # (N, 3, size, size) float32 in [0, 1]
    names: list  # N photo names


# --------------------------------------------------------------------------- splits


def train_test_split(
    n: int, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
):
    """A fixed random split of range(n) -> (train indices, test indices), both sorted LongTensors."""
    check_positive_int(n, "n")
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be a number in (0, 1), got {test_fraction!r}"
        )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(1, round(n * test_fraction))
    return order[n_test:].sort().values, order[:n_test].sort().values


def _split_indices(n: int, split: str) -> torch.Tensor:
    check_choice(split, "split", SPLITS)
    if split == "all":
        return torch.arange(n)
    train, test = train_test_split(n)
    return train if split == "train" else test


# --------------------------------------------------------------------------- shapes


def shapes(n: int, size: int = 32, seed: int = 0, *, return_background: bool = False):
    """``n`` images of one shape each over a textured background -> ShapesData(images, labels, masks).

    Classes are balanced (each appears n // 6 or n // 6 + 1 times, shuffled). With
    ``return_background=True`` a fourth tensor holds the same images without their object
    (identical outside the mask): the counterfactual "nothing there" input, a natural
    baseline for Integrated Gradients.
    """
    check_positive_int(n, "n")
    check_positive_int(size, "size")
    if size < 16:
        raise ValueError(
            f"size must be at least 16 pixels for the shapes to be recognisable, got {size}"
        )
    g = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % len(SHAPE_CLASSES))[torch.randperm(n, generator=g)]
    geometry = _random_geometry(labels, size, g)
    background = _backgrounds(n, size, g)  # (N, 3, H, W)
    colours = _object_colours(background, g)  # (N, 3, 1, 1)
    noise = torch.randn(n, 3, size, size, generator=g)
    noise *= torch.empty(n, 1, 1, 1).uniform_(
        0.02, 0.06, generator=g
    )  # a noise level per image
    coverage = torch.cat(
        [
            _coverage(labels[part], *(p[part] for p in geometry), size)
            for part in chunks(n, RENDER_CHUNK, 1)
        ]
    )  # (N, 1, H, W) in [0, 1]
    images = (background * (1 - coverage) + colours * coverage + noise).clamp(0, 1)
    data = ShapesData(images, labels, coverage > 0)
    if return_background:
        return (*data, (background + noise).clamp(0, 1))
    return data


def _random_geometry(labels: torch.Tensor, size: int, g: torch.Generator):
    """Radius, centre and rotation per sample, in pixels and radians."""
    n = labels.numel()
    radius = torch.empty(n).uniform_(*RADIUS_RANGE, generator=g) * size
    margin = radius + 1
    cx = margin + torch.rand(n, generator=g) * (size - 2 * margin)
    cy = margin + torch.rand(n, generator=g) * (size - 2 * margin)
    # Squares and diamonds only tilt a little, so the two stay distinct classes; the
    # triangle and the cross may turn freely.
    tilt = (torch.rand(n, generator=g) - 0.5) * math.radians(24)
    free = torch.rand(n, generator=g) * 2 * math.pi
    turns_freely = (labels == SHAPE_CLASSES.index("triangle")) | (
        labels == SHAPE_CLASSES.index("cross")
    )
    rotation = torch.where(turns_freely, free, tilt)
    return radius, cx, cy, rotation


def _coverage(labels, radius, cx, cy, rotation, size: int) -> torch.Tensor:
    """The fraction of each pixel the object covers, (n, 1, H, W), from supersampled indicators."""
    fine = (
        torch.arange(size * SUPERSAMPLE) + 0.5
    ) / SUPERSAMPLE  # sub-pixel centres, in pixels
    dx = fine[None, None, :] - cx[:, None, None]  # (n, 1, S)
    dy = fine[None, :, None] - cy[:, None, None]  # (n, S, 1)
    cos, sin = rotation.cos()[:, None, None], rotation.sin()[:, None, None]
    r = radius[:, None, None]
    u = (
        cos * dx + sin * dy
    ) / r  # (n, S, S): object coordinates, the unit circle circumscribes it
    v = (-sin * dx + cos * dy) / r
    inside = torch.zeros_like(u, dtype=torch.bool)
    for k, name in enumerate(SHAPE_CLASSES):
        rows = labels == k
        if rows.any():
            inside[rows] = _INDICATORS[name](u[rows], v[rows])
    return F.avg_pool2d(
        inside[:, None].float(), SUPERSAMPLE
    )  # (n, 1, S, S) -> (n, 1, H, W)


def _triangle(u, v):
    # An equilateral triangle inscribed in the unit circle: three half-planes at inradius 1/2.
    inside = torch.ones_like(u, dtype=torch.bool)
    for angle in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6):
        inside &= u * math.cos(angle) + v * math.sin(angle) <= 0.5
    return inside


_INDICATORS = {
    "circle": lambda u, v: u**2 + v**2 <= 1,
    "square": lambda u, v: torch.maximum(u.abs(), v.abs()) <= 0.8,
    "triangle": _triangle,
    "cross": lambda u, v: (
        ((u.abs() <= 0.3) & (v.abs() <= 1)) | ((v.abs() <= 0.3) & (u.abs() <= 1))
    ),
    "ring": lambda u, v: (u**2 + v**2 <= 1) & (u**2 + v**2 >= 0.55**2),
    "diamond": lambda u, v: u.abs() + v.abs() <= 1.05,
}


def _backgrounds(n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """A colour gradient + a grating + smooth blotches, (n, 3, H, W)."""
    coords = torch.arange(size) / (size - 1)
    y, x = coords[:, None], coords[None, :]  # (H, 1), (1, W)
    low = torch.empty(n, 3, 1, 1).uniform_(0.15, 0.85, generator=g)
    high = torch.empty(n, 3, 1, 1).uniform_(0.15, 0.85, generator=g)
    direction = torch.rand(n, 1, 1, 1, generator=g) * 2 * math.pi
    ramp = x * direction.cos() + y * direction.sin()  # (n, 1, H, W)
    ramp = (ramp - ramp.amin((2, 3), keepdim=True)) / (
        ramp.amax((2, 3), keepdim=True) - ramp.amin((2, 3), keepdim=True)
    )
    gradient = low + (high - low) * ramp
    cycles = torch.empty(n, 1, 1, 1).uniform_(1.5, 5.0, generator=g)
    orientation = torch.rand(n, 1, 1, 1, generator=g) * math.pi
    phase = torch.rand(n, 1, 1, 1, generator=g) * 2 * math.pi
    amplitude = torch.empty(n, 1, 1, 1).uniform_(0.03, 0.10, generator=g)
    grating = amplitude * torch.sin(
        2 * math.pi * cycles * (x * orientation.cos() + y * orientation.sin()) + phase
    )
    blotches = F.interpolate(
        torch.randn(n, 3, 4, 4, generator=g) * 0.06,
        size=(size, size),
        mode="bicubic",
        align_corners=False,
    )
    return (gradient + grating + blotches).clamp(0, 1)


def _object_colours(background: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A random colour per object, brighter than a dark background or darker than a bright one."""
    n = background.shape[0]
    brightness = background.mean((1, 2, 3))[:, None, None, None]  # (n, 1, 1, 1)
    dark = brightness > 0.5
    low = torch.where(dark, torch.zeros_like(brightness), brightness + MIN_CONTRAST)
    high = torch.where(dark, brightness - MIN_CONTRAST, torch.ones_like(brightness))
    return low + (high - low) * torch.rand(n, 3, 1, 1, generator=g)


# --------------------------------------------------------------------------- digits and photos


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


# --------------------------------------------------------------------------- sentences

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_PEOPLE = (("i", ("am", "feel", "was")), ("we", ("are", "feel", "were")))
_FEELINGS = {
    1: ("happy", "glad", "delighted", "excited", "cheerful"),
    0: ("sad", "angry", "upset", "unhappy", "miserable"),
}
_THINGS = (
    ("this movie", ("is", "was")),
    ("the food", ("is", "was")),
    ("the service", ("is", "was")),
    ("my day", ("is", "was")),
    ("the weather", ("is", "was")),
    ("this book", ("is", "was")),
    ("the hotel", ("is", "was")),
)
_QUALITIES = {
    1: (
        "good",
        "great",
        "wonderful",
        "excellent",
        "lovely",
        "amazing",
        "nice",
        "fantastic",
        "pleasant",
    ),
    0: (
        "bad",
        "terrible",
        "awful",
        "horrible",
        "boring",
        "poor",
        "disappointing",
        "dreadful",
        "ugly",
    ),
}
_INTENSIFIERS = ("", "really", "very", "quite", "so", "extremely", "truly")
# A negation flips the sentiment: "this movie was not good" is negative, "i am not sad" positive.
_NEGATIONS = ("", "not", "never")


def _templated():
    """Every sentence of the grammar, in a fixed order, with its label."""
    for groups, adjectives in ((_PEOPLE, _FEELINGS), (_THINGS, _QUALITIES)):
        for (subject, verbs), negation, intensifier, sentiment in itertools.product(
            groups, _NEGATIONS, _INTENSIFIERS, (1, 0)
        ):
            for verb, adjective in itertools.product(verbs, adjectives[sentiment]):
                words = (subject, verb, negation, intensifier, adjective)
                yield " ".join(w for w in words if w), sentiment ^ bool(negation)


def _vocabulary() -> tuple:
    words = {w for text, _ in _templated() for w in tokenize(text)}
    return (PAD, UNK, *sorted(words))


def tokenize(text: str) -> list:
    """Lower-case words split on whitespace."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    return text.lower().split()


#: Every word of the sentence grammar, with "<pad>" at 0 and "<unk>" at 1.
VOCABULARY = _vocabulary()
_WORD_ID = {w: i for i, w in enumerate(VOCABULARY)}


def encode(texts: Sequence[str], length: int | None = None) -> torch.Tensor:
    """Strings -> token ids (N, length), padded with PAD_ID; unknown words get UNK_ID.

    ``length=None``: the longest text's number of tokens. Longer texts are cut at ``length``.
    """
    if isinstance(texts, str):
        raise ValueError(
            "texts must be a sequence of strings, not one string (wrap it in a list)"
        )
    words = [tokenize(t) for t in texts]
    if not words:
        raise ValueError("texts is empty")
    length = (
        max(map(len, words)) if length is None else check_positive_int(length, "length")
    )
    tokens = torch.full((len(words), length), PAD_ID, dtype=torch.long)
    for row, sentence in enumerate(words):
        ids = [_WORD_ID.get(w, UNK_ID) for w in sentence[:length]]
        tokens[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return tokens


def decode(tokens: torch.Tensor) -> list:
    """Token ids (N, T) -> N lists of words, padding dropped."""
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.dim() != 2
        or tokens.is_floating_point()
    ):
        raise ValueError("tokens must be an integer tensor of shape (N, T)")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= len(VOCABULARY)):
        raise ValueError(f"token ids must lie in [0, {len(VOCABULARY)})")
    return [[VOCABULARY[i] for i in row if i != PAD_ID] for row in tokens.tolist()]


def sentences(split: str = "all") -> Sentences:
    """The templated sentiment sentences -> Sentences(texts, tokens (N, T), labels (N,)).

    "all" holds every sentence of the grammar (labels balanced); "train" / "test" are the fixed
    split of :func:`train_test_split`. Tokens are padded to the longest sentence, so all
    splits share one length.
    """
    everything = list(_templated())
    index = _split_indices(len(everything), split)
    texts = [everything[i][0] for i in index.tolist()]
    labels = torch.tensor([everything[i][1] for i in index.tolist()], dtype=torch.long)
    length = max(len(tokenize(t)) for t, _ in everything)
    return Sentences(texts, encode(texts, length), labels)
