"""Where does the model lose? For each part, the verifier's candidates near the lowest loss, with their
exact (or voxel) volume overlap, and what the verifier's own rule would choose with looser tolerances.

Answers whether the verifier's rule or the model's programs stand between the model and more wins: a part
the section fitter wins is counted as *tied, passed over on volume* (a model program within the loss tie,
at least as compact as the choice, whose overlap is lower by more than the rule allows), *tied, less
compact*, *near* (its best program within 1.1 / 1.5 / 3 times the lowest loss) or *far*. Then the same
candidates are chosen again by ``refine.pick_keeping_volume`` for a grid of loss ties (``tie_relative``)
and volume tolerances (``volume_slack``: a factor on the allowed overlap losses); the first cell is the
pipeline's own choice.

    .venv/bin/python scripts/measure_model_headroom.py --meshes ../shared/realparts/fusion360 \
        [--perturb scan] [--limit N] [--out out/headroom.jsonl]

The pipeline runs as in ``evaluate`` (shipped checkpoints, 8 candidates, refinement off: the choice is
what is measured).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NEAR = (1.1, 1.5, 3.0)
TIES = (0.03, 0.1, 0.3)  # the pipeline's (rank.TIE_RELATIVE) first
SLACKS = (1.0, 3.0, 10.0)  # the pipeline's first


def near_candidates(candidates, chosen, reference, limit: int = 40) -> list[dict]:
    """The candidates within ``NEAR[-1]`` of the lowest loss (and the chosen one), measured."""
    from backend.verify.rank import complexity

    lowest = min(c.rank_cd for c in candidates)
    near = sorted((c for c in candidates if c.rank_cd <= NEAR[-1] * lowest), key=lambda c: c.rank_cd)[:limit]
    if chosen not in near:
        near.append(chosen)
    return [
        {
            "source": c.source,
            "loss": c.rank_cd,
            "complexity": list(complexity(c.program)),
            "features": len(c.program.features),
            "overlap": None if reference is None else reference(c.program),
            "chosen": c is chosen,
        }
        for c in near
    ]


class _Remembered:
    """A volume scorer that measures each program once (the grid asks the same candidates nine times)."""

    def __init__(self, scorer) -> None:
        self.scorer, self.exact, self.seen = scorer, scorer.exact, {}

    def __call__(self, program) -> float:
        if program not in self.seen:
            self.seen[program] = self.scorer(program)
        return self.seen[program]


def grid_choices(
    candidates, geometry, volume_truth, remembered, n_extrudes: int | None, holes_shown=None
) -> dict[str, dict]:
    """``refine.pick_keeping_volume`` over the same candidates for each (loss tie, volume slack), its
    volume measured by ``remembered`` (and, for a scan, the holes its sections found: ``holes_shown``)."""
    from backend.verify import refine

    build, refine.volume_reference = refine.volume_reference, lambda g, t: remembered
    try:
        out = {}
        for tie in TIES:
            for slack in SLACKS:
                c = refine.pick_keeping_volume(candidates, geometry, volume_truth, tie, slack, holes_shown)
                out[f"{tie}/{slack}"] = {
                    "source": c.source,
                    "overlap": None if remembered is None else remembered(c.program),
                    "within_one": None
                    if n_extrudes is None
                    else abs(len(c.program.features) - n_extrudes) <= 1,
                }
        return out
    finally:
        refine.volume_reference = build


def verdict(items: list[dict]) -> str:
    """Why the model's program was not chosen (or "model")."""
    from backend.verify.rank import tie_bound

    chosen = next(i for i in items if i["chosen"])
    if chosen["source"] == "model":
        return "model"
    model = [i for i in items if i["source"] == "model"]
    if not model:
        return "far"
    lowest = min(i["loss"] for i in items)
    tied = [i for i in model if i["loss"] <= tie_bound(lowest)]
    if tied:
        compact = [i for i in tied if i["complexity"] <= chosen["complexity"]]
        return "tied, passed over on volume" if compact else "tied, less compact"
    ratio = min(i["loss"] for i in model) / lowest
    return next((f"near ({r}x)" for r in NEAR if ratio <= r), "far")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meshes", type=Path, required=True, help="folder of meshes (with INDEX.tsv or not)")
    p.add_argument("--perturb", choices=("rotate", "scan", "points"), default=None)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("out/headroom.jsonl"))
    args = p.parse_args()

    import backend.reconstruct as pipeline
    from backend.evaluate import mesh_parts, perturbed_input
    from backend.verify.refine import volume_reference

    try:
        parts = mesh_parts(args.meshes, args.limit)
    except FileNotFoundError as exc:
        p.error(str(exc))
    if not parts:
        p.error(f"no meshes in {args.meshes}")
    seen: dict = {}
    choose = pipeline.pick_keeping_volume

    def recording(candidates, geometry, volume_truth, **kwargs):  # the pipeline's own choice, inputs kept
        chosen = choose(candidates, geometry, volume_truth, **kwargs)
        scorer = kwargs.get("reference") or volume_reference(geometry, volume_truth)  # the pipeline's own
        seen.update(
            candidates=candidates,
            chosen=chosen,
            geometry=geometry,
            volume_truth=volume_truth,
            reference=None if scorer is None else _Remembered(scorer),
            holes_shown=kwargs.get("holes_shown"),  # a scan's found holes (the pipeline's second pick)
        )
        return chosen

    pipeline.pick_keeping_volume = recording
    rec = pipeline.Reconstructor()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("w") as out:
        for k, part in enumerate(parts):
            geometry, _ = perturbed_input(part.load(), part.name, args.perturb)
            rec.reconstruct(geometry, pipeline.ReconstructOptions(refine=False))
            items = near_candidates(seen["candidates"], seen["chosen"], seen["reference"])
            grid = grid_choices(
                seen["candidates"],
                seen["geometry"],
                seen["volume_truth"],
                seen["reference"],
                part.n_extrudes,
                seen["holes_shown"],
            )
            row = {"name": part.name, "items": items, "verdict": verdict(items), "grid": grid}
            out.write(json.dumps(row) + "\n")
            rows.append(row)
            print(f"[{k + 1}/{len(parts)}] {part.name}: {row['verdict']}", file=sys.stderr, flush=True)

    n = len(rows)
    print(f"\n{n} parts ({args.meshes}{', ' + args.perturb if args.perturb else ''}); written {args.out}\n")
    print("| where the model stands | parts |\n|---|---|")
    for name in sorted({r["verdict"] for r in rows}):
        print(f"| {name} | {sum(r['verdict'] == name for r in rows)} |")
    print(
        "\nThe same candidates chosen by the verifier's rule with looser tolerances (first cell: the pipeline's"
    )
    print("own): model share of wins / features within ±1 of the design / mean overlap of the choice\n")
    print("| loss tie | " + " | ".join(f"volume tolerance ×{v:g}" for v in SLACKS) + " |")
    print("|---|" + "---|" * len(SLACKS))
    for tie in TIES:
        cells = []
        for slack in SLACKS:
            picks = [r["grid"][f"{tie}/{slack}"] for r in rows]
            share = 100 * sum(c["source"] == "model" for c in picks) / n
            known = [c["within_one"] for c in picks if c["within_one"] is not None]
            within = f"{100 * sum(known) / len(known):.1f} %" if known else "–"
            overlaps = [c["overlap"] for c in picks if c["overlap"] is not None]
            mean = f"{100 * statistics.mean(overlaps):.2f} %" if overlaps else "–"
            cells.append(f"{share:.1f} % / {within} / {mean}")
        print(f"| {tie} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
