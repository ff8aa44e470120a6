"""Layer-wise relevance propagation (Bach et al., 2015; Montavon et al., 2019, "Layer-wise
relevance propagation: an overview").

``xl.lrp(model, x, target=None, rules=None, canonize=True)`` runs one forward pass with hooks on
every leaf module and one backward pass in which autograd computes relevance instead of
gradients: each module on the path from x to the output is wrapped so that its backward maps
the relevance of its output to that of its input (the "gradient trick" of zennit; Anders et
al., 2021). Module by module:

* Linear, Conv1d/2d/3d: their rule (:mod:`xai_lib.rules`), chosen by ``rules``;
* BatchNorm (eval mode): with ``canonize=True`` folded into the Linear/Conv whose output it
  normalizes, when that output feeds nothing else, so that layer's rule sees one linear map;
  otherwise (``canonize=False``, or a BatchNorm after a ReLU, a sum, the input) an affine layer
  of its own with its own rule;
* average pooling, adaptive too: LRP-0, relevance in proportion to each input's value;
* max pooling: winner-take-all (the gradient routes relevance to the maximum); Flatten,
  Unflatten and Identity move relevance with the gradient;
* ReLU, LeakyReLU, Softplus (SoftplusBeta too; activations are part of their neuron) and Dropout
  pass relevance on unchanged;
* operations a ``forward()`` applies between modules - residual sums above all - are handled by
  :class:`xai_lib.canonize.BetweenModules`: sums and functional pools split relevance in
  proportion to their operands, max routes it to the winner, reshapes move it along;
* anything else on the path from x to the output raises a ValueError naming the first such
  layer (e.g. a Softmax: explain the logits).

The relevance given to the target output is its value f_c(x), so a conserving rule distributes
f_c(x) over the input, and LRP-0 equals Gradient x Input on ReLU networks with BatchNorm, pooling
and skip connections.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from .._core import Hooks, attribution_method, find_module, select_outputs
from .canonize import BATCH_NORMS, batch_norm_affine, channel_view
from .functional import BetweenModules
from .graph import Pass, Proportional, attach, carries, consume
from .rules import CONVOLUTIONS, LAYERS, Contribution, Epsilon, Rule, check_rule

#: The rule of every layer that ``rules`` does not name.
DEFAULT_RULE = Epsilon(1e-6)

_AVERAGE_POOLS = (
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
)
_PASS = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Softplus,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
)
_GRADIENT = (
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.MaxPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
)
_KINDS = (
    ("linear", LAYERS),
    ("batch_norm", BATCH_NORMS),
    ("average_pool", _AVERAGE_POOLS),
    ("pass", _PASS),
    ("gradient", _GRADIENT),
)
SUPPORTED = (
    "Linear, Conv1d/2d/3d, BatchNorm1d/2d/3d, (Adaptive)AvgPool, (Adaptive)MaxPool, ReLU, LeakyReLU, "
    "Softplus, SoftplusBeta, Dropout, Flatten, Unflatten, Identity"
)


@attribution_method("lrp", family="relevance")
def lrp(model, x, target=None, *, rules=None, canonize: bool = True):
    """Layer-wise relevance propagation of f_target(x) to the input, shaped like x.

    ``rules``: one :class:`xai_lib.rules.Rule` for every layer; a dict from module name (as in
    ``model.named_modules()``) or module type to Rule (names first, then types in the dict's
    order); or a function ``(name, module) -> Rule or None``. Layers without a rule, and
    ``rules=None``, get ``Epsilon(1e-6)``. ``xl.rules.layered(model, ...)`` builds the LRP
    tutorial's per-depth composite.

    ``canonize=True`` folds each BatchNorm into the Linear/Conv before it (when that layer's
    output feeds nothing else); ``False`` explains BatchNorms as layers of their own, with their
    own rules. Residual sums are split in proportion either way.
    """
    rule_for = _rule_lookup(model, rules)
    if not isinstance(canonize, bool):
        raise ValueError(f"canonize must be True or False, got {canonize!r}")
    for p in model.parameters():
        p.requires_grad_(
            False
        )  # only relevance flows; the method's guard restores the flags
    x_in = x.detach().requires_grad_(True)
    with torch.enable_grad():
        with Hooks() as hooks:
            output = _Propagation(model, rule_for, canonize, hooks).forward(x_in)
        output = (
            output[:, None] if output.dim() == 1 else output
        )  # a scalar-output model: one "class"
        selected, target = select_outputs(output, target)
        start = torch.zeros_like(output).scatter(
            1, target[:, None], selected.detach()[:, None]
        )
        (relevance,) = torch.autograd.grad(output, x_in, start)
    return relevance.detach()


def _rule_lookup(model: nn.Module, rules) -> Callable[[str, nn.Module], Rule]:
    """The user's ``rules`` -> a function (name, module) -> Rule."""
    if rules is None:
        return lambda name, module: DEFAULT_RULE
    if isinstance(rules, Rule):
        return lambda name, module: rules
    if isinstance(rules, dict):
        return _dict_lookup(model, rules)
    if callable(rules):
        return _function_lookup(rules)
    raise ValueError(
        "rules must be None, an xl.rules.Rule, a dict from module names or types to rules, or a "
        f"function (name, module) -> Rule; got {type(rules).__name__}"
    )


