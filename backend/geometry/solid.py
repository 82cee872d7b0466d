"""Program -> solid: each feature's profiles become a manifold3d CrossSection, extruded along the
sketch normal over ``Extent.interval()`` and placed with the plane frame, then combined with the
solid so far (new / join: union, cut: difference, intersect: intersection).

The plane frame used is orthonormal: the normal is normalised and ``x_dir`` is made exactly
perpendicular to it (validation already requires it to be nearly so) and normalised;
``y = normal × x``.

Faces of different features that are meant to coincide must coincide exactly, or booleans leave
films and slivers (0.1 + -0.105 != -0.005 in floating point). So the plane origin's in-plane part is
moved into the sketch coordinates (zero for canonical programs), the start and end heights along the
normal are computed in world terms and rounded to ``HEIGHT_DIGITS`` significant decimals of the
part's size, and the prism's bottom and top vertices are set to exactly those heights.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict

import manifold3d
import numpy as np
import trimesh

from backend.cad.program import Extrude, Operation, Plane, Program
from backend.cad.tessellate import CHORD_TOLERANCE, signed_area
from backend.cad.validate import ProgramError, validated_polygons
from backend.geometry.convert import NotManifoldError, manifold_to_trimesh, trimesh_to_manifold

__all__ = [
    "INPUT_CHORD_TOLERANCE",
    "GeometryError",
    "NotManifoldError",
    "build_manifold",
    "manifold_to_trimesh",
    "plane_basis",
    "input_scale",
    "program_scale",
    "program_to_mesh",
    "trimesh_to_manifold",
]

HEIGHT_DIGITS = 12


class GeometryError(ValueError):
    """The program does not give a solid; the message says why."""


def plane_basis(plane: Plane) -> np.ndarray:
    """3x4 affine matrix [x | y | normal | origin] mapping sketch (u, v, w) to world coordinates."""
    n = np.asarray(plane.normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    x = np.asarray(plane.x_dir, dtype=np.float64)
    x = x - np.dot(x, n) * n
    x = x / np.linalg.norm(x)
    y = np.cross(n, x)
    return np.column_stack([x, y, n, np.asarray(plane.origin, dtype=np.float64)])


def program_scale(program: Program) -> float:
    """The part's size for the chord tolerance of its circles and arcs: the largest side of the box
    around what its adding features extrude (sketch control points and circles, at both ends of each
    extent; all features when none adds), about 1 for a program in the normalised frame; at least 1e-9.
    The size of what the features that add build, not of its numbers: one solid written with a through
    extent or a far sketch plane gets the same circles as written without (twice the largest number,
    the rule before, coarsened such programs' circles by up to twice the tolerance and cost round parts
    up to 3 points of IoU). A plane without a direction, or a malformed program, falls back to that
    rule (validation then says what is wrong). The height grid keeps it (``_grid_scale``). The box is the
    frame's axis-aligned one: a program turned in space may draw its circles a little differently (the
    pipeline builds its candidates in the part's own frame, where faces face the axes)."""
    try:
        size = _adding_box_size(program)
    except (TypeError, ValueError):  # malformed numbers: validation names them
        size = None
    return size if size is not None else _magnitude_scale(program)


def _adding_box_size(program: Program) -> float | None:
    """The largest side of the adding features' box (``program_scale``), or None when it has none."""
    adding = [f for f in program.features if f.operation in (Operation.NEW, Operation.JOIN)]
    lows, highs = [], []
    for f in adding or program.features:
        try:
            box = _remembered_feature_box(f)
        except TypeError:  # a malformed feature that cannot be a key
            box = _feature_box(f)
        if box is not None:
            lows.append(box[0])
            highs.append(box[1])
    if lows:
        size = float(np.max(np.max(highs, axis=0) - np.min(lows, axis=0)))
        if math.isfinite(size) and size > 0:
            return max(size, 1e-9)
    return None


def _feature_box(feature: Extrude) -> tuple[np.ndarray, np.ndarray] | None:
    """(lowest, highest) world corner of what one feature extrudes: its sketch's control points at both
    ends of its extent; None when its sketch has no curves."""
    pts = _sketch_points(feature)
    if not len(pts):
        return None
    with np.errstate(invalid="ignore", divide="ignore"):  # a plane without a direction: the caller falls back
        basis = plane_basis(feature.sketch.plane)
    ends = [
        pts[:, :1] * basis[:, 0] + pts[:, 1:] * basis[:, 1] + t * basis[:, 2] + basis[:, 3]
        for t in feature.extent.interval()
    ]
    low = np.minimum(ends[0].min(axis=0), ends[1].min(axis=0))
    high = np.maximum(ends[0].max(axis=0), ends[1].max(axis=0))
    low.setflags(write=False)  # remembered (``_remembered_feature_box``): shared by every caller
    high.setflags(write=False)
    return low, high


