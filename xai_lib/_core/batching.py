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
* :class:`NoiseDraws`: seeded standard normal draws shaped like x, the same for any chunking;
* :func:`seed_generator`: the generator every seeded draw of the library comes from: seeded by
  ``seed``, or, for ``seed=None``, from fresh OS entropy, so the global RNG is never used
  (a call leaves ``torch.get_rng_state()`` as it was, seeded or not).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch
from tqdm.auto import tqdm

from .environment import in_book_build
from .validation import SEED_LIMIT, check_seed

#: The automatic chunk (``batch_size=None``) on a CPU, for samples of E input numbers:
#: sqrt(AUTO_CPU_SCALE / E) samples, at least AUTO_MIN_SAMPLES, at most AUTO_MAX_ELEMENTS / E.
#: Measured (benchmarks/bench_batching.py, two threads): the fastest fixed chunk is about
#: 128-512 images of 3x32x32 (smaller chunks pay per-call overhead, larger ones leave the
#: caches: 1024 is 1.5-2x slower), 64-128 of 3x64x64, 16-32 of 3x128x128 and 16 of 3x224x224
#: (where one image's activations fill the caches anyway; 32 of them are 1.1-1.25x slower).
#: sqrt(2**26 / E) gives 147, 73, 36 and 21 for these four sizes; chunks are then evened out
#: (64 windows of 224 px in 4 chunks of 16).
AUTO_CPU_SCALE = 2**26
AUTO_MIN_SAMPLES = 16
#: A cap on a chunk's input numbers whatever the device (2**23: 32 MiB of float32, about 1.5 GB
#: of activations for a backward pass through a ResNet-18), so a default call fits in memory.
AUTO_MAX_ELEMENTS = 2**23
#: Input numbers per automatic chunk on an accelerator (CUDA and others), which wants large
#: batches: 1365 images of 3x32x32 (at least AUTO_MIN_SAMPLES, within AUTO_MAX_ELEMENTS).
AUTO_BATCH_ELEMENTS = {"cuda": 2**22}


def auto_batch_size(sample_numel: int, device="cpu") -> int:
    """How many samples of ``sample_numel`` elements go in one forward pass on ``device`` by default.

    A fixed rule of the sample size and the device type (no timing, no extra forward pass),
    so the same call chunks the same way in every process and on every run.
    """
    numel = max(1, int(sample_numel))
    kind = torch.device(device).type
    if kind == "cpu":
        size = math.isqrt(AUTO_CPU_SCALE // numel)
    else:
        size = AUTO_BATCH_ELEMENTS.get(kind, AUTO_BATCH_ELEMENTS["cuda"]) // numel
    return max(1, min(max(size, AUTO_MIN_SAMPLES), AUTO_MAX_ELEMENTS // numel))


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
    (:func:`auto_batch_size` of ``sample_numel`` elements per sample) and evens the chunks
    out (1800 pairs of 3x32x32 samples make 13 chunks of 139 and a last of 132, not 12 of 147
    and a last of 36). ``desc`` names a progress bar (None: no bar). With ``variants=1``,
    ``chunk.part`` slices the samples.
    """
    total = variants * samples
    if batch_size:
        size = batch_size
    else:
        size = auto_batch_size(sample_numel, device)
        chunks = max(1, -(-total // size))  # ceil(total / size)
        size = max(1, -(-total // chunks))  # the same number of chunks, evened out
    parts = [slice(start, min(start + size, total)) for start in range(0, total, size)]
    with progress(parts, len(parts), desc) as bar:
        for part in bar:
            pairs = torch.arange(part.start, part.stop, device=device)
            yield Chunk(part, pairs // samples, pairs % samples)


def progress(iterable, total: int | None, desc: str | None):
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


def seed_generator(seed: int | None, device="cpu") -> torch.Generator:
    """A private torch.Generator on ``device``: seeded by ``seed``, or from OS entropy for None.

    ``seed`` is validated (None or an int in [0, 2**63)). The library draws every random
    number from such a generator, never from the global RNG, so no call changes the caller's
    random state, and the same seed gives the same draws.
    """
    generator = torch.Generator(device=device)
    seed = check_seed(seed)
    if seed is None:
        generator.seed()  # a non-deterministic seed (std::random_device), not the global RNG
    else:
        generator.manual_seed(seed)
    return generator


def derived_seed(seed: int | None, salt: int) -> int | None:
    """A second seed from ``seed`` for an independent stream (None stays None).

    A fixed odd multiplier mixes the two, so the derived stream is not the original shifted.
    """
    seed = check_seed(seed)
    if seed is None:
        return None
    return (seed * 0x9E3779B97F4A7C15 + salt) % SEED_LIMIT


class NoiseDraws:
    """Standard normal draws shaped like x (N, *F), produced in order: ``draws(d)`` is draw d.

    Copy q of a flattened noisy batch is sample q % N under draw q // N, as in
    :func:`batches`. Each draw is one randn call of x's shape, so the noise a copy gets does
    not depend on how the copies are chunked.
    """

    def __init__(self, x: torch.Tensor, seed: int | None) -> None:
        self._x = x
        self._generator = seed_generator(seed, x.device)
        self._index = -1
        self._noise: torch.Tensor | None = None

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
        assert self._noise is not None  # d >= 0: draw d has been made
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