def _dict_lookup(model: nn.Module, rules: dict) -> Callable[[str, nn.Module], Rule]:
    for key, rule in rules.items():
        if isinstance(key, str):
            module = find_module(model, key, "a key of rules")
            if not isinstance(module, LAYERS + BATCH_NORMS):
                raise ValueError(
                    f"rules names {key!r}, a {type(module).__name__}, which takes no rule; rules apply "
                    "to Linear, Conv and BatchNorm layers"
                )
        elif not (isinstance(key, type) and issubclass(key, nn.Module)):
            raise ValueError(
                f"the keys of rules must be module names or nn.Module types, got {key!r}"
            )
        check_rule(rule, f"rules[{key!r}]")
    by_type = [(key, rule) for key, rule in rules.items() if isinstance(key, type)]

    def lookup(name, module):
        if name in rules:
            return rules[name]
        return next(
            (rule for key, rule in by_type if isinstance(module, key)), DEFAULT_RULE
        )

    return lookup


def _function_lookup(function) -> Callable[[str, nn.Module], Rule]:
    def lookup(name, module):
        rule = function(name, module)
        if rule is None:
            return DEFAULT_RULE
        if not isinstance(rule, Rule):
            raise ValueError(
                f"the rules function returned {rule!r} for {name!r}; expected an xl.rules.Rule or None"
            )
        return rule

    return lookup


