"""Which rule each layer gets: the ``rules`` argument of ``xl.lrp`` as a function
``(name, module) -> Rule``, validated before the forward pass.

``rules`` is None (every layer: :data:`DEFAULT_RULE`), one Rule for every layer, a dict from
module names (as in ``model.named_modules()``) or module types to rules (names first, then
types in the dict's order), or a function ``(name, module) -> Rule or None``.

:func:`for_samples` is the lookup of one chunk of a batch that ``xl.lrp`` runs in chunks:
each rule as ``rule.for_samples(part, total)``, so per-sample parameters follow the chunk.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from .._core import find_module
from .._core.registry import Samples
from .canonize import BATCH_NORMS
from .layers import LAYERS
from .rules import Epsilon, Rule, check_rule

#: The rule of every layer that ``rules`` does not name.
DEFAULT_RULE = Epsilon(1e-6)

RuleLookup = Callable[[str, nn.Module], Rule]


def rule_lookup(model: nn.Module, rules) -> RuleLookup:
    """The user's ``rules`` -> a function (name, module) -> Rule."""
    if rules is None:
        return lambda name, module: DEFAULT_RULE
    if isinstance(rules, type) and issubclass(rules, Rule):
        check_rule(rules, "rules")  # a class, not a rule: the error says so
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


def for_samples(lookup: RuleLookup, samples: Samples | None) -> RuleLookup:
    """``lookup`` for a pass over the ``samples`` of the batch (None or all: ``lookup``)."""
    if samples is None or samples.whole:
        return lookup
    part, total = samples.part, samples.total
    return lambda name, module: lookup(name, module).for_samples(part, total)


def _dict_lookup(model: nn.Module, rules: dict) -> RuleLookup:
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
        elif not _takes_rules(key):
            raise ValueError(
                f"rules has the key {key.__name__}, a module type which takes no rule; rules apply "
                "to Linear, Conv and BatchNorm layers"
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


def _takes_rules(key: type) -> bool:
    """Whether a module type key can match a layer rules apply to: one of them, a subclass of
    one (a custom Conv2d), or a base class of one (``nn.Module``, ``_BatchNorm``)."""
    ruled = LAYERS + BATCH_NORMS
    return issubclass(key, ruled) or any(issubclass(layer, key) for layer in ruled)


def _function_lookup(function) -> RuleLookup:
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
