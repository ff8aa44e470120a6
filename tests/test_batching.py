"""The one chunked loop (batches) and the automatic chunk size (auto_batch_size).

The rule is a fixed function of the sample size and the device type, so two identical calls
chunk, and compute, identically; chunks cover every (variant, sample) pair once, in order;
the automatic chunks are evened out; no method runs the model more than its work needs; and
results do not depend on the chunking beyond float rounding.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import xai_lib as xl
from xai_lib._core import batching
from xai_lib._core.batching import auto_batch_size, batches

from .helpers import small_cnn

SAMPLE_SIZES = [1, 10, 64, 192, 3 * 32 * 32, 3 * 64 * 64, 3 * 128 * 128, 3 * 224 * 224]


def test_auto_batch_size_on_a_cpu_follows_the_documented_rule():
    for numel in SAMPLE_SIZES + [3 * 1024 * 1024, 2**30]:
        size = auto_batch_size(numel, "cpu")
        expected = min(
            max(
                math.isqrt(batching.AUTO_CPU_SCALE // numel), batching.AUTO_MIN_SAMPLES
            ),
            batching.AUTO_MAX_ELEMENTS // numel,
        )
        assert size == max(1, expected)
    # the measured sweet spots: 128-512 images of 32 px, 64-128 of 64 px, 16-32 of 128 px
    # and 16 of 224 px (benchmarks/bench_batching.py)
    assert 128 <= auto_batch_size(3 * 32 * 32) <= 256
    assert 64 <= auto_batch_size(3 * 64 * 64) <= 128
    assert 32 <= auto_batch_size(3 * 128 * 128) <= 64
    assert 16 <= auto_batch_size(3 * 224 * 224) < 32
    assert auto_batch_size(torch.Size([3, 32, 32]).numel(), torch.device("cpu")) == (
        auto_batch_size(3072)
    )


def test_auto_batch_size_is_monotone_and_memory_bounded_on_every_device():
    for device in ("cpu", "cuda", "mps"):  # the rule needs no device, only its type
        sizes = [auto_batch_size(numel, device) for numel in SAMPLE_SIZES]
        assert sizes == sorted(sizes, reverse=True)
        for numel, size in zip(SAMPLE_SIZES, sizes):
            assert size >= 1
            assert size * numel <= max(batching.AUTO_MAX_ELEMENTS, numel)
    # an accelerator takes larger chunks than a CPU
    assert auto_batch_size(3072, "cuda") > auto_batch_size(3072, "cpu")
    assert auto_batch_size(3072, "cuda") == batching.AUTO_BATCH_ELEMENTS["cuda"] // 3072
    assert auto_batch_size(3 * 1024 * 1024, "cuda") == 2  # the cap: 2**23 elements
    assert auto_batch_size(0) >= 1


@pytest.mark.parametrize(
    "variants, samples, batch_size",
    [(1, 10, None), (7, 3, 4), (7, 3, 1), (5, 8, 40), (5, 8, 1000), (1800, 1, None)],
)
def test_chunks_cover_every_pair_once_in_order(variants, samples, batch_size):
    chunks = list(batches(variants, samples, batch_size, 3072))
    covered = torch.cat([torch.arange(c.part.start, c.part.stop) for c in chunks])
    assert torch.equal(covered, torch.arange(variants * samples))
    for c in chunks:
        pairs = torch.arange(c.part.start, c.part.stop)
        assert torch.equal(c.variant, pairs // samples)
        assert torch.equal(c.sample, pairs % samples)
        if batch_size is not None:
            assert len(pairs) <= batch_size


def test_automatic_chunks_are_evened_out_and_explicit_ones_are_exact():
    size = auto_batch_size(3072)
    total = 12 * size + 36  # twelve full chunks and a short one, cut evenly instead
    lengths = [c.part.stop - c.part.start for c in batches(total, 1, None, 3072)]
    assert len(lengths) == 13
    assert max(lengths) <= size and max(lengths) - min(lengths) <= 13
    assert sum(lengths) == total
    lengths = [c.part.stop - c.part.start for c in batches(total, 1, 100, 3072)]
    assert lengths[:-1] == [100] * (len(lengths) - 1)
    assert [c.part for c in batches(1, 5, None, 3072)] == [slice(0, 5)]
    assert list(batches(0, 5, None, 3072)) == []


def test_the_chunking_is_a_pure_function_of_its_arguments():
    def chunking():
        return [c.part for c in batches(225, 8, None, 3072)]

    assert chunking() == chunking()


CASES = {
    "integrated_gradients": {"steps": 12},
    "smoothgrad": {"n": 9, "seed": 0},
    "occlusion": {"patch": 4, "stride": 2},
    "rise": {"n_masks": 50, "seed": 0},
}


def _x(n: int = 5) -> torch.Tensor:
    return torch.rand(
        n, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_methods_do_not_depend_on_the_chunking(name):
    model, x = small_cnn(), _x()
    auto = xl.METHODS[name](model, x, 1, **CASES[name])
    for batch_size in (1, 7, 1000):
        chunked = xl.METHODS[name](model, x, 1, batch_size=batch_size, **CASES[name])
        torch.testing.assert_close(chunked, auto, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(
    "metric, options",
    [
        ("deletion", {"steps": 10}),
        ("insertion", {"steps": 10}),
        ("mu_fidelity", {"n": 30, "seed": 0}),
        ("infidelity", {"n": 9, "seed": 0}),
    ],
)
def test_metrics_do_not_depend_on_the_chunking(metric, options):
    model, x = small_cnn(), _x()
    maps = xl.saliency(model, x, 1)
    score = getattr(xl.metrics, metric)
    auto = score(model, x, maps, 1, **options)
    for batch_size in (1, 7, 1000):
        chunked = score(model, x, maps, 1, batch_size=batch_size, **options)
        torch.testing.assert_close(chunked, auto, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_identical_calls_give_identical_results(name):
    model, x = small_cnn(), _x(20)
    options = {**CASES[name]}
    first = xl.METHODS[name](model, x, 1, **options)
    second = xl.METHODS[name](model, x, 1, **options)
    assert torch.equal(first, second)


class Counting(nn.Module):
    """A model that records the batch size of every forward pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.passes = model, []

    def forward(self, x):
        self.passes.append(x.shape[0])
        return self.model(x)


def test_the_automatic_choice_runs_no_extra_forward_pass():
    """No calibration on the model: the work is exactly what the method needs."""
    model, x = Counting(small_cnn()), _x(3)
    xl.occlusion(
        model, x, 1, patch=4, stride=4
    )  # 16 windows of 3 images, + the clean pass
    assert sum(model.passes) == 3 + 16 * 3
    model.passes.clear()
    xl.rise(model, x, 1, n_masks=40, seed=0)
    assert sum(model.passes) == 40 * 3  # the target is given: no pass for it
    model.passes.clear()
    xl.integrated_gradients(model, x, 1, steps=10)
    assert sum(model.passes) == 10 * 3


def test_large_work_is_cut_into_the_automatic_chunks():
    model, x = Counting(small_cnn()), _x(8)
    xl.occlusion(model, x, 1, patch=1, stride=1)  # 256 windows x 8 images = 2048 images
    chunks = model.passes[1:]  # after the clean pass
    assert sum(chunks) == 2048
    size = auto_batch_size(x[0].numel(), "cpu")
    assert max(chunks) <= size and len(chunks) == math.ceil(2048 / size)
