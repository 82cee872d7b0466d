"""Holes closed in a scanned (noisy) mesh, on a copy: each hole's rim covered by a surface across its
best-fitting plane.

A mesh's boundary is always missing surface: a part's skin is closed, however thin the part. A scan has
holes where the scanner saw nothing — a few triangles here and there, and, when the part stood on a
table, its whole underside and the lower sides of its overhangs. The robust route (``sections.cloud``)
seals gaps as wide as its sealing radius; through a wider one the outside floods the part, which comes
back as a hollow shell (the public parts scanned without their undersides read 21–49 % IoU). Unlike a
point cloud's open side (which cannot be told from a thin cover open downwards), a mesh's hole is known by
its rim, so this needs no word from the user.

Only rims wider than ``WIDE_EDGES`` median edge lengths (the largest distance between two of a rim's
vertices: the same however the scan is turned) are covered: the few triangles a scan loses here and there
(their rims at most 4.2 edges wide on the 106 public parts' scans, ``scripts/measure_scan_rims.py``) are
sealed by the robust route, which was built and measured on them; such scans come back as they are. A
face lost whole can leave a rim little wider than that (the end of a thin peg standing up, 4.9 edges across:
Fusion 360 57830 scanned from above), which the seal does not close either: the outside floods the peg.

The filling is for sampling, not topology: a rim is projected on its best-fitting plane (least squares) and
triangulated there (constrained Delaunay, the rim's own vertices kept; a rim of few corners, a fan), and
the rims of that plane inside it and wound the other way — narrow ones too: a small bore's mouth in a lost
underside — are its holes, left open (a downward pocket's ceiling, on another plane, is filled alone;
rims nested deeper alternate: outlines at even depths, holes at odd ones). A rim whose projection crosses
itself (noise at a corner) is triangulated as the valid polygon its outline draws. A face given twice is
read once (its copy would hide the rim it lies on). Clean (CAD) meshes are filled exactly by
``intake.repair`` instead. A rim a lost swept face left (the round underside of a shaft lying on its side,
the upper half of a bore across a part: two end curves joined by straight sides) is covered by that face
instead (``swept_cover``), neither an outline of a plane nor a hole of one. A curved face lost otherwise
comes back as the flat face across its rim, and a far from flat rim's filling may be wound against its
neighbours (it is sampled, not closed).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import pdist

from backend.intake.repair import Filled, boundary_loops, open_edge_count
from backend.intake.swept_cover import HOLE_NEAR, Swept, swept_cover
from backend.sections.cloud import is_clean_mesh

WIDE_EDGES = 4.5  # rims wider (diameter) than this many median edges are covered (narrower: the seal's)
FAN_CORNERS = 8  # rims of at most this many corners are fanned from their first vertex
SAME_PLANE_TURN = 0.95  # nested rims of one plane: their normals' |cos| at least this ...
SAME_PLANE_OFFSET = 2.0  # ... and every corner within this many times the outer rim's own farthest
# corner of its plane (its noise: a thin plate's other face, 4.5 % of the rim's size away, is another plane)
NEAR_BOX = 0.05  # rims whose boxes lie within an outline's grown by this share of its size get a plane


def _plane(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, unit normal, (2, 3) in-plane basis) of the least-squares plane through ``p``; the normal
    points as the loop ``p`` winds (Newell's area vector), the basis is right-handed with it."""
    centre = p.mean(axis=0)
    _, _, vt = np.linalg.svd(p - centre, full_matrices=False)
    normal = vt[2]
    area = 0.5 * np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)
    if float(area @ normal) < 0:
        normal = -normal
    e1 = vt[0] - (vt[0] @ normal) * normal
    e1 /= np.linalg.norm(e1)
    return centre, normal, np.stack([e1, np.cross(normal, e1)])


def _polygon(ring: np.ndarray) -> shapely.Polygon | None:
    """The polygon a projected rim draws: itself where it is simple, else the valid polygon its outline
    encloses (largest part); None when it encloses nothing."""
    polygon = shapely.Polygon(ring)
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
        parts = [g for g in getattr(polygon, "geoms", [polygon]) if isinstance(g, shapely.Polygon)]
        polygon = max(parts, key=lambda g: g.area) if parts else None
    if polygon is None or polygon.is_empty or polygon.area <= 0:
        return None
    return polygon


