"""What one ``xl.lrp`` call knows about the tensors of its forward pass, kept by the call.

LRP needs a little information about relevance-carrying tensors beyond their values: which
Linear/Conv produced a tensor (a BatchNorm that reads it may fold into that layer), how often
it is read (the fold holds only if the BatchNorm is its only reader), and whether an in-place
operation in ``forward()`` - ``out += x``, or a module such as ``nn.ReLU(inplace=True)`` - retired
it (LRP computes such operations out of place, so reading the old ``out`` again would silently
use the value before the operation).

:class:`Ledger` keeps this per call, keyed by ``id(tensor)``; each entry holds the tensor
itself, so no id can be reused by another tensor while the call runs. Nothing is written onto
the tensors, and the ledger goes with the call.
"""

from __future__ import annotations

import torch


class _Entry:
    __slots__ = ("tensor", "layer", "reads", "retired")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor, self.layer, self.reads, self.retired = tensor, None, 0, False


class Ledger:
    """Per call: the producing layer, the number of reads and the retirement of tensors."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def _entry(self, tensor: torch.Tensor) -> _Entry:
        entry = self._entries.get(id(tensor))
        if entry is None:
            entry = self._entries[id(tensor)] = _Entry(tensor)
        return entry

    def record_output(self, tensor: torch.Tensor, layer) -> None:
        """``tensor`` is the output of ``layer`` (a Linear/Conv call)."""
        self._entry(tensor).layer = layer

    def layer_of(self, tensor: torch.Tensor):
        """The layer call whose output ``tensor`` is, or None."""
        entry = self._entries.get(id(tensor))
        return None if entry is None else entry.layer

    def read(self, tensor: torch.Tensor) -> None:
        """Count one more read of ``tensor``; a ValueError if an in-place operation retired it."""
        entry = self._entries.get(id(tensor))
        if entry is None:
            return
        if entry.retired:
            raise ValueError(
                "xl.lrp: a tensor changed in place (by out.add_(x), out += x, or a module such as "
                "nn.ReLU(inplace=True)) is read again; LRP computes in-place operations out of "
                "place, so use their result instead: out = out + x, z = relu(z)"
            )
        entry.reads += 1

    def reads(self, tensor: torch.Tensor) -> int:
        entry = self._entries.get(id(tensor))
        return 0 if entry is None else entry.reads

    def retire(self, tensor: torch.Tensor) -> None:
        """``tensor`` was the target of an in-place operation or module: reading it again raises."""
        self._entry(tensor).retired = True
