"""Deterministic perturbations of a clean mesh: the inputs people actually have.

Each perturbation is a pure function of ``(mesh, seed)``: equal seeds give equal results and the input
mesh is never modified. ``PERTURBATIONS`` maps a name to a function with one signature,
``(mesh, seed) -> (geometry, matrix)``, where ``matrix`` (4x4) maps the clean mesh's coordinates to the
perturbed geometry's coordinates (the identity for ``scan``, ``points`` and ``open``). ``turned-scan``,
``turned-points`` and ``turned-open`` are the ``scan``, ``points`` and ``open`` of the part (same seed: same
noise, same samples, same triangles missing), turned as ``rotate`` turns it: a scan as a user brings it,
in the scanner's axes. ``stray-points`` is ``points`` with 1 % more samples scattered around the part;
``points-from-above`` samples only the faces a scanner sees with the part standing on a table (not its
underside); ``scan-from-above`` is that part's ``scan`` without those faces (an open mesh, as a scanner's
software gives it before the part is turned over and scanned again). ``inverted``, ``mixed-winding``,
``overlapping-pieces`` and ``double-sided`` are the exact mesh as people model it: wound inwards, wound both
ways, left as two closed pieces that overlap, or every triangle given twice.
"""

from __future__ import annotations

from collections.abc import Callable

import manifold3d
import numpy as np
import trimesh
from scipy.spatial.transform import Rotation

from backend.geometry.containment import points_inside
from backend.geometry.convert import NotManifoldError, manifold_to_trimesh, mesh_of_faces, trimesh_to_manifold
from backend.geometry.sampling import sample_surface

SCAN_EDGE_FRACTION = 1.0 / 50.0  # remeshed edge length, as a fraction of the largest extent
SCAN_MAX_FACES = 200_000  # triangle budget of the remeshed surface

Geometry = trimesh.Trimesh | trimesh.PointCloud
Perturbation = Callable[[trimesh.Trimesh, int], tuple[Geometry, np.ndarray]]


def _turn_matrix(seed: int) -> np.ndarray:
    """The 4x4 matrix of one uniformly random rotation about the origin (``rotate``'s, per seed)."""
    matrix = np.eye(4)
    matrix[:3, :3] = Rotation.random(random_state=seed).as_matrix()
    return matrix


def rotate(mesh: trimesh.Trimesh, seed: int) -> tuple[trimesh.Trimesh, np.ndarray]:
    """A copy of ``mesh`` turned by one uniformly random rotation about the origin, and its 4x4 matrix."""
    matrix = _turn_matrix(seed)
    vertices = np.asarray(mesh.vertices, dtype=np.float64) @ matrix[:3, :3].T
    return _mesh(vertices, mesh.faces), matrix


def scan(mesh: trimesh.Trimesh, seed: int, noise: float = 0.002, drop: float = 0.02) -> trimesh.Trimesh:
    """``mesh`` as a scan would give it: remeshed, welded, noisy, with holes.

    The surface is remeshed (edges bisected down to ~1/50 of the largest extent, within
    ``SCAN_MAX_FACES`` triangles), its vertices welded then moved by Gaussian noise of
    ``sigma = noise * largest extent``, then a fraction ``drop`` of the triangles is removed at random
    (the mesh becomes open). Unreferenced vertices are removed.
    """
    vertices, faces, _ = _scanned(mesh, seed, noise, drop)
    return mesh_of_faces(vertices, faces)


