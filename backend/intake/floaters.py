"""Small pieces floating away from a scanned part, left out on a copy.

A scanner's software keeps what it saw around the part: dust, a clamp's tip, a speck of the table, each a
small closed or open piece of surface of its own. One such piece far from the part sets the normalised box,
and the part comes back shrunk into a corner of it (Fusion 360 scans with eight specks around them: 94137
86.7 → 3.3 % IoU).

A piece is a floater when it is a connected piece of the surface with less than ``SMALL_SHARE`` of the
surface's area that lies more than ``GAP`` of the part's size from the part (the pieces of at least that
share) and from every piece that joined it (a chain of specks a lost face left inside a hole joins through
each other). On the 106 public parts' scans no piece comes near: the small pieces a scan has (a face its
lost neighbours cut off, a pin inside a bore) lie within 0.96 % of the part's size of it
(``scripts/measure_scan_rims.py``). Clean (CAD) meshes are left as they are: an export has no dust, and a
small separate body in it is the designer's. When the floaters would take more than ``MAX_SHARE`` of the
area (a part made of small pieces), everything is kept.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from backend.geometry.convert import mesh_of_faces
from backend.sections.cloud import is_clean_mesh

SMALL_SHARE = 0.02  # a piece with less than this share of the surface's area is small
GAP = 0.02  # ... and floats when farther than this share of the part's largest extent from the part
MAX_SHARE = 0.1  # nothing is left out when the floaters would take more than this share of the area


def floating_pieces(mesh: trimesh.Trimesh) -> list[np.ndarray]:
    """The face indices of each floating piece of ``mesh`` (module doc); [] when there is none."""
    if len(mesh.faces) == 0 or is_clean_mesh(mesh):
        return []
    pieces = trimesh.graph.connected_components(
        mesh.face_adjacency, nodes=np.arange(len(mesh.faces)), min_len=1
    )
    if len(pieces) < 2:
        return []
    area = np.asarray(mesh.area_faces, dtype=np.float64)
    share = np.array([area[p].sum() for p in pieces]) / max(float(area.sum()), 1e-300)
    if not (share >= SMALL_SHARE).any():
        return []
    faces = np.asarray(mesh.faces, dtype=np.int64)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    corners = [np.unique(faces[p]) for p in pieces]
    part = [k for k, s in enumerate(share) if s >= SMALL_SHARE]
    gap = GAP * float(np.max(np.ptp(vertices[np.concatenate([corners[k] for k in part])], axis=0)))
    # the part grows by every small piece within the gap of it, and of what joined it (the specks a lost
    # face left in a hole join through each other); what never joins floats
    small = np.array([k for k, s in enumerate(share) if s < SMALL_SHARE], dtype=np.int64)
    joined = part
    while len(small) and joined:
        near = _within(vertices, faces, [pieces[k] for k in joined], [corners[k] for k in small], gap)
        joined, small = small[near].tolist(), small[~near]
    out = [np.asarray(pieces[k], dtype=np.int64) for k in small]
    if sum(area[p].sum() for p in out) > MAX_SHARE * float(area.sum()):
        return []
    return out


def _within(
    vertices: np.ndarray, faces: np.ndarray, to: list[np.ndarray], corners: list[np.ndarray], gap: float
) -> np.ndarray:
    """For each set of ``corners``, whether one lies within ``gap`` of the faces ``to`` (lists of face
    indices): a corner within the gap of theirs surely is; one farther than the gap and their longest edge
    surely is not (a point of a triangle lies within its longest edge of a corner); between the two, the exact
    distance to the faces near it decides."""
    at = np.concatenate(corners)
    starts = np.r_[0, np.cumsum([len(c) for c in corners])[:-1]]
    surface = faces[np.concatenate(to)]
    dist = cKDTree(vertices[np.unique(surface)]).query(vertices[at])[0]
    nearest = np.minimum.reduceat(dist, starts)
    near = nearest <= gap
    tri = vertices[surface]
    longest = float(np.max(np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2)))
    unsure = ~near & (nearest <= gap + longest)
    lo, hi = tri.min(axis=1), tri.max(axis=1)
    for k in np.flatnonzero(unsure):  # against the faces whose boxes come within the gap of its corners'
        p = vertices[corners[k]]
        close = np.all((lo <= p.max(axis=0) + gap) & (hi >= p.min(axis=0) - gap), axis=1)
        if close.any():
            soup = tri[close].reshape(-1, 3)
            mesh = trimesh.Trimesh(soup, np.arange(len(soup)).reshape(-1, 3), process=False)
            near[k] = float(trimesh.proximity.closest_point(mesh, p)[1].min()) <= gap
    return near


def without_floaters(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, int]:
    """(a copy of ``mesh`` without its floating pieces, how many were left out); ``mesh`` itself when none
    were. Vertices no face uses any more are dropped."""
    floating = floating_pieces(mesh)
    if not floating:
        return mesh, 0
    keep = np.ones(len(mesh.faces), dtype=bool)
    keep[np.concatenate(floating)] = False
    return mesh_of_faces(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces)[keep]), len(
        floating
    )


__all__ = ["floating_pieces", "without_floaters"]
