"""Speed of the gradient family against captum and against the limit, side by side.

* IG, 64 steps, 16 images 3x32x32: vs captum IntegratedGradients (riemann_middle, one internal
  batch) and vs the limit: one forward+backward of the 1024 path points in one batch.
* SmoothGrad, n=32: vs captum NoiseTunnel(Saliency) with all samples in one batch.
* Memory: peak resident memory of IG with steps=1024, batch_size=64 vs steps=64 (each measured in
  a fresh subprocess, above the memory the process holds before the call).

Run: python benchmarks/bench_gradients.py
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch
from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
from torch import nn

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import best_time, forward_backward, report  # noqa: E402


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    ).eval()


# VmHWM (peak resident memory of this process image) rather than getrusage's ru_maxrss, which
# a child inherits across exec from the parent that has just run the timings.
MEMORY_PROBE = """
import torch, xai_lib as xl, sys
sys.path.insert(0, {here!r})
from bench_gradients import cnn

def peak_kib():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])

model, x = cnn(), torch.rand(16, 3, 32, 32)
xl.saliency(model, x[:1], 0)
before = peak_kib()
xl.integrated_gradients(model, x, 0, steps={steps}, batch_size={batch_size})
print(peak_kib() - before)
"""


def peak_memory_kib(steps: int, batch_size) -> int:
    code = MEMORY_PROBE.format(
        here=os.path.dirname(os.path.abspath(__file__)),
        steps=steps,
        batch_size=batch_size,
    )
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> None:
    model, x = (
        cnn(),
        torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0)),
    )
    target = torch.zeros(16, dtype=torch.long)
    steps = 64
    path = (torch.linspace(0, 1, steps)[:, None, None, None, None] * x).reshape(
        -1, 3, 32, 32
    )  # (16*64, 3, 32, 32)
    ig = IntegratedGradients(model)
    report(
        f"Integrated Gradients, {steps} steps, 16 images 3x32x32",
        [
            (
                "xai_lib integrated_gradients",
                best_time(
                    lambda: xl.integrated_gradients(model, x, target, steps=steps)
                ),
            ),
            (
                "captum IntegratedGradients (riemann_middle)",
                best_time(
                    lambda: ig.attribute(
                        x, target=target, n_steps=steps, method="riemann_middle"
                    )
                ),
            ),
            (
                "limit: one forward+backward of 1024 points",
                best_time(forward_backward(model, path, target.repeat(steps))),
            ),
        ],
        reference="limit: one forward+backward of 1024 points",
    )

    n = 32
    noisy = x.repeat(n, 1, 1, 1)  # (32*16, 3, 32, 32)
    tunnel = NoiseTunnel(Saliency(model))
    report(
        f"SmoothGrad, n={n}, 16 images 3x32x32",
        [
            (
                "xai_lib smoothgrad",
                best_time(
                    lambda: xl.smoothgrad(model, x, target, n=n, sigma=0.15, seed=0)
                ),
            ),
            (
                "captum NoiseTunnel(Saliency)",
                best_time(
                    lambda: tunnel.attribute(
                        x,
                        target=target,
                        nt_type="smoothgrad",
                        nt_samples=n,
                        stdevs=0.15,
                        abs=False,
                    )
                ),
            ),
            (
                "limit: one forward+backward of 512 samples",
                best_time(forward_backward(model, noisy, target.repeat(n))),
            ),
        ],
        reference="captum NoiseTunnel(Saliency)",
    )

    print("\nIG peak memory above the process's baseline (fresh subprocess each)")
    peaks = {
        config: peak_memory_kib(*config)
        for config in ((64, None), (64, 64), (1024, 64))
    }
    for (steps, batch_size), peak in peaks.items():
        print(
            f"  steps={steps:<5d} batch_size={str(batch_size):<5s} {peak / 1024:8.1f} MiB"
            f"   {peak / max(peaks[64, 64], 1):5.2f}x steps=64, batch_size=64"
        )


if __name__ == "__main__":
    main()
