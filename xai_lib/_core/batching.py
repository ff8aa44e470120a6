"""Cutting work into chunks that fit the device, with a progress bar, and noise that does not
depend on the chunking.

* :func:`auto_batch_size` / :func:`chunks`: how many samples go in one forward pass;
* :func:`progress`: a tqdm bar for long loops, off in the book build;
* :class:`NoiseDraws`: seeded standard normal draws shaped like x, the same for any chunking.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def chunks(
    total: int, batch_size: int | None, sample_numel: int, device="cpu"
) -> Iterator[slice]:
    """Slices that cover range(total) in pieces of at most batch_size (None: automatic for device)."""
    size = batch_size or auto_batch_size(sample_numel, device)
    for start in range(0, total, size):
        yield slice(start, min(start + size, total))


def progress(iterable, total: int, desc: str):
    """A tqdm bar over a loop that may be long; it appears only once the loop has run 2 s.

    Off in the book build: in a notebook the bar is an ipywidget, dead in the static page.
    """
    return tqdm(
        iterable, total=total, desc=desc, delay=2, leave=False, disable=in_book_build()
    )


class NoiseDraws:
    """Standard normal draws shaped like x (N, *F), produced in order: ``draws(d)`` is draw d.

    Copy q of a flattened noisy batch is sample q % N under draw q // N. Each draw is one randn
    call of x's shape, so the noise a copy gets does not depend on how the copies are chunked.
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
