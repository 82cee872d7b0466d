"""Command line: ``python -m backend <command> --help``.

One module per command in this package, each exposing ``add_arguments(parser)`` and ``run(args) -> int``;
``COMMANDS`` lists them. Only the chosen command's module is imported (some import torch), and each
command's heavy imports happen inside its ``run``, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import import_module

# command -> (module, help); the order is the order of ``--help``
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("backend.cli.generate", "procedural parts: program JSON + text + STL, and a contact sheet"),
    "rebuild": ("backend.cli.rebuild", "program JSON -> solid mesh (STL/OBJ/PLY by extension)"),
    "export": ("backend.cli.export", "program JSON -> STEP solid (.step) or CadQuery script (.py)"),
    "metrics": ("backend.cli.metrics", "Chamfer distance x1000 and IoU by the evaluation protocol"),
    "import": ("backend.cli.import_", "DeepCAD or Fusion 360 Gallery JSON -> program JSON"),
    "stats": ("backend.cli.stats", "distribution of the procedural generator"),
    "demo": ("backend.cli.demo", "the README demo: reconstruct the bundled examples"),
    "train": ("backend.cli.train", "train the model on procedural data"),
    "reconstruct": ("backend.cli.reconstruct", "reconstruct mesh files into CAD programs"),
    "evaluate": ("backend.cli.evaluate", "evaluation table on meshes or synthetic parts"),
    "serve": ("backend.cli.serve", "run the local inference server on 127.0.0.1"),
}
UNTIMED = ("serve",)  # commands that print no "done in" line


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command; only the chosen one (first non-option word) gets its arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m backend", description="Mesh to editable sketch-extrude CAD"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    for name, (module, helptext) in COMMANDS.items():
        p = sub.add_parser(name, help=helptext)
        if name == chosen:
            mod = import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 2 (with the message on stderr) for a bad input."""
    args = build_parser(argv).parse_args(argv)
    start = time.perf_counter()
    try:
        code = args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command not in UNTIMED:
        print(f"[{args.command}] done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return int(code or 0)