# every trial of a level search or refinement measures its program's size; most of its features are the
# last trial's
_remembered_feature_box = functools.lru_cache(maxsize=4096)(_feature_box)


def _sketch_points(feature) -> np.ndarray:
    """(k, 2) sketch points bounding a feature's loops: curve ends (and arc mid points), circles' extremes."""
    pts: list[tuple[float, float]] = []
    for p in feature.sketch.profiles:
        for loop in p.loops:
            for c in loop.curves:
                if hasattr(c, "center"):
                    (cx, cy), r = c.center, c.radius
                    pts += [(cx - r, cy - r), (cx + r, cy + r)]
                else:
                    pts += [c.start, c.end, *((c.mid,) if hasattr(c, "mid") else ())]
    return np.asarray(pts, dtype=np.float64).reshape(-1, 2)


def _magnitude_scale(program: Program) -> float:
    """Twice the largest magnitude among the program's numbers (at least 1e-9): the height grid's scale
    (``_grid_scale``), and ``program_scale``'s fallback."""
    size = 1e-9
    for f in program.features:
        size = max(size, *(abs(v) for v in f.sketch.plane.origin), abs(f.extent.d1), abs(f.extent.d2))
        for p in f.sketch.profiles:
            for loop in p.loops:
                for c in loop.curves:
                    pts = (c.center,) if hasattr(c, "center") else (c.start, c.end)
                    size = max(size, *(abs(v) for pt in pts for v in pt))
    return 2.0 * size


# Meshes that stand for an input (a generated part, an imported design) are tessellated as the shipped
# checkpoints were trained and measured on: chords within 1e-3 of twice the program's largest number (the
# rule before candidates were rebuilt finer, ``tessellate.CHORD_TOLERANCE``). The model reads the input's
# sections, so a finer input is another input: the training data and the benchmarks' inputs stay put.
INPUT_CHORD_TOLERANCE = 1e-3


def input_scale(program: Program) -> float:
    """The ``scale`` for ``program_to_mesh`` / ``build_manifold`` of a mesh that stands for an input
    (``INPUT_CHORD_TOLERANCE``)."""
    return _magnitude_scale(program) * INPUT_CHORD_TOLERANCE / CHORD_TOLERANCE


def _grid_scale(program: Program, scale: float) -> float:
    """The scale of the height grid: ``scale``, or twice the program's largest number when that is
    larger. Heights are rounded to ``HEIGHT_DIGITS`` decimals of it; a part far from the origin next to
    its size would otherwise get a grid finer than its heights' float precision (no snapping: films)."""
    return max(scale, _magnitude_scale(program))


def _prism_mesh(loops: list[np.ndarray], lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, triangles) of the closed prism of one profile (outer loop + holes) between heights
    ``lo`` and ``hi`` (``_manifold`` makes the solid).

    Built vertex by vertex (no 2D clipping, no rescaling), so every sketch coordinate and both heights
    reach the solid bit for bit.
    """
    rings = []
    for j, poly in enumerate(loops):
        ccw = signed_area(poly) > 0
        rings.append(poly if ccw == (j == 0) else poly[::-1])  # outer counter-clockwise, holes clockwise
    pts = np.concatenate(rings)
    n = len(pts)
    tris = np.asarray(manifold3d.triangulate(rings), dtype=np.int64).reshape(-1, 3)
    sides, first = [], 0
    for ring in rings:
        i = np.arange(first, first + len(ring))
        j = np.roll(i, -1)
        sides += [np.stack([i, j, j + n], 1), np.stack([i, j + n, i + n], 1)]
        first += len(ring)
    faces = np.concatenate([tris[:, ::-1], tris + n, *sides])
    verts = np.concatenate([np.column_stack([pts, np.full(n, lo)]), np.column_stack([pts, np.full(n, hi)])])
    return np.ascontiguousarray(verts), faces.astype(np.uint64)


def _manifold(verts: np.ndarray, faces: np.ndarray) -> manifold3d.Manifold:
    """The solid of a prism's vertices and triangles (``_prism_mesh``)."""
    body = manifold3d.Manifold(manifold3d.Mesh64(vert_properties=verts, tri_verts=faces))
    if body.status() != manifold3d.Error.NoError:
        raise GeometryError(f"profile does not give a closed prism ({body.status().name})")
    return body


