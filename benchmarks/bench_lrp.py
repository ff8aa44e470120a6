"""Speed of xl.lrp against zennit, side by side in one process.

torchvision vgg11 (weights=None), 8 images 3x64x64, the relevance of class 0:

* xai_lib ``rules.layered`` (the LRP tutorial's composite: zB first, gamma lower, epsilon middle,
  LRP-0 for the dense top) vs zennit's EpsilonGammaBox (zB first, gamma for every other conv,
  epsilon for the dense layers) - the target: at most 1.0x zennit;
* xai_lib with EpsilonGammaBox's exact assignment, the same explanation as zennit's (the
  largest difference is printed), for a like-for-like comparison;
* the limit: one plain forward+backward (a gradient).

Each time is the best of 7 rounds that run the four in turn (the machine may be shared).

Run: python benchmarks/bench_lrp.py
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
from _timing import best_time, forward_backward, report  # noqa: E402


def main() -> None:
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
        "limit: one forward+backward": forward_backward(model, x, target),
    }
    report(
        "LRP on torchvision vgg11, 8 images 3x64x64",
        interleaved_best_times(candidates),
        reference="zennit EpsilonGammaBox",
    )


def interleaved_best_times(
    candidates: dict, rounds: int = 7
) -> list[tuple[str, float]]:
    """Best time of each candidate over rounds that run them in turn, so a busy machine slows all alike."""
    for fn in candidates.values():
        fn()  # warm-up
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, fn in candidates.items():
            best[name] = min(best[name], best_time(fn, repeat=1, warmup=0))
    return list(best.items())


if __name__ == "__main__":
    main()