def _triangulated(
    polygon: shapely.Polygon,
    centre: np.ndarray,
    basis: np.ndarray,
    index: dict[tuple[float, float], int],
    extra: list[np.ndarray],
    first_extra: int,
) -> np.ndarray:
    """Triangles (vertex ids, counter-clockwise in ``basis``) covering ``polygon``: a corner that is a rim's
    vertex keeps its id (``index``), one made where a noisy rim crossed itself becomes a new vertex on the
    plane (appended to ``extra``, whose first vertex has id ``first_extra``)."""
    out = []
    for triangle in shapely.constrained_delaunay_triangles(polygon).geoms:
        corners = np.asarray(triangle.exterior.coords)[:3]
        (ax, ay), (bx, by), (cx, cy) = corners
        ids = []
        for u, v in corners:
            key = (float(u), float(v))
            if key not in index:
                index[key] = first_extra + len(extra)
                extra.append(centre + u * basis[0] + v * basis[1])
            ids.append(index[key])
        out.append(ids[::-1] if (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) < 0 else ids)
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def _nesting(
    rims: list[np.ndarray],
    planes: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None],
    polygons: list[shapely.Polygon | None],
    outlines: list[int],
    vertices: np.ndarray,
) -> dict[int, int]:
    """For each rim inside an outline candidate (``outlines``: the wide rims) of its plane (``SAME_PLANE_*``)
    and wound the other way, the smallest such outline."""
    if not outlines:
        return {}
    cand = np.asarray(outlines)
    normals = np.array([planes[k][1] for k in cand])
    lo = np.array([vertices[rims[k]].min(axis=0) for k in cand])
    hi = np.array([vertices[rims[k]].max(axis=0) for k in cand])
    slack = np.array(  # along the outer rim's plane
        [SAME_PLANE_OFFSET * np.abs((vertices[rims[k]] - planes[k][0]) @ planes[k][1]).max() for k in cand]
    )[:, None] + 1e-6 * np.max(hi - lo, axis=1, keepdims=True)  # (a rim drawn without noise: its float's)
    areas = np.array([polygons[k].area for k in cand])
    around: dict[int, int] = {}
    for h, inner in enumerate(rims):
        if planes[h] is None or polygons[h] is None:
            continue
        p_lo, p_hi = vertices[inner].min(axis=0), vertices[inner].max(axis=0)
        # boxes first: the outer rim's (grown by its plane's slack) holds the inner one's
        near = (normals @ planes[h][1] <= -SAME_PLANE_TURN) & (areas > polygons[h].area) & (cand != h)
        near &= np.all(lo - slack <= p_lo, axis=1) & np.all(hi + slack >= p_hi, axis=1)
        best = None
        for j in np.flatnonzero(near):
            centre, normal, basis = planes[cand[j]]
            p = vertices[inner] - centre
            if float(np.max(np.abs(p @ normal))) > slack[j, 0]:
                continue
            if (best is None or areas[j] < areas[best]) and polygons[cand[j]].contains(
                shapely.Polygon(p @ basis.T)
            ):
                best = int(j)
        if best is not None:
            around[h] = int(cand[best])
    return around


def _diameter(points: np.ndarray) -> float:
    """The largest distance between two of ``points`` (of at most 2,048 of them, evenly along the rim)."""
    if len(points) > 2048:
        points = points[np.linspace(0, len(points) - 1, 2048).astype(np.int64)]
    return float(pdist(points).max()) if len(points) > 1 else 0.0


def _fans(rims: list[np.ndarray]) -> list[np.ndarray]:
    """Fans of ``rims``, each from its first vertex and wound as it runs (those of one length at once)."""
    by_length: dict[int, list[np.ndarray]] = defaultdict(list)
    for ids in rims:
        by_length[len(ids)].append(ids)
    out = []
    for n, same in by_length.items():
        ids = np.stack(same)
        k = np.arange(1, n - 1)
        out.append(np.stack([np.repeat(ids[:, :1], n - 2, axis=1), ids[:, k], ids[:, k + 1]], axis=2))
    return [f.reshape(-1, 3) for f in out]


