"""Cutting work into chunks that fit the device, with a progress bar, and noise that does not
depend on the chunking.

* :func:`batches`: the one loop of the library. Every batched computation is a set of
  (variant, sample) pairs - path points of Integrated Gradients, noisy copies of SmoothGrad,
  occlusion windows, RISE masks, steps of a deletion curve, random subsets of MuFidelity -
  flattened variant-major and cut into chunks of at most ``batch_size`` pairs, with a
  progress bar; interrupting it (Ctrl-C) closes the bar and leaves the guard to restore the
  model;
* :func:`auto_batch_size`: how many samples go in one forward pass by default;
* :func:`progress`: a tqdm bar for long loops, off in the book build;
* :class:`NoiseDraws`: seeded standard normal draws shaped like x, the same for any chunking.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch
from tqdm.auto import tqdm

from .environment import in_book_build

#: Elements (input numbers) processed per forward pass when ``batch_size=None``, by device type.
#: On a CPU, chunks whose activations stay near the caches are faster than one huge batch
#: (occlusion and RISE ran 2.2-2.5x faster in chunks of 128 than of 1365 32x32 images): 2**19
#: elements is about 170 images of 3x32x32, or 3 of 3x224x224. A GPU wants large batches.
AUTO_BATCH_ELEMENTS = {"cpu": 2**19, "cuda": 2**22}


def auto_batch_size(sample_numel: int, device="cpu") -> int:
    """How many samples of ``sample_numel`` elements go in one forward pass on ``device`` by default."""
    budget = AUTO_BATCH_ELEMENTS.get(
        torch.device(device).type, AUTO_BATCH_ELEMENTS["cuda"]
    )
    return max(1, budget // max(1, sample_numel))


class Chunk(NamedTuple):
    """One chunk of (variant, sample) pairs: pair q is variant q // N of sample q % N."""

    part: slice  # the flat pair indices part.start .. part.stop - 1
    variant: torch.Tensor  # (Q,) long: which path point, noisy copy, window, mask, ...
    sample: torch.Tensor  # (Q,) long: which sample of the batch


def batches(
    variants: int,
    samples: int,
    batch_size: int | None,
    sample_numel: int,
    device="cpu",
    desc: str | None = None,
) -> Iterator[Chunk]:
    """Chunks covering the ``variants * samples`` pairs, at most ``batch_size`` pairs each.

    Pair q is variant q // samples of sample q % samples (variant-major: every sample of a
    variant is in one run of pairs, so variant-wise data - a mask, a noise draw - is built
    once per chunk). ``batch_size=None`` chooses the size for the device
    (:func:`auto_batch_size` of ``sample_numel`` elements per sample). ``desc`` names a
    progress bar (None: no bar). With ``variants=1``, ``chunk.part`` slices the samples.
    """
    total = variants * samples
    size = batch_size or auto_batch_size(sample_numel, device)
    parts = [slice(start, min(start + size, total)) for start in range(0, total, size)]
    with progress(parts, len(parts), desc) as bar:
        for part in bar:
            pairs = torch.arange(part.start, part.stop, device=device)
            yield Chunk(part, pairs // samples, pairs % samples)


def progress(iterable, total: int, desc: str | None):
    """A tqdm bar over a loop that may be long; it appears only once the loop has run 2 s.

    Off in the book build (in a notebook the bar is an ipywidget, dead in the static page)
    and when ``desc`` is None.
    """
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        delay=2,
        leave=False,
        disable=desc is None or in_book_build(),
    )


class NoiseDraws:
    """Standard normal draws shaped like x (N, *F), produced in order: ``draws(d)`` is draw d.

    Copy q of a flattened noisy batch is sample q % N under draw q // N, as in
    :func:`batches`. Each draw is one randn call of x's shape, so the noise a copy gets does
    not depend on how the copies are chunked.
    """

    def __init__(self, x: torch.Tensor, seed: int | None) -> None:
        self._x = x
        self._generator = (
            None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
        )
        self._index, self._noise = -1, None

    def __call__(self, d: int) -> torch.Tensor:
        if d < self._index:
            raise RuntimeError("noise draws must be requested in increasing order")
        while self._index < d:
            self._noise = torch.randn(
                self._x.shape,
                generator=self._generator,
                device=self._x.device,
                dtype=self._x.dtype,
            )
            self._index += 1
        return self._noise

    def rows(self, part: slice) -> torch.Tensor:
        """The noise of copies part.start .. part.stop - 1: (Q, *F)."""
        n = self._x.shape[0]
        return torch.cat(
            [
                self(d)[max(part.start - d * n, 0) : min(part.stop - d * n, n)]
                for d in range(part.start // n, (part.stop - 1) // n + 1)
            ]
        )
