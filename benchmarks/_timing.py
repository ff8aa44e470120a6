"""Timing helpers shared by the benchmark scripts: interleaved best-of-k timings, the limit,
the batch-size sweep, and one table format.

* :func:`side_by_side`: the contenders take turns within each round (a busy machine slows
  them alike) and each keeps its best time;
* the limit of a method is the fastest way to run the model on exactly the inputs the
  method needs (the occluded images, the path points, the noisy copies), built beforehand:
  :func:`limit` times their forward (+ backward) pass in chunks of every size of a sweep,
  one batch of them all included, and keeps the fastest - on a CPU a chunked pass is faster
  than one huge batch, so one unchunked pass is no limit;
* :func:`sweep`: a method at ``batch_size=None`` against every fixed ``batch_size`` of a
  sweep, to show how far the automatic choice is from the best fixed one;
* :func:`report` prints a table of times with ratios to named rows, and :data:`RESULTS`
  collects one line per method for ``benchmarks/run_all.py``'s markdown table.

Every script takes ``--threads N`` (torch's CPU threads; default: torch's choice) and
``--clock cpu`` (the CPU seconds of this process instead of the wall clock: on a machine
shared with other jobs, with one thread, the fairer count of work; CUDA is always timed by
the wall clock).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from xai_lib._core import batching

# the library's progress bars would interleave with the tables: off inside the timed loops
_bar = batching.progress
batching.progress = lambda iterable, total, desc: _bar(iterable, total, None)
# captum warns on every call that it set requires_grad on the inputs
warnings.filterwarnings(
    "ignore", message="Input Tensor .* did not already require gradients"
)

#: chunk sizes (samples per pass) the limit and the batch-size sweeps try
SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)

#: one dict per method measured in this process, for run_all.py's table
RESULTS: list[dict] = []

_CLOCK = {"clock": time.perf_counter}


def parse_args(description: str, rounds: int = 5, **extra) -> argparse.Namespace:
    """The common options (--threads, --clock, --rounds), applied; ``extra``: name -> default."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--rounds", type=int, default=rounds, help="timing rounds (best kept)"
    )
    for name, default in extra.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=type(default), default=default
        )
    args = parser.parse_args()
    configure(args.threads, args.clock)
    return args


def configure(threads: int | None = None, clock: str = "wall") -> None:
    if threads:
        torch.set_num_threads(threads)
    _CLOCK["clock"] = (
        time.process_time
        if clock == "cpu" and not torch.cuda.is_available()
        else time.perf_counter
    )


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def describe() -> str:
    clock = "cpu" if _CLOCK["clock"] is time.process_time else "wall"
    return f"device: {device()}, threads: {torch.get_num_threads()}, {clock} clock"


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def once(fn: Callable[[], object]) -> float:
    """Seconds one call of fn takes (CUDA synchronized before and after)."""
    clock = _CLOCK["clock"]
    _sync()
    start = clock()
    fn()
    _sync()
    return clock() - start


def best_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """The fastest of ``repeat`` runs, in seconds (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        fn()
    return min(once(fn) for _ in range(repeat))


def side_by_side(contenders: dict, rounds: int = 5) -> dict[str, float]:
    """name -> best time over ``rounds`` rounds in which the contenders take turns."""
    for fn in contenders.values():
        fn()  # warm-up: one-time allocations, kernel choices
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            best[name] = min(best[name], once(fn))
    return best


def chunked_pass(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    size: int,
    target: torch.Tensor | None = None,
) -> Callable[[], None]:
    """Forward passes of ``inputs`` in chunks of ``size`` (no gradients), or, with ``target``,
    forward + backward to the inputs of the target's output (a gradient), chunk by chunk."""

    def forward() -> None:
        with torch.no_grad():
            for part in inputs.split(size):
                model(part)

    def gradient() -> None:
        for part, t in zip(inputs.split(size), target.split(size)):
            part = part.detach().requires_grad_(True)
            out = model(part).gather(1, t[:, None]).sum()
            torch.autograd.grad(out, part)

    return forward if target is None else gradient


