"""Speed of the batched metrics against the forward-pass limit (and captum where it has one).

The small CNN of bench_gradients.py on images 3x32x32, saliency maps computed beforehand:

* deletion, 64 steps, 16 images (1040 perturbed images): the limit is the fastest chunked
  forward pass of the 1040 images, built beforehand;
* mu_fidelity, 128 subsets, 8 images (1024 perturbed images): the same limit;
* infidelity, 64 perturbations, 16 images (1024 perturbed images): vs captum's
  ``infidelity`` (the same Gaussian perturbations, ``max_examples_per_batch`` = 64 x 16)
  and the same limit;
* for each, ``batch_size=None`` against the best fixed ``batch_size`` of a sweep.

No peer library computes deletion or MuFidelity in torch (Quantus and Xplique are other
stacks), so those two are measured against the limit only.

Run: python benchmarks/bench_metrics.py [--threads N] [--clock cpu] [--rounds 5]
"""

from __future__ import annotations

import os
import sys

import torch
from captum.metrics import infidelity as captum_infidelity

import xai_lib as xl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402
from bench_gradients import cnn  # noqa: E402


def measure(name, fn, perturbed, model, rounds, peers=None, peer_label=None) -> None:
    """fn(batch_size) against the limit of ``perturbed``, its peers, and the sweep."""
    ceiling = T.limit(model, perturbed, rounds=rounds)
    contenders = {f"xai_lib {name}": lambda: fn(None), **(peers or {})}
    times = T.side_by_side(contenders, rounds)
    limit_name = f"limit: forward of {len(perturbed)} images, chunks of {ceiling.size}"
    times[limit_name] = ceiling.seconds
    references = [limit_name] + ([peer_label] if peer_label else [])
    T.report(f"{name}, {len(perturbed)} perturbed images 3x32x32", times, references)
    chunks = T.sweep(fn, len(perturbed), rounds=max(2, rounds // 2))
    print(f"  {chunks}")
    T.record(
        "metrics",
        name,
        times[f"xai_lib {name}"],
        ceiling.seconds,
        peer_label,
        times.get(peer_label),
        chunks.ratio,
    )


def run(rounds: int = 5) -> None:
    device = T.device()
    model = cnn().to(device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 32, 32, generator=g).to(device)
    target = torch.zeros(16, dtype=torch.long, device=device)
    maps = xl.saliency(model, x, target)

    steps = 64
    fractions = torch.linspace(0, 1, steps + 1)
    order = maps.sum(1).flatten(1).argsort(1, descending=True)  # (16, 1024)
    deleted = []
    for f in fractions:  # step-major, as the library's chunks
        keep = torch.ones(16, 1024, device=device)
        keep.scatter_(1, order[:, : round(float(f) * 1024)], 0)
        deleted.append(x * keep.view(16, 1, 32, 32))
    measure(
        "deletion",
        lambda b: xl.metrics.deletion(model, x, maps, target, steps, batch_size=b),
        torch.cat(deleted),
        model,
        rounds,
    )

    n = 128
    perturbed = x[:8].repeat(n, 1, 1, 1)  # the cost does not depend on which cells go
    measure(
        "mu_fidelity",
        lambda b: xl.metrics.mu_fidelity(
            model, x[:8], maps[:8], target[:8], n=n, seed=0, batch_size=b
        ),
        perturbed,
        model,
        rounds,
    )

    n, sigma = 64, 0.1

    def gaussian(inputs):
        noise = sigma * torch.randn_like(inputs)
        return noise, inputs - noise

    measure(
        "infidelity",
        lambda b: xl.metrics.infidelity(
            model, x, maps, target, sigma=sigma, n=n, seed=0, batch_size=b
        ),
        x.repeat(n, 1, 1, 1),
        model,
        rounds,
        peers={
            "captum infidelity": lambda: captum_infidelity(
                model,
                gaussian,
                x,
                maps,
                target=target,
                n_perturb_samples=n,
                max_examples_per_batch=n * len(x),
                normalize=True,
            )
        },
        peer_label="captum infidelity",
    )


if __name__ == "__main__":
    arguments = T.parse_args(__doc__)
    run(arguments.rounds)
