"""Run every benchmark in one process and print the README's performance table (markdown).

Each script also runs alone (``python benchmarks/bench_<name>.py``) and prints its details:
the limit's curve over chunk sizes, the batch-size sweeps, the peers at their own best
settings. Here their one-line results are collected: per method, its time, the ratio to the
limit (the fastest chunked forward(+backward) of the same inputs over a sweep of chunk sizes),
the ratio to the peer library in the same run, and ``batch_size=None`` over the best fixed
``batch_size`` (1.00 is the best; the target is at most 1.10). Ratios of times: lower is
faster. The spectral benchmark (maps per second against numpy) runs alone:
``python benchmarks/bench_spectral.py``.

Run: python benchmarks/run_all.py [--threads N] [--clock cpu] [--rounds 5] [--skip batching]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

SCRIPTS = ("gradients", "perturbation", "metrics", "lrp", "dataset", "batching")


def table(results: list[dict]) -> str:
    def ratio(value):
        return "" if value is None else f"{value:.2f}x"

    lines = [
        "| benchmark | method | time (ms) | vs limit | vs peer (peer) | auto vs best batch_size |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        peer = f"{ratio(r['vs peer'])} ({r['peer']})" if r["peer"] else ""
        lines.append(
            f"| {r['benchmark']} | {r['method']} | {r['ms']:.1f} | {ratio(r['vs limit'])} "
            f"| {peer} | {ratio(r['auto vs best batch_size'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    arguments = T.parse_args(__doc__, skip="")
    skip = set(filter(None, arguments.skip.split(",")))
    start = time.perf_counter()
    for name in SCRIPTS:
        if name in skip:
            continue
        module = __import__(f"bench_{name}")
        if name == "gradients":
            module.run(arguments.rounds, memory=False)
        elif name == "lrp":
            module.run(max(arguments.rounds, 7))
        elif name == "batching":
            module.run(rounds=max(2, arguments.rounds // 2))
        else:
            module.run(arguments.rounds)
    print(f"\n## Performance ({T.describe()}, {time.perf_counter() - start:.0f} s)\n")
    print(table(T.RESULTS))


if __name__ == "__main__":
    main()
