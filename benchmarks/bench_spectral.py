"""Speed of the spectral toolkit: expected frequency + radial profile of 1024 maps of 64 x 64.

Compares ``xl.spectral`` (batched torch.fft on the half plane, one matrix product per
reduction) with a straightforward numpy implementation that treats one map at a time
(fft2, fftshift, radius per pixel, bincount), as analysis scripts usually do, and, for
fairness, with the same numpy code batched over all maps. Prints maps per second and the
ratios; on CUDA too when a GPU is present. Also checks that all give the same numbers.

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
        timings = {
            "xl.spectral (torch, CPU)": best_time(
                functools.partial(torch_toolkit, maps), args.repeats, clock
            ),
            "numpy, map by map": best_time(
                functools.partial(numpy_one_by_one, array),
                max(1, args.repeats // 2),
                clock,
            ),
            "numpy, batched": best_time(
                functools.partial(numpy_batched, array), args.repeats, clock
            ),
        }
        if torch.cuda.is_available():
            on_gpu = maps.cuda()
            timings["xl.spectral (torch, CUDA)"] = best_time(
                functools.partial(torch_toolkit, on_gpu), args.repeats
            )  # wall
        ours = timings["xl.spectral (torch, CPU)"]
        print(f"\n{str(dtype).replace('torch.', '')}:")
        for name, seconds in timings.items():
            print(
                f"  {name:28s} {args.maps / seconds:12,.0f} maps/s   ({seconds * 1e3:8.2f} ms)"
                f"   xl.spectral CPU is {seconds / ours:5.1f}x faster"
                if "numpy" in name
                else f"  {name:28s} {args.maps / seconds:12,.0f} maps/s   ({seconds * 1e3:8.2f} ms)"
            )


if __name__ == "__main__":
    main()
