"""xai_lib: the attribution methods, smooth activations and spectral tools of the book.

Every method has one signature, ``xl.<method>(model, x, target=None, **options)``, returns
a detached tensor on x's device and dtype, and leaves the model as it found it.
``xl.METHODS`` maps each method's name to its function.

The package is layered; imports point one way, down this list (``tests/test_layers.py``):

* ``_core``: validation, targets, batching, the state guard and the method registry;
* ``methods`` (gradients, perturbation, propagation, spectral lens, text) and ``relevance``
  (LRP): attribution methods, which import only the core;
* ``models`` and ``data``: architectures, activations, training, the zoo; bundled datasets;
* ``analysis``: spectral tools, shattered gradients, metrics, statistics (may call methods);
* ``viz``, ``widgets``, ``exercises``: pictures, explorers and checkers, on top, loaded on
  first use; ``booktools`` (the book's Sphinx extension, the student edition) is for the
  book build and the course only.

The public namespaces keep short names: ``xl.spectral``, ``xl.metrics``, ``xl.rules``,
``xl.zoo``, ... (also importable as ``xai_lib.spectral`` and so on).
"""

import importlib
import sys

from . import data, models
from ._core import (
    METHODS,
    DegenerateMapWarning,
    TrainingModeWarning,
    pick_output,
    predict,
)
from .analysis import metrics, shattered, spectral, stats
from .methods import (
    aggregate,
    attribute_dataset,
    baselines,
    deconvnet,
    grad_cam,
    gradient_x_input,
    guided_backprop,
    guided_grad_cam,
    integrated_gradients,
    occlusion,
    path_nodes,
    rise,
    rise_masks,
    saliency,
    smoothgrad,
    spectral_lens,
    text,
)
from .models import activations, self_explaining, zoo
from .relevance import canonize, lrp, rules

__version__ = "0.1.0"

# Public namespaces that live in a layer's subpackage, importable under their short name too
# (``import xai_lib.spectral``, ``from xai_lib.metrics import deletion``).
_NAMESPACES = {
    "activations": activations,
    "baselines": baselines,
    "canonize": canonize,
    "metrics": metrics,
    "rules": rules,
    "self_explaining": self_explaining,
    "shattered": shattered,
    "spectral": spectral,
    "stats": stats,
    "text": text,
    "zoo": zoo,
}
for _name, _module in _NAMESPACES.items():
    sys.modules.setdefault(f"{__name__}.{_name}", _module)

# Presentation and book modules, imported on first use (matplotlib, ipywidgets, nbformat).
_LAZY = ("viz", "widgets", "exercises")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    # the public names (tab completion), not the helpers this module imports
    return sorted([*__all__, "__version__"])


__all__ = [
    "DegenerateMapWarning",
    "METHODS",
    "TrainingModeWarning",
    "activations",
    "aggregate",
    "attribute_dataset",
    "baselines",
    "canonize",
    "data",
    "deconvnet",
    "exercises",
    "grad_cam",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "integrated_gradients",
    "lrp",
    "metrics",
    "models",
    "occlusion",
    "path_nodes",
    "pick_output",
    "predict",
    "rise",
    "rise_masks",
    "rules",
    "saliency",
    "self_explaining",
    "shattered",
    "smoothgrad",
    "spectral",
    "spectral_lens",
    "stats",
    "text",
    "viz",
    "widgets",
    "zoo",
]