def feature_placement(feature, digits: int, index: int = 0) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(plane basis, the plane origin's in-plane offset, low and high extrusion heights along the normal,
    rounded to ``digits`` decimals so coinciding faces of different features coincide exactly)."""
    basis = plane_basis(feature.sketch.plane)
    origin = basis[:, 3]
    offset = np.array([origin @ basis[:, 0], origin @ basis[:, 1]])
    height = origin @ basis[:, 2]
    lo, hi = (round(float(height + t), digits) for t in feature.extent.interval())
    if hi <= lo:
        raise GeometryError(f"feature {index}: the extrusion has no depth")
    return basis, offset, lo, hi


PRISM_CACHE = 256  # features whose prisms' vertices and triangles are kept: a level search or a
# refinement rebuilds one program many times with one feature changed, the others' prisms the same
_prisms: OrderedDict[tuple, tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = OrderedDict()
_prisms_lock = threading.Lock()


def _feature_body(feature: Extrude, profiles, grid: tuple[float, int], index: int) -> manifold3d.Manifold:
    """The feature's own solid, placed: its profiles' prisms (``profiles``: its tessellated loops at the
    part's scale) between its rounded heights, united, in world coordinates. The prisms' vertices and
    triangles are remembered per (feature, scale, height digits), which decide them; the solids are made
    afresh each time, in the same order, so a rebuilt program is the very mesh it was (manifold3d
    numbers each solid it makes, and its booleans' triangles follow those numbers). Equal features are
    one key even where a coordinate is 0.0 in one and -0.0 in the other: a zero's sign, nothing else."""
    try:
        key: tuple | None = (feature, *grid)
        with _prisms_lock:
            kept = _prisms.get(key)
            if kept is not None:
                _prisms.move_to_end(key)
    except TypeError:  # a malformed feature that cannot be a key (validation has passed it: no list)
        key, kept = None, None
    if kept is None:
        basis, offset, lo, hi = feature_placement(feature, grid[1], index)
        basis[:, 3] = 0.0
        kept = (basis, [_prism_mesh([poly + offset for poly in loops], lo, hi) for loops in profiles])
        if key is not None:
            with _prisms_lock:
                _prisms[key] = kept
                if len(_prisms) > PRISM_CACHE:
                    _prisms.popitem(last=False)
    basis, meshes = kept
    prisms = [_manifold(*m) for m in meshes]
    body = prisms[0] if len(prisms) == 1 else manifold3d.Manifold.batch_boolean(prisms, manifold3d.OpType.Add)
    return body.transform(basis)


def build_manifold(program: Program, scale: float | None = None) -> manifold3d.Manifold:
    """The program's solid. ``scale`` is the part's size for the chord tolerance and the snap grid
    (default: ``program_scale(program)``).

    Raises ``GeometryError`` for an invalid program or an empty result.
    """
    if scale is None:
        scale = program_scale(program)
    try:
        polygons = validated_polygons(program, scale)
    except ProgramError as exc:
        raise GeometryError(f"invalid program: {exc}") from exc
    digits = HEIGHT_DIGITS - math.ceil(math.log10(_grid_scale(program, scale)))
    solid = manifold3d.Manifold()
    for i, (feature, profiles) in enumerate(zip(program.features, polygons)):
        body = _feature_body(feature, profiles, (scale, digits), i)
        op = feature.operation
        if op in (Operation.NEW, Operation.JOIN):
            solid = solid + body
        elif op is Operation.CUT:
            solid = solid - body
        else:
            solid = solid ^ body
    status = solid.status()
    if status != manifold3d.Error.NoError:
        raise GeometryError(f"solid construction failed ({status.name})")
    if solid.is_empty() or solid.volume() <= 0:
        raise GeometryError("empty result: the features leave no material")
    return solid


def program_to_mesh(program: Program, scale: float | None = None) -> trimesh.Trimesh:
    """Watertight triangle mesh of the program's solid (see ``build_manifold``)."""
    return manifold_to_trimesh(build_manifold(program, scale))
