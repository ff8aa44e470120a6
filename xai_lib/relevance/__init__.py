"""Layer-wise relevance propagation: ``xl.lrp`` and its parts.

* :mod:`.propagate`: the method, one hooked forward pass and one backward pass of relevance;
* :mod:`.rules`: the propagation rules (public as ``xl.rules``) and the per-depth composite
  :func:`~.rules.layered`;
* :mod:`.canonize`: BatchNorm as an affine map, folded into the layer before it;
* :mod:`.functional`: sums, scalings, pools and reshapes a ``forward()`` applies between
  modules;
* :mod:`.graph`: the autograd nodes that carry relevance backwards.
"""

from . import canonize, rules
from .propagate import lrp

__all__ = ["canonize", "lrp", "rules"]
