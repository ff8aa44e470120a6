"""What LRP does with the parts of a network that are not Linear or Conv layers.

Relevance flows backwards through autograd: every piece of the forward pass gets a backward that
maps the relevance of its output to that of its inputs (:func:`attach`). This file holds the
pieces between the rule-bearing layers (lrp.py hooks the modules themselves):

* **BatchNorm** in eval mode is the affine map x -> scale * x + shift (:func:`batch_norm_affine`).
  lrp.py folds it into the Linear/Conv layer whose output it normalizes, so the rule of that
  layer sees one linear map (canonization; Motzkus et al., 2022; zennit's MergeBatchNorm).
* **Operations between modules**, written in a ``forward()`` (``out = out + identity``,
  ``torch.flatten``, ``x / 255``), are watched by :class:`BetweenModules`, a TorchFunctionMode
  active during the LRP forward pass. For tensors that carry relevance:

  - a sum or difference (a residual connection) splits relevance in proportion to each operand's
    value, R_a = a / (a + b) * R, exactly (LRP-0 for the sum; constants take their share with
    them) - so a skip connection never duplicates relevance, in any model;
  - scaling by a constant, negation and a functional ReLU pass relevance on unchanged;
  - sums over dims, means and functional average pools split it in proportion (:class:`Proportional`,
    which lrp.py uses for average-pooling modules too);
  - reshapes, flattening, indexing, concatenation, max and max pools move relevance with the
    gradient (max: winner takes all);
  - any other operation raises a ValueError naming it and the module whose forward called it.

  In-place forms (``out += identity``) are computed out of place and the old tensor is retired:
  reading it again raises, rather than giving a silently wrong answer.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from .rules import ratio

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def batch_norm_affine(bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) per channel of an eval-mode BatchNorm: bn(x) = scale * x + shift."""
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.detach(), shift.detach()


def channel_view(t: torch.Tensor, dims: int) -> torch.Tensor:
    """A per-channel vector (C,) shaped (1, C, 1, ...) to broadcast over a (N, C, ...) tensor of ``dims`` dims."""
    return t.view(1, -1, *([1] * (dims - 2)))


class _Relevance(torch.autograd.Function):
    """Forward: the given output. Backward: ``node.relevance(r)``, the relevance of each input."""

    @staticmethod
    def forward(ctx, node, output, *inputs):
        ctx.node = node
        return output

    @staticmethod
    def backward(ctx, relevance):
        return (None, None, *ctx.node.relevance(relevance))


