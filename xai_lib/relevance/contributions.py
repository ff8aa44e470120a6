"""Contributions, the quantity every LRP rule redistributes, and the stabilized division.

A rule hands the relevance R_k of a linear layer's outputs to its inputs j as

    R_j = sum_k c_jk / stabilize(z_k) * R_k,    z_k = sum_j c_jk (+ a bias b_k),

for some contributions c_jk (Montavon et al., 2019, "Layer-wise relevance propagation: an
overview"). When c_jk = a_j w_jk for an input a and weights w of the layer, z is one forward
pass of the layer and sum_k c_jk s_k = a_j (w^T s)_j one vector-Jacobian product (the
"gradient trick"), so c_jk is never formed.

A :class:`Contribution` is a sum of such terms, each ``(a, w, b)`` through one layer, evaluated
when first needed. Terms of one layer that are added or subtracted run as one call of the
layer: their inputs stacked along the channels and their weights along the input dimension,
so ``conv(cat(a_1, a_2), cat(w_1, w_2)) = conv(a_1, w_1) + conv(a_2, w_2)`` is one forward pass
and one vector-Jacobian product instead of two of each (the zB rule's three terms on a first
layer with three input channels cost one pass of nine channels).

:func:`signed_contributions` splits a layer's contributions by sign (the z+ and alpha-beta
rules); :func:`positive_part` and :func:`negative_part` split parameters.
"""

from __future__ import annotations

import functools
import operator
from typing import Callable, NamedTuple

import torch


def stabilize(z: torch.Tensor, eps: float) -> torch.Tensor:
    """z + eps * sign(z), where sign(0) = +1 (-0.0 too), so the result is never closer to 0
    than eps. eps is held in z's dtype, never rounded to float32."""
    # branch-free: copysign is one pass (torch.where is a branchy loop on CPU, several times
    # slower on masks of both signs); z + 0.0 turns -0.0 into +0.0, whose sign is +1
    signs = z + 0.0
    if signs.requires_grad:  # (called in a graph: out-of-place)
        return torch.copysign(z.new_full((), eps), signs) + z
    return torch.copysign(z.new_full((), eps), signs, out=signs).add_(z)


def ratio(relevance: torch.Tensor, z: torch.Tensor, eps: float) -> torch.Tensor:
    """relevance / stabilize(z, eps); with eps = 0, exact division and 0 where z is 0."""
    if eps == 0:
        return torch.where(z == 0, 0.0, relevance / z)
    denominator = stabilize(z, eps)
    if denominator.requires_grad or relevance.requires_grad:
        return relevance / denominator
    return torch.div(relevance, denominator, out=denominator)


class LinearMap(NamedTuple):
    """How a kind of layer computes z = forward(a, weight, bias), for other inputs and weights.

    ``stack_dim``: the dimension of a along which inputs may be stacked, with the weights
    stacked along their dimension 1, so that the outputs add up (None: terms run one by one,
    as for grouped convolutions or a BatchNorm's per-channel scaling).
    """

    forward: Callable[..., torch.Tensor]
    stack_dim: int | None


class _Term(NamedTuple):
    a: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None
    sign: float


