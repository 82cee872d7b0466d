"""A noisy mesh's normals: its face normals averaged over their neighbourhoods along the surface.

A scan's triangles are each tilted by the noise; averaging them over a few rings of neighbouring faces
(through shared edges) takes the noise out the way a point neighbourhood does, but never mixes the two
faces of a thin sheet: they are close in space and far apart along the surface (a point neighbourhood
wider than a plate's thickness straddles both, and its normal is anyone's).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import trimesh

# how far along the surface a face normal is averaged, as a share of the square root of the mesh's area
# (a size no turn changes): repeated one-ring averaging spreads like a random walk, about sqrt(rings)
# edges, so the rings are (radius / mean edge)^2 — 9 on a 2.5 %-thick plate scanned at 1/50 of its size
SMOOTHING_RADIUS = 0.032
MAX_RINGS = 64  # bounds the work on a finely triangulated mesh
MIN_NEIGHBOURS = 2.0  # faces with fewer neighbours on average are a triangle soup: nothing to average over


def is_connected_surface(mesh: trimesh.Trimesh) -> bool:
    """Whether the faces share edges enough to average along the surface (a closed mesh: 3 per face)."""
    return len(mesh.faces) > 0 and 2.0 * len(mesh.face_adjacency) >= MIN_NEIGHBOURS * len(mesh.faces)


def smoothing_rings(mesh: trimesh.Trimesh) -> int:
    """Rings of one-ring averaging that reach about ``SMOOTHING_RADIUS`` of the square root of the mesh's
    area (1 to ``MAX_RINGS``)."""
    edges = np.asarray(mesh.edges_unique_length, dtype=np.float64)
    radius = SMOOTHING_RADIUS * float(np.sqrt(max(mesh.area, 0.0)))
    if not len(edges) or radius <= 0.0 or float(edges.mean()) <= 0.0:
        return 1
    return int(np.clip(np.ceil((radius / float(edges.mean())) ** 2), 1, MAX_RINGS))


def smoothed_face_normals(mesh: trimesh.Trimesh, rings: int | None = None) -> np.ndarray:
    """Unit normals (m, 3) of the mesh's faces, each averaged, weighted by area, over the faces within
    ``rings`` shared edges (default ``smoothing_rings``; one-ring averaging repeated: nearer faces weigh
    more). A face whose neighbourhood's normals cancel keeps its own."""
    count = len(mesh.faces)
    if count == 0:
        raise ValueError("a mesh without faces has no face normals")
    rings = smoothing_rings(mesh) if rings is None else rings
    pairs = np.asarray(mesh.face_adjacency, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(count)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(count)])
    ring = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(count, count))
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    summed = normals * np.asarray(mesh.area_faces, dtype=np.float64)[:, None]
    for _ in range(rings):
        summed = ring @ summed
    length = np.linalg.norm(summed, axis=1)
    ok = length > 0
    out = normals.copy()
    out[ok] = summed[ok] / length[ok, None]
    return out
