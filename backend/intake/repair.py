"""Holes closed in a clean (CAD) mesh that arrives open: a copy with each hole's rim triangulated.

A CAD export that lost some triangles (a face that failed to export, a selection that left some out)
is still exact everywhere else, but the exact route reads it by crossing parity and closed sections,
which an open surface does not have: with 2 % of their triangles gone, the Fusion 360 parts came back at
67.5 % IoU on average (99.1 % closed). Each hole's rim is triangulated from its own vertices: where it
is flat, in its plane by constrained Delaunay triangulation (a missing triangle or face of a flat face:
filled exactly, also when non-convex; flat rims of one plane nested inside each other and wound the
other way are one face with holes — a missing face around a bore, an island of faces left in a hole);
else as a fan from one corner (a hole across an edge of the part: the filling cuts that edge), the first
corner whose fan draws no edge the surface already has. Two flat rims that are one outline moved along
its normal, with no edge of the surface between them, are the ends of a missing side wall (a bore's, a
boss's: a whole face that failed to export), rebuilt as a strip between them, not as two discs. A face
whose three neighbours are all gone is dropped (the filling around it covers it). A flat face's triangles are wound as its rims run, a fan as
its rim; rims run against the faces around them, so the filling is wound like its neighbours. Scans and
point clouds are not filled: their route (``sections.slices``) reads the solid from surface samples,
gaps included.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
import trimesh

from backend.sections.cloud import is_clean_mesh

PLANAR_TOLERANCE = 1e-6  # a rim within this share of the mesh's size of its plane is flat


@dataclass(frozen=True)
class Filled:
    """The mesh to reconstruct and what was done to it."""

    mesh: trimesh.Trimesh
    holes: int  # boundary loops triangulated
    open_edges: int  # boundary edges left (0: closed)


def open_edge_count(mesh: trimesh.Trimesh) -> int:
    """Edges used by one face only: a hole's rim (a closed surface has none)."""
    return len(trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1))


def boundary_loops(mesh: trimesh.Trimesh) -> list[list[int]]:
    """The holes' boundaries as simple vertex cycles, each in the direction of its faces' edges (a face's
    edge a -> b on the boundary is followed from a to b). Edges that do not close a cycle are left out."""
    edges = np.asarray(mesh.edges)  # directed, three per face, in face order
    once = trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)
    outgoing: dict[int, list[int]] = defaultdict(list)
    for a, b in edges[once]:
        outgoing[int(a)].append(int(b))
    loops = []
    for start in list(outgoing):
        while outgoing[start]:
            loop, at = [start], outgoing[start].pop()
            while at != start and outgoing.get(at):
                loop.append(at)
                at = outgoing[at].pop()
            if at == start:
                loops += [c for c in _simple_cycles(loop) if len(c) >= 3]
    return loops


def _simple_cycles(loop: list[int]) -> list[list[int]]:
    """A closed walk that passes a vertex twice (two holes meeting at a corner) cut into simple cycles."""
    out: list[list[int]] = []
    path: list[int] = []
    at: dict[int, int] = {}
    for v in loop:
        if v in at:  # the walk since v's last visit is a cycle of its own
            k = at[v]
            out.append(path[k:])
            for u in path[k + 1 :]:
                del at[u]
            path = path[: k + 1]
        else:
            at[v] = len(path)
            path.append(v)
    out.append(path)
    return out


@dataclass(frozen=True)
class _Rim:
    """A hole's boundary in the order its filling runs (each boundary edge backwards)."""

    ids: np.ndarray  # vertex indices
    normal: np.ndarray | None  # unit normal of the filling (right-handed with ``ids``); None: not flat
    offset: float  # the plane's offset along ``normal``


def _rim(vertices: np.ndarray, loop: list[int], size: float) -> _Rim:
    ids = np.asarray(loop[::-1], dtype=np.int64)
    p = vertices[ids]
    area = 0.5 * np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)  # Newell's area vector
    length = float(np.linalg.norm(area))
    if length <= 0:
        return _Rim(ids, None, 0.0)
    normal = area / length
    centre = p.mean(axis=0)
    if float(np.max(np.abs((p - centre) @ normal))) > PLANAR_TOLERANCE * size:
        return _Rim(ids, None, 0.0)
    return _Rim(ids, normal, float(centre @ normal))


def _basis(normal: np.ndarray) -> np.ndarray:
    """(2, 3) rows spanning the plane of ``normal``, right-handed with it (a loop wound about ``normal``
    runs counter-clockwise in them)."""
    e1 = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(normal, e1)])


def _facing_one_way(normal: np.ndarray) -> float:
    """+1 or -1: the sign that makes ``normal``'s largest component positive (one direction, either facing)."""
    return 1.0 if normal[int(np.argmax(np.abs(normal)))] > 0 else -1.0


