"""The book's model families, each with a choosable activation sharpness ``beta``.

* :class:`MLP`: fully connected layers over flattened inputs (the digits model).
* :class:`CNN`: a VGG-like stack of conv - activation - max-pool stages and a two-layer
  classifier (Simonyan & Zisserman, 2015), small enough for 32 px images on a CPU.
* :class:`ResNet`: a small residual network (He et al., 2016) of :class:`BasicBlock` s whose
  BatchNorm and skip connections can each be switched off, for the ablations of the
  complexity-faithfulness trade-off (Mehrpanah et al., ICCV 2025).
* :class:`TextClassifier`: token embeddings - 1-D convolution - max over time - linear
  (Kim, 2014); its forward takes token ids or float embeddings, so attributions can be
  computed over (N, T, E) embeddings.

``beta=None`` or ``math.inf`` gives nn.ReLU, a finite beta gives SoftplusBeta(beta)
(:func:`xai_lib.activations.activation`). Every model is written for explanation methods:
one activation module per use site (never functional activations), pooling and flattening
as modules, so hooks, Grad-CAM layers and LRP rules can find every piece by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .._core import check_positive_int
from .activations import activation

# Image inputs live in [0, 1]: mean about 1/2, spread about 1/4.
INPUT_MEAN, INPUT_STD = 0.5, 0.25


def _initialize(model: nn.Module, standardize_input: bool = True) -> None:
    """He-normal weights and zero biases; the first layer as if its inputs were standardized.

    A softplus with small beta is nearly linear unless pre-activations are of order 1, and
    pixels in [0, 1] give small ones: such a network starts (and stays) near a linear model
    and never learns shapes. Scaling the first layer's weights by 1 / INPUT_STD and centring
    its bias on INPUT_MEAN starts every layer at unit scale whatever beta, as input
    normalization would, while the model still takes raw [0, 1] pixels.
    """
    layers = [
        m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))
    ]
    for layer in layers:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    if standardize_input:
        first = layers[0]
        with torch.no_grad():
            first.weight.div_(INPUT_STD)
            if first.bias is not None:
                first.bias.copy_(-INPUT_MEAN * first.weight.flatten(1).sum(1))


def _check_widths(widths, name: str) -> tuple:
    if isinstance(widths, int) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(
            f"{name} must be a non-empty sequence of positive ints, got {widths!r}"
        )
    return tuple(check_positive_int(w, name) for w in widths)


def _beta_of(beta) -> float:
    """The card value of a sharpness: math.inf for ReLU (None), else the float."""
    return math.inf if beta is None else float(beta)


class MLP(nn.Sequential):
    """Flatten - (Linear - activation) per hidden width - Linear, for (N, ...) inputs."""

    def __init__(
        self,
        in_features: int,
        classes: int,
        hidden: Sequence[int] = (64, 64),
        beta: float | None = None,
    ):
        check_positive_int(in_features, "in_features")
        check_positive_int(classes, "classes")
        widths = (in_features, *_check_widths(hidden, "hidden"))
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), activation(beta)]
        layers.append(nn.Linear(widths[-1], classes))
        super().__init__(*layers)
        self.beta = _beta_of(beta)
        _initialize(self)


class CNN(nn.Module):
    """VGG-like: (conv3x3 - activation - maxpool2) per stage, then Linear - activation - Linear.

    ``features`` holds the convolutional stages, ``classifier`` the head. The head sees an
    AdaptiveAvgPool2d(``grid``) of the last stage, so any input size works (at 32 px with three
    stages the pooling is the identity).
    """

    def __init__(
        self,
        in_channels: int = 3,
        classes: int = 6,
        channels: Sequence[int] = (16, 32, 64),
        hidden: int = 64,
        grid: int = 4,
        beta: float | None = None,
    ):
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(classes, "classes")
        check_positive_int(hidden, "hidden")
        check_positive_int(grid, "grid")
        widths = (in_channels, *_check_widths(channels, "channels"))
        stages: list[nn.Module] = []
        for width_in, width_out in zip(widths, widths[1:]):
            stages += [
                nn.Conv2d(width_in, width_out, 3, padding=1),
                activation(beta),
                nn.MaxPool2d(2),
            ]
        self.features = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[-1] * grid * grid, hidden),
            activation(beta),
            nn.Linear(hidden, classes),
        )
        self.beta = _beta_of(beta)
        _initialize(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def _norm(channels: int, bn: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if bn else nn.Identity()


class BasicBlock(nn.Module):
    """The residual block: act2(bn2(conv2(act1(bn1(conv1(x))))) + shortcut(x)).

    Attributes, for canonizers and rules that recognise the block by type:

    * ``conv1`` (3x3, ``stride``), ``bn1``, ``act1``, ``conv2`` (3x3), ``bn2``, ``act2``;
      ``bn1`` / ``bn2`` are nn.Identity when ``bn=False`` (the convolutions then carry biases);
    * ``shortcut``: nn.Identity when the shape is kept, else a 1x1 conv (+ BN) projection;
      None when ``skip=False``, where the block is a plain two-layer stack without the addition;
    * ``bn``, ``skip``: the two flags.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        bn: bool = True,
        skip: bool = True,
        beta: float | None = None,
    ):
        super().__init__()
        self.bn, self.skip = bool(bn), bool(skip)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=not bn
        )
        self.bn1 = _norm(out_channels, bn)
        self.act1 = activation(beta)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=not bn)
        self.bn2 = _norm(out_channels, bn)
        self.shortcut: nn.Module | None = None
        if skip and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=not bn),
                _norm(out_channels, bn),
            )
        elif skip:
            self.shortcut = nn.Identity()
        self.act2 = activation(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.act2(out)

    def extra_repr(self) -> str:
        return f"bn={self.bn}, skip={self.skip}"


class ResNet(nn.Module):
    """A small ResNet: stem (conv3x3 - BN - activation - maxpool2), one BasicBlock per stage
    (stride 2 from the second on), global average pool, Linear.

    ``bn=False`` replaces every BatchNorm with nn.Identity; ``skip=False`` removes every
    residual addition. At 32 px the stages run at 16, 8 and 4 pixels.
    """

    def __init__(
        self,
        in_channels: int = 3,
        classes: int = 6,
        channels: Sequence[int] = (16, 32, 64),
        bn: bool = True,
        skip: bool = True,
        beta: float | None = None,
    ):
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(classes, "classes")
        widths = _check_widths(channels, "channels")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=not bn),
            _norm(widths[0], bn),
            activation(beta),
            nn.MaxPool2d(2),
        )
        self.blocks = nn.Sequential(
            *(
                BasicBlock(
                    width_in,
                    width_out,
                    stride=1 if i == 0 else 2,
                    bn=bn,
                    skip=skip,
                    beta=beta,
                )
                for i, (width_in, width_out) in enumerate(
                    zip((widths[0], *widths), widths)
                )
            )
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[-1], classes)
        self.bn, self.skip, self.beta = bool(bn), bool(skip), _beta_of(beta)
        _initialize(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.blocks(self.stem(x)))))


