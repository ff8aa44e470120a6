"""Timing helpers shared by the benchmark scripts: best-of-k wall time, a common table."""

from __future__ import annotations

import time
from typing import Callable

import torch


def best_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """The fastest of ``repeat`` runs, in seconds (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def forward_backward(
    model: torch.nn.Module, inputs: torch.Tensor, target: torch.Tensor
) -> Callable[[], None]:
    """The limit for gradient methods: one batched forward+backward of exactly these inputs."""

    def run() -> None:
        x = inputs.detach().requires_grad_(True)
        out = model(x).gather(1, target[:, None]).sum()
        torch.autograd.grad(out, x)

    return run


def report(title: str, rows: list[tuple[str, float]], reference: str) -> None:
    """Print times and each row's ratio to the row named ``reference``."""
    base = dict(rows)[reference]
    print(
        f"\n{title}  (device: {'cuda' if torch.cuda.is_available() else 'cpu'}, threads: {torch.get_num_threads()})"
    )
    for name, seconds in rows:
        print(
            f"  {name:<44s} {seconds * 1e3:9.1f} ms   {seconds / base:5.2f}x {reference}"
        )
