"""A dataset explained batch by batch: xl.attribute_dataset against a hand-written captum loop.

256 test images of the shapes set (3x32x32) in a DataLoader of batches of 32, explained for
their labels with the zoo's ``shapes_cnn``:

* saliency: ``xl.attribute_dataset("saliency", ...)`` vs ``for x, y in loader:
  Saliency(model).attribute(x, target=y)``;
* Integrated Gradients, 32 steps (midpoint rule, captum's ``riemann_middle``), captum with its
  default internal batch (all path points of a batch at once);
* and the xai_lib method called batch by batch by hand, to show what the generator costs.

Images per second (higher is faster) and the ratio of times to captum's loop (lower is
faster), same process, turns taken within each round. On CUDA when there is a GPU (the loader
stays on the CPU; both loops move each batch).

Run: python benchmarks/bench_dataset.py [--threads N] [--clock cpu] [--rounds 5]
"""

from __future__ import annotations

import os
import sys

from captum.attr import IntegratedGradients, Saliency
from torch.utils.data import DataLoader, TensorDataset

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402


def run(rounds: int = 5, images: int = 256, batch: int = 32) -> None:
    device = T.device()
    model = xl.zoo.load("shapes_cnn").to(device)
    x, y = xl.data.shapes(images, seed=1)[:2]
    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=False)

    def captum_loop(explainer, **options):
        def loop():
            maps = []
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                maps.append(explainer.attribute(xb, target=yb, **options).detach())
            return maps

        return loop

    def by_hand(name, **options):
        def loop():
            return [
                xl.METHODS[name](model, xb.to(device), yb.to(device), **options)
                for xb, yb in loader
            ]

        return loop

    def streamed(name, **options):
        def loop():
            return list(
                xl.attribute_dataset(
                    name, model, loader, target="label", device=device, **options
                )
            )

        return loop

    cases = {
        "saliency": (Saliency(model), {"abs": False}, {}),
        "integrated_gradients": (
            IntegratedGradients(model),
            {"n_steps": 32, "method": "riemann_middle"},
            {"steps": 32},
        ),
    }
    for name, (explainer, captum_options, options) in cases.items():
        times = T.side_by_side(
            {
                "xl.attribute_dataset": streamed(name, **options),
                "xai_lib method, loop by hand": by_hand(name, **options),
                "captum, loop by hand": captum_loop(explainer, **captum_options),
            },
            rounds,
        )
        T.report(
            f"{name} over a DataLoader: {images} images 3x32x32 in batches of {batch}",
            times,
            ["captum, loop by hand"],
        )
        for label, seconds in times.items():
            print(f"    {label:<30s} {images / seconds:10,.0f} images/s")
        T.record(
            "dataset",
            f"attribute_dataset({name})",
            times["xl.attribute_dataset"],
            peer="captum loop",
            peer_seconds=times["captum, loop by hand"],
        )


if __name__ == "__main__":
    arguments = T.parse_args(__doc__)
    run(arguments.rounds)