class Contribution:
    """The contributions c_jk of some inputs through some weights to a linear layer's outputs.

    ``z``: sum_j c_jk (plus the bias, if any) for every output k.
    ``share(s)``: sum_k c_jk s_k for every input j (one vector-Jacobian product).
    Contributions add and subtract term by term.

    ``Contribution(z, share)`` gives both directly; :meth:`through` is one input through one
    layer's weights, computed when ``z`` or ``share`` is first asked for.
    """

    def __init__(
        self, z: torch.Tensor, share: Callable[[torch.Tensor], torch.Tensor]
    ) -> None:
        self._z: torch.Tensor | None = z
        self._share: Callable[[torch.Tensor], torch.Tensor] | None = share
        self._map: LinearMap | None = None
        self._terms: tuple[_Term, ...] = ()

    @classmethod
    def _lazy(
        cls, linear_map: LinearMap, terms: tuple[_Term, ...], known=None
    ) -> Contribution:
        c = cls.__new__(cls)
        c._z, c._share = known if known is not None else (None, None)
        c._map, c._terms = linear_map, terms
        return c

    @classmethod
    def through(
        cls,
        linear_map: LinearMap,
        a: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        *,
        known: tuple[torch.Tensor, Callable] | None = None,
    ) -> Contribution:
        """Input ``a`` through ``weight`` and ``bias`` of a layer computing ``linear_map``.

        ``known``: (z, share) already at hand (the layer's own forward pass), used unless the
        term is stacked with others.
        """
        return cls._lazy(linear_map, (_Term(a, weight, bias, 1.0),), known)

    @property
    def z(self) -> torch.Tensor:
        if self._z is None:
            self._z, self._share = self._evaluate()
        return self._z

    def share(self, s: torch.Tensor) -> torch.Tensor:
        if self._share is None:
            self._z, self._share = self._evaluate()
        return self._share(s)

    def _combine(self, other: Contribution, sign: float) -> Contribution:
        if self._map is not None and self._map is other._map:
            flipped = tuple(t._replace(sign=sign * t.sign) for t in other._terms)
            return Contribution._lazy(self._map, self._terms + flipped)
        if sign > 0:
            return Contribution(
                self.z + other.z, lambda s: self.share(s) + other.share(s)
            )
        return Contribution(self.z - other.z, lambda s: self.share(s) - other.share(s))

    def __add__(self, other: Contribution) -> Contribution:
        return self._combine(other, 1.0)

    def __sub__(self, other: Contribution) -> Contribution:
        return self._combine(other, -1.0)

    def redistribute(self, relevance: torch.Tensor, eps: float) -> torch.Tensor:
        """R_j = sum_k c_jk / stabilize(z_k, eps) * R_k."""
        return self.share(ratio(relevance, self.z, eps))

    def _evaluate(self) -> tuple[torch.Tensor, Callable]:
        """(z, share) of the terms: one call of the layer when they stack, else one each."""
        linear, terms = self._map, self._terms
        assert linear is not None  # a Contribution(z, share) is evaluated already
        first = terms[0]
        if len(terms) == 1:
            return _vjp(linear.forward, *_signed(first))
        if linear.stack_dim is not None and all(
            t.a.shape == first.a.shape and t.weight.shape == first.weight.shape
            for t in terms
        ):
            return _stacked(linear.forward, linear.stack_dim, terms)
        parts = [_vjp(linear.forward, *_signed(t)) for t in terms]
        return _total(z for z, _ in parts), lambda s: _total(
            share(s) for _, share in parts
        )


def _signed(term: _Term) -> tuple:
    """(a, weight, bias) with the term's sign taken into the weight and bias."""
    if term.sign > 0:
        return term.a, term.weight, term.bias
    return term.a, -term.weight, None if term.bias is None else -term.bias


def _total(tensors):
    return functools.reduce(operator.add, tensors)


def _vjp(forward, a, weight, bias):
    """z = forward(a, weight, bias) and s -> a * (d z / d a)^T s."""
    with torch.enable_grad():
        leaf = a.detach().requires_grad_(True)
        z = forward(leaf, weight, bias)

    def share(s):  # the gradient is a fresh tensor: scaled in place
        return torch.autograd.grad(z, leaf, s, retain_graph=True)[0].mul_(a)

    return z.detach(), share


def _stacked(forward, dim: int, terms: tuple[_Term, ...]):
    """One call of the layer for every term: inputs stacked along ``dim``, weights along dim 1."""
    n = len(terms)
    signed = [_signed(t) for t in terms]
    a = torch.cat([t.a for t in terms], dim)
    dim = dim % a.dim()
    weight = torch.cat([w for _, w, _ in signed], 1)
    biases = [b for _, _, b in signed if b is not None]
    bias = _total(biases) if biases else None
    z, pull = _vjp(forward, a, weight, bias)
    return z, lambda s: pull(s).unflatten(dim, (n, -1)).sum(dim)


def positive_part(t: torch.Tensor | None) -> torch.Tensor | None:
    """max(t, 0) (None stays None: a layer without bias)."""
    return None if t is None else t.clamp(min=0)


def negative_part(t: torch.Tensor | None) -> torch.Tensor | None:
    """min(t, 0) (None stays None)."""
    return None if t is None else t.clamp(max=0)


def signed_contributions(layer, positive: bool) -> Contribution:
    """The contributions a_j w_jk of a layer call that are positive (or negative), with the
    bias's part of that sign.

    A product is positive when a and w share a sign: a+ through w+ plus a- through w-. Inputs
    after a ReLU have no negative part, which saves the second term.
    """
    x, weight, bias = layer.x, layer.weight, layer.bias
    same, opposite = (
        (positive_part, negative_part) if positive else (negative_part, positive_part)
    )
    if not (x < 0).any():
        return layer.contribution(x, same(weight), same(bias))
    part = layer.contribution(x.clamp(min=0), same(weight), same(bias))
    return part + layer.contribution(x.clamp(max=0), opposite(weight), None)
