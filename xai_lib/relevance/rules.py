"""LRP propagation rules, and the per-depth recipe of the LRP tutorial.

A rule says how one linear layer z_k = sum_j a_j w_jk + b_k (a Linear or Conv layer, or a
BatchNorm, after canonization) hands the relevance R_k of its outputs to its inputs j. Every
rule here is a redistribution of *contributions* c_jk (Montavon et al., 2019, "Layer-wise
relevance propagation: an overview"):

    R_j = sum_k c_jk / (sum_j' c_j'k + stabilizer) * R_k

and is computed without ever forming c_jk, with the "gradient trick" of the tutorial: when
c_jk = a'_j w'_jk for some modified input a' and weights w', then z'_k = sum_j c_jk (+ b'_k) is
one forward pass and sum_k c_jk s_k = a'_j (W'^T s)_j one vector-Jacobian product.

* ``Zero()``: LRP-0, c = a w. Equals Gradient x Input on ReLU networks.
* ``Epsilon(eps)``: c = a w over the denominator z + eps * sign(z), sign(0) = +1 (Bach et al.,
  2015); a larger eps absorbs weak, contradictory evidence.
* ``Gamma(gamma)``: c = a (w + gamma w+), bias b + gamma b+ (Montavon et al., 2019); meant for
  layers whose inputs are non-negative (after a ReLU).
* ``ZPlus()``: c = (a w)+, the positive contributions only (Montavon et al., 2017).
* ``AlphaBeta(alpha, beta)``: alpha * (positive contributions) - beta * (negative ones), each
  part over its own sum, alpha - beta = 1 (Bach et al., 2015); ZPlus is AlphaBeta(1, 0).
* ``ZBox(low, high)``: the zB rule for inputs known to lie in [low, high] (pixels):
  c = a w - low w+ - high w- (Montavon et al., 2017).
* ``Flat()``: c = 1 for every connection, relevance spread evenly over the receptive field
  (Lapuschkin et al., 2019).

Biases take part in the denominator as written (they absorb their share of relevance), except
in ZBox, where they cancel. Gamma, ZPlus, AlphaBeta, ZBox and Flat guard their denominators with
:data:`STABILIZER`, as zennit does; Zero divides exactly and passes no relevance through an
output that is exactly zero.

Writing a rule: subclass :class:`Rule` and implement ``relevance(layer, relevance)``. ``layer`` is
one call of a linear layer, as ``xl.lrp`` hands it over:

* ``layer.x``: the input a (detached); ``layer.weight``, ``layer.bias``: the parameters, with a
  folded BatchNorm already merged in (``bias`` may be None);
* ``layer.own()``: the :class:`Contribution` of a through the layer's own weights, reusing the
  forward pass;
* ``layer.contribution(a, weight, bias)``: the same layer run on another input and parameters.

:func:`layered` builds the tutorial's per-depth composite (zB first, gamma lower, epsilon middle,
LRP-0 top) as a ``{module name: rule}`` dict for ``xl.lrp(..., rules=...)``.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .._core import check_model, check_nonnegative

#: The denominators' guard of every rule but Zero and Epsilon: z + STABILIZER * sign(z).
STABILIZER = 1e-6

#: The layers rules apply to (BatchNorm too, where it is not folded into one of these).
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def stabilize(z: torch.Tensor, eps: float) -> torch.Tensor:
    """z + eps * sign(z), where sign(0) = +1, so the result is never closer to 0 than eps."""
    sign = (z >= 0).to(
        z.dtype
    ) * 2 - 1  # in z's dtype: python-scalar branches of torch.where would round eps
    return z + eps * sign


def ratio(relevance: torch.Tensor, z: torch.Tensor, eps: float) -> torch.Tensor:
    """relevance / stabilize(z, eps); with eps = 0, exact division and 0 where z is 0."""
    if eps == 0:
        return torch.where(z == 0, torch.zeros_like(relevance), relevance / z)
    return relevance / stabilize(z, eps)


class Contribution:
    """The contributions c_jk of some input through some weights to a linear layer's outputs.

    ``z``: sum_j c_jk (plus the bias, if any) for every output k.
    ``share(s)``: sum_k c_jk s_k for every input j (one vector-Jacobian product).
    Contributions add and subtract term by term.
    """

    def __init__(
        self, z: torch.Tensor, share: Callable[[torch.Tensor], torch.Tensor]
    ) -> None:
        self.z, self.share = z, share

    def __add__(self, other: Contribution) -> Contribution:
        return Contribution(self.z + other.z, lambda s: self.share(s) + other.share(s))

    def __sub__(self, other: Contribution) -> Contribution:
        return Contribution(self.z - other.z, lambda s: self.share(s) - other.share(s))

    def redistribute(self, relevance: torch.Tensor, eps: float) -> torch.Tensor:
        """R_j = sum_k c_jk / stabilize(z_k, eps) * R_k."""
        return self.share(ratio(relevance, self.z, eps))


class Rule:
    """How a linear layer hands the relevance of its outputs to its inputs (see the module doc)."""

    def relevance(self, layer, relevance: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({options})"


class Epsilon(Rule):
    """LRP-epsilon: c = a w over z + eps * sign(z); larger eps absorbs weak, contradictory evidence."""

    def __init__(self, eps: float = 1e-6) -> None:
        self.eps = check_nonnegative(eps, "eps")

    def relevance(self, layer, relevance):
        return layer.own().redistribute(relevance, self.eps)


class Zero(Epsilon):
    """LRP-0: c = a w, exact division. On a ReLU network it is Gradient x Input."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def __repr__(self) -> str:
        return "Zero()"


