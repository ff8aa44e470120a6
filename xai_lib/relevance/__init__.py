"""Layer-wise relevance propagation: ``xl.lrp`` and its parts, one concern per module.

* :mod:`.propagate`: the method, one hooked forward pass and one backward pass of relevance;
  the per-call state (hooks, rule lookup, ledger) lives in its ``_Propagation`` object;
* :mod:`.rules`: the propagation rules (public as ``xl.rules``) and the per-depth composite
  :func:`~.rules.layered`;
* :mod:`.rule_lookup`: the ``rules`` argument as a function (name, module) -> Rule;
* :mod:`.contributions`: what the rules redistribute (:class:`~.contributions.Contribution`,
  evaluated lazily, terms of one layer in one pass) and the stabilized division;
* :mod:`.layers`: Linear/Conv as maps of public torch functions (all padding modes), and
  :class:`~.layers.LayerCall`, one call of a layer as a rule sees it;
* :mod:`.canonize`: BatchNorm as an affine map (public as ``xl.canonize``), folded into the
  layer before it;
* :mod:`.between_modules`: sums, scalings, pools and reshapes a ``forward()`` applies between
  modules (a TorchFunctionMode);
* :mod:`.graph`: the autograd nodes that carry relevance backwards;
* :mod:`.ledger`: what one call knows about its tensors (producer, reads, in-place
  retirement), kept by the call and never written onto the tensors.
"""

from . import canonize, rules
from .propagate import lrp

__all__ = ["canonize", "lrp", "rules"]
