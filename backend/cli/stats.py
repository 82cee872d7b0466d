"""``python -m backend stats [--n N] [--seed S]``: the procedural generator's distribution report."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    """Print the report for ``--n`` parts from ``--seed``."""
    from backend.data.stats import distribution, report

    print(report(distribution(args.n, args.seed)))
    return 0
