"""xai_lib: the attribution methods, smooth activations and spectral tools of the book.

Every method has one signature, ``xl.<method>(model, x, target=None, **options)``, returns a
detached tensor on x's device and dtype, and leaves the model as it found it. ``xl.METHODS``
maps each method's name to its function.
"""

from . import activations
from ._core import METHODS
from .aggregation import aggregate
from .gradients import gradient_x_input, integrated_gradients, saliency, smoothgrad

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "activations",
    "aggregate",
    "gradient_x_input",
    "integrated_gradients",
    "saliency",
    "smoothgrad",
]