def forward_backward(
    model: torch.nn.Module, inputs: torch.Tensor, target: torch.Tensor
) -> Callable[[], None]:
    """One forward+backward of all ``inputs`` in one batch (one point of :func:`limit`'s sweep)."""
    return chunked_pass(model, inputs, len(inputs), target)


def limit_sizes(total: int, sizes: Sequence[int] = SIZES) -> list[int]:
    """The sweep's sizes below ``total``, and ``total`` itself (one batch of them all)."""
    return sorted({s for s in sizes if s < total} | {total})


class Limit(NamedTuple):
    seconds: float
    size: int  # the chunk size that was fastest
    times: dict  # size -> seconds


def limit(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    target: torch.Tensor | None = None,
    sizes: Sequence[int] = SIZES,
    rounds: int = 3,
) -> Limit:
    """The fastest chunked forward (target None) or forward+backward of exactly ``inputs``."""
    candidates = {
        size: chunked_pass(model, inputs, size, target)
        for size in limit_sizes(len(inputs), sizes)
    }
    times = side_by_side(candidates, rounds)
    size = min(times, key=times.get)
    return Limit(times[size], size, times)


class Sweep(NamedTuple):
    auto: float  # seconds with batch_size=None
    best: float  # the fastest fixed batch_size's seconds
    best_size: int
    times: dict  # batch_size -> seconds

    @property
    def ratio(self) -> float:
        """auto / best fixed: 1.00 is as fast as the best fixed batch_size."""
        return self.auto / self.best

    def __str__(self) -> str:
        return (
            f"batch_size=None is {self.ratio:.2f}x the best fixed batch_size "
            f"({self.best_size}); sweep: {curve(self.times)}"
        )


def sweep(
    run: Callable[[int | None], object],
    total: int,
    sizes: Sequence[int] = SIZES,
    rounds: int = 3,
) -> Sweep:
    """``run(batch_size)`` at batch_size=None and at each size of the sweep below ``total``
    (plus ``total``: everything in one batch), interleaved; best time of each."""
    fixed = limit_sizes(total, sizes)
    contenders = {"auto": lambda: run(None)}
    contenders.update({size: (lambda s=size: run(s)) for size in fixed})
    times = side_by_side(contenders, rounds)
    auto = times.pop("auto")
    size = min(times, key=times.get)
    return Sweep(auto, times[size], size, times)


def curve(times: dict) -> str:
    best = min(times.values())
    return " ".join(f"{size}:{seconds / best:.2f}" for size, seconds in times.items())


def report(title: str, rows: dict[str, float], references: Sequence[str]) -> None:
    """Print each row's time and its ratio to each row named in ``references``."""
    print(f"\n{title}  ({describe()})")
    width = max(len(name) for name in rows)
    for name, seconds in rows.items():
        ratios = "   ".join(
            f"{seconds / rows[ref]:5.2f}x {ref.split(':')[0]}" for ref in references
        )
        print(f"  {name:<{width}s} {seconds * 1e3:9.1f} ms   {ratios}")


def record(
    benchmark: str,
    method: str,
    seconds: float,
    limit: float | None = None,
    peer: str | None = None,
    peer_seconds: float | None = None,
    auto_vs_best: float | None = None,
) -> None:
    """One line of run_all.py's table (ratios: lower is faster; auto_vs_best 1.00 is best)."""
    RESULTS.append(
        {
            "benchmark": benchmark,
            "method": method,
            "ms": seconds * 1e3,
            "vs limit": None if limit is None else seconds / limit,
            "peer": peer,
            "vs peer": None if peer_seconds is None else seconds / peer_seconds,
            "auto vs best batch_size": auto_vs_best,
            "device": device(),
            "threads": torch.get_num_threads(),
        }
    )
