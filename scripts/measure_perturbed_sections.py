"""Section candidates on perturbed real parts (scan-like meshes, point clouds) against the clean originals.

For each part (aligned, clean): the clean mesh, ``perturb.scan`` and ``perturb.points`` versions, all
normalised with the clean mesh's frame. Per variant: the IoU against the clean mesh of the verifier's
best single section (``best_section_program`` on the variant itself), of the best of ``all_candidates``
ranked by IoU against the clean mesh (an oracle: what the candidates could give), and the time taken
by ``all_candidates``. The meshes are read in place from ../shared/realparts and never copied.

    .venv/bin/python scripts/measure_perturbed_sections.py [--limit 20] [--variants clean scan points]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import trimesh

from backend.geometry.metrics import iou_with_method
from backend.geometry.normalize import normalizing_frame
from backend.geometry.perturb import points, scan
from backend.geometry.solid import GeometryError, program_to_mesh
from backend.sections.candidates import all_candidates

REALPARTS = Path(__file__).resolve().parents[1].parent / "shared" / "realparts"


def _variant(clean: trimesh.Trimesh, name: str, seed: int) -> trimesh.Trimesh | trimesh.PointCloud:
    frame = normalizing_frame(clean)
    if name == "clean":
        return frame.apply_to_mesh(clean)
    if name == "scan":
        return frame.apply_to_mesh(scan(clean, seed))
    return trimesh.PointCloud(frame.apply(points(clean, seed).vertices))


def _iou(program, gt: trimesh.Trimesh) -> float:
    try:
        return iou_with_method(program_to_mesh(program), gt)[0]
    except GeometryError:
        return 0.0


def _best_section(target) -> object | None:
    from backend.verify.reference import best_section_program

    try:
        return best_section_program(target, quantize=False)[0]
    except Exception as exc:  # noqa: BLE001 - a measurement: report and go on
        print(f"    best_section_program: {type(exc).__name__}: {exc}")
        return None


def measure(folder: Path, limit: int, variants: list[str], seed: int, verifier: bool) -> dict:
    rows: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    for path in sorted(folder.glob("*.stl"))[:limit]:
        clean = trimesh.load(path, force="mesh")
        gt = normalizing_frame(clean).apply_to_mesh(clean)
        line = f"{path.stem[:28]:<28}"
        for name in variants:
            target = _variant(clean, name, seed)
            t0 = time.process_time()
            try:
                programs = all_candidates(target, quantize=False)
            except Exception as exc:  # noqa: BLE001
                print(f"    all_candidates({name}): {type(exc).__name__}: {exc}")
                programs = []
            dt = time.process_time() - t0
            oracle = max((_iou(p, gt) for p in programs), default=0.0)
            best = _best_section(target) if verifier else None
            chosen = _iou(best, gt) if best is not None else 0.0
            rows[name].append((chosen, oracle, dt))
            line += f" | {name} {100 * chosen:5.1f} {100 * oracle:5.1f} {dt:5.2f}s n={len(programs):2d}"
        print(line, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REALPARTS)
    ap.add_argument("--set", default="fusion360")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", nargs="+", default=["clean", "scan", "points"])
    ap.add_argument("--no-verifier", action="store_true", help="skip best_section_program")
    args = ap.parse_args()
    rows = measure(args.root / args.set, args.limit, args.variants, args.seed, not args.no_verifier)
    print("\nvariant   best section (verifier)   best of all_candidates (oracle)   all_candidates time")
    for name, r in rows.items():
        if not r:
            continue
        chosen, oracle, dt = zip(*r)
        print(
            f"{name:<9} {100 * statistics.fmean(chosen):6.1f} %                 "
            f"{100 * statistics.fmean(oracle):6.1f} %                         "
            f"median {statistics.median(dt):.2f} s, max {max(dt):.2f} s"
        )


if __name__ == "__main__":
    main()
