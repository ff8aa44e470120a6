"""Speed of the spectral toolkit: expected frequency, radial profile and tail exponent of 1024 maps.

Compares ``xl.spectral`` (batched torch.fft on the half plane, one matrix product per
reduction) with a straightforward numpy implementation that treats one map at a time
(fft2, fftshift, radius per pixel, bincount), as analysis scripts usually do, and, for
fairness, with the same numpy code batched over all maps. Two tasks:

* EF + radial profile: ``expected_frequency`` and ``radial_profile`` called one after the
  other (two FFTs) against numpy computing both from one FFT;
* all three (EF, profile, tail exponent over 0.1-0.5 cycles per pixel): ``spectral.summary``
  (one FFT, in cache-sized chunks on a CPU) against numpy batched doing the same from one FFT.
  The target: at least 5x batched numpy in float64 on a CPU.

Prints maps per second and the ratios; on CUDA too when a GPU is present. Also checks that all
give the same numbers.

    python benchmarks/bench_spectral.py [--maps 1024] [--size 64] [--repeats 5] [--threads N] [--clock cpu]

numpy's FFT runs on one thread; torch uses all cores unless ``--threads`` says otherwise
(on a machine busy with other work, one thread avoids waiting for descheduled workers).
``--clock cpu`` times the CPU seconds the process used (all its threads) instead of the wall
clock: the fairer count of work when other jobs share the cores.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
import torch

from xai_lib import spectral


def numpy_one_by_one(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EF and radial profile map by map: what a straightforward script does."""
    size = maps.shape[-1]
    efs, profiles = [], []
    for image in maps:
        power = np.fft.fftshift(np.abs(np.fft.fft2(image)) ** 2)
        freqs = np.fft.fftshift(np.fft.fftfreq(size))
        radius = np.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2)
        efs.append((radius * power).sum() / power.sum())
        bins = np.round(radius * size).astype(int).ravel()
        keep = bins <= size // 2
        profiles.append(
            np.bincount(bins[keep], power.ravel()[keep]) / np.bincount(bins[keep])
        )
    return np.array(efs), np.stack(profiles)


def numpy_batched(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same, vectorized over the maps (full-plane FFT, one bincount per bin via matmul)."""
    size = maps.shape[-1]
    power = np.abs(np.fft.fft2(maps)) ** 2  # (B, H, W)
    freqs = np.fft.fftfreq(size)
    radius = np.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2)
    ef = (power * radius).sum((-2, -1)) / power.sum((-2, -1))
    bins = np.round(radius * size).astype(int).ravel()
    onehot = (bins[:, None] == np.arange(size // 2 + 1)[None, :]).astype(maps.dtype)
    profile = power.reshape(len(maps), -1) @ (onehot / onehot.sum(0))
    return ef, profile


def numpy_batched_summary(maps: np.ndarray, band=(0.1, 0.5)):
    """EF, radial profile and tail exponent, vectorized over the maps, from one FFT."""
    ef, profile = numpy_batched(maps)
    size = maps.shape[-1]
    freqs = np.arange(size // 2 + 1) / size
    inside = (freqs >= band[0]) & (freqs <= band[1])
    log_f = np.log(freqs[inside])
    log_s = np.log(np.maximum(profile[:, inside], np.finfo(maps.dtype).tiny))
    centred = log_f - log_f.mean()
    slope = ((log_s - log_s.mean(1, keepdims=True)) * centred).sum(1) / (
        centred**2
    ).sum()
    return ef, profile, -slope


def torch_summary(maps: torch.Tensor):
    s = spectral.summary(maps)
    if maps.is_cuda:
        torch.cuda.synchronize()
    return s


def torch_toolkit(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ef = spectral.expected_frequency(maps)
    _, profile = spectral.radial_profile(maps)
    if maps.is_cuda:
        torch.cuda.synchronize()
    return ef, profile


def best_time(fn, repeats: int, clock=time.perf_counter) -> float:
    fn()  # warm-up: plans, caches, lazy initialization
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--maps", type=int, default=1024)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice)",
    )
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(
        f"{args.maps} maps of {args.size} x {args.size}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads; {args.clock} clock, best of {args.repeats}"
    )
    for dtype in (torch.float32, torch.float64):
        maps = torch.randn(
            args.maps,
            args.size,
            args.size,
            dtype=dtype,
            generator=torch.Generator().manual_seed(0),
        )
        array = maps.numpy()
        ef, profile = torch_toolkit(maps)
        ef_np, profile_np = numpy_one_by_one(array)
        tolerance = 1e-4 if dtype == torch.float32 else 1e-10
        np.testing.assert_allclose(ef.numpy(), ef_np, rtol=tolerance)
        # the zero-frequency bin of zero-mean noise is a cancellation: compare on the profile's scale
        np.testing.assert_allclose(
            profile.numpy(),
            profile_np,
            rtol=tolerance,
            atol=tolerance * profile_np.mean(),
        )
        both = spectral.summary(maps)
        ef_np, profile_np, tail_np = numpy_batched_summary(array)
        np.testing.assert_allclose(
            both.expected_frequency.numpy(), ef_np, rtol=tolerance
        )
        np.testing.assert_allclose(
            both.radial_profile.numpy(),
            profile_np,
            rtol=tolerance,
            atol=tolerance * profile_np.mean(),
        )
        np.testing.assert_allclose(
            both.tail_exponent.numpy(), tail_np, rtol=tolerance, atol=tolerance
        )
        print(f"\n{str(dtype).replace('torch.', '')}:")
        tasks = {
            "EF + radial profile": {
                "xl.spectral (torch, CPU)": functools.partial(torch_toolkit, maps),
                "numpy, map by map": functools.partial(numpy_one_by_one, array),
                "numpy, batched": functools.partial(numpy_batched, array),
            },
            "EF + profile + tail exponent": {
                "xl.spectral.summary (CPU)": functools.partial(torch_summary, maps),
                "numpy, batched": functools.partial(numpy_batched_summary, array),
            },
        }
        if torch.cuda.is_available():
            on_gpu = maps.cuda()
            tasks["EF + radial profile"]["xl.spectral (torch, CUDA)"] = (
                functools.partial(torch_toolkit, on_gpu)
            )
            tasks["EF + profile + tail exponent"]["xl.spectral.summary (CUDA)"] = (
                functools.partial(torch_summary, on_gpu)
            )
        for task, contenders in tasks.items():
            timings = {
                name: best_time(
                    fn,
                    max(1, args.repeats // 2) if "map by map" in name else args.repeats,
                    time.perf_counter if "CUDA" in name else clock,
                )
                for name, fn in contenders.items()
            }
            ours = next(iter(timings.values()))
            print(f"  {task}:")
            for name, seconds in timings.items():
                line = f"    {name:28s} {args.maps / seconds:12,.0f} maps/s   ({seconds * 1e3:8.2f} ms)"
                if "numpy" in name:
                    line += f"   xl.spectral CPU is {seconds / ours:5.1f}x faster"
                print(line)


if __name__ == "__main__":
    main()
