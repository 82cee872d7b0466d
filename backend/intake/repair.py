"""Holes closed in a clean (CAD) mesh that arrives open: a copy with each boundary loop triangulated.

A CAD export that lost some triangles (a face that failed to export, a selection that left some out)
is still exact everywhere else, but the exact route reads it by crossing parity and closed sections,
which an open surface does not have: with 2 % of its triangles gone, a Fusion 360 part came back at
60 % IoU on average. Each hole's boundary loop is triangulated from its own vertices, in the plane it
lies in where it is flat (a missing triangle or face of a flat face: filled exactly, also when
non-convex), else as a fan from one corner (a hole across an edge of the part: the filled surface cuts
that edge), never drawing an edge the surface already has. The filled faces are wound like their
neighbours. Scans and point clouds are not filled:
their route (``sections.slices``) reads the solid from surface samples, gaps included.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
import trimesh

from backend.sections.cloud import is_clean_mesh

PLANAR_TOLERANCE = 1e-6  # a loop within this share of its size of its best-fit plane is flat


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


def _flat_triangles(points: np.ndarray) -> np.ndarray | None:
    """Triangles (index triples into ``points``) of a flat, simple loop, in the loop's winding; None
    when it is not flat or not simple."""
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    size = float(np.max(np.ptp(points, axis=0)))
    if size <= 0 or s[2] / np.sqrt(len(points)) > PLANAR_TOLERANCE * size:
        return None
    uv = centred @ vt[:2].T
    if not shapely.Polygon(uv).is_valid:
        return None
    tris = mapbox_earcut.triangulate_float64(uv, np.array([len(uv)], dtype=np.uint32)).reshape(-1, 3)
    if len(tris) != len(points) - 2:
        return None
    # every triangle wound as the loop is (the sign of its area matches the loop's)
    a, b, c = uv[tris[:, 0]], uv[tris[:, 1]], uv[tris[:, 2]]
    signed = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    loop_sign = np.sign(shapely.Polygon(uv).exterior.is_ccw - 0.5)
    flip = np.sign(signed) != loop_sign
    tris[flip] = tris[flip][:, ::-1]
    return tris


def _edges(faces: np.ndarray) -> set[tuple[int, int]]:
    e = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    return set(map(tuple, e.tolist()))


def _fill_loop(vertices: np.ndarray, loop: list[int], used: set[tuple[int, int]]) -> np.ndarray:
    """Faces (vertex indices) closing one hole, wound against its boundary edges (as the faces beyond
    them are): in its plane where it is flat, else a fan; of the triangulations, the first that draws no
    edge the surface already has (``used``, updated: an edge in three faces is no surface)."""
    reverse = np.asarray(loop[::-1], dtype=np.int64)  # the filling runs each boundary edge backwards
    n = len(reverse)
    k = np.arange(1, n - 1)
    fan = np.stack([np.zeros_like(k), k, k + 1], axis=1)
    tries = [] if n == 3 else [t for t in (_flat_triangles(vertices[reverse]),) if t is not None]
    tries += [(fan + start) % n for start in range(n)]  # a fan from each corner in turn
    boundary = {tuple(sorted((int(a), int(b)))) for a, b in zip(reverse, np.roll(reverse, -1), strict=True)}
    for local in tries:
        faces = reverse[local]
        inner = _edges(faces) - boundary
        if not inner & used:
            used |= inner
            return faces
    faces = reverse[tries[0]]
    used |= _edges(faces) - boundary
    return faces


def fill_holes(mesh: trimesh.Trimesh) -> Filled:
    """``mesh`` with its holes closed when it is a clean (CAD) mesh with holes (module doc), else ``mesh``
    itself. Never modifies ``mesh``."""
    edges = open_edge_count(mesh)
    if edges == 0 or not is_clean_mesh(mesh):
        return Filled(mesh, 0, edges)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    used = _edges(np.asarray(mesh.faces, dtype=np.int64))
    new = [_fill_loop(vertices, loop, used) for loop in boundary_loops(mesh)]
    if not new:
        return Filled(mesh, 0, edges)
    faces = np.concatenate([np.asarray(mesh.faces, dtype=np.int64), *new])
    filled = trimesh.Trimesh(vertices.copy(), faces, process=False)
    return Filled(filled, len(new), open_edge_count(filled))


__all__ = ["Filled", "boundary_loops", "fill_holes", "open_edge_count"]
