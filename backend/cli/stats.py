"""``python -m backend stats [--n N] [--seed S] [--rich-share R]``: the procedural generator's distribution
report (with ``--rich-share``, of the training parts ``train --rich-share R`` sees)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rich-share", type=float, default=0.0, help="share of the parts drawn rich, as train --rich-share"
    )


def run(args: argparse.Namespace) -> int:
    """Print the report for ``--n`` parts from ``--seed``."""
    from backend.data.stats import distribution, report

    if not 0.0 <= args.rich_share <= 1.0:
        print(f"error: --rich-share must lie in [0, 1], got {args.rich_share}", file=sys.stderr)
        return 2
    print(report(distribution(args.n, args.seed, args.rich_share)))
    return 0
