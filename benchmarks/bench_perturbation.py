"""Speed of occlusion and RISE against captum and against the forward-pass limit, side by side.

* Occlusion, 8 images 3x32x32, patch 4, stride 2 (225 windows): xai_lib vs captum Occlusion with
  perturbations_per_eval=64, same model, same process; and the limit: one forward pass of the
  1800 occluded images, built beforehand.
* RISE, 4000 masks (cell 8, p 0.5) on 2 images 3x32x32: images per second, and the ratio to the
  limit: one batched forward pass of one image's 4000 masked copies, built beforehand.

Both methods are also timed with ``batch_size=128`` next to the automatic chunking: on a CPU,
chunks whose activations stay small (tens of MB) run markedly faster than one huge batch, and the
same holds for the limit, so it is timed a second way too (the 4000 copies in chunks of 128).

Runs on CUDA when there is a GPU. The contenders take turns within each timing round, so a busy
machine slows them alike. Run: python benchmarks/bench_perturbation.py
"""

from __future__ import annotations

import os
import sys

import torch
from captum.attr import Occlusion

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import best_time, report  # noqa: E402
from bench_gradients import cnn  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SMALL_BATCH = 128


def side_by_side(contenders: dict, repeat: int = 5) -> list[tuple[str, float]]:
    """(name, best time) of each function over ``repeat`` rounds in which they take turns."""
    for fn in contenders.values():
        fn()  # warm-up
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            times[name].append(best_time(fn, repeat=1, warmup=0))
    return [(name, min(t)) for name, t in times.items()]


def forward(
    model: torch.nn.Module, inputs: torch.Tensor, batch_size: int | None = None
):
    """The limit for perturbation methods: forward passes of exactly these inputs (None: one pass)."""

    def run() -> None:
        with torch.no_grad():
            for part in inputs.split(batch_size or len(inputs)):
                model(part)

    return run


def occlusion_benchmark(model, x, target) -> None:
    captum = Occlusion(model)
    options = {
        "sliding_window_shapes": (3, 4, 4),
        "strides": (3, 2, 2),
        "target": target,
        "perturbations_per_eval": 64,
    }
    gap = (
        (
            xl.occlusion(model, x, target, patch=4, stride=2)
            - captum.attribute(x, **options)[:, :1]
        )
        .abs()
        .max()
    )
    windows = [
        (top, left) for top in range(0, 29, 2) for left in range(0, 29, 2)
    ]  # 15 x 15
    occluded = x.repeat(len(windows), 1, 1, 1)  # (225*8, 3, 32, 32), window-major
    for w, (top, left) in enumerate(windows):
        occluded[w * len(x) : (w + 1) * len(x), :, top : top + 4, left : left + 4] = 0
    rows = side_by_side(
        {
            "xai_lib occlusion": lambda: xl.occlusion(
                model, x, target, patch=4, stride=2
            ),
            f"xai_lib occlusion, batch_size={SMALL_BATCH}": lambda: xl.occlusion(
                model, x, target, patch=4, stride=2, batch_size=SMALL_BATCH
            ),
            "captum Occlusion (perturbations_per_eval=64)": lambda: captum.attribute(
                x, **options
            ),
            "limit: one forward of 1800 occluded images": forward(model, occluded),
        }
    )
    report(
        f"Occlusion, patch 4, stride 2 ({len(windows)} windows), 8 images 3x32x32",
        rows,
        reference="captum Occlusion (perturbations_per_eval=64)",
    )
    print(f"  max |difference| between the xai_lib and captum maps: {gap.item():.1e}")


def rise_benchmark(model, x, target, n_masks: int = 4000) -> None:
    masks = xl.rise_masks(
        tuple(x.shape[-2:]), n_masks, cell=8, p=0.5, seed=0, device=x.device
    )  # (4000, 1, 32, 32)
    masked = x[:1] * masks  # one image's masked copies, (4000, 3, 32, 32)
    times = dict(
        side_by_side(
            {
                "xai_lib rise, per image": lambda: xl.rise(
                    model, x, target, n_masks=n_masks, cell=8, seed=0
                ),
                f"xai_lib rise, batch_size={SMALL_BATCH}, per image": lambda: xl.rise(
                    model,
                    x,
                    target,
                    n_masks=n_masks,
                    cell=8,
                    seed=0,
                    batch_size=SMALL_BATCH,
                ),
                f"limit: one forward of {n_masks} masked copies": forward(
                    model, masked
                ),
                f"the same forward in chunks of {SMALL_BATCH}": forward(
                    model, masked, SMALL_BATCH
                ),
            },
            repeat=2,
        )
    )
    for name in list(times)[:2]:
        times[name] /= len(x)
    limit = f"limit: one forward of {n_masks} masked copies"
    report(
        f"RISE, {n_masks} masks, {len(x)} images 3x32x32",
        list(times.items()),
        reference=limit,
    )
    for name, seconds in list(times.items())[:2]:
        print(
            f"  {name.replace(', per image', '')}: {1 / seconds:.2f} images/s, "
            f"{seconds / times[limit]:.2f}x the limit ({1 / times[limit]:.2f} images/s)"
        )


def main() -> None:
    model = cnn().to(DEVICE)
    x = torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(DEVICE)
    target = (torch.arange(8) % 10).to(DEVICE)
    occlusion_benchmark(model, x, target)
    rise_benchmark(model, x[:2], target[:2])


if __name__ == "__main__":
    main()
