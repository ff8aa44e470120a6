"""Operations a ``forward()`` applies between modules, as LRP sees them.

Written in a ``forward()`` (``out = out + identity``, ``torch.flatten``, ``x / 255``), they are
watched by :class:`BetweenModules`, a TorchFunctionMode active during the LRP forward pass. For
tensors that carry relevance:

- a sum or difference (a residual connection) splits relevance in proportion to each operand's
  value, R_a = a / (a + b) * R, exactly (LRP-0 for the sum; constants take their share with
  them) - so a skip connection never duplicates relevance, in any model;
- scaling by a constant, negation and a functional ReLU pass relevance on unchanged;
- sums over dims, means and functional average pools split it in proportion (:class:`Proportional`);
- reshapes, flattening, indexing, concatenation, max and max pools move relevance with the
  gradient (max: winner takes all);
- any other operation raises a ValueError naming it and the module whose forward called it.

In-place forms (``out += identity``) are computed out of place and the old tensor is retired
in the call's :class:`~.ledger.Ledger`: reading it again raises, rather than giving a silently
wrong answer.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from .contributions import ratio
from .graph import Pass, Proportional, attach, carries
from .ledger import Ledger


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


_HANDLERS: dict = {
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


def _positional(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The operands of a handled operation as positional arguments, as the handlers read them.

    ``torch.add(input=a, other=b)``, ``a.add(other=b)`` (args[0] is then a, the tensor whose
    method it is) and ``torch.sum(input=a, dim=1)`` become ``(a, b)``, ``(a, b)`` and ``(a,)``
    with ``dim`` left a keyword.
    """
    if not args and ("input" in kwargs or "self" in kwargs):
        kwargs = dict(kwargs)
        args = (kwargs.pop("input") if "input" in kwargs else kwargs.pop("self"),)
    if len(args) == 1 and "other" in kwargs:
        kwargs = dict(kwargs)
        args = (*args, kwargs.pop("other"))
    return args, kwargs


def _name(func) -> str:
    return str(
        getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    )


def _writes_in_place(func) -> bool:
    name = getattr(func, "__name__", "")
    return name == "__setitem__" or (name.endswith("_") and not name.startswith("__"))


class BetweenModules(TorchFunctionMode):
    """Watches the functional operations a forward() applies to relevance-carrying tensors.

    The LRP pass (propagate.py) keeps ``inside_leaf`` > 0 while a hooked module runs (its
    inner operations are that module's business) and ``scope`` as the names of the modules
    being run, for error messages. Reads and in-place retirements go to the call's ``ledger``.
    """

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger
        self.inside_leaf = 0
        self.scope: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.inside_leaf or not any(
            t.requires_grad for t in _tensors((args, kwargs))
        ):
            return func(*args, **kwargs)
        handler = _HANDLERS.get(_OUT_OF_PLACE.get(func, func))
        if handler is None:
            result = func(*args, **kwargs)
            if any(t.requires_grad for t in _tensors(result)) or _writes_in_place(func):
                raise self._unsupported(func)
            return result
        args, kwargs = _positional(args, kwargs)
        in_place = func in _OUT_OF_PLACE or (
            func is F.relu and kwargs.get("inplace", False)
        )
        if "out" in kwargs or (in_place and not carries(args[0])):
            raise self._unsupported(func)
        for t in _tensors((args, kwargs)):
            if t.requires_grad:
                self.ledger.read(t)
        kwargs = {k: v for k, v in kwargs.items() if k != "inplace"}
        result = handler(_OUT_OF_PLACE.get(func, func), args, kwargs)
        if in_place:
            self.ledger.retire(args[0])
        return result

    def _unsupported(self, func) -> ValueError:
        where = (
            f"the forward of {self.scope[-1]}" if self.scope else "the model's forward"
        )
        return ValueError(
            f"xl.lrp cannot propagate relevance through {_name(func)} in {where}: between modules LRP supports "
            "sums, scaling by constants, ReLU, pooling and reshaping; use modules for the rest"
        )