def _plane_key(rim: _Rim, size: float) -> tuple[int, ...]:
    """Rims in one plane (either facing) share this key (rounded to ``PLANAR_TOLERANCE``; rims the rounding
    parts are filled apart, as before grouping)."""
    sign = _facing_one_way(rim.normal)
    q = PLANAR_TOLERANCE * 10
    return (*np.round(sign * rim.normal / q).astype(int).tolist(), int(round(sign * rim.offset / (q * size))))


def _groups(rims: list[_Rim], vertices: np.ndarray, size: float) -> list[list[_Rim]]:
    """Each rim alone, but a flat rim inside another of one plane that is wound the other way (the inner
    loop of a missing face with a hole, an island left inside a hole) goes with the innermost such rim:
    filled as one face with holes."""
    planes: dict[tuple[int, ...], list[_Rim]] = defaultdict(list)
    out: list[list[_Rim]] = []
    for rim in rims:
        if rim.normal is None:
            out.append([rim])
        else:
            planes[_plane_key(rim, size)].append(rim)
    for same in planes.values():
        if len(same) == 1:
            out.append(same)
            continue
        basis = _basis(same[0].normal)
        polygons = [shapely.Polygon(vertices[r.ids] @ basis.T) for r in same]
        axis = same[int(np.argmax([p.area for p in polygons]))].normal  # the largest rim is an outline
        outer = [k for k, r in enumerate(same) if r.normal @ axis > 0 and polygons[k].is_valid]
        holes = [k for k, r in enumerate(same) if r.normal @ axis < 0 and polygons[k].is_valid]
        inside: dict[int, list[int]] = {k: [] for k in outer}
        taken = set()
        for h in holes:
            around = [k for k in outer if polygons[k].contains(polygons[h])]
            if around:
                inside[min(around, key=lambda k: polygons[k].area)].append(h)
                taken.add(h)
        out += [[same[k], *(same[h] for h in inside[k])] for k in outer]
        out += [[r] for k, r in enumerate(same) if k not in inside and k not in taken]
    return out


def _face_triangles(vertices: np.ndarray, rims: list[_Rim]) -> np.ndarray | None:
    """A flat face bounded by ``rims`` (the first the outline, the others its holes) triangulated from their
    vertices (constrained Delaunay: every rim vertex kept, no sliver across a straight run), each triangle
    wound as the rims run; None when the face is not a valid polygon or a vertex is not used."""
    basis = _basis(rims[0].normal)  # the outline runs counter-clockwise in it
    rings = [vertices[r.ids] @ basis.T for r in rims]
    polygon = shapely.Polygon(rings[0], rings[1:])
    if not polygon.is_valid:
        return None
    index = {
        (float(u), float(v)): int(i)
        for r, ring in zip(rims, rings, strict=True)
        for i, (u, v) in zip(r.ids, ring, strict=True)
    }
    tris = []
    for triangle in shapely.constrained_delaunay_triangles(polygon).geoms:
        (ax, ay), (bx, by), (cx, cy) = corners = np.asarray(triangle.exterior.coords)[:3]
        ids = [index.get((float(u), float(v))) for u, v in corners]
        if None in ids:
            return None
        clockwise = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) < 0
        tris.append(ids[::-1] if clockwise else ids)
    if len(tris) != sum(len(r.ids) for r in rims) - 2 + 2 * (len(rims) - 1):
        return None
    return np.asarray(tris, dtype=np.int64)


def _edges(faces: np.ndarray) -> set[tuple[int, int]]:
    """The undirected edges of ``faces``."""
    e = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    return set(map(tuple, e.tolist()))


def _rim_edges(rims: list[_Rim]) -> set[tuple[int, int]]:
    """The undirected edges along ``rims``."""
    pairs = np.concatenate([np.stack([r.ids, np.roll(r.ids, -1)], axis=1) for r in rims])
    return set(map(tuple, np.sort(pairs, axis=1).tolist()))


def _fans(ids: np.ndarray):
    """Fans from each corner in turn (each wound as the rim runs)."""
    n = len(ids)
    k = np.arange(1, n - 1)
    for start in range(n):
        yield ids[(np.stack([np.zeros_like(k), k, k + 1], axis=1) + start) % n]


def _fill(vertices: np.ndarray, rims: list[_Rim], used: set[tuple[int, int]]) -> np.ndarray:
    """Faces closing one hole, or a face with holes (each rim alone where that face cannot be drawn): in its
    plane where it is flat, else a fan; of the triangulations, the first that draws no edge the surface
    already has (``used``, updated: an edge in three faces is no surface), else the first."""
    boundary = _rim_edges(rims)

    def free(faces: np.ndarray) -> bool:
        inner = _edges(faces) - boundary
        if inner & used:
            return False
        used.update(inner)
        return True

    if rims[0].normal is not None and (len(rims) > 1 or len(rims[0].ids) > 3):
        face = _face_triangles(vertices, rims)
        if face is not None and free(face):
            return face
        if len(rims) > 1:
            return np.concatenate([_fill(vertices, [r], used) for r in rims])
    first = None
    for fan in _fans(rims[0].ids):  # lazily: a long rim has as many fans as corners
        if free(fan):
            return fan
        first = fan if first is None else first
    used.update(_edges(first) - boundary)
    return first


