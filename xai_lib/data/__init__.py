"""The book's data, all offline: synthetic shapes with true masks, digits, photos, sentences.

* :func:`shapes` (:mod:`.shapes`): a synthetic image dataset drawn from a seed, one object
  per image over a textured background, with the object's ground-truth mask;
* :func:`digits` and :func:`photos` (:mod:`.bundled`): scikit-learn's 8x8 digits and the
  photos that ship inside scikit-image (none is fetched);
* :func:`sentences` (:mod:`.text`): templated positive/negative sentences for token
  attributions; :func:`encode`, :func:`decode` and :func:`tokenize`.

Everything is deterministic: the same arguments give the same tensors. Fixed train/test
splits come from :func:`train_test_split`.
"""

from .bundled import PHOTO_NAMES, Photos, digits, photos
from .shapes import SHAPE_CLASSES, ShapesData, shapes
from .splits import SPLITS, train_test_split
from .text import (
    PAD,
    PAD_ID,
    UNK,
    UNK_ID,
    VOCABULARY,
    Sentences,
    decode,
    encode,
    sentences,
    tokenize,
)

__all__ = [
    "PAD",
    "PAD_ID",
    "PHOTO_NAMES",
    "SHAPE_CLASSES",
    "SPLITS",
    "UNK",
    "UNK_ID",
    "VOCABULARY",
    "Photos",
    "Sentences",
    "ShapesData",
    "decode",
    "digits",
    "encode",
    "photos",
    "sentences",
    "shapes",
    "tokenize",
    "train_test_split",
]
