"""Deviation map time in headless Blender for a ~100k-triangle input.

    .venv/bin/python scripts/benchmark_deviation.py [--seed 2000000001] [--triangles 100000] [--runs 5]

The input stands in for a scan: a generator part (80 mm) subdivided to about ``--triangles``
triangles, its vertices moved along their normals by a smooth ripple (amplitude 0.2 mm). The
reconstruction is the part's program built by the add-on's builder. Timed: the add-on's
``deviation.make_deviation`` (evaluate both, BVH, signed distance per vertex, colours, material),
median over ``--runs``, plus its stages once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402
import numpy as np  # noqa: E402
import trimesh  # noqa: E402

from backend.cad.serialize import program_to_dict  # noqa: E402
from backend.data.generator import generate  # noqa: E402
from blender_addon import build, deviation  # noqa: E402

SCALE = 80.0
RIPPLE = 0.2  # mm


def scan_like(mesh: trimesh.Trimesh, triangles: int) -> trimesh.Trimesh:
    """``mesh`` subdivided to within 2 % of ``triangles`` faces (bisection on the longest edge allowed),
    with a smooth normal ripple."""
    lo, hi = 1e-3 * mesh.scale, mesh.scale
    for _ in range(30):
        edge = float(np.sqrt(lo * hi))
        v, f = trimesh.remesh.subdivide_to_size(mesh.vertices, mesh.faces, max_edge=edge)
        if abs(len(f) - triangles) <= 0.02 * triangles:
            break
        lo, hi = (edge, hi) if len(f) > triangles else (lo, edge)
    dense = trimesh.Trimesh(v, f, process=True)
    ripple = RIPPLE * np.sin(dense.vertices[:, 0] / 7.0) * np.cos(dense.vertices[:, 1] / 9.0)
    dense.vertices = dense.vertices + dense.vertex_normals * ripple[:, None]
    return dense


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=2_000_000_001)
    parser.add_argument("--triangles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    program, mesh = generate(args.seed)
    mesh = mesh.copy()
    mesh.apply_scale(SCALE)
    scan = scan_like(mesh, args.triangles)
    data = bpy.data.meshes.new("scan")
    data.from_pydata(scan.vertices.tolist(), [], scan.faces.tolist())
    source = bpy.data.objects.new("scan", data)
    bpy.context.scene.collection.objects.link(source)
    coll = build.build_program(program_to_dict(program.transformed(SCALE, (0.0, 0.0, 0.0))), name="part CAD")
    result = build.result_object(coll)
    bpy.context.view_layer.update()
    print(
        f"input: {len(data.polygons)} triangles, {len(data.vertices)} vertices; reconstruction: {result.name}"
    )
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        obj = deviation.make_deviation(source, result)
        times.append(time.perf_counter() - start)
    stats = deviation.info(obj)
    print(
        f"map: {len(obj.data.vertices)} vertices; max {stats['max']:.4f} mm, mean {stats['mean']:.4f} mm,"
        f" 95 % {stats['p95']:.4f} mm (ripple amplitude {RIPPLE} mm)"
    )
    dg = bpy.context.evaluated_depsgraph_get()
    t0 = time.perf_counter()
    ref = deviation.world_mesh(result, dg)
    tree = deviation.surface_tree(ref)
    t1 = time.perf_counter()
    src = deviation.world_mesh(source, dg)
    deviation.densify(src, deviation.DETAIL)
    t2 = time.perf_counter()
    d = deviation.signed_distances(src, tree)
    t3 = time.perf_counter()
    deviation.colors_for(d, stats["limit"])
    t4 = time.perf_counter()
    print(
        f"stages: reference mesh + BVH {t1 - t0:.3f} s, copy + densify {t2 - t1:.3f} s,"
        f" distances {t3 - t2:.3f} s, colours {t4 - t3:.3f} s"
    )
    print(
        f"deviation map, {len(data.polygons)} triangles: median {statistics.median(times):.3f} s over {args.runs} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
