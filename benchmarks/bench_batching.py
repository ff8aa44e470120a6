"""The automatic chunk size against the best fixed batch_size, per method, model and image size.

Every batched method runs at ``batch_size=None`` and at each fixed ``batch_size`` of a sweep
(16 to 1024 samples per pass, and all at once), the contenders taking turns within each
round; the table gives the time of ``batch_size=None`` over the best fixed one (1.00: as fast
as the best; the target is at most 1.10) and the whole curve.

Models: the zoo's ``shapes_cnn`` and ``shapes_resnet`` at 32 px, and a torchvision ResNet-18
(built without weights, nothing downloads) at 64, 128 and 224 px; the work per call shrinks
with the image so that each call takes about a second on one CPU thread.

Run: python benchmarks/bench_batching.py [--models cnn32,resnet32,resnet18_64,resnet18_128,
resnet18_224] [--methods occlusion,rise,integrated_gradients,smoothgrad,deletion,mu_fidelity]
[--threads N] [--clock cpu] [--rounds 3]
"""

from __future__ import annotations

import os
import sys

import torch
import torchvision

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

MODELS = ("cnn32", "resnet32", "resnet18_64", "resnet18_128", "resnet18_224")
METHODS = (
    "occlusion",
    "rise",
    "integrated_gradients",
    "smoothgrad",
    "deletion",
    "mu_fidelity",
)


def model_and_size(name: str) -> tuple[torch.nn.Module, int]:
    if name.startswith("resnet18"):
        torch.manual_seed(0)
        return torchvision.models.resnet18(weights=None).eval(), int(name.split("_")[1])
    return xl.zoo.load({"cnn32": "shapes_cnn", "resnet32": "shapes_resnet"}[name]), 32


def workloads(model, size: int, device: str) -> dict:
    """method -> (run(batch_size), pairs): about 1000 passes at 32 px, fewer for larger images."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, size, size, generator=g).to(device)
    maps = torch.rand(16, 1, size, size, generator=g).to(device)
    scale = {32: 1, 64: 8, 128: 16, 224: 32}[size]  # fewer passes for larger images
    n = max(1, 16 // scale)  # images for the gradient methods and deletion
    steps, copies = (64, 32) if size == 32 else (32, 32)
    patch = 4 if size == 32 else size // 8
    stride = 2 if size == 32 else patch
    windows = ((size - patch) // stride + 1) ** 2
    occluded = max(1, min(8, 1800 // (windows * scale)))
    masks = max(32, 2000 // scale)
    subsets = 128 if size == 32 else 64
    mu_images = 8 if size == 32 else 1
    return {
        "occlusion": (
            lambda b: xl.occlusion(
                model, x[:occluded], 0, patch=patch, stride=stride, batch_size=b
            ),
            windows * occluded,
        ),
        "rise": (
            lambda b: xl.rise(model, x[:1], 0, n_masks=masks, seed=0, batch_size=b),
            masks,
        ),
        "integrated_gradients": (
            lambda b: xl.integrated_gradients(
                model, x[:n], 0, steps=steps, batch_size=b
            ),
            n * steps,
        ),
        "smoothgrad": (
            lambda b: xl.smoothgrad(model, x[:n], 0, n=copies, seed=0, batch_size=b),
            n * copies,
        ),
        "deletion": (
            lambda b: xl.metrics.deletion(
                model, x[:n], maps[:n], 0, steps=steps, batch_size=b
            ),
            n * (steps + 1),
        ),
        "mu_fidelity": (
            lambda b: xl.metrics.mu_fidelity(
                model,
                x[:mu_images],
                maps[:mu_images],
                0,
                n=subsets,
                seed=0,
                batch_size=b,
            ),
            mu_images * subsets,
        ),
    }


def run(models=MODELS, methods=METHODS, rounds: int = 3) -> list:
    device = T.device()
    print(f"batch_size=None against the best fixed batch_size ({T.describe()})")
    rows = []
    for name in models:
        model, size = model_and_size(name)
        model = model.to(device)
        for p in model.parameters():
            p.requires_grad_(False)
        work = workloads(model, size, device)
        numel = 3 * size * size
        for method in methods:
            fn, pairs = work[method]
            result = T.sweep(
                fn, pairs, sizes=(16, 32, 64, 128, 256, 512, 1024), rounds=rounds
            )
            auto = xl._core.auto_batch_size(numel, device)
            rows.append((name, method, result.ratio))
            print(
                f"  {name:13s} {method:21s} {pairs:5d} passes: auto ({auto}) "
                f"{result.ratio:5.2f}x the best fixed ({result.best_size}, "
                f"{result.best * 1e3:7.0f} ms) | {T.curve(result.times)}",
                flush=True,
            )
            T.record(
                f"batching {name}",
                method,
                result.auto,
                auto_vs_best=result.ratio,
            )
    worst = max(rows, key=lambda r: r[2])
    print(
        f"  worst: {worst[0]} {worst[1]} at {worst[2]:.2f}x the best fixed batch_size"
    )
    return rows


if __name__ == "__main__":
    arguments = T.parse_args(
        __doc__, rounds=3, models=",".join(MODELS), methods=",".join(METHODS)
    )
    run(arguments.models.split(","), arguments.methods.split(","), arguments.rounds)
