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
  pass relevance on unchanged; an in-place activation (``nn.ReLU(inplace=True)``) retires its
  input like any in-place operation, so a forward that reads the input again, not the
  activation's result, raises instead of being explained as another function;
* operations a ``forward()`` applies between modules - residual sums above all - are handled by
  :class:`~.between_modules.BetweenModules`: sums and functional pools split relevance in
  proportion to their operands, max routes it to the winner, reshapes move it along;
* anything else on the path from x to the output raises a ValueError naming the first such
  layer (e.g. a Softmax: explain the logits).

The relevance given to the target output is its value f_c(x), so a conserving rule distributes
f_c(x) over the input, and LRP-0 equals Gradient x Input on ReLU networks with BatchNorm, pooling
and skip connections.

Everything one call learns on the way is kept by that call's :class:`_Propagation` and handed
on explicitly: the hooks, the rule lookup, and a :class:`~.ledger.Ledger` of the forward pass's
tensors (which layer produced one, how often it is read, which an in-place operation retired),
shared with the :class:`~.between_modules.BetweenModules` mode. Nothing is written onto the
model, the caller's tensors or the intermediate ones.
"""

from __future__ import annotations

import torch
from torch import nn

from .._core import Hooks, attribution_method, check_output, select_outputs
from .._core.registry import Samples
from .between_modules import BetweenModules
from .canonize import BATCH_NORMS, Fold, FoldedBatchNorm, batch_norm_affine
from .graph import Pass, Proportional, attach, carries
from .layers import AFFINE, CONVOLUTIONS, LAYERS, LayerCall, linear_map
from .ledger import Ledger
from .rule_lookup import RuleLookup, for_samples, rule_lookup

_AVERAGE_POOLS = (
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
)
_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_PASS = (nn.ReLU, nn.LeakyReLU, nn.Softplus, *_DROPOUTS)
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
def lrp(
    model,
    x,
    target=None,
    *,
    rules=None,
    canonize: bool = True,
    samples: Samples | None = None,
):
    """Layer-wise relevance propagation of f_target(x) to the input, shaped like x.

    ``rules``: one :class:`xai_lib.rules.Rule` for every layer; a dict from module name (as in
    ``model.named_modules()``) or module type to Rule (names first, then types in the dict's
    order); or a function ``(name, module) -> Rule or None``. Layers without a rule, and
    ``rules=None``, get ``Epsilon(1e-6)``. ``xl.rules.layered(model, ...)`` builds the LRP
    tutorial's per-depth composite.

    ``canonize=True`` folds each BatchNorm into the Linear/Conv before it (when that layer's
    output feeds nothing else); ``False`` explains BatchNorms as layers of their own, with their
    own rules. Residual sums are split in proportion either way.

    ``samples`` (passed by the registry, no option of the caller's): which samples of the
    caller's batch x is, when the batch runs in chunks; rules with per-sample parameters
    (ZBox bounds shaped like x) are cut to them, so the result does not depend on the chunking.
    """
    rule_for = for_samples(rule_lookup(model, rules), samples)
    if not isinstance(canonize, bool):
        raise ValueError(f"canonize must be True or False, got {canonize!r}")
    for p in model.parameters():  # only relevance flows; the guard restores the flags
        p.requires_grad_(False)
    x_in = x.detach().requires_grad_(True)
    with torch.enable_grad():
        with Hooks() as hooks:
            output = _Propagation(model, rule_for, canonize, hooks).forward(x_in)
        if output.dim() == 1:  # a scalar-output model: one "class"
            output = output[:, None]
        selected, target = select_outputs(output, target)
        start = torch.zeros_like(output).scatter(
            1, target[:, None], selected.detach()[:, None]
        )
        (relevance,) = torch.autograd.grad(output, x_in, start)
    return relevance.detach()


class _Propagation:
    """The hooks of one LRP forward pass: every leaf module on the relevance path gets wrapped."""

    def __init__(
        self, model: nn.Module, rule_for: RuleLookup, canonize: bool, hooks: Hooks
    ) -> None:
        self.model, self.rule_for, self.canonize = model, rule_for, canonize
        self.names = {m: name for name, m in model.named_modules()}
        self.ledger = Ledger()  # what this call knows about its tensors
        self.between = BetweenModules(self.ledger)
        # per leaf being run: (kind, x, x for the module), or None if not wrapped
        self.running: list = []
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
            output = check_output(self.model(x))
        if not output.requires_grad:
            raise ValueError(
                "the model's output does not depend on x through operations LRP can follow"
            )
        self.ledger.read(output)
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
        if self.between.inside_leaf > 1 or not carried:
            # a module run by another module is part of it; one without relevance is not ours
            self.running.append(None)
            return None
        kind = self._kind(module)
        if not args or len(carried) != 1 or carried[0] is not args[0]:
            raise ValueError(
                f"xl.lrp: layer {self._describe(module)} receives relevance through several inputs or "
                "a keyword argument; LRP follows one positional input per layer"
            )
        x = args[0]
        self.ledger.read(x)
        if kind == "gradient":
            self.running.append(None)
            return None
        if kind == "batch_norm" and module.running_mean is None:
            raise ValueError(
                f"xl.lrp needs BatchNorm layers with running statistics, which "
                f"{self._describe(module)} does not keep (track_running_stats=False): it "
                "normalizes each batch by its own statistics, a map LRP cannot explain"
            )
        x_in = x.detach()
        if getattr(module, "inplace", False):
            # the module overwrites its input, which the layer before still needs
            x_in = x_in.clone()
            # the forward's own x thus keeps its old values, and reading it again would explain
            # another function: x is retired, as by an in-place operation between modules
            # (not by a dropout, which changes nothing in eval mode)
            if not isinstance(module, _DROPOUTS):
                self.ledger.retire(x)
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
        if kind == "linear":  # a BatchNorm reading result may fold into node
            self.ledger.record_output(result, node)
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
        if isinstance(module, LAYERS):
            bias = None if module.bias is None else module.bias.detach()
            return LayerCall(
                rule,
                linear_map(module),
                x_in,
                output,
                module.weight.detach(),
                bias,
                foldable=isinstance(module, CONVOLUTIONS) or output.dim() == 2,
            )
        assert isinstance(module, BATCH_NORMS)  # the one kind left
        scale, shift = batch_norm_affine(module)
        alone = LayerCall(rule, AFFINE, x_in, output, scale, shift)
        source = self.ledger.layer_of(x)
        if not (self.canonize and source is not None and source.foldable):
            return alone
        fold = Fold(scale, shift, output.detach(), self.ledger, x)
        source.fold(fold)
        return FoldedBatchNorm(fold, alone)

    def _rule(self, module: nn.Module):
        return self.rule_for(self.names.get(module, ""), module)
