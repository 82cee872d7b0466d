"""Section candidates: one-feature programs extruding an axis-aligned cross-section of the mesh.

For each axis and a few relative heights the mesh (already in the normalised frame) is sliced, the
section is fitted with lines / arcs / circles (``fit.py``), and extruded from the mesh's minimum
along that axis over its full extent. The verifier (``backend.verify.reference``) picks the best of them
for the evaluation's reference row. ``layered_candidates`` adds stacked
extrusions (one per slab between the mesh's flat faces) for stepped parts; ``all_candidates`` is
both, for the reconstruction verifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
import trimesh

from backend.cad.canonical import canonicalize
from backend.cad.program import Extent, ExtentKind, Extrude, Operation, Plane, Profile, Program, Sketch
from backend.cad.quantize import quantize_value
from backend.sections.cloud import is_clean_mesh
from backend.sections.fit import FIT_TOLERANCE, MIN_AREA, fit_section, snap_profile
from backend.sections.slices import SKETCH_COLUMNS, RobustSlicer, robust_slicer

RELATIVE_HEIGHTS = (0.1, 0.3, 0.5, 0.7, 0.9)
HEIGHT_JITTER = 0.00731  # of the extent: keeps slices off faces placed at round fractions
DUPLICATE_SECTION = 0.01  # symmetric-difference area / union area under which two sections are one
MAX_LAYERS = 4  # slabs of a layered candidate (and of the observation the model reads, as trained) ...
FINE_LAYERS = 10  # ... and of its finer twin, offered where the part has more steps (its largest ones)
FLAT_COS = 0.999  # a face whose normal is this close to the axis is flat (a step between slabs)
STEP_MERGE = 1e-3  # flat faces at heights closer than this are one step
MIN_STEP_AREA = 0.01  # total flat area of a step (normalised units²)
MIN_SEARCH_AREA = 5e-4  # ... and of a level the model's extrusions may end at (a small pocket's floor)
MIN_LAYER = 0.005  # steps this close to the mesh's ends are its top / bottom
_NODE_DIGITS = 9  # decimals kept of section points (normalised frame)
# canonical sketch frame per axis (canonical.py): (x_dir, normal); y_dir = normal x x_dir
AXIS_FRAMES = {
    0: ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0)),
    1: ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    2: ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}


def section_polygons(mesh: trimesh.Trimesh, axis: int, level: float):
    """The mesh's cross-section at ``level`` along ``axis`` as shapely geometry in sketch coordinates
    (None when the plane misses the mesh or the section encloses no area).

    Section points are rounded to ``_NODE_DIGITS`` decimals so that neighbouring triangles' crossings of a
    shared edge meet; ``build_area`` nests the rings (even-odd) and drops open chains.
    """
    normal = np.zeros(3)
    normal[axis] = 1.0
    segments = trimesh.intersections.mesh_plane(mesh, normal, normal * level)
    if len(segments) == 0:
        return None
    flat = np.round(segments[:, :, list(SKETCH_COLUMNS[axis])], _NODE_DIGITS)
    geom = shapely.build_area(shapely.multilinestrings(flat))
    if geom.is_empty or geom.area < MIN_AREA:
        return None
    return geom


def fitted_profiles(geom, tol: float = FIT_TOLERANCE, quantize: bool = True) -> tuple[Profile, ...]:
    """Fitted, valid profiles of a section, on the token grid when ``quantize``."""
    snapped = (snap_profile(p, quantize) for p in fit_section(geom, tol))
    return tuple(p for p in snapped if p is not None)


def extrusion_feature(
    profiles: Sequence[Profile],
    axis: int,
    lo: float,
    hi: float,
    operation: Operation = Operation.NEW,
    quantize: bool = True,
) -> Extrude:
    """One extrude of sketch-frame profiles on the canonical plane of ``axis`` from ``lo`` to ``hi``."""
    x_dir, normal = AXIS_FRAMES[axis]
    qlo, qhi = (quantize_value(lo), quantize_value(hi)) if quantize else (lo, hi)
    origin = tuple(qlo * c for c in normal)
    plane = Plane(origin, x_dir, normal)
    return Extrude(Sketch(plane, tuple(profiles)), Extent(ExtentKind.ONE_SIDE, qhi - qlo), operation)


class MeshSlicer:
    """The exact route for a clean mesh: its own sections and flat faces, the fixed fitting tolerance.
    (``slices.RobustSlicer`` is the same for scans and point clouds.)"""

    duplicate = DUPLICATE_SECTION

    def __init__(self, mesh: trimesh.Trimesh) -> None:
        self.mesh = mesh
        self.bounds = np.asarray(mesh.bounds)
        self._sections: dict[tuple[int, float], object] = {}  # candidates and observations share slices

    def polygons(self, axis: int, level: float):
        key = (axis, level)
        if key not in self._sections:
            self._sections[key] = section_polygons(self.mesh, axis, level)
        return self._sections[key]

    def steps(self, axis: int, max_steps: int) -> list[float]:
        return _face_steps(self.mesh, axis, max_steps)

    def search_steps(self, axis: int, max_steps: int) -> list[float]:
        """``steps`` down to smaller faces (``MIN_SEARCH_AREA``): where an extrusion may end."""
        return _face_steps(self.mesh, axis, max_steps, MIN_SEARCH_AREA)

    def profiles(self, geom, quantize: bool = True) -> tuple[Profile, ...]:
        return fitted_profiles(geom, quantize=quantize)


Target = trimesh.Trimesh | trimesh.PointCloud | MeshSlicer | RobustSlicer


def slicer_for(target: Target) -> MeshSlicer | RobustSlicer:
    """The exact route for a clean (CAD) mesh, the robust one for scans, open meshes and point clouds."""
    if isinstance(target, MeshSlicer | RobustSlicer):
        return target
    return MeshSlicer(target) if is_clean_mesh(target) else robust_slicer(target)


def _same_section(a, b, tolerance: float = DUPLICATE_SECTION) -> bool:
    if abs(a.area - b.area) > tolerance * max(a.area, b.area):
        return False
    union = a.union(b).area
    return union <= 0 or a.symmetric_difference(b).area <= tolerance * union


def _heights(lo: float, hi: float, relative: Sequence[float]) -> list[float]:
    return [lo + (r + HEIGHT_JITTER) * (hi - lo) for r in relative]


def section_candidates(
    mesh_normalized: Target, heights_per_axis: int = 5, quantize: bool = True
) -> list[Program]:
    """Canonical one-feature programs, each a section extruded over the mesh's extent along its axis.

    ``quantize``: numbers on the token grid (expressible as tokens); else continuous values.
    """
    relative = RELATIVE_HEIGHTS if heights_per_axis == 5 else _spread(heights_per_axis)
    slicer = slicer_for(mesh_normalized)
    bounds = slicer.bounds
    out: list[Program] = []
    for axis in (2, 0, 1):
        lo, hi = float(bounds[0, axis]), float(bounds[1, axis])
        if quantize and quantize_value(hi) - quantize_value(lo) <= 0:
            continue
        kept = []
        for level in _heights(lo, hi, relative):
            geom = slicer.polygons(axis, level)
            if geom is None or any(_same_section(geom, k, slicer.duplicate) for k in kept):
                continue
            kept.append(geom)
            profiles = slicer.profiles(geom, quantize=quantize)
            if profiles:
                feature = extrusion_feature(profiles, axis, lo, hi, quantize=quantize)
                out.append(canonicalize(Program((feature,)), quantize=quantize))
    return out


def _spread(k: int) -> tuple[float, ...]:
    return tuple((i + 0.5) / k for i in range(k))


# --- stacked sections (stepped parts) ---------------------------------------------------------------


def step_heights(
    mesh: trimesh.Trimesh | trimesh.PointCloud, axis: int, max_steps: int = MAX_LAYERS - 1
) -> list[float]:
    """Heights along ``axis`` of the largest flat faces facing it, strictly inside the mesh's extent
    (where a stepped part changes section), largest total area first, at most ``max_steps``. Scans and
    point clouds: dense layers of samples with normals along the axis (``RobustSlicer.steps``)."""
    if not is_clean_mesh(mesh):
        return robust_slicer(mesh).steps(axis, max_steps)
    return _face_steps(mesh, axis, max_steps)


def _face_steps(
    mesh: trimesh.Trimesh, axis: int, max_steps: int, min_area: float = MIN_STEP_AREA
) -> list[float]:
    normals = np.asarray(mesh.face_normals)
    flat = np.abs(normals[:, axis]) > FLAT_COS
    if not flat.any():
        return []
    lo, hi = (float(v) for v in mesh.bounds[:, axis])
    heights = np.asarray(mesh.triangles_center)[flat, axis]
    areas = np.asarray(mesh.area_faces)[flat]
    keys = np.round(heights / STEP_MERGE).astype(np.int64)
    uniq, inverse = np.unique(keys, return_inverse=True)
    total = np.bincount(inverse, weights=areas)
    mean_h = np.bincount(inverse, weights=areas * heights) / np.maximum(total, 1e-300)
    inside = (mean_h > lo + MIN_LAYER) & (mean_h < hi - MIN_LAYER) & (total >= min_area)
    order = np.argsort(-total[inside])
    return [float(h) for h in mean_h[inside][order][:max_steps]]


def layered_candidates(mesh_normalized: Target, quantize: bool = True) -> list[Program]:
    """Per axis, one program of stacked extrusions (new, then join), one per slab between the step
    heights (the ``MAX_LAYERS`` - 1 largest steps), each slab extruding its own mid-height section; slabs
    with the same section merge; and, where the part has more steps, its finer twin between the
    ``FINE_LAYERS`` - 1 largest (the verifier weighs both: fewer slabs, or the steps they leave out).
    Only axes with at least two distinct slabs give a program. A scan or a point cloud also gets the
    program between its ``RobustSlicer.dense_steps`` where they differ from its ``steps`` (flat faces
    too narrow for their samples' normals, or, on an axis with more flat faces than slabs allow, other
    ones of them: the verifier weighs both)."""
    slicer = slicer_for(mesh_normalized)
    out = []
    for axis in (2, 0, 1):
        program = layered_program(slicer, axis, quantize)
        if program is not None:
            out.append(program)
        fine_steps = slicer.steps(axis, FINE_LAYERS - 1)  # largest first: the first ones are the above's
        if len(fine_steps) >= MAX_LAYERS:  # a part of more steps than the slabs allow
            finer = layered_program(slicer, axis, quantize, fine_steps)
            if finer is not None and finer not in out:
                out.append(finer)
        if isinstance(slicer, RobustSlicer):  # also with the narrow faces the normals miss
            dense = slicer.dense_steps(axis, MAX_LAYERS - 1)
            if sorted(dense) != sorted(slicer.steps(axis, MAX_LAYERS - 1)):
                program = layered_program(slicer, axis, quantize, dense)
                if program is not None and program not in out:
                    out.append(program)
    return out


def layered_program(
    slicer: MeshSlicer | RobustSlicer, axis: int, quantize: bool = True, steps: Sequence[float] | None = None
) -> Program | None:
    """The stacked extrusions along ``axis`` (see ``layered_candidates``) between the slicer's steps (or
    ``steps``), or None for fewer than two slabs."""
    lo, hi = (float(v) for v in slicer.bounds[:, axis])
    q = quantize_value if quantize else float
    steps = slicer.steps(axis, MAX_LAYERS - 1) if steps is None else steps
    cuts = sorted({q(v) for v in (lo, hi, *steps)})
    slabs: list[list] = []  # [bottom, top, section]
    for bottom, top in zip(cuts, cuts[1:]):
        geom = slicer.polygons(axis, 0.5 * (bottom + top))
        if geom is None:
            continue
        if slabs and slabs[-1][1] == bottom and _same_section(slabs[-1][2], geom, slicer.duplicate):
            slabs[-1][1] = top
        else:
            slabs.append([bottom, top, geom])
    if len(slabs) < 2:
        return None
    features = []
    for bottom, top, geom in slabs:
        profiles = slicer.profiles(geom, quantize=quantize)
        if profiles:
            op = Operation.JOIN if features else Operation.NEW
            features.append(extrusion_feature(profiles, axis, bottom, top, op, quantize=quantize))
    if len(features) < 2:
        return None
    return canonicalize(Program(tuple(features)), quantize=quantize)


def mid_section_program(
    slicer: MeshSlicer | RobustSlicer, axis: int, quantize: bool = True
) -> Program | None:
    """The section at mid-height along ``axis`` extruded over the mesh's extent, or None."""
    lo, hi = (float(v) for v in slicer.bounds[:, axis])
    if quantize and quantize_value(hi) - quantize_value(lo) <= 0:
        return None
    geom = slicer.polygons(axis, _heights(lo, hi, (0.5,))[0])
    profiles = slicer.profiles(geom, quantize=quantize) if geom is not None else ()
    if not profiles:
        return None
    return canonicalize(
        Program((extrusion_feature(profiles, axis, lo, hi, quantize=quantize),)), quantize=quantize
    )


def all_candidates(mesh_normalized: Target, quantize: bool = True) -> list[Program]:
    """Section candidates then layered candidates: everything this package offers the verifier.

    ``mesh_normalized``: a clean mesh, a scan-like (open, noisy) mesh or a point cloud, normalised."""
    slicer = slicer_for(mesh_normalized)
    return section_candidates(slicer, quantize=quantize) + layered_candidates(slicer, quantize=quantize)
