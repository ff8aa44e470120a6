"""Self-explaining models: networks whose prediction is a sum of parts that can be read off.

* :class:`GAM`: a generalized additive model f_k(x) = b_k + sum_i g_ik(x_i) (Hastie and
  Tibshirani, 1990), each shape function g_i a one-hidden-layer ReLU network of its own
  feature only, as in Neural Additive Models (Agarwal et al., 2021). Its explanation
  R_i = g_i(x_i) is exact: the contributions add up to f(x) - b.
* :class:`BagOfLocalFeatures`: a BagNet-like image classifier (Brendel and Bethge, 2019). A
  trunk with a limited receptive field looks at every local window on its own, a 1x1 head
  gives each class some evidence per window, and the logits are the average evidence over
  windows. The evidence map is the explanation; the window size trades its sharpness against
  accuracy. :meth:`BagOfLocalFeatures.on_cnn` takes the trunk from the first layers of a
  trained :class:`xai_lib.models.CNN`, so that only the head is trained.
* :func:`receptive_field`: the input window (size, stride, offset) one output position of a
  stack of convolutions and poolings sees.

Both models follow Montavon's tutorial slides on self-explaining networks: restrict the
connectivity so that attribution becomes easy. ``explain`` returns the exact explanation of a
chosen output, detached, like every attribution method of the library.
"""

from __future__ import annotations

import copy
import math
from typing import NamedTuple

import torch
from torch import nn

from .._core import (
    check_image_batch,
    check_input,
    check_positive_int,
    check_target_range,
    predict,
    preserved,
    resolve_target,
)
from .activations import SoftplusBeta
from .architectures import CNN
from .training import fit

# --------------------------------------------------------------------------- the GAM


