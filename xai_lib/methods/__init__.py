"""The attribution methods: one signature, ``method(model, x, target=None, **options)``.

* :mod:`.gradients`: saliency, Gradient x Input, Integrated Gradients, SmoothGrad;
* :mod:`.perturbation`: occlusion and RISE;
* :mod:`.propagation`: Deconvnet, Guided Backprop, Grad-CAM, Guided Grad-CAM;
* :mod:`.spectral_lens`: SmoothGrad aggregated over noise scales;
* :mod:`.dataset`: ``attribute_dataset``, any method over a DataLoader, batch by batch;
* :mod:`.text`: token attributions of text models;
* :mod:`.baselines` and :mod:`.aggregation`: what the methods compare x with, and how
  channel attributions become one map per image.

Methods return tensors and import nothing but the core (:mod:`xai_lib._core`); LRP has its
own subpackage, :mod:`xai_lib.relevance`.
"""

from .aggregation import AGGREGATIONS, aggregate
from .baselines import baseline_like, blur
from .dataset import attribute_dataset
from .gradients import (
    gradient_x_input,
    integrated_gradients,
    path_nodes,
    saliency,
    smoothgrad,
)
from .perturbation import occlusion, rise, rise_masks
from .propagation import deconvnet, grad_cam, guided_backprop, guided_grad_cam
from .spectral_lens import spectral_lens

__all__ = [
    "AGGREGATIONS",
    "aggregate",
    "attribute_dataset",
    "baseline_like",
    "blur",
    "deconvnet",
    "grad_cam",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "integrated_gradients",
    "occlusion",
    "path_nodes",
    "rise",
    "rise_masks",
    "saliency",
    "smoothgrad",
    "spectral_lens",
]
