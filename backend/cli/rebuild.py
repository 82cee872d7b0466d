"""``python -m backend rebuild PROGRAM.json --out MESH``: a program rebuilt as a solid mesh."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program")
    parser.add_argument("--out", required=True)


def run(args: argparse.Namespace) -> int:
    """Write the solid (STL/OBJ/PLY by the extension of ``--out``)."""
    from backend.cad.serialize import loads
    from backend.geometry.solid import program_to_mesh

    program = loads(Path(args.program).read_text())
    mesh = program_to_mesh(program)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    mesh.export(args.out)
    print(f"wrote {args.out}: {len(mesh.faces)} triangles, volume {mesh.volume:.6g}")
    return 0