def _wall(vertices: np.ndarray, a: _Rim, b: _Rim, size: float) -> np.ndarray | None:
    """The side wall between two flat rims that are one outline moved along its normal, facing each other
    (a prism's side that failed to export: a bore's wall, a boss's side), as a strip of triangles wound as
    the rims run; None when they are not."""
    if a.normal is None or b.normal is None or len(a.ids) != len(b.ids) or a.normal @ b.normal > -1 + 1e-9:
        return None
    pa, pb = vertices[a.ids], vertices[b.ids]
    shift = pb.mean(axis=0) - pa.mean(axis=0)
    if np.linalg.norm(np.cross(shift, a.normal)) > PLANAR_TOLERANCE * size or np.linalg.norm(shift) <= 0:
        return None
    # b's vertex over each of a's, and b running back along a (it faces the other way)
    dist = np.linalg.norm(pa[:, None, :] + shift - pb[None, :, :], axis=2)
    match = np.argmin(dist, axis=1)
    n = len(match)
    if np.max(dist[np.arange(n), match]) > PLANAR_TOLERANCE * size or np.any(
        (match - np.roll(match, -1)) % n != 1
    ):
        return None
    a0, a1 = a.ids, np.roll(a.ids, -1)
    b0, b1 = b.ids[match], b.ids[np.roll(match, -1)]
    return np.concatenate([np.stack([a0, a1, b1], axis=1), np.stack([a0, b1, b0], axis=1)])


def _walls(
    vertices: np.ndarray, rims: list[_Rim], size: float, used: set[tuple[int, int]]
) -> tuple[list[np.ndarray], list[_Rim]]:
    """The side walls between pairs of rims (``_wall``: candidates share their corner count, their plane's
    direction and their centre's place in it; no edge of the surface joins them yet — where one does, the
    wall is there and the rims are its ends), and the rims left."""
    q = PLANAR_TOLERANCE * 10
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for k, r in enumerate(rims):
        if r.normal is not None and len(r.ids) > 3:
            n = _facing_one_way(r.normal) * r.normal
            centre = vertices[r.ids].mean(axis=0)
            across = centre - (centre @ n) * n
            key = (len(r.ids), *np.round(n / q).astype(int), *np.round(across / (q * size)).astype(int))
            buckets[key].append(k)
    on: dict[int, list[int]] = defaultdict(list)  # the candidate rims through each vertex
    for same in buckets.values():
        for k in same:
            for v in rims[k].ids.tolist():
                on[v].append(k)
    joined = {(x, y) for p, q in used for x in on.get(p, ()) for y in on.get(q, ()) if x != y}
    walls, paired = [], set()
    for same in buckets.values():
        for x in same:
            for y in same:
                if x >= y or x in paired or y in paired or (x, y) in joined or (y, x) in joined:
                    continue
                strip = _wall(vertices, rims[x], rims[y], size)
                if strip is not None:
                    used.update(_edges(strip))
                    walls.append(strip)
                    paired |= {x, y}
    return walls, [r for k, r in enumerate(rims) if k not in paired]


def fill_holes(mesh: trimesh.Trimesh) -> Filled:
    """``mesh`` with its holes closed when it is a clean (CAD) mesh with holes (module doc), else ``mesh``
    itself. Never modifies ``mesh``."""
    once = trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)  # rows of open edges
    edges = len(once)
    if edges == 0 or not is_clean_mesh(mesh):
        return Filled(mesh, 0, edges)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    # a face whose neighbours are all gone is left inside a hole: the hole's filling covers it
    faces = faces[~np.isin(mesh.faces_unique_edges, mesh.edges_unique_inverse[once]).all(axis=1)]
    rest = trimesh.Trimesh(vertices, faces, process=False)
    size = float(np.max(np.ptp(vertices, axis=0)))
    loops = boundary_loops(rest)
    # a filling draws edges between rim vertices only: the faces among them are all it can meet
    on_rim = np.zeros(len(vertices), dtype=bool)
    if loops:
        on_rim[np.concatenate(loops)] = True
    near = faces[on_rim[faces].all(axis=1)]
    used = _edges(near)
    existing = set(map(tuple, np.sort(near, axis=1).tolist()))
    new, rest_rims = _walls(vertices, [_rim(vertices, loop, size) for loop in loops], size, used)
    for group in _groups(rest_rims, vertices, size):
        added = _fill(vertices, group, used)
        # a rim around faces left alone (an island of two or more in a hole) would get them again
        if len(added) and not any(tuple(sorted(f)) in existing for f in added.tolist()):
            new.append(added)
    if not new:
        return Filled(mesh, 0, edges)
    filled = trimesh.Trimesh(vertices.copy(), np.concatenate([faces, *new]), process=False)
    return Filled(filled, len(new), open_edge_count(filled))


__all__ = ["Filled", "boundary_loops", "fill_holes", "open_edge_count"]
