"""A noisy mesh's normals: its face normals averaged over their neighbourhoods along the surface.

A scan's triangles are each tilted by the noise; averaging them over a few rings of neighbouring faces
(through shared edges) takes the noise out the way a point neighbourhood does, but does not mix the two
faces of a thin sheet away from its rim: they are close in space and far apart along the surface (a
point neighbourhood wider than a plate's thickness straddles both, and its normal is anyone's). Signed
normals are averaged, so around a thin wall the two faces on either side cancel and the wall keeps its
own direction. A mesh whose faces are not wound alike (pieced together: more than ``MAX_WOUND_AGAINST``
of neighbouring faces wound against each other; a decimated scan has a few per cent) has the line each
normal lies on averaged instead (the principal direction of the area-weighted n nᵀ): a wrongly wound
face then counts as much as the others, and a thin wall leans towards the faces around it (a 2.5 %-thick
plate's frame, turned and scanned, on three seeds: 0.06-0.18° off signed, 0.09-0.35° as lines).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import trimesh

# how far along the surface a face normal is averaged, as a share of the square root of the mesh's area
# (a size no turn changes), in edges: a random walk of ``rings`` one-ring steps spreads about
# sqrt(rings) edges, so the rings are (radius / mean edge)^2 — 9 on a 2.5 %-thick plate scanned at 1/50
# of its size. A nominal reach, measured by the frames it gives (``scripts/measure_frames.py``)
SMOOTHING_RADIUS = 0.032
MAX_RINGS = 64  # bounds the work on a finely triangulated mesh
MIN_NEIGHBOURS = 2.0  # faces with fewer neighbours on average are a triangle soup: nothing to average over
# share of neighbouring faces wound against each other above which normals are averaged as lines (the
# work budget's vertex clustering leaves 2-5 % on scans; 30 % of faces flipped at random make 41 %)
MAX_WOUND_AGAINST = 0.2


def is_connected_surface(mesh: trimesh.Trimesh) -> bool:
    """Whether the faces share edges enough to average along the surface (a closed mesh: 3 per face)."""
    return len(mesh.faces) > 0 and 2.0 * len(mesh.face_adjacency) >= MIN_NEIGHBOURS * len(mesh.faces)


def wound_against_share(mesh: trimesh.Trimesh) -> float:
    """Share of the pairs of faces sharing an edge that run it the same way (wound against each other)."""
    pairs = np.asarray(mesh.face_adjacency, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return 0.0
    faces = np.asarray(mesh.faces, dtype=np.int64)
    edges = np.asarray(mesh.face_adjacency_edges, dtype=np.int64).reshape(-1, 2)

    def runs_forward(face: np.ndarray) -> np.ndarray:  # the shared edge goes a -> b in the face's order
        corners = faces[face]
        at_a = np.argmax(corners == edges[:, :1], axis=1)
        at_b = np.argmax(corners == edges[:, 1:], axis=1)
        return (at_b - at_a) % 3 == 1

    return float(np.mean(runs_forward(pairs[:, 0]) == runs_forward(pairs[:, 1])))


def smoothing_rings(mesh: trimesh.Trimesh) -> int:
    """Steps of one-ring averaging that reach about ``SMOOTHING_RADIUS`` of the square root of the mesh's
    area (1 to ``MAX_RINGS``)."""
    edges = np.asarray(mesh.edges_unique_length, dtype=np.float64)
    radius = SMOOTHING_RADIUS * float(np.sqrt(max(mesh.area, 0.0)))
    if not len(edges) or radius <= 0.0 or float(edges.mean()) <= 0.0:
        return 1
    return int(np.clip(np.ceil((radius / float(edges.mean())) ** 2), 1, MAX_RINGS))


def smoothed_face_normals(mesh: trimesh.Trimesh, rings: int | None = None) -> np.ndarray:
    """Unit normals (m, 3) of the mesh's faces: each face's area-weighted normal averaged ``rings``
    times over the face and its edge neighbours (default ``smoothing_rings``); when many faces are
    wound against their neighbours (``wound_against_share``), the principal direction of the same
    average of n nᵀ, on the face's own side. A face whose neighbourhood's normals cancel, or that has no
    area, keeps its own normal (``find_rotation`` gives a face without area no weight)."""
    count = len(mesh.faces)
    if count == 0:
        raise ValueError("a mesh without faces has no face normals")
    rings = smoothing_rings(mesh) if rings is None else rings
    pairs = np.asarray(mesh.face_adjacency, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(count)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(count)])
    ring = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(count, count))
    step = sp.diags(1.0 / np.asarray(ring.sum(axis=1)).ravel()) @ ring  # the mean over face + neighbours
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    area = np.asarray(mesh.area_faces, dtype=np.float64)
    signed = wound_against_share(mesh) <= MAX_WOUND_AGAINST
    # the signed normals, or their lines (n nᵀ), weighted by area
    out = normals if signed else (normals[:, :, None] * normals[:, None, :]).reshape(count, 9)
    out = out * area[:, None]
    for _ in range(rings):
        out = step @ out
    if not signed:
        out = np.linalg.eigh(out.reshape(count, 3, 3))[1][:, :, 2]  # the largest eigenvalue's
        out = out * np.where(np.einsum("ij,ij->i", out, normals) < 0.0, -1.0, 1.0)[:, None]
    length = np.linalg.norm(out, axis=1)
    ok = length > 1e-12 * max(float(np.max(area)), 1e-300)
    result = normals.copy()
    result[ok] = out[ok] / length[ok, None]
    return result
