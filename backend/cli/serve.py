"""``python -m backend serve [--port P|0] [--checkpoint PATH] [--device auto]``: the local server.

Prints one JSON line on stdout (port, pid, token file) and serves until SIGTERM/SIGINT
(``backend.server.process``).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--checkpoint", default=None, help="model folder (default: the shipped checkpoint)")
    parser.add_argument(
        "--unmask-checkpoint",
        default=None,
        help="masked-diffusion model folder for the 'unmask' decoder (default: the shipped one; 'none': off)",
    )
    parser.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, cuda:1, mps")


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; 0 on a clean stop."""
    from backend.server.process import serve

    return serve(args.port, args.checkpoint, args.unmask_checkpoint, args.device)