class Gamma(Rule):
    """LRP-gamma: weights w + gamma * max(w, 0), bias b + gamma * max(b, 0); favours positive evidence."""

    def __init__(self, gamma: float = 0.25) -> None:
        self.gamma = check_nonnegative(gamma, "gamma")

    def relevance(self, layer, relevance):
        weight, bias = layer.weight, layer.bias
        boosted = layer.contribution(
            layer.x,
            weight + self.gamma * weight.clamp(min=0),
            None if bias is None else bias + self.gamma * bias.clamp(min=0),
        )
        return boosted.redistribute(relevance, STABILIZER)


def _positive_part(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.clamp(min=0)


def _negative_part(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.clamp(max=0)


def _signed(layer, positive: bool) -> Contribution:
    """The contributions a_j w_jk that are positive (or negative), with the bias's part of that sign.

    A product is positive when a and w share a sign: a+ through w+ plus a- through w-. Inputs after a
    ReLU have no negative part, which saves the second pass.
    """
    x, weight, bias = layer.x, layer.weight, layer.bias
    same, opposite = (
        (_positive_part, _negative_part)
        if positive
        else (_negative_part, _positive_part)
    )
    part = layer.contribution(x.clamp(min=0), same(weight), same(bias))
    if (x < 0).any():
        part = part + layer.contribution(x.clamp(max=0), opposite(weight), None)
    return part


class ZPlus(Rule):
    """LRP-z+: only positive contributions (a w)+ and the positive bias; AlphaBeta(1, 0)."""

    def relevance(self, layer, relevance):
        return _signed(layer, positive=True).redistribute(relevance, STABILIZER)


class AlphaBeta(Rule):
    """LRP-alpha-beta: alpha * (positive contributions) - beta * (negative contributions).

    Each part is normalized by its own sum; alpha - beta = 1 keeps relevance conserved.
    """

    def __init__(self, alpha: float = 2, beta: float = 1) -> None:
        self.alpha = check_nonnegative(alpha, "alpha")
        self.beta = check_nonnegative(beta, "beta")
        if not math.isclose(self.alpha - self.beta, 1.0):
            raise ValueError(
                f"alpha - beta must be 1 so relevance is conserved, got alpha={alpha}, beta={beta}"
            )

    def relevance(self, layer, relevance):
        result = self.alpha * _signed(layer, positive=True).redistribute(
            relevance, STABILIZER
        )
        if self.beta:
            result = result - self.beta * _signed(layer, positive=False).redistribute(
                relevance, STABILIZER
            )
        return result


def _check_bound(value, name: str):
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    ):
        return float(value)
    if (
        isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and torch.isfinite(value).all()
    ):
        return value.detach()
    raise ValueError(
        f"ZBox {name} must be a finite number or a finite float tensor, got {value!r}"
    )


def _bound(value, x: torch.Tensor, name: str) -> torch.Tensor:
    """A ZBox bound as a tensor of the layer input's shape."""
    bound = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    try:
        return bound.broadcast_to(x.shape)
    except RuntimeError:
        raise ValueError(
            f"ZBox {name} of shape {tuple(bound.shape)} does not broadcast to the input of its "
            f"layer, of shape {tuple(x.shape)}"
        ) from None


class ZBox(Rule):
    """The zB rule for a first layer whose inputs lie in [low, high]: c = a w - low w+ - high w-.

    ``low`` and ``high`` are numbers or tensors broadcastable to the layer's input, e.g. per
    channel (1, C, 1, 1) bounds of normalized images, or tensors shaped like x.
    """

    def __init__(self, low, high) -> None:
        self.low, self.high = _check_bound(low, "low"), _check_bound(high, "high")
        try:
            ordered = bool(
                (torch.as_tensor(self.low) <= torch.as_tensor(self.high)).all()
            )
        except RuntimeError:
            raise ValueError(
                "ZBox low and high do not broadcast against each other"
            ) from None
        if not ordered:
            raise ValueError("ZBox needs low <= high everywhere")

    def relevance(self, layer, relevance):
        x, weight, bias = layer.x, layer.weight, layer.bias
        box = (
            layer.own()
            - layer.contribution(
                _bound(self.low, x, "low"), weight.clamp(min=0), _positive_part(bias)
            )
            - layer.contribution(
                _bound(self.high, x, "high"), weight.clamp(max=0), _negative_part(bias)
            )
        )
        return box.redistribute(relevance, STABILIZER)

    def __repr__(self) -> str:
        def show(bound):
            return (
                f"tensor of shape {tuple(bound.shape)}"
                if isinstance(bound, torch.Tensor)
                else repr(bound)
            )

        return f"ZBox(low={show(self.low)}, high={show(self.high)})"


class Flat(Rule):
    """The flat rule: every input connected to an output gets an equal share of its relevance."""

    def relevance(self, layer, relevance):
        uniform = layer.contribution(
            torch.ones_like(layer.x), torch.ones_like(layer.weight), None
        )
        return uniform.redistribute(relevance, STABILIZER)


def check_rule(rule, name: str) -> Rule:
    if not isinstance(rule, Rule):
        raise ValueError(
            f"{name} must be an xl.rules.Rule (e.g. xl.rules.Gamma()), got {rule!r}"
        )
    return rule


def layered(
    model: nn.Module,
    first: Rule | None = None,
    lower: Rule | None = None,
    middle: Rule | None = None,
    top: Rule | None = None,
) -> dict[str, Rule]:
    """The per-depth composite of the LRP tutorial as ``{module name: rule}`` for ``xl.lrp(rules=...)``.

    Defaults: ``first=Flat()`` (pass ``ZBox(low, high)`` when the input range is known, as the
    tutorial does for pixels), ``lower=Gamma(0.25)``, ``middle=Epsilon(0.25)``, ``top=Zero()``.

    Depth is the order of the Linear/Conv layers in ``model.named_modules()`` (forward order for
    sequential models). The first layer gets ``first``. ``top`` goes to the fully connected
    layers after the last convolution; in a network without convolutions (or ending in one), to
    the upper third of the layers after the first, rounded up. The layers in between are halved:
    the lower half (rounded down) gets ``lower``, the upper half ``middle``. On VGG-16 this is the
    tutorial's assignment exactly: zB for conv 1, gamma for convs 2-7, epsilon for convs 8-13 and
    LRP-0 for the three dense layers.
    """
    check_model(model)
    first = check_rule(Flat() if first is None else first, "first")
    lower = check_rule(Gamma(0.25) if lower is None else lower, "lower")
    middle = check_rule(Epsilon(0.25) if middle is None else middle, "middle")
    top = check_rule(Zero() if top is None else top, "top")
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, LAYERS)]
    if not layers:
        raise ValueError("the model has no Linear or Conv layers to assign rules to")
    rest = layers[1:]
    convolutions = [i for i, (_, m) in enumerate(rest) if isinstance(m, CONVOLUTIONS)]
    dense_head = len(rest) - 1 - convolutions[-1] if convolutions else 0
    n_top = dense_head or len(rest) - (2 * len(rest)) // 3
    body = rest[: len(rest) - n_top]
    rules = {layers[0][0]: first}
    rules.update({name: lower for name, _ in body[: len(body) // 2]})
    rules.update({name: middle for name, _ in body[len(body) // 2 :]})
    rules.update({name: top for name, _ in rest[len(rest) - n_top :]})
    return rules