class GAM(nn.Module):
    """f_k(x) = bias_k + sum_i g_ik(x_i) for inputs (N, features) and ``classes`` outputs.

    Each feature has its own one-hidden-layer ReLU network with ``hidden`` units, so g_i is
    piecewise linear in x_i and never sees another feature. All D networks run at once as
    batched tensor products. Inputs should be standardized (mean 0, spread 1): the kinks of
    the shape functions start spread over [-2, 2].
    """

    def __init__(self, features: int, classes: int = 1, hidden: int = 16):
        super().__init__()
        check_positive_int(features, "features")
        check_positive_int(classes, "classes")
        check_positive_int(hidden, "hidden")
        # Each hidden unit is relu(a (x_i - c)): a random slope a and a kink c in [-2, 2].
        slopes = torch.randn(features, hidden)
        kinks = torch.empty(features, hidden).uniform_(-2, 2)
        self.weight1 = nn.Parameter(slopes)  # (D, H)
        self.bias1 = nn.Parameter(-slopes * kinks)  # (D, H)
        self.act = nn.ReLU()
        self.weight2 = nn.Parameter(
            torch.randn(features, hidden, classes) / math.sqrt(hidden * features)
        )  # (D, H, K)
        self.bias2 = nn.Parameter(
            torch.zeros(features, classes)
        )  # (D, K): each g_i's constant
        self.bias = nn.Parameter(torch.zeros(classes))  # (K,)
        self.features, self.classes, self.hidden = features, classes, hidden

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x)
        if x.dim() != 2 or x.shape[1] != self.features:
            raise ValueError(
                f"x must have shape (N, {self.features}), got {tuple(x.shape)}"
            )
        return x

    def contributions(self, x: torch.Tensor) -> torch.Tensor:
        """g_ik(x_i) for every sample, feature and class: (N, D) -> (N, D, K)."""
        self._check(x)
        hidden = self.act(
            x[:, :, None] * self.weight1 + self.bias1
        )  # (N, D, 1) * (D, H) -> (N, D, H)
        return (
            torch.einsum("ndh,dhk->ndk", hidden, self.weight2) + self.bias2
        )  # (N, D, K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.contributions(x).sum(dim=1) + self.bias  # (N, D, K) -> (N, K)

    def explain(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """The exact explanation of output ``target`` (None: the predicted class): R_i = g_i(x_i),
        shaped like x (N, D), detached; it sums to f_target(x) - bias_target."""
        self._check(x)
        with preserved(self), torch.no_grad():
            t = resolve_target(self, x, target)
            parts = self.contributions(x)  # (N, D, K)
            check_target_range(t, parts.shape[2])
            return parts.gather(2, t[:, None, None].expand(-1, self.features, 1))[
                :, :, 0
            ]  # (N, D)

    def shape_functions(self, values: torch.Tensor) -> torch.Tensor:
        """g_ik on a grid: ``values`` (M,) is fed to every feature at once -> (M, D, K), detached."""
        if (
            not isinstance(values, torch.Tensor)
            or values.dim() != 1
            or not values.is_floating_point()
        ):
            raise ValueError(
                "values must be a 1-D floating-point tensor (the grid to draw the shape functions on)"
            )
        with torch.no_grad():
            return self.contributions(
                values[:, None].expand(-1, self.features).to(self.bias.dtype)
            )

    @torch.no_grad()
    def center_(self, x: torch.Tensor) -> GAM:
        """Make every shape function average zero over the data ``x`` (N, D), moving each constant
        into the bias; the outputs do not change. Then R_i = g_i(x_i) says how feature i moves
        the output away from its average over the data. Returns the model."""
        means = self.contributions(x).mean(dim=0)  # (D, K)
        self.bias2.sub_(means)
        self.bias.add_(means.sum(dim=0))
        return self


# --------------------------------------------------------------------------- bag of local features


class Window(NamedTuple):
    """Where the input window of output position i lies: pixels [i * stride - offset, ... + size)."""

    size: int  # side of the window, in input pixels
    stride: int  # input pixels between the windows of neighbouring positions
    offset: (
        int  # how far window 0 starts before the image (the padding, in input pixels)
    )


# Layers that act on each position alone: they leave the window as it is.
POINTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Softplus,
    nn.Sigmoid,
    nn.Tanh,
    nn.GELU,
    SoftplusBeta,
    nn.Identity,
    nn.BatchNorm2d,
    nn.Dropout,
)
WINDOWED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _side(value, name: str, layer: nn.Module) -> int:
    """One number from an int or a square pair; ValueError for rectangular settings."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if pair[0] != pair[1]:
        raise ValueError(
            f"receptive_field handles square kernels only; {layer} has {name} {pair}"
        )
    return int(pair[0])


def _layers(module: nn.Module) -> list:
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _layers(child)]
    return [module]


def receptive_field(trunk: nn.Module) -> Window:
    """The input window each output position of ``trunk`` sees, as a :class:`Window`.

    ``trunk`` is a layer or an nn.Sequential of Conv2d, MaxPool2d, AvgPool2d and pointwise
    layers (activations, BatchNorm, Identity). Each windowed layer with kernel k (dilated: d (k - 1)
    + 1), stride s and padding p widens the window by (k - 1) steps of the layers below it and
    moves its start by p steps: size = 1 + sum_l (k_l - 1) J_l, offset = sum_l p_l J_l, with
    J_l = prod_{m < l} s_m the stride of the layers below l.
    """
    size, jump, offset = 1, 1, 0
    for layer in _layers(trunk):
        if isinstance(layer, POINTWISE):
            continue
        if not isinstance(layer, WINDOWED):
            raise ValueError(
                f"receptive_field cannot follow a {type(layer).__name__}: the trunk may hold only "
                f"Conv2d, MaxPool2d, AvgPool2d and pointwise layers"
            )
        kernel = _side(layer.kernel_size, "kernel_size", layer)
        dilation = _side(getattr(layer, "dilation", 1), "dilation", layer)
        stride = _side(layer.stride, "stride", layer)
        padding = layer.padding
        if isinstance(padding, str):
            raise ValueError(
                f"receptive_field needs numeric padding, got {padding!r} in {layer}"
            )
        size += dilation * (kernel - 1) * jump
        offset += _side(padding, "padding", layer) * jump
        jump *= stride
    return Window(size, jump, offset)


def _coverage(
    positions: int, pixels: int, window: Window, like: torch.Tensor
) -> torch.Tensor:
    """(positions, pixels): row i spreads one unit evenly over the pixels window i covers in the image."""
    start = (
        torch.arange(positions, device=like.device)[:, None] * window.stride
        - window.offset
    )  # (P, 1)
    pixel = torch.arange(pixels, device=like.device)[None, :]  # (1, Q)
    inside = ((pixel >= start) & (pixel < start + window.size)).to(like.dtype)  # (P, Q)
    return inside / inside.sum(dim=1, keepdim=True).clamp_min(1)


class BagOfLocalFeatures(nn.Module):
    """A BagNet-like classifier: class evidence for every local window, averaged over windows.

    ``trunk``: layers with a limited receptive field (see :func:`receptive_field`) mapping images
    (N, C, H, W) to features (N, ``channels``, h, w); ``head``: 1x1 convolutions turning each
    position's features into one evidence value per class, so position (a, b) of the evidence
    map depends on the input window (a, b) only. The logits are the mean of the evidence map
    over its h x w positions. :meth:`on_cnn` builds one on the first stages of a trained
    :class:`xai_lib.models.CNN`.
    """

    def __init__(self, trunk: nn.Module, channels: int, classes: int, hidden: int = 64):
        super().__init__()
        if not isinstance(trunk, nn.Module):
            raise ValueError(
                f"trunk must be a torch.nn.Module, got {type(trunk).__name__}"
            )
        check_positive_int(channels, "channels")
        check_positive_int(classes, "classes")
        check_positive_int(hidden, "hidden")
        self.window = receptive_field(trunk)
        self.trunk = trunk
        self.head = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, classes, 1)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classes = classes

    @classmethod
    def on_cnn(cls, cnn: CNN, layers: int, hidden: int = 64) -> BagOfLocalFeatures:
        """A bag of local features whose trunk is a frozen copy of the first ``layers`` modules of
        a trained :class:`xai_lib.models.CNN`'s ``features`` (conv, activation, pool per stage);
        the CNN itself is left as it is. More layers: larger windows. For the book's three-stage
        CNN, 5 layers see 8 pixels, 8 layers 18 and all 9 layers 22."""
        if not isinstance(cnn, CNN):
            raise ValueError(
                f"cnn must be an xai_lib.models.CNN, got {type(cnn).__name__}"
            )
        if (
            isinstance(layers, bool)
            or not isinstance(layers, int)
            or not 1 <= layers <= len(cnn.features)
        ):
            raise ValueError(
                f"layers must be an integer from 1 to {len(cnn.features)}, got {layers!r}"
            )
        trunk = copy.deepcopy(cnn.features[:layers]).requires_grad_(False)
        channels = [m for m in trunk if isinstance(m, nn.Conv2d)][-1].out_channels
        head = cnn.classifier[-1]
        # a CNN's classifier ends with its output Linear
        assert isinstance(head, nn.Linear)
        classes = head.out_features
        return cls(trunk, channels, classes, hidden).to(next(cnn.parameters()).dtype)

    def evidence(self, x: torch.Tensor) -> torch.Tensor:
        """Each window's evidence for each class: (N, C, H, W) -> (N, K, h, w)."""
        return self.head(self.trunk(check_image_batch(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(
            self.pool(self.evidence(x))
        )  # (N, K, h, w) -> (N, K, 1, 1) -> (N, K)

    def explain(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """Pixel relevance (N, 1, H, W) for output ``target`` (None: the predicted class), detached.

        Each window's evidence is spread evenly over the pixels of its window that lie in the
        image, and divided by the number of windows: the map sums to the logit, and a pixel's
        relevance is the evidence of the windows that contain it.
        """
        check_image_batch(x)
        with preserved(self), torch.no_grad():
            t = resolve_target(self, x, target)
            maps = self.evidence(x)  # (N, K, h, w)
            check_target_range(t, maps.shape[1])
            h, w = maps.shape[-2:]
            chosen = maps.gather(1, t[:, None, None, None].expand(-1, 1, h, w))[
                :, 0
            ]  # (N, h, w)
            rows = _coverage(h, x.shape[-2], self.window, maps)  # (h, H)
            cols = _coverage(w, x.shape[-1], self.window, maps)  # (w, W)
            pixels = torch.einsum("nab,ai,bj->nij", chosen, rows, cols) / (
                h * w
            )  # (N, H, W)
            return pixels[:, None].to(x.dtype)

    def fit(
        self, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 256, **options
    ) -> list:
        """Train the head on (x, y) with :func:`xai_lib.models.fit` (``options``: epochs, lr, ...);
        the trunk is left as it is. Its features are computed once, in chunks of ``batch_size``
        images, so each epoch only runs the head. Returns the mean loss per epoch."""
        check_image_batch(x)
        check_positive_int(batch_size, "batch_size")
        self.trunk.eval()
        features = predict(self.trunk, x, batch_size)  # (N, channels, h, w)
        losses = fit(
            nn.Sequential(self.head, self.pool, self.flatten), features, y, **options
        )
        self.eval()
        return losses
