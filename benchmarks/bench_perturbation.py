"""Speed of occlusion and RISE against captum and against the forward-pass limit, side by side.

* Occlusion, 8 images 3x32x32, patch 4, stride 2 (225 windows): xai_lib vs captum Occlusion
  (perturbations_per_eval=64, and at its best perturbations_per_eval of a sweep), same model,
  same process; the limit: the fastest chunked forward pass of the 1800 occluded images,
  built beforehand, over a sweep of chunk sizes.
* RISE, 2000 masks (cell 8, p 0.5) on 2 images 3x32x32: images per second, and the ratio to
  the limit: the fastest chunked forward pass of the 4000 masked copies, built beforehand.
  (captum has no RISE.)
* For both, ``batch_size=None`` against the best fixed ``batch_size`` of a sweep.

Runs on CUDA when there is a GPU. Run:
python benchmarks/bench_perturbation.py [--threads N] [--clock cpu] [--rounds 5]
"""

from __future__ import annotations

import os
import sys

import torch
from captum.attr import Occlusion

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402
from bench_gradients import cnn  # noqa: E402


def occlusion_benchmark(model, x, target, rounds: int) -> None:
    captum = Occlusion(model)

    def options(per_eval: int) -> dict:
        return {
            "sliding_window_shapes": (3, 4, 4),
            "strides": (3, 2, 2),
            "target": target,
            "perturbations_per_eval": per_eval,
        }

    gap = (
        (
            xl.occlusion(model, x, target, patch=4, stride=2)
            - captum.attribute(x, **options(64))[:, :1]
        )
        .abs()
        .max()
    )
    windows = [(top, left) for top in range(0, 29, 2) for left in range(0, 29, 2)]
    occluded = x.repeat(len(windows), 1, 1, 1)  # (225*8, 3, 32, 32), window-major
    for w, (top, left) in enumerate(windows):
        occluded[w * len(x) : (w + 1) * len(x), :, top : top + 4, left : left + 4] = 0
    ceiling = T.limit(model, occluded, rounds=rounds)
    # captum at its best: perturbations_per_eval is windows per forward pass (x8 images)
    peer = T.side_by_side(
        {
            per_eval: (lambda p=per_eval: captum.attribute(x, **options(p)))
            for per_eval in (4, 8, 16, 32, 64, 128)
        },
        max(2, rounds // 2),
    )
    best_per_eval = min(peer, key=peer.get)
    times = T.side_by_side(
        {
            "xai_lib occlusion": lambda: xl.occlusion(
                model, x, target, patch=4, stride=2
            ),
            "captum Occlusion (perturbations_per_eval=64)": lambda: captum.attribute(
                x, **options(64)
            ),
        },
        rounds,
    )
    times[f"captum Occlusion at its best (perturbations_per_eval={best_per_eval})"] = (
        peer[best_per_eval]
    )
    limit_name = f"limit: forward of 1800 occluded images, chunks of {ceiling.size}"
    times[limit_name] = ceiling.seconds
    times["one forward of the 1800 images (the old limit)"] = ceiling.times[
        len(occluded)
    ]
    T.report(
        f"Occlusion, patch 4, stride 2 ({len(windows)} windows), 8 images 3x32x32",
        times,
        [limit_name, "captum Occlusion (perturbations_per_eval=64)"],
    )
    print(f"  max |difference| between the xai_lib and captum maps: {gap.item():.1e}")
    print(f"  limit over chunk sizes: {T.curve(ceiling.times)}")
    chunks = T.sweep(
        lambda b: xl.occlusion(model, x, target, patch=4, stride=2, batch_size=b),
        len(occluded),
        rounds=max(2, rounds // 2),
    )
    print(f"  {chunks}")
    T.record(
        "perturbation",
        "occlusion",
        times["xai_lib occlusion"],
        ceiling.seconds,
        "captum Occlusion (ppe=64)",
        times["captum Occlusion (perturbations_per_eval=64)"],
        chunks.ratio,
    )


def rise_benchmark(model, x, target, rounds: int, n_masks: int = 2000) -> None:
    masks = xl.rise_masks(
        tuple(x.shape[-2:]), n_masks, cell=8, p=0.5, seed=0, device=x.device
    )  # (n_masks, 1, 32, 32)
    masked = (x[None] * masks[:, None]).reshape(-1, *x.shape[1:])  # mask-major copies
    ceiling = T.limit(model, masked, rounds=max(2, rounds // 2))
    times = T.side_by_side(
        {
            "xai_lib rise": lambda: xl.rise(
                model, x, target, n_masks=n_masks, cell=8, seed=0
            )
        },
        max(2, rounds // 2),
    )
    limit_name = (
        f"limit: forward of {len(masked)} masked copies, chunks of {ceiling.size}"
    )
    times[limit_name] = ceiling.seconds
    times[f"one forward of the {len(masked)} copies (the old limit)"] = ceiling.times[
        len(masked)
    ]
    T.report(f"RISE, {n_masks} masks, {len(x)} images 3x32x32", times, [limit_name])
    ours = times["xai_lib rise"]
    print(
        f"  xai_lib rise: {len(x) / ours:.2f} images/s, the limit {len(x) / ceiling.seconds:.2f} "
        f"images/s; limit over chunk sizes: {T.curve(ceiling.times)}"
    )
    chunks = T.sweep(
        lambda b: xl.rise(
            model, x, target, n_masks=n_masks, cell=8, seed=0, batch_size=b
        ),
        len(masked),
        rounds=max(2, rounds // 2),
    )
    print(f"  {chunks}")
    T.record("perturbation", "rise", ours, ceiling.seconds, auto_vs_best=chunks.ratio)


def run(rounds: int = 5) -> None:
    device = T.device()
    model = cnn().to(device)
    x = torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
    target = (torch.arange(8) % 10).to(device)
    occlusion_benchmark(model, x, target, rounds)
    rise_benchmark(model, x[:2], target[:2], rounds)


if __name__ == "__main__":
    arguments = T.parse_args(__doc__)
    run(arguments.rounds)
