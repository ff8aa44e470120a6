"""LRP propagation rules (``xl.rules``), and the per-depth recipe of the LRP tutorial.

A rule says how one linear layer z_k = sum_j a_j w_jk + b_k (a Linear or Conv layer, or a
BatchNorm, after canonization) hands the relevance R_k of its outputs to its inputs j. Every
rule here is a redistribution of *contributions* c_jk (Montavon et al., 2019, "Layer-wise
relevance propagation: an overview"):

    R_j = sum_k c_jk / (sum_j' c_j'k + stabilizer) * R_k

computed without ever forming c_jk (:mod:`.contributions`, the tutorial's "gradient trick").

* ``Zero()``: LRP-0, c = a w. Equals Gradient x Input on ReLU networks.
* ``Epsilon(eps)``: c = a w over the denominator z + eps * sign(z), sign(0) = +1 (Bach et al.,
  2015); a larger eps absorbs weak, contradictory evidence.
* ``Gamma(gamma)``: c = a (w + gamma w+), bias b + gamma b+ (Montavon et al., 2019); meant for
  layers whose inputs are non-negative (after a ReLU). ``Gamma(gamma, generalized=True)`` is
  the generalization to inputs of both signs that zennit implements (it cites Andeol et al.,
  2021): an output z_k > 0 favours the positive contributions, c = a w + gamma (a w)+, bias
  b + gamma b+; an output z_k < 0 the negative ones, c = a w + gamma (a w)-, bias
  b + gamma b-; an output of exactly 0 passes nothing on. On non-negative inputs it differs
  from the original only at outputs z_k < 0.
* ``ZPlus()``: c = (a w)+, the positive contributions only (Montavon et al., 2017).
* ``AlphaBeta(alpha, beta)``: alpha * (positive contributions) - beta * (negative ones), each
  part over its own sum, alpha - beta = 1 (Bach et al., 2015); ZPlus is AlphaBeta(1, 0).
* ``ZBox(low, high)``: the zB rule for inputs known to lie in [low, high] (pixels):
  c = a w - low w+ - high w- (Montavon et al., 2017).
* ``Flat()``: c = 1 for every connection, relevance spread evenly over the receptive field
  (Lapuschkin et al., 2019).

Biases take part in the denominator as written (they absorb their share of relevance), except
in ZBox, where they cancel. Gamma, ZPlus, AlphaBeta, ZBox and Flat guard their denominators
with their own ``stabilizer`` (default 1e-6, as zennit's): z + stabilizer * sign(z), and
``stabilizer=0`` divides exactly. Zero divides exactly and passes no relevance through an output
that is exactly zero; Epsilon's eps is its stabilizer.

Writing a rule: subclass :class:`Rule` and implement ``relevance(layer, relevance)``. ``layer`` is
one call of a linear layer (:class:`~.layers.LayerCall`), as ``xl.lrp`` hands it over:

* ``layer.x``: the input a (detached); ``layer.weight``, ``layer.bias``: the parameters, with a
  folded BatchNorm already merged in (``bias`` may be None);
* ``layer.own()``: the :class:`Contribution` of a through the layer's own weights, reusing the
  forward pass;
* ``layer.contribution(a, weight, bias)``: the same layer run on another input and parameters;
  contributions add and subtract, and ``c.redistribute(relevance, stabilizer)`` applies the
  formula above.

A rule with parameters given per sample (ZBox bounds shaped like x) also implements
``for_samples(part, total)``: ``xl.lrp`` runs a large batch in chunks, and asks each layer's
rule for the one of the samples ``part`` of the ``total``; the default is the rule itself.

:func:`layered` builds the tutorial's per-depth composite (zB first, gamma lower, epsilon middle,
LRP-0 top) as a ``{module name: rule}`` dict for ``xl.lrp(..., rules=...)``.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from .._core import check_bool, check_model, check_nonnegative
from .contributions import (
    Contribution,
    negative_part,
    positive_part,
    ratio,
    signed_contributions,
    stabilize,
)
from .layers import CONVOLUTIONS, LAYERS

__all__ = [
    "AlphaBeta",
    "Contribution",
    "DEFAULT_STABILIZER",
    "Epsilon",
    "Flat",
    "Gamma",
    "LAYERS",
    "Rule",
    "ZBox",
    "ZPlus",
    "Zero",
    "layered",
    "ratio",
    "stabilize",
]

#: The stabilizer of Gamma, ZPlus, AlphaBeta, ZBox and Flat unless given: z + 1e-6 * sign(z).
DEFAULT_STABILIZER = 1e-6


class Rule:
    """How a linear layer hands the relevance of its outputs to its inputs (see the module doc)."""

    def relevance(self, layer, relevance: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def for_samples(self, part: slice, total: int) -> Rule:
        """The rule for the samples ``part`` of a batch of ``total``, which ``xl.lrp`` runs as
        one chunk: a rule with per-sample parameters cuts them to the chunk. By default the
        rule itself."""
        return self

    def __repr__(self) -> str:
        """The rule and its options, less those at their defaults and private attributes."""
        options = ", ".join(
            f"{k}={_show(v)}"
            for k, v in vars(self).items()
            if not (k.startswith("_") or _is_default(k, v))
        )
        return f"{type(self).__name__}({options})"


def _is_default(name: str, value) -> bool:
    """Options left out of a rule's repr at their default values."""
    return (name, value) in (("stabilizer", DEFAULT_STABILIZER), ("generalized", False))