class TextClassifier(nn.Module):
    """Embedding - Conv1d over time - activation - max over time - Linear.

    ``forward`` takes token ids (N, T) (long) or their embeddings (N, T, E) (float). To explain
    tokens, attribute over the embeddings and sum over E::

        embeddings = model.embed(tokens)                   # (N, T, E), a float tensor
        a = xl.integrated_gradients(model, embeddings)     # (N, T, E)
        per_token = a.sum(-1)                              # (N, T)

    The padding token embeds to zeros, so the zero baseline of Integrated Gradients is "all
    padding".
    """

    def __init__(
        self,
        vocab_size: int,
        classes: int = 2,
        embed_dim: int = 16,
        channels: int = 32,
        kernel: int = 3,
        padding_idx: int = 0,
        beta: float | None = None,
    ):
        super().__init__()
        for value, name in (
            (vocab_size, "vocab_size"),
            (classes, "classes"),
            (embed_dim, "embed_dim"),
            (channels, "channels"),
            (kernel, "kernel"),
        ):
            check_positive_int(value, name)
        if kernel % 2 == 0:
            raise ValueError(
                f"kernel must be odd so the output keeps the sentence length, got {kernel}"
            )
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.conv = nn.Conv1d(embed_dim, channels, kernel, padding=kernel // 2)
        self.act = activation(beta)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, classes)
        self.beta = _beta_of(beta)
        _initialize(self, standardize_input=False)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids (N, T) -> embeddings (N, T, E)."""
        if (
            not isinstance(tokens, torch.Tensor)
            or tokens.is_floating_point()
            or tokens.dim() != 2
        ):
            raise ValueError("tokens must be an integer tensor of shape (N, T)")
        return self.embedding(tokens)

    def classify(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Embeddings (N, T, E) -> logits (N, classes)."""
        if (
            embeddings.dim() != 3
            or embeddings.shape[-1] != self.embedding.embedding_dim
        ):
            raise ValueError(
                f"embeddings must have shape (N, T, {self.embedding.embedding_dim}), "
                f"got {tuple(embeddings.shape)}"
            )
        hidden = self.act(
            self.conv(embeddings.transpose(1, 2))
        )  # (N, T, E) -> (N, E, T) -> (N, C, T)
        return self.fc(
            self.flatten(self.pool(hidden))
        )  # (N, C, 1) -> (N, C) -> (N, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(x if x.is_floating_point() else self.embed(x))


#: architecture name (as written on zoo cards) -> model class
ARCHITECTURES = {"mlp": MLP, "cnn": CNN, "resnet": ResNet, "text": TextClassifier}


def build(architecture: str, **kwargs) -> nn.Module:
    """A fresh model of a named architecture (see :data:`ARCHITECTURES`) from keyword arguments."""
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}; known: {', '.join(sorted(ARCHITECTURES))}"
        )
    return ARCHITECTURES[architecture](**kwargs)
