"""The book's models: architectures with a choosable activation sharpness, self-explaining
models, the training loop and the zoo of trained weights.

* :mod:`.architectures`: :class:`MLP`, :class:`CNN`, :class:`ResNet`, :class:`TextClassifier`;
* :mod:`.activations` (``xl.activations``): SoftplusBeta and ``smooth(model, beta)``;
* :mod:`.self_explaining` (``xl.self_explaining``): GAM and bag of local features;
* :mod:`.training`: :func:`fit` and :func:`accuracy`;
* :mod:`.counting`: :class:`PassCounter`, the model counting its forward and backward passes;
* :mod:`.zoo` (``xl.zoo``): trained weights that ship with the package.
"""

from . import activations, self_explaining, zoo
from .architectures import (
    ARCHITECTURES,
    CNN,
    MLP,
    BasicBlock,
    ResNet,
    TextClassifier,
    build,
)
from .counting import PassCounter
from .training import accuracy, fit

__all__ = [
    "ARCHITECTURES",
    "CNN",
    "MLP",
    "PassCounter",
    "BasicBlock",
    "ResNet",
    "TextClassifier",
    "accuracy",
    "activations",
    "build",
    "fit",
    "self_explaining",
    "zoo",
]
