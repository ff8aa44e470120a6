"""xai_lib: the attribution methods, smooth activations and spectral tools of the book.

Every method has one signature, ``xl.<method>(model, x, target=None, **options)``, returns a
detached tensor on x's device and dtype, and leaves the model as it found it. ``xl.METHODS``
maps each method's name to its function.
"""

from . import (
    activations,
    data,
    exercises,
    metrics,
    models,
    rules,
    self_explaining,
    shattered,
    spectral,
    text,
    widgets,
    zoo,
)
from ._core import METHODS
from .aggregation import aggregate
from .gradients import gradient_x_input, integrated_gradients, saliency, smoothgrad
from .lrp import lrp
from .perturbation import occlusion, rise, rise_masks
from .propagation import deconvnet, grad_cam, guided_backprop, guided_grad_cam
from .spectral_lens import spectral_lens

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "self_explaining",
    "activations",
    "aggregate",
    "exercises",
    "gradient_x_input",
    "integrated_gradients",
    "saliency",
    "smoothgrad",
    "widgets",
    "occlusion",
    "rise",
    "rise_masks",
    "deconvnet",
    "guided_backprop",
    "grad_cam",
    "guided_grad_cam",
    "lrp",
    "rules",
    "metrics",
    "shattered",
    "spectral",
    "text",
    "spectral_lens",
    "data",
    "models",
    "zoo",
]