def _any_wide_rim(mesh: trimesh.Trimesh, width: float) -> bool:
    """Whether some connected run of open edges may span more than ``width`` (its box's diagonal does)."""
    once = np.asarray(mesh.edges_sorted)[trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)]
    n = len(mesh.vertices)
    graph = coo_matrix((np.ones(len(once)), (once[:, 0], once[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    ids = np.unique(once)
    runs, at = np.unique(labels[ids], return_inverse=True)
    p = np.asarray(mesh.vertices, dtype=np.float64)[ids]
    lo = np.full((len(runs), 3), np.inf)
    hi = np.full((len(runs), 3), -np.inf)
    np.minimum.at(lo, at, p)
    np.maximum.at(hi, at, p)
    return bool(np.any(np.linalg.norm(hi - lo, axis=1) > width))


def fill_scan_holes(mesh: trimesh.Trimesh) -> Filled:
    """``mesh`` with its wide holes covered (module doc) when it is an open mesh that is not a clean (CAD)
    one, else ``mesh`` itself. Never modifies ``mesh``; a face given twice is read once."""
    edges = open_edge_count(mesh)
    if edges == 0 or is_clean_mesh(mesh):
        return Filled(mesh, 0, edges)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    once = np.sort(trimesh.grouping.unique_rows(np.sort(faces, axis=1))[0])
    work = mesh if len(once) == len(faces) else trimesh.Trimesh(mesh.vertices, faces[once], process=False)
    base = np.asarray(work.vertices, dtype=np.float64)
    edge = float(np.median(work.edges_unique_length))
    width = WIDE_EDGES * edge
    if not _any_wide_rim(work, width):  # (quickly: a triangle soup is all narrow rims)
        return Filled(mesh, 0, edges)
    rims = [np.asarray(loop[::-1], dtype=np.int64) for loop in boundary_loops(work)]  # fillings run back
    wide = [k for k, ids in enumerate(rims) if _diameter(base[ids]) > width]
    if not wide:
        return Filled(mesh, 0, edges)
    short = [k for k in wide if len(rims[k]) <= FAN_CORNERS]
    new = _fans([rims[k] for k in short])
    outlines = [k for k in wide if len(rims[k]) > FAN_CORNERS]
    # every rim may be a hole of an outline (a narrow bore's mouth in a lost underside): planes and polygons
    # for the outlines and the rims whose boxes lie within one's (grown by its plane's slack)
    box = np.array([[*base[ids].min(axis=0), *base[ids].max(axis=0)] for ids in rims])
    reach = box[outlines]
    grow = NEAR_BOX * np.max(reach[:, 3:] - reach[:, :3], axis=1, initial=0.0)[:, None]
    within = np.all(reach[None, :, :3] - grow[None] <= box[:, None, :3], axis=2) & np.all(
        reach[None, :, 3:] + grow[None] >= box[:, None, 3:], axis=2
    )
    planes: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * len(rims)
    polygons: list[shapely.Polygon | None] = [None] * len(rims)
    for k in np.flatnonzero(within.any(axis=1)):
        planes[k] = _plane(base[rims[k]])
        centre, _, basis = planes[k]
        polygons[k] = _polygon((base[rims[k]] - centre) @ basis.T)
    # a lost swept face's rim is covered by that face (``swept_cover``), with the rims in it as its holes
    swept: dict[int, Swept] = {}
    in_swept: dict[int, int] = {}
    for k in outlines:
        grown = box[k] + HOLE_NEAR * edge * np.array([-1, -1, -1, 1, 1, 1])
        within_k = np.all(box[:, :3] >= grown[:3], axis=1) & np.all(box[:, 3:] <= grown[3:], axis=1)
        within_k[k] = False
        inner = np.flatnonzero(within_k)
        if (cover := swept_cover(base[rims[k]], edge, [base[rims[h]] for h in inner])) is not None:
            swept[k] = cover
            in_swept.update({int(inner[i]): k for i in cover.holes})
    flat = [k for k in outlines if polygons[k] is not None and k not in swept]
    around = {h: k for h, k in _nesting(rims, planes, polygons, flat, base).items() if h not in swept}
    around.update({h: k for h, k in in_swept.items() if h not in swept})

    def depth(k: int) -> int:  # outlines at even depths, their holes at odd ones
        d = 0
        while k in around:
            k, d = around[k], d + 1
        return d

    holes: dict[int, list[int]] = defaultdict(list)
    for h, k in around.items():
        if depth(k) % 2 == 0:
            holes[k].append(h)
    extra: list[np.ndarray] = []
    filled = len(short)
    for k in outlines:
        if depth(k) % 2 == 1:  # a hole of another outline
            continue
        filled += 1
        ids = rims[k]
        if k in swept:
            new.append(swept[k].faces + len(base) + len(extra))
            extra.extend(swept[k].vertices)
            continue
        if polygons[k] is None:
            new += _fans([ids])
            continue
        centre, _, basis = planes[k]
        shape, index = polygons[k], {}
        for h in [k, *holes.get(k, [])]:
            ring = (base[rims[h]] - centre) @ basis.T
            index.update({(float(u), float(v)): int(i) for i, (u, v) in zip(rims[h], ring, strict=True)})
            if h != k and (hole := _polygon(ring)) is not None:
                shape = shape.difference(hole)
        pieces = [
            g for g in getattr(shape, "geoms", [shape]) if isinstance(g, shapely.Polygon) and g.area > 0
        ]
        faces_k = [_triangulated(g, centre, basis, index, extra, len(base)) for g in pieces]
        new += faces_k or _fans([ids])
    vertices = np.vstack([base, *extra]) if extra else base.copy()
    out = trimesh.Trimesh(
        vertices, np.concatenate([np.asarray(work.faces, dtype=np.int64), *new]), process=False
    )
    return Filled(out, filled, open_edge_count(out))


__all__ = ["fill_scan_holes"]
