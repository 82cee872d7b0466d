"""Command line: ``python -m backend <command> --help``.

Each command's heavy imports happen inside it, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
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


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from backend.cad.serialize import loads
    from backend.geometry.solid import program_to_mesh

    program = loads(Path(args.program).read_text())
    mesh = program_to_mesh(program)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    mesh.export(args.out)
    print(f"wrote {args.out}: {len(mesh.faces)} triangles, volume {mesh.volume:.6g}")
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    from backend.geometry.mesh_io import load_mesh
    from backend.geometry.metrics import evaluate_pair

    pred, gt = load_mesh(args.prediction), load_mesh(args.ground_truth)
    report = {}
    for name, strict in (("strict", True), ("own_bbox", False)):
        r = evaluate_pair(pred, gt, strict=strict)
        report[name] = {"cd_x1000": r["cd"] * 1000, "iou": r["iou"], "iou_method": r["iou_method"]}
    print(json.dumps(report, indent=1))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from backend.cad.importers import import_json
    from backend.cad.serialize import dumps

    program = import_json(args.file)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(dumps(program, indent=1))
    print(f"wrote {args.out}: {len(program.features)} features, {program.curve_count} curves")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from backend.data.stats import distribution, report

    print(report(distribution(args.n, args.seed)))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from backend.demo import run_demo

    return run_demo(Path(args.out))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend", description="Mesh to editable sketch-extrude CAD"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="procedural parts: program JSON + text + STL, and a contact sheet")
    p.add_argument("--n", type=int, default=12, help="number of parts (default 12)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("rebuild", help="program JSON -> solid mesh (STL/OBJ/PLY by extension)")
    p.add_argument("program")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_rebuild)

    p = sub.add_parser("metrics", help="Chamfer distance x1000 and IoU by the evaluation protocol")
    p.add_argument("prediction", help="predicted mesh")
    p.add_argument("ground_truth", help="ground-truth mesh")
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser("import", help="DeepCAD or Fusion 360 Gallery JSON -> program JSON")
    p.add_argument("file")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("stats", help="distribution of the procedural generator")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("demo", help="the README demo: reconstruct the bundled examples")
    p.add_argument("--out", default="out", help="output folder (default out/)")
    p.set_defaults(func=_cmd_demo)

    chosen = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    _register_optional(sub, chosen)
    return parser


def _register_optional(sub: argparse._SubParsersAction, chosen: str | None) -> None:
    """Commands whose modules register their own arguments (add_arguments / run).

    Only the chosen command's module is imported (they import torch), so ``--help`` stays fast.
    """
    from importlib import import_module
    from importlib.util import find_spec

    for name, module, helptext in (
        ("train", "backend.train", "train the model on procedural data"),
        ("reconstruct", "backend.reconstruct_cli", "reconstruct mesh files into CAD programs"),
        ("evaluate", "backend.evaluate", "evaluation table on meshes or synthetic parts"),
        ("serve", "backend.server.process", "run the local inference server on 127.0.0.1"),
    ):
        if find_spec(module) is None:
            continue
        p = sub.add_parser(name, help=helptext)
        if name == chosen:
            mod = import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    start = time.perf_counter()
    try:
        code = args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command not in ("serve",):
        print(f"[{args.command}] done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return int(code or 0)