class _LayerCall:
    """One call of a linear map z = forward(x; weight, bias), as the rules see it (rules.py).

    A BatchNorm normalizing z may be folded in (:meth:`fold`); the fold holds when z feeds
    nothing else (``uses == 1``), which is known once the forward pass is over.
    """

    def __init__(
        self,
        rule: Rule,
        forward,
        x: torch.Tensor,
        z: torch.Tensor,
        weight=None,
        bias=None,
        foldable: bool = False,
    ) -> None:
        self.rule, self._forward = rule, forward
        self._x, self._z = (
            x,
            z,
        )  # x requires grad and z = forward(x) keeps its graph, for own()
        self._weight, self._bias = weight, bias
        self.foldable = foldable
        self._batch_norm = None  # (scale, shift, normalized z) of a folded BatchNorm
        self.uses = 0

    def fold(
        self, scale: torch.Tensor, shift: torch.Tensor, normalized: torch.Tensor
    ) -> None:
        self._batch_norm = (scale, shift, normalized)
        self.foldable = False

    @property
    def folded(self) -> bool:
        return self._batch_norm is not None and self.uses == 1

    @property
    def x(self) -> torch.Tensor:
        return self._x.detach()

    @property
    def weight(self) -> torch.Tensor:
        if not self.folded:
            return self._weight
        scale = self._batch_norm[0]
        return self._weight * scale.view(
            -1, *([1] * (self._weight.dim() - 1))
        )  # scale each output channel

    @property
    def bias(self) -> torch.Tensor | None:
        if not self.folded:
            return self._bias
        scale, shift, _ = self._batch_norm
        return shift if self._bias is None else self._bias * scale + shift

    def own(self) -> Contribution:
        """x through the layer's own weights, pulled back through the graph of the forward pass."""
        x = self.x
        if not self.folded:
            return Contribution(self._z.detach(), lambda s: x * self._pull(s))
        scale, _, normalized = self._batch_norm
        scale = channel_view(scale, normalized.dim())
        return Contribution(normalized, lambda s: x * self._pull(s * scale))

    def _pull(self, s: torch.Tensor) -> torch.Tensor:
        return torch.autograd.grad(self._z, self._x, s, retain_graph=True)[0]

    def contribution(
        self, a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> Contribution:
        """Input a through the same layer with other parameters: one forward pass, pulled back on demand."""
        with torch.enable_grad():
            a_leaf = a.detach().requires_grad_(True)
            z = self._forward(a_leaf, weight, bias)
        return Contribution(
            z.detach(),
            lambda s: a * torch.autograd.grad(z, a_leaf, s, retain_graph=True)[0],
        )

    def relevance(self, relevance: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.rule.relevance(self, relevance),)


class _FoldedBatchNorm:
    """A BatchNorm after a Linear/Conv: folded in (relevance passes), or on its own if that fold fails."""

    def __init__(self, source: _LayerCall, alone: _LayerCall) -> None:
        self.source, self.alone = source, alone

    def relevance(self, relevance):
        return (relevance,) if self.source.folded else self.alone.relevance(relevance)


def _affine(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """A BatchNorm as a per-channel linear layer: weight * x + bias over dim 1."""
    out = x * channel_view(weight, x.dim())
    return out if bias is None else out + channel_view(bias, x.dim())


def _linear_forward(module: nn.Module):
    return F.linear if isinstance(module, nn.Linear) else module._conv_forward


class _Propagation:
    """The hooks of one LRP forward pass: every leaf module on the relevance path gets wrapped."""

    def __init__(
        self, model: nn.Module, rule_for, canonize: bool, hooks: Hooks
    ) -> None:
        self.model, self.rule_for, self.canonize = model, rule_for, canonize
        self.names = {m: name for name, m in model.named_modules()}
        self.between = BetweenModules()
        self.running: list = []  # per leaf being run: (kind, x, x for the module), or None if not wrapped
        for m in model.modules():
            if next(m.children(), None) is None:
                hooks.add(
                    m.register_forward_pre_hook(self._before_leaf, with_kwargs=True)
                )
                hooks.add(m.register_forward_hook(self._after_leaf))
            else:
                hooks.add(m.register_forward_pre_hook(self._enter))
                hooks.add(m.register_forward_hook(self._leave))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.between:
            output = self.model(x)
        if not isinstance(output, torch.Tensor):
            raise ValueError(
                f"the model must return a tensor of outputs, got {type(output).__name__}"
            )
        if not output.requires_grad:
            raise ValueError(
                "the model's output does not depend on x through operations LRP can follow"
            )
        consume(output)
        return output

    def _describe(self, module: nn.Module) -> str:
        name = self.names.get(module, "")
        return (
            f"{name!r} ({type(module).__name__})"
            if name
            else f"the model ({type(module).__name__})"
        )

    def _enter(self, module, args):
        self.between.scope.append(self._describe(module))

    def _leave(self, module, args, output):
        self.between.scope.pop()

    def _kind(self, module: nn.Module) -> str:
        for kind, types in _KINDS:
            if isinstance(module, types):
                return kind
        hint = (
            " LRP explains scores such as logits: leave the final softmax out."
            if isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Sigmoid))
            else ""
        )
        raise ValueError(
            f"xl.lrp cannot propagate relevance through layer {self._describe(module)}; supported "
            f"layers: {SUPPORTED}.{hint}"
        )

    def _before_leaf(self, module, args, kwargs):
        self.between.inside_leaf += 1
        carried = [t for t in (*args, *kwargs.values()) if carries(t)]
        if (
            self.between.inside_leaf > 1 or not carried
        ):  # a module run by another module is part of it
            self.running.append(None)
            return None
        kind = self._kind(module)
        if not args or len(carried) != 1 or carried[0] is not args[0]:
            raise ValueError(
                f"xl.lrp: layer {self._describe(module)} receives relevance through several inputs or "
                "a keyword argument; LRP follows one positional input per layer"
            )
        x = args[0]
        consume(x)
        if kind == "gradient":
            self.running.append(None)
            return None
        if kind == "batch_norm" and (module.training or module.running_mean is None):
            raise ValueError(
                f"xl.lrp needs BatchNorm layers in eval mode with running statistics; "
                f"{self._describe(module)} is not: call model.eval()"
            )
        x_in = x.detach()
        if getattr(module, "inplace", False):
            x_in = (
                x_in.clone()
            )  # the module overwrites its input, which LRP still needs
        if kind != "pass":
            x_in.requires_grad_(True)
        self.running.append((kind, x, x_in))
        return (x_in, *args[1:]), kwargs

    def _after_leaf(self, module, args, output):
        entry = self.running.pop()
        self.between.inside_leaf -= 1
        if entry is None:
            return None
        kind, x, x_in = entry
        node = self._node(kind, module, x, x_in, output)
        result = attach(node, output, x)
        if kind == "linear":
            result._lrp_source = (
                node  # a BatchNorm reading this tensor may fold into node
            )
        return result

    def _node(
        self,
        kind: str,
        module: nn.Module,
        x: torch.Tensor,
        x_in: torch.Tensor,
        output: torch.Tensor,
    ):
        if kind == "pass":
            return Pass(x.shape)
        if kind == "average_pool":
            return Proportional(x_in, output)
        rule = self._rule(module)
        if kind == "linear":
            bias = None if module.bias is None else module.bias.detach()
            return _LayerCall(
                rule,
                _linear_forward(module),
                x_in,
                output,
                module.weight.detach(),
                bias,
                foldable=isinstance(module, CONVOLUTIONS) or output.dim() == 2,
            )
        scale, shift = batch_norm_affine(module)
        alone = _LayerCall(rule, _affine, x_in, output, scale, shift)
        source = getattr(x, "_lrp_source", None)
        if not (self.canonize and source is not None and source.foldable):
            return alone
        source.fold(scale, shift, output.detach())
        return _FoldedBatchNorm(source, alone)

    def _rule(self, module: nn.Module) -> Rule:
        return self.rule_for(self.names.get(module, ""), module)
