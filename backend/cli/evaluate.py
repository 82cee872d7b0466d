"""``python -m backend evaluate (--meshes DIR | --synthetic N)``: the evaluation table (``backend.evaluate``).

Writes ``results.json``, ``results.md`` and ``sheet.png`` into ``--out``; the pipeline's options are
the ``reconstruct`` command's (``add_reconstruct_options``), less its sampling ``--seed`` and
``--no-refine``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from backend.cli.reconstruct import add_reconstruct_options, options_from_args
from backend.evaluate import (
    PIPELINE,
    SECTION_ONLY,
    Part,
    build_buckets,
    build_summary,
    evaluate_part,
    markdown,
    mesh_parts,
    synthetic_parts,
    write_sheet,
)
from backend.geometry.perturb import PERTURBATIONS

PERTURBATION_NAMES = tuple(PERTURBATIONS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs (--meshes or --synthetic), the pipeline's options and the output folder."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--meshes", help="folder of mesh files (an INDEX.tsv with model/bucket columns is used)")
    src.add_argument("--synthetic", type=int, metavar="N", help="N generator parts for held-out seeds")
    parser.add_argument("--limit", type=int, default=None, help="at most this many meshes (--meshes)")
    parser.add_argument("--seed", type=int, default=0, help="--synthetic: skip this many held-out seeds")
    add_reconstruct_options(parser, seed=False, refine=False)
    parser.add_argument("--no-reference", action="store_true", help="skip the section reference row")
    parser.add_argument(
        "--no-section-only",
        action="store_true",
        help="skip the section-only pipeline row (by default each part is reconstructed a second time with"
        " --candidates 0, so the model's contribution shows as the difference to the pipeline row)",
    )
    parser.add_argument(
        "--perturb",
        choices=PERTURBATION_NAMES,
        default=None,
        help="give the pipeline each mesh as people have it and score against the clean original:"
        " rotate (one random rotation), scan (remeshed, noise 0.2 %% of the size, 2 %% of triangles missing),"
        " points (8,192 surface points, no faces, no normals), open (the exact mesh with 2 %% of its triangles"
        " missing), turned-scan, turned-points and turned-open (the scan, the points or the open mesh, turned"
        " as rotate turns the part), stray-points (the points and 1 %% more scattered around the part: a"
        " scanner's floaters), points-from-above (8,192 points of the faces not turned downwards: the part"
        " scanned standing on a table), scan-from-above and turned-scan-from-above (the scan without those"
        " faces: an open mesh, turned or not), scan-with-floaters (the scan and eight small blobs floating"
        " around it), inverted (every triangle wound inwards), mixed-winding (30 %% of them wound the other way),"
        " overlapping-pieces (the part as two closed pieces that overlap, never united), double-sided (every"
        " triangle again, wound the other way); deterministic per part",
    )
    parser.add_argument("--out", default="out/evaluate", help="output folder (default out/evaluate)")


def model_label(reconstructor: Any, decoder: str) -> str:
    """The checkpoint the ``decoder`` runs on, or "none (sections only)"."""
    if decoder == "unmask" and getattr(reconstructor, "unmask_model", None) is not None:
        return str(reconstructor.unmask_checkpoint)
    return str(reconstructor.checkpoint) if reconstructor.has_model else "none (sections only)"


def _line(p: dict[str, Any]) -> str:
    """One method's result for one part, for the progress output."""
    if not p.get("valid"):
        return f"invalid ({p.get('error')})"
    return (
        f"CD x1000 {p['cd'] * 1000:.3f} IoU {p['iou']:.3f} {p['features']} features"
        f" {p['seconds']:.2f} s ({p['source']})"
    )


def _iter_parts(parts: list[Part]) -> Iterator[Part]:
    yield from tqdm(parts, desc="evaluate", unit="part")


def run(args: argparse.Namespace) -> int:
    """Evaluate every part, print the table and write the three files; 1 when there is no input."""
    import trimesh

    from backend.reconstruct import Reconstructor

    if args.meshes:
        parts, inputs = mesh_parts(args.meshes, args.limit), str(args.meshes)
    else:
        parts, inputs = (
            synthetic_parts(args.synthetic, args.seed),
            f"synthetic held-out seeds (skip {args.seed})",
        )
    if not parts:
        print("no inputs to evaluate")
        return 1
    reconstructor = Reconstructor(
        args.checkpoint, threads=args.threads, unmask_checkpoint=args.unmask_checkpoint
    )
    options = options_from_args(args)
    reference = not args.no_reference
    rows: list[dict[str, Any]] = []
    meshes: dict[str, trimesh.Trimesh] = {}
    for part in _iter_parts(parts):
        row, result = evaluate_part(
            part, reconstructor, options, reference, args.perturb, section_only=not args.no_section_only
        )
        rows.append(row)
        if result is not None:
            meshes[part.name] = result.mesh
        tqdm.write(f"{part.name}: {_line(row[PIPELINE])}")
        if SECTION_ONLY in row:
            tqdm.write(f"  section only: {_line(row[SECTION_ONLY])}")
    config = {
        "inputs": inputs,
        "n_parts": len(parts),
        "candidates": options.candidates,
        "temperature": options.temperature,
        "decoder": options.decoder,
        "sections": options.use_sections,
        "model": model_label(reconstructor, options.decoder),
        "steps": options.steps,
        "perturb": args.perturb,
        "section_only": not args.no_section_only,
        "fixed_budgets": options.fixed_budgets,
        "level_search": options.level_search,
        "underside_unseen": options.underside_unseen,
    }
    summary, buckets = build_summary(rows), build_buckets(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"config": config, "summary": summary, "buckets": buckets, "parts": rows}
    (out / "results.json").write_text(json.dumps(report, indent=1, default=str))
    md = markdown(summary, buckets, config)
    (out / "results.md").write_text(md)
    write_sheet(parts, rows, meshes, out / "sheet.png")
    print(md)
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, {out / 'sheet.png'}")
    return 0
