"""Procedural generator throughput (one process), rebuild time per part, and the distribution report.

python scripts/benchmark_generator.py [--n 300] [--runs 3] [--stats 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.data.generator import generate  # noqa: E402
from backend.data.stats import distribution, report  # noqa: E402
from backend.geometry.solid import program_to_mesh  # noqa: E402


def throughput(n: int, runs: int) -> tuple[list[float], list[float]]:
    """Samples per second of ``generate`` (program + mesh) over seeds 0..n-1, once per run:
    by wall clock and by this process's CPU time (the one-core rate on a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        for seed in range(n):
            generate(seed)
        wall.append(n / (time.perf_counter() - t))
        cpu.append(n / (time.process_time() - c))
    return wall, cpu


def rebuild_times(n: int) -> list[float]:
    """Seconds of ``program_to_mesh`` for each generated program."""
    programs = [generate(seed)[0] for seed in range(n)]
    times = []
    for p in programs:
        t = time.perf_counter()
        program_to_mesh(p)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="seeds per throughput run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stats", type=int, default=1000, help="parts for the distribution report")
    args = ap.parse_args()
    wall, cpu = throughput(args.n, args.runs)
    print(
        f"generate (program + mesh): {statistics.median(wall):.0f} samples/s wall clock, "
        f"{statistics.median(cpu):.0f} per CPU-second (median of {args.runs} runs x {args.n} seeds; "
        f"wall {', '.join(f'{r:.0f}' for r in wall)})"
    )
    times = rebuild_times(args.n)
    print(
        f"program_to_mesh rebuild: median {1000 * statistics.median(times):.2f} ms, "
        f"95th percentile {1000 * sorted(times)[int(0.95 * len(times))]:.2f} ms per part"
    )
    print(report(distribution(args.stats, 0)))


if __name__ == "__main__":
    main()