def _show(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}"
    return repr(value)


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


def _boosted(t: torch.Tensor | None, gamma: float, part) -> torch.Tensor | None:
    """t + gamma * part(t): the parameters of the gamma rule."""
    return None if t is None else part(t).mul_(gamma).add_(t)


class Gamma(Rule):
    """LRP-gamma: weights w + gamma * max(w, 0), bias b + gamma * max(b, 0); favours positive evidence.

    ``generalized=True``: zennit's version for inputs of both signs (see the module doc).
    ``stabilizer``: the denominators' guard, z + stabilizer * sign(z).
    """

    def __init__(
        self,
        gamma: float = 0.25,
        *,
        stabilizer: float = DEFAULT_STABILIZER,
        generalized: bool = False,
    ) -> None:
        self.gamma = check_nonnegative(gamma, "gamma")
        self.stabilizer = check_nonnegative(stabilizer, "stabilizer")
        self.generalized = check_bool(generalized, "generalized")

    def relevance(self, layer, relevance):
        weight, bias, gamma = layer.weight, layer.bias, self.gamma
        up = (
            _boosted(weight, gamma, positive_part),
            _boosted(bias, gamma, positive_part),
        )
        if not self.generalized:
            boosted = layer.contribution(layer.x, *up)
            return boosted.redistribute(relevance, self.stabilizer)
        down = (
            _boosted(weight, gamma, negative_part),
            _boosted(bias, gamma, negative_part),
        )
        z, signed = layer.own().z, bool((layer.x < 0).any())
        at_positive = _favouring(layer, up, down, signed).redistribute(
            relevance * (z > 0), self.stabilizer
        )  # (a product with a mask: torch.where is slow on masks of both signs)
        at_negative = _favouring(layer, down, up, signed).redistribute(
            relevance * (z < 0), self.stabilizer
        )
        return at_positive + at_negative


def _favouring(layer, same: tuple, opposite: tuple, signed: bool) -> Contribution:
    """The generalized gamma rule's contributions at outputs of one sign: a+ through the
    (weight, bias) ``same``, a- through the weight of ``opposite``."""
    x = layer.x
    if not signed:
        return layer.contribution(x, *same)
    return layer.contribution(x.clamp(min=0), *same) + layer.contribution(
        x.clamp(max=0), opposite[0], None
    )


class ZPlus(Rule):
    """LRP-z+: only positive contributions (a w)+ and the positive bias; AlphaBeta(1, 0)."""

    def __init__(self, *, stabilizer: float = DEFAULT_STABILIZER) -> None:
        self.stabilizer = check_nonnegative(stabilizer, "stabilizer")

    def relevance(self, layer, relevance):
        return signed_contributions(layer, positive=True).redistribute(
            relevance, self.stabilizer
        )


