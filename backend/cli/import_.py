"""``python -m backend import FILE.json --out PROGRAM.json``: DeepCAD or Fusion 360 Gallery JSON -> program."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file")
    parser.add_argument("--out", required=True)


def run(args: argparse.Namespace) -> int:
    """Import one file and write it as cadprog/1 JSON."""
    from backend.cad.importers import import_json
    from backend.cad.serialize import dumps

    program = import_json(args.file)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(dumps(program, indent=1))
    print(f"wrote {args.out}: {len(program.features)} features, {program.curve_count} curves")
    return 0
