"""Does the reconstruction write the design as its designer did? Measured on real designs whose
operations are known: the Fusion 360 Gallery reconstruction JSON in ``../shared/realparts/json_fusion360``
(18 timelines, 9 of them with cuts). Each design is imported (``backend.cad.importers``), tessellated,
reconstructed by the pipeline, and compared with its design:
IoU, feature count, and whether the output cuts where the design cuts.

    .venv/bin/python scripts/evaluate_design_intent.py [--json ../shared/realparts/json_fusion360]
        [--checkpoint FOLDER] [--candidates N] [--fixed-budgets] [--no-level-search] [--out out/design_intent]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, default=Path("../shared/realparts/json_fusion360"))
    p.add_argument("--checkpoint", default=None, help="model folder (default: the shipped one)")
    p.add_argument("--candidates", type=int, default=8, help="model candidates (0: sections only)")
    p.add_argument(
        "--fixed-budgets",
        action="store_true",
        help="decoding and refinement budgets in work, not seconds (as `evaluate --fixed-budgets`)",
    )
    p.add_argument(
        "--no-level-search",
        action="store_true",
        help="without the level search (as `evaluate --no-level-search`)",
    )
    p.add_argument("--out", type=Path, default=Path("out/design_intent"))
    args = p.parse_args()

    from backend.cad.importers.fusion360 import import_fusion360
    from backend.cad.program import Operation
    from backend.geometry.solid import input_scale, program_to_mesh
    from backend.reconstruct import ReconstructOptions, Reconstructor

    paths = sorted(args.json.glob("*.json"))
    if not paths:
        p.error(f"no design timelines (*.json) in {args.json}")
    rec = Reconstructor(args.checkpoint, unmask_checkpoint="none")
    rows = []
    for path in paths:
        design = import_fusion360(json.loads(path.read_text()))
        mesh = program_to_mesh(design, input_scale(design))  # tessellated as an input
        res = rec.reconstruct(
            mesh,
            ReconstructOptions(
                candidates=args.candidates,
                fixed_budgets=args.fixed_budgets,
                level_search=not args.no_level_search,
            ),
        )
        ops = [f.operation for f in res.program.features]
        row = {
            "name": path.stem,
            "iou": res.scores["iou"],
            "source": res.source,
            "design_features": len(design.features),
            "features": len(ops),
            "design_cuts": sum(f.operation is Operation.CUT for f in design.features),
            "cuts": sum(op is Operation.CUT for op in ops),
        }
        rows.append(row)
        print(json.dumps(row))
    n = len(rows)
    cutting = [r for r in rows if r["design_cuts"]]
    summary = {
        "n": n,
        "iou_mean": sum(r["iou"] for r in rows) / n,
        "features_within_1": sum(abs(r["features"] - r["design_features"]) <= 1 for r in rows) / n,
        "model_won": sum(r["source"] == "model" for r in rows) / n,
        "designs_with_cuts": len(cutting),
        "cut_where_design_cuts": sum(r["cuts"] > 0 for r in cutting) / max(len(cutting), 1),
        "cut_where_design_does_not": sum(r["cuts"] > 0 for r in rows if not r["design_cuts"])
        / max(n - len(cutting), 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"summary": summary, "parts": rows}, indent=1))
    lines = [
        "| design | IoU | source | features (design) | cuts (design) |",
        "|---|---|---|---|---|",
        *(
            f"| {r['name']} | {100 * r['iou']:.1f} % | {r['source']} | {r['features']} ({r['design_features']})"
            f" | {r['cuts']} ({r['design_cuts']}) |"
            for r in rows
        ),
        "",
        f"{n} designs: mean IoU {100 * summary['iou_mean']:.1f} %, features within ±1 of the design"
        f" {100 * summary['features_within_1']:.0f} %, model won {100 * summary['model_won']:.0f} %;"
        f" the output cuts on {100 * summary['cut_where_design_cuts']:.0f} % of the {len(cutting)} designs that cut"
        f" and on {100 * summary['cut_where_design_does_not']:.0f} % of the others.",
    ]
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