class AlphaBeta(Rule):
    """LRP-alpha-beta: alpha * (positive contributions) - beta * (negative contributions).

    Each part is normalized by its own sum; alpha - beta = 1 keeps relevance conserved.
    """

    def __init__(
        self,
        alpha: float = 2,
        beta: float = 1,
        *,
        stabilizer: float = DEFAULT_STABILIZER,
    ) -> None:
        self.alpha = check_nonnegative(alpha, "alpha")
        self.beta = check_nonnegative(beta, "beta")
        if not math.isclose(self.alpha - self.beta, 1.0):
            raise ValueError(
                f"alpha - beta must be 1 so relevance is conserved, got alpha={alpha}, beta={beta}"
            )
        self.stabilizer = check_nonnegative(stabilizer, "stabilizer")

    def relevance(self, layer, relevance):
        positive = signed_contributions(layer, positive=True).redistribute(
            relevance, self.stabilizer
        )
        result = self.alpha * positive
        if self.beta:
            negative = signed_contributions(layer, positive=False)
            result = result - self.beta * negative.redistribute(
                relevance, self.stabilizer
            )
        return result


def _check_bound(value, name: str):
    """A ZBox bound: a finite number (as float) or a finite float tensor (detached)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
    elif isinstance(value, torch.Tensor) and value.is_floating_point():
        if torch.isfinite(value).all():
            return value.detach()
    raise ValueError(
        f"ZBox {name} must be a finite number or a finite float tensor, got {value!r}"
    )


def _bound(
    value, x: torch.Tensor, name: str, samples: tuple[slice, int] | None
) -> torch.Tensor:
    """A ZBox bound as a tensor of the layer input's shape.

    ``samples``: (part, total) when the layer runs on the samples ``part`` of a batch of
    ``total``; a bound given per sample - as many dims as the input, the first of size
    ``total`` - is cut to them. Others (numbers, per-channel bounds) broadcast as they are.
    """
    shape = tuple(value.shape) if isinstance(value, torch.Tensor) else ()
    where = ""
    if samples is not None:
        part, total = samples
        where = (
            f" (samples {part.start} to {part.stop - 1} of {total}, run as one chunk)"
        )
        per_sample = isinstance(value, torch.Tensor) and value.dim() == x.dim()
        if per_sample and value.shape[0] == total:
            value = value[part]
    bound = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    try:
        return bound.broadcast_to(x.shape)
    except RuntimeError:
        raise ValueError(
            f"ZBox {name} of shape {shape} does not broadcast to the input of its layer, of "
            f"shape {tuple(x.shape)}{where}"
        ) from None


class ZBox(Rule):
    """The zB rule for a first layer whose inputs lie in [low, high]: c = a w - low w+ - high w-.

    ``low`` and ``high`` are numbers or tensors broadcastable to the layer's input, e.g. per
    channel (1, C, 1, 1) bounds of normalized images, or tensors shaped like x (per sample:
    when ``xl.lrp`` runs the batch in chunks, each chunk uses its samples' bounds).
    """

    #: (part, total) when the rule is that of the samples ``part`` of a batch of ``total``
    _samples: tuple[slice, int] | None = None

    def __init__(self, low, high, *, stabilizer: float = DEFAULT_STABILIZER) -> None:
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
        self.stabilizer = check_nonnegative(stabilizer, "stabilizer")

    def for_samples(self, part: slice, total: int) -> ZBox:
        """This rule for the samples ``part`` of ``total``: bounds given per sample are cut to
        them when the layer runs (only then is the layer input's shape known)."""
        rule = copy.copy(self)
        rule._samples = (part, total)
        return rule

    def relevance(self, layer, relevance):
        x, weight, bias = layer.x, layer.weight, layer.bias
        low = _bound(self.low, x, "low", self._samples)
        high = _bound(self.high, x, "high", self._samples)
        box = (
            layer.own()
            - layer.contribution(low, weight.clamp(min=0), positive_part(bias))
            - layer.contribution(high, weight.clamp(max=0), negative_part(bias))
        )  # one pass of the layer for all three terms
        return box.redistribute(relevance, self.stabilizer)


class Flat(Rule):
    """The flat rule: every input connected to an output gets an equal share of its relevance."""

    def __init__(self, *, stabilizer: float = DEFAULT_STABILIZER) -> None:
        self.stabilizer = check_nonnegative(stabilizer, "stabilizer")

    def relevance(self, layer, relevance):
        uniform = layer.contribution(
            torch.ones_like(layer.x), torch.ones_like(layer.weight), None
        )
        return uniform.redistribute(relevance, self.stabilizer)


def check_rule(rule, name: str) -> Rule:
    if isinstance(rule, type) and issubclass(rule, Rule):
        kind = rule.__name__
        raise ValueError(f"{name}={kind} is a class: pass an instance, e.g. {kind}()")
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