def attach(node, output: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """``output`` (detached values) whose backward sends relevance to ``inputs`` through ``node``."""
    return _Relevance.apply(node, output.detach(), *inputs)


def consume(t: torch.Tensor) -> None:
    """Note that a relevance-carrying tensor is read once more (lrp.py's BatchNorm folding counts uses)."""
    if getattr(t, "_lrp_retired", False):
        raise ValueError(
            "xl.lrp: a tensor changed in place (e.g. out.add_(x)) is read again; LRP computes in-place "
            "operations out of place, so write out = out + x instead"
        )
    source = getattr(t, "_lrp_source", None)
    if source is not None:
        source.uses += 1


class Pass:
    """Relevance passes on unchanged (summed back to the input's shape where the input was broadcast)."""

    def __init__(self, shape: torch.Size) -> None:
        self.shape = shape

    def relevance(self, relevance):
        return (relevance.sum_to_size(self.shape),)


class Proportional:
    """Sums, means and average pools - linear, no bias, non-negative weights: LRP-0, exactly.

    Every input keeps its share x_i / out_k of each output it adds to; ``x`` requires grad and
    ``out`` = f(x) keeps its graph, so one vector-Jacobian product does it for any such f.
    """

    def __init__(self, x: torch.Tensor, out: torch.Tensor) -> None:
        self.x, self.out = x, out

    def relevance(self, relevance):
        share = ratio(relevance, self.out.detach(), 0.0)
        return (self.x.detach() * torch.autograd.grad(self.out, self.x, share)[0],)


class _Sum:
    """out = sum of scale_i * operand_i: each relevance-carrying operand gets its exact share."""

    def __init__(self, terms, out: torch.Tensor) -> None:
        self.terms, self.out = (
            terms,
            out,
        )  # terms: (scale, operand) for operands carrying relevance

    def relevance(self, relevance):
        share = ratio(relevance, self.out, 0.0)
        return tuple(
            (scale * operand * share).sum_to_size(operand.shape)
            for scale, operand in self.terms
        )


def carries(value) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


def _detached(value):
    return value.detach() if isinstance(value, torch.Tensor) else value


Tensor = torch.Tensor
_OUT_OF_PLACE = {
    Tensor.add_: Tensor.add,
    Tensor.sub_: Tensor.sub,
    Tensor.mul_: Tensor.mul,
    Tensor.div_: Tensor.div,
    Tensor.relu_: Tensor.relu,
    torch.relu_: torch.relu,
}
_SUMS = {torch.add, Tensor.add, torch.sub, Tensor.sub, Tensor.__rsub__}
_SCALINGS = {torch.mul, Tensor.mul, torch.div, Tensor.div, torch.neg, Tensor.neg}
_RELUS = {F.relu, torch.relu, Tensor.relu}
_POOLS = {
    torch.sum,
    Tensor.sum,
    torch.mean,
    Tensor.mean,
    F.avg_pool1d,
    F.avg_pool2d,
    F.avg_pool3d,
    F.adaptive_avg_pool1d,
    F.adaptive_avg_pool2d,
    F.adaptive_avg_pool3d,
}
# re-arrangements and max selections: the gradient carries each output's relevance to its source
_FOLLOW_GRADIENT = {
    torch.flatten,
    Tensor.flatten,
    Tensor.unflatten,
    torch.reshape,
    Tensor.reshape,
    Tensor.reshape_as,
    Tensor.view,
    Tensor.view_as,
    torch.squeeze,
    Tensor.squeeze,
    torch.unsqueeze,
    Tensor.unsqueeze,
    torch.permute,
    Tensor.permute,
    torch.transpose,
    Tensor.transpose,
    torch.movedim,
    Tensor.movedim,
    Tensor.contiguous,
    torch.clone,
    Tensor.clone,
    Tensor.to,
    Tensor.float,
    Tensor.double,
    Tensor.expand,
    Tensor.expand_as,
    torch.cat,
    torch.concat,
    torch.stack,
    Tensor.__getitem__,
    torch.chunk,
    Tensor.chunk,
    torch.split,
    Tensor.split,
    torch.unbind,
    Tensor.unbind,
    torch.narrow,
    Tensor.narrow,
    torch.amax,
    Tensor.amax,
    torch.max,
    Tensor.max,
    F.max_pool1d,
    F.max_pool2d,
    F.max_pool3d,
    F.adaptive_max_pool1d,
    F.adaptive_max_pool2d,
    F.adaptive_max_pool3d,
}


def _sum(func, args, kwargs):
    """a + alpha b, a - alpha b, or other - self (__rsub__), split in proportion to the terms."""
    first, second = args[0], args[1]
    alpha = kwargs.get("alpha", 1)
    if func is Tensor.__rsub__:
        terms = ((-1, first), (1, second))  # other - self
    else:
        terms = (
            (1, first),
            (-alpha if func in (torch.sub, Tensor.sub) else alpha, second),
        )
    out = func(_detached(first), _detached(second), **kwargs)
    return attach(
        _Sum([t for t in terms if carries(t[1])], out),
        out,
        *(t[1] for t in terms if carries(t[1])),
    )


def _scaling(func, args, kwargs):
    """Scaling by a constant is a diagonal linear map without bias: LRP-0 passes relevance unchanged."""
    carried = [i for i, a in enumerate(args[:2]) if carries(a)]
    if carried != [0] and not (carried == [1] and func in (torch.mul, Tensor.mul)):
        raise ValueError(
            f"xl.lrp can propagate relevance through {func.__name__} only with a constant: "
            "a product or quotient of two relevance-carrying tensors is not linear"
        )
    x = args[carried[0]]
    out = func(*map(_detached, args), **kwargs)
    return attach(Pass(x.shape), out, x)


def _relu(func, args, kwargs):
    x = args[0]
    return attach(Pass(x.shape), torch.relu(x.detach()), x)


def _pool(func, args, kwargs):
    x = args[0]
    if not carries(x) or any(carries(t) for t in _tensors((args[1:], kwargs))):
        raise ValueError(
            f"xl.lrp can propagate relevance through {func.__name__} of one tensor only"
        )
    x_in = x.detach().requires_grad_(True)
    out = func(x_in, *args[1:], **kwargs)
    return attach(Proportional(x_in, out), out, x)


def _follow_gradient(func, args, kwargs):
    return func(*args, **kwargs)


_HANDLERS = {
    **dict.fromkeys(_SUMS, _sum),
    **dict.fromkeys(_SCALINGS, _scaling),
    **dict.fromkeys(_RELUS, _relu),
    **dict.fromkeys(_POOLS, _pool),
    **dict.fromkeys(_FOLLOW_GRADIENT, _follow_gradient),
}


def _tensors(value):
    """Every tensor inside nested lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _name(func) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))


def _writes_in_place(func) -> bool:
    name = getattr(func, "__name__", "")
    return name == "__setitem__" or (name.endswith("_") and not name.startswith("__"))


class BetweenModules(TorchFunctionMode):
    """Watches the functional operations a forward() applies to relevance-carrying tensors.

    lrp.py keeps ``inside_leaf`` > 0 while a hooked module runs (its inner operations are that
    module's business) and ``scope`` as the names of the modules being run, for error messages.
    """

    def __init__(self) -> None:
        super().__init__()
        self.inside_leaf = 0
        self.scope: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.inside_leaf or not any(
            t.requires_grad for t in _tensors((args, kwargs))
        ):
            return func(*args, **kwargs)
        in_place = func in _OUT_OF_PLACE or (
            func is F.relu and kwargs.get("inplace", False)
        )
        handler = _HANDLERS.get(_OUT_OF_PLACE.get(func, func))
        if handler is None:
            result = func(*args, **kwargs)
            if any(t.requires_grad for t in _tensors(result)) or _writes_in_place(func):
                raise self._unsupported(func)
            return result
        if "out" in kwargs or (in_place and not carries(args[0])):
            raise self._unsupported(func)
        for t in _tensors((args, kwargs)):
            if t.requires_grad:
                consume(t)
        kwargs = {k: v for k, v in kwargs.items() if k != "inplace"}
        result = handler(_OUT_OF_PLACE.get(func, func), args, kwargs)
        if in_place:
            args[0]._lrp_retired = True
        return result

    def _unsupported(self, func) -> ValueError:
        where = (
            f"the forward of {self.scope[-1]}" if self.scope else "the model's forward"
        )
        return ValueError(
            f"xl.lrp cannot propagate relevance through {_name(func)} in {where}: between modules LRP supports "
            "sums, scaling by constants, ReLU, pooling and reshaping; use modules for the rest"
        )
