"""Speed of the gradient family against captum and against the limit, side by side.

16 images 3x32x32 through a small CNN (32-64-64 channels), the relevance of class 0:

* saliency: vs captum Saliency, and the limit: one forward+backward of the 16 images;
* Integrated Gradients, 64 steps: vs captum IntegratedGradients (riemann_middle, all 1024 path
  points in one internal batch, its default) and the limit: the fastest chunked
  forward+backward of the 1024 path points (built beforehand) over a sweep of chunk sizes;
* SmoothGrad, n=32: vs captum NoiseTunnel(Saliency) (all 512 noisy copies in one batch), and
  the limit: the fastest chunked forward+backward of the 512 noisy copies;
* for IG and SmoothGrad, ``batch_size=None`` against the best fixed ``batch_size`` of a sweep;
* memory: peak resident memory of IG with steps=1024, batch_size=64 vs steps=64 (each measured
  in a fresh subprocess, above the memory the process holds before the call).

Run: python benchmarks/bench_gradients.py [--threads N] [--clock cpu] [--rounds 5]
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
import _timing as T  # noqa: E402


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


def run(rounds: int = 5, memory: bool = True) -> None:
    device = T.device()
    model = cnn().to(device)
    x = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
    target = torch.zeros(16, dtype=torch.long, device=device)

    saliency = Saliency(model)
    times = T.side_by_side(
        {
            "xai_lib saliency": lambda: xl.saliency(model, x, target),
            "captum Saliency": lambda: saliency.attribute(x, target=target, abs=False),
            "limit: one forward+backward": T.chunked_pass(model, x, len(x), target),
        },
        rounds,
    )
    T.report(
        "Saliency, 16 images 3x32x32",
        times,
        ["limit: one forward+backward", "captum Saliency"],
    )
    T.record(
        "gradients",
        "saliency",
        times["xai_lib saliency"],
        times["limit: one forward+backward"],
        "captum Saliency",
        times["captum Saliency"],
    )

    steps = 64
    alphas = (torch.arange(steps, dtype=torch.float32, device=device) + 0.5) / steps
    path = (alphas[:, None, None, None, None] * x).reshape(-1, 3, 32, 32)  # step-major
    path_target = target.repeat(steps)
    ig = IntegratedGradients(model)
    ceiling = T.limit(model, path, path_target, rounds=rounds)
    times = T.side_by_side(
        {
            "xai_lib integrated_gradients": lambda: xl.integrated_gradients(
                model, x, target, steps=steps
            ),
            "captum IntegratedGradients": lambda: ig.attribute(
                x, target=target, n_steps=steps, method="riemann_middle"
            ),
        },
        rounds,
    )
    times[f"limit: fwd+bwd of 1024 points, chunks of {ceiling.size}"] = ceiling.seconds
    times["one fwd+bwd of the 1024 points (the old limit)"] = ceiling.times[len(path)]
    T.report(
        f"Integrated Gradients, {steps} steps, 16 images 3x32x32",
        times,
        [
            f"limit: fwd+bwd of 1024 points, chunks of {ceiling.size}",
            "captum IntegratedGradients",
        ],
    )
    print(f"  limit over chunk sizes: {T.curve(ceiling.times)}")
    chunks = T.sweep(
        lambda b: xl.integrated_gradients(model, x, target, steps=steps, batch_size=b),
        len(path),
        rounds=max(2, rounds // 2),
    )
    print(f"  {chunks}")
    T.record(
        "gradients",
        "integrated_gradients",
        times["xai_lib integrated_gradients"],
        ceiling.seconds,
        "captum IntegratedGradients",
        times["captum IntegratedGradients"],
        chunks.ratio,
    )

    n = 32
    noisy = x.repeat(
        n, 1, 1, 1
    )  # (32*16, 3, 32, 32): the cost does not depend on the noise
    tunnel = NoiseTunnel(Saliency(model))
    ceiling = T.limit(model, noisy, target.repeat(n), rounds=rounds)
    times = T.side_by_side(
        {
            "xai_lib smoothgrad": lambda: xl.smoothgrad(
                model, x, target, n=n, sigma=0.15, seed=0
            ),
            "captum NoiseTunnel(Saliency)": lambda: tunnel.attribute(
                x,
                target=target,
                nt_type="smoothgrad",
                nt_samples=n,
                stdevs=0.15,
                abs=False,
            ),
        },
        rounds,
    )
    times[f"limit: fwd+bwd of 512 copies, chunks of {ceiling.size}"] = ceiling.seconds
    T.report(
        f"SmoothGrad, n={n}, 16 images 3x32x32",
        times,
        [
            f"limit: fwd+bwd of 512 copies, chunks of {ceiling.size}",
            "captum NoiseTunnel(Saliency)",
        ],
    )
    chunks = T.sweep(
        lambda b: xl.smoothgrad(
            model, x, target, n=n, sigma=0.15, seed=0, batch_size=b
        ),
        len(noisy),
        rounds=max(2, rounds // 2),
    )
    print(f"  {chunks}")
    T.record(
        "gradients",
        "smoothgrad",
        times["xai_lib smoothgrad"],
        ceiling.seconds,
        "captum NoiseTunnel",
        times["captum NoiseTunnel(Saliency)"],
        chunks.ratio,
    )

    if memory:
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
    arguments = T.parse_args(__doc__)
    run(arguments.rounds)
