"""Speed of xl.lrp against zennit, side by side in one process.

torchvision vgg11 (weights=None), 8 images 3x64x64, the relevance of class 0:

* xai_lib ``rules.layered`` (the LRP tutorial's composite: zB first, gamma lower, epsilon middle,
  LRP-0 for the dense top) vs zennit's EpsilonGammaBox (zB first, gamma for every other conv,
  epsilon for the dense layers) - the target: at most 1.0x zennit;
* xai_lib with EpsilonGammaBox's exact assignment, the same explanation as zennit's (the
  largest difference is printed), for a like-for-like comparison;
* the limit: the fastest plain forward+backward (a gradient) of the 8 images, over chunks of
  1, 2, 4 and 8 (the target: LRP at most 1.2x the limit).

Each time is the best of 7 rounds that run the contenders in turn (the machine may be shared).

Run: python benchmarks/bench_lrp.py [--threads N] [--clock cpu] [--rounds 7]
"""

from __future__ import annotations

import os
import sys

import torch
import torchvision
from zennit.attribution import Gradient
from zennit.composites import EpsilonGammaBox

import xai_lib as xl
from xai_lib import rules as R

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402


def run(rounds: int = 7) -> None:
    torch.manual_seed(0)
    model = torchvision.models.vgg11(weights=None).eval()
    x = torch.rand(8, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    target = torch.zeros(8, dtype=torch.long)
    layered = R.layered(model, first=R.ZBox(0.0, 1.0))
    gamma_box = {
        "features.0": R.ZBox(0.0, 1.0),
        torch.nn.Conv2d: R.Gamma(0.25),
        torch.nn.Linear: R.Epsilon(1e-6),
    }
    composite = EpsilonGammaBox(low=0.0, high=1.0)
    select = torch.nn.functional.one_hot(target, 1000).float()

    def zennit_lrp() -> torch.Tensor:
        with Gradient(model, composite) as attributor:
            return attributor(x, lambda out: out * select)[1]

    difference = (
        (xl.lrp(model, x, target, rules=gamma_box) - zennit_lrp()).abs().max().item()
    )
    print(
        f"xai_lib with EpsilonGammaBox's rules vs zennit EpsilonGammaBox: largest difference {difference:.2e} "
        f"(relevance up to {zennit_lrp().abs().max().item():.2e})"
    )
    candidates = {
        "xai_lib lrp, rules.layered (tutorial)": lambda: xl.lrp(
            model, x, target, rules=layered
        ),
        "xai_lib lrp, EpsilonGammaBox's rules": lambda: xl.lrp(
            model, x, target, rules=gamma_box
        ),
        "zennit EpsilonGammaBox": zennit_lrp,
    }
    for size in (1, 2, 4, 8):
        candidates[f"gradient in chunks of {size}"] = T.chunked_pass(
            model, x, size, target
        )
    times = T.side_by_side(candidates, rounds)
    chunked = {n: t for n, t in times.items() if n.startswith("gradient in chunks")}
    fastest = min(chunked, key=chunked.get)
    rows = {n: t for n, t in times.items() if n not in chunked}
    limit_name = f"limit: {fastest}"
    rows[limit_name] = chunked[fastest]
    T.report(
        "LRP on torchvision vgg11, 8 images 3x64x64",
        rows,
        [limit_name, "zennit EpsilonGammaBox"],
    )
    for name in (
        "xai_lib lrp, rules.layered (tutorial)",
        "xai_lib lrp, EpsilonGammaBox's rules",
    ):
        T.record(
            "lrp",
            name.replace("xai_lib ", ""),
            rows[name],
            rows[limit_name],
            "zennit EpsilonGammaBox",
            rows["zennit EpsilonGammaBox"],
        )


if __name__ == "__main__":
    arguments = T.parse_args(__doc__, rounds=7)
    run(arguments.rounds)