def _scanned(
    mesh: trimesh.Trimesh, seed: int, noise: float, drop: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scan``'s noisy vertices and kept faces, and its faces' unit normals before the noise."""
    if noise < 0 or not 0 <= drop < 1:
        raise ValueError(f"need noise >= 0 and 0 <= drop < 1, got noise={noise}, drop={drop}")
    rng = np.random.default_rng(seed)
    vertices, faces = _remesh(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces))
    welded = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    welded.merge_vertices(merge_tex=True, merge_norm=True)
    vertices = np.array(welded.vertices, dtype=np.float64)
    faces = np.array(welded.faces, dtype=np.int64)
    normals = np.asarray(welded.face_normals, dtype=np.float64)
    extent = float(np.max(np.ptp(vertices, axis=0)))
    vertices += rng.normal(scale=noise * extent, size=vertices.shape)
    n_drop = int(round(drop * len(faces)))
    if n_drop:
        keep = np.ones(len(faces), dtype=bool)
        keep[rng.choice(len(faces), size=n_drop, replace=False)] = False
        faces, normals = faces[keep], normals[keep]
    return vertices, faces, normals


def opened(mesh: trimesh.Trimesh, seed: int, drop: float = 0.02) -> trimesh.Trimesh:
    """``mesh`` as an export that lost some triangles: a fraction ``drop`` of them (at least one) removed at
    random, the rest exact (no remeshing, no noise). Unreferenced vertices are removed."""
    if not 0 < drop < 1:
        raise ValueError(f"need 0 < drop < 1, got drop={drop}")
    rng = np.random.default_rng(seed)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    keep = np.ones(len(faces), dtype=bool)
    keep[rng.choice(len(faces), size=max(1, int(round(drop * len(faces)))), replace=False)] = False
    return mesh_of_faces(np.asarray(mesh.vertices, dtype=np.float64), faces[keep])


def points(mesh: trimesh.Trimesh, seed: int, n: int = 8192) -> trimesh.PointCloud:
    """``n`` area-uniform surface points of ``mesh``: no faces, no normals."""
    pts, _ = sample_surface(mesh, n, seed)
    return trimesh.PointCloud(np.asarray(pts, dtype=np.float64))


UNDERSIDE_Z = -0.5  # ``points-from-above``: faces whose unit normal's z is below this are not seen


def points_from_above(mesh: trimesh.Trimesh, seed: int, n: int = 8192) -> trimesh.PointCloud:
    """``n`` area-uniform samples of the faces a scanner sees with the part on a table: the faces turned
    downwards (the normal's z below ``UNDERSIDE_Z``: the underside, the lower sides of overhangs) are
    left out; no faces, no normals."""
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    while sum(len(k) for k in kept) < n:
        pts, normals = sample_surface(mesh, 2 * n, rng)
        seen = normals[:, 2] >= UNDERSIDE_Z
        if not seen.any():
            raise ValueError("no face of the part is seen from above")
        kept.append(np.asarray(pts[seen], dtype=np.float64))
    return trimesh.PointCloud(np.vstack(kept)[:n])


def scan_from_above(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """``scan`` (the same seed: the same remeshing, noise and missing triangles) without the triangles a
    scanner does not see with the part standing on a table: those of the surface turned downwards (the
    unit normal's z, before the noise, below ``UNDERSIDE_Z``: the underside, the lower sides of overhangs;
    judged before the noise, so no sliver tipped by it is left standing alone there). Unreferenced vertices
    are removed."""
    vertices, faces, normals = _scanned(mesh, seed, 0.002, 0.02)
    seen = faces[normals[:, 2] >= UNDERSIDE_Z]
    if len(seen) == 0:
        raise ValueError("no face of the part is seen from above")
    return mesh_of_faces(vertices, seen)


STRAY_SHARE = 0.01  # ``stray-points``: stray samples per surface sample
STRAY_REACH = 0.5  # ... uniform in the part's box grown by this share of its largest extent on every side


def stray_points(mesh: trimesh.Trimesh, seed: int, n: int = 8192) -> trimesh.PointCloud:
    """``points`` (the same samples) and ``STRAY_SHARE`` as many stray samples, uniform in the part's box
    grown by ``STRAY_REACH`` of its largest extent on every side: a scanner's floaters and dust."""
    surface = np.asarray(points(mesh, seed, n).vertices)
    rng = np.random.default_rng([seed, 1])  # its own stream: the surface samples stay ``points``'
    lo, hi = surface.min(axis=0), surface.max(axis=0)
    grow = STRAY_REACH * float(np.max(hi - lo))
    strays = rng.uniform(lo - grow, hi + grow, size=(max(1, int(round(STRAY_SHARE * n))), 3))
    return trimesh.PointCloud(np.vstack([surface, strays]))


FLOATERS = 8  # ``scan-with-floaters``: small pieces scanned around the part
FLOATER_SIZE = 0.01  # ... each a blob of this share of the part's largest extent across
FLOATER_CLEAR = 0.03  # ... at least this share of it away from the part's surface


def scan_with_floaters(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """``scan`` (the same seed) and ``FLOATERS`` small closed blobs floating around it, uniform in the part's
    box grown by ``STRAY_REACH`` of its largest extent but clear of its surface: what a scanner's software
    keeps of dust, a clamp's tip, the table's speckle."""
    scanned = scan(mesh, seed)
    rng = np.random.default_rng([seed, 2])  # its own stream: the scan stays ``scan``'s
    lo, hi = np.asarray(mesh.bounds[0], dtype=np.float64), np.asarray(mesh.bounds[1], dtype=np.float64)
    size = float(np.max(hi - lo))
    grow = STRAY_REACH * size
    centres: list[np.ndarray] = []
    while len(centres) < FLOATERS:
        c = rng.uniform(lo - grow, hi + grow, size=(4 * FLOATERS, 3))
        _, dist, _ = trimesh.proximity.closest_point(mesh, c)
        far = (
            c[(dist > FLOATER_CLEAR * size) & ~points_inside(mesh, c)]
            if mesh.is_watertight
            else c[dist > FLOATER_CLEAR * size]
        )
        centres += list(far[: FLOATERS - len(centres)])
    blob = trimesh.creation.icosphere(subdivisions=1, radius=0.5 * FLOATER_SIZE * size)
    vertices = np.vstack([np.asarray(scanned.vertices), *(np.asarray(blob.vertices) + c for c in centres)])
    n, m = len(scanned.vertices), len(blob.vertices)
    faces = np.vstack(
        [np.asarray(scanned.faces), *(np.asarray(blob.faces) + n + k * m for k in range(len(centres)))]
    )
    return _mesh(vertices, faces)


MIXED_SHARE = 0.3  # ``mixed-winding``: this share of the triangles wound the other way
PIECE_OVERLAP = 0.1  # ``overlapping-pieces``: each piece reaches this share of the long extent past the cut


def inverted(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """``mesh`` with every triangle wound the other way: its normals point inwards (an export from a
    mirrored object, faces flipped in an editor)."""
    return _mesh(mesh.vertices, np.asarray(mesh.faces)[:, ::-1])


def mixed_winding(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """``mesh`` with a random ``MIXED_SHARE`` of its triangles wound the other way (a surface whose normals
    were never made consistent)."""
    faces = np.array(mesh.faces)
    turned = np.random.default_rng(seed).random(len(faces)) < MIXED_SHARE
    faces[turned] = faces[turned][:, ::-1]
    return _mesh(mesh.vertices, faces)


def double_sided(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """``mesh`` and every triangle again, wound the other way, on vertices of its own (a double-sided
    export, as game and render pipelines write one)."""
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    return _mesh(np.vstack([v, v]), np.vstack([f, f[:, ::-1] + len(v)]))


def overlapping_pieces(mesh: trimesh.Trimesh, seed: int) -> trimesh.Trimesh:
    """The part as two closed pieces that overlap, never united (primitives placed into each other): cut
    across its longest axis at a random point between 35 and 65 % of it, each piece reaching
    ``PIECE_OVERLAP`` of that extent past the cut, its cut face closed. A part that is not a closed
    manifold cannot be cut into closed pieces and is given as it is."""
    try:
        solid = trimesh_to_manifold(mesh)
    except NotManifoldError:
        return _mesh(mesh.vertices, mesh.faces)
    lo, hi = np.asarray(mesh.bounds[0], dtype=np.float64), np.asarray(mesh.bounds[1], dtype=np.float64)
    axis = int(np.argmax(hi - lo))
    extent = float(hi[axis] - lo[axis])
    cut = lo[axis] + extent * np.random.default_rng(seed).uniform(0.35, 0.65)
    pieces = []
    for start, end in (
        (lo[axis] - extent, cut + PIECE_OVERLAP * extent),
        (cut - PIECE_OVERLAP * extent, hi[axis] + extent),
    ):
        box_lo, box_hi = lo - extent, hi + extent
        box_lo[axis], box_hi[axis] = start, end
        box = manifold3d.Manifold.cube((box_hi - box_lo).tolist()).translate(box_lo.tolist())
        pieces.append(manifold_to_trimesh(solid ^ box))
    return _mesh(
        np.vstack([p.vertices for p in pieces]),
        np.vstack([pieces[0].faces, np.asarray(pieces[1].faces) + len(pieces[0].vertices)]),
    )


def _remesh(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bisect long edges down to ~1/50 of the largest extent, coarser if over the triangle budget."""
    extent = float(np.max(np.ptp(vertices, axis=0)))
    max_edge = SCAN_EDGE_FRACTION * extent
    while True:
        v, f = trimesh.remesh.subdivide_to_size(vertices, faces, max_edge=max_edge, max_iter=20)
        if len(f) <= SCAN_MAX_FACES or len(f) <= len(faces):
            return v, f
        max_edge *= 1.5


def _mesh(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    return trimesh.Trimesh(
        vertices=np.array(vertices, dtype=np.float64), faces=np.array(faces, dtype=np.int64), process=False
    )


def _identity(fn: Callable[[trimesh.Trimesh, int], Geometry]) -> Perturbation:
    def perturb(mesh: trimesh.Trimesh, seed: int) -> tuple[Geometry, np.ndarray]:
        return fn(mesh, seed), np.eye(4)

    perturb.__name__ = fn.__name__
    perturb.__doc__ = fn.__doc__
    return perturb


def _turned(fn: Callable[[trimesh.Trimesh, int], Geometry]) -> Perturbation:
    def perturb(mesh: trimesh.Trimesh, seed: int) -> tuple[Geometry, np.ndarray]:
        out = fn(mesh, seed)  # from the clean part: the noise and remeshing scale with its own extent
        matrix = _turn_matrix(seed)
        vertices = np.asarray(out.vertices, dtype=np.float64) @ matrix[:3, :3].T
        if isinstance(out, trimesh.Trimesh):
            return _mesh(vertices, out.faces), matrix
        return trimesh.PointCloud(vertices), matrix

    perturb.__name__ = f"turned_{fn.__name__}"
    perturb.__doc__ = (
        f"``{fn.__name__}`` of the part (same seed), turned as ``rotate`` turns it: {fn.__doc__}"
    )
    return perturb


PERTURBATIONS: dict[str, Perturbation] = {
    "rotate": rotate,
    "scan": _identity(scan),
    "points": _identity(points),
    "turned-scan": _turned(scan),
    "turned-points": _turned(points),
    "open": _identity(opened),
    "turned-open": _turned(opened),
    "stray-points": _identity(stray_points),
    "points-from-above": _identity(points_from_above),
    "scan-from-above": _identity(scan_from_above),
    "turned-scan-from-above": _turned(scan_from_above),
    "scan-with-floaters": _identity(scan_with_floaters),
    "inverted": _identity(inverted),
    "mixed-winding": _identity(mixed_winding),
    "overlapping-pieces": _identity(overlapping_pieces),
    "double-sided": _identity(double_sided),
}
