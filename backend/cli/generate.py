"""``python -m backend generate --n N --seed S --out DIR``: procedural parts and a contact sheet."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=12, help="number of parts (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--out", required=True, help="output folder")


def run(args: argparse.Namespace) -> int:
    """Per seed: program JSON, text form and STL; then ``contact_sheet.png``."""
    from backend.cad.serialize import dumps
    from backend.cad.text import program_to_text
    from backend.data.generator import generate
    from backend.geometry.render import contact_sheet, render_mesh

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = [], []
    for seed in range(args.seed, args.seed + args.n):
        program, mesh = generate(seed)
        stem = out / f"part_{seed:06d}"
        stem.with_suffix(".json").write_text(dumps(program, indent=1))
        stem.with_suffix(".txt").write_text(program_to_text(program))
        mesh.export(stem.with_suffix(".stl"))
        images.append(render_mesh(mesh, size=192))
        labels.append(f"seed {seed}: {len(program.features)} feat")
        print(f"{stem.name}: {len(program.features)} features, {program.curve_count} curves")
    sheet = out / "contact_sheet.png"
    contact_sheet(images, columns=min(6, len(images)), labels=labels).save(sheet)
    print(f"wrote {args.n} parts and {sheet}")
    return 0
