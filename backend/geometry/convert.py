"""trimesh <-> manifold3d conversion (defined once; used by solid building and exact IoU), and a mesh cut
down to some of its faces."""

from __future__ import annotations

import manifold3d
import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def mesh_of_faces(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    """The mesh of ``faces`` (indices into ``vertices``) with only the vertices they use, in their order;
    float64 vertices, int64 faces, nothing merged."""
    faces = np.asarray(faces, dtype=np.int64)
    used = np.unique(faces)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return trimesh.Trimesh(
        np.array(np.asarray(vertices)[used], dtype=np.float64), remap[faces], process=False
    )


def proper_faces(faces: np.ndarray) -> np.ndarray:
    """Which faces have three distinct corners (a merge can collapse one onto another: the face then
    encloses nothing)."""
    f = np.asarray(faces)
    return (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])


def corner_pieces(n_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Each face's piece, 0 .. k-1: faces are one piece when a chain of shared corners joins them."""
    f = np.asarray(faces, dtype=np.int64)
    edges = coo_matrix(
        (np.ones(2 * len(f)), (np.ravel(f[:, :2]), np.ravel(f[:, 1:]))), shape=(n_vertices,) * 2
    )
    _, owner = connected_components(edges, directed=False)
    return np.unique(owner[f[:, 0]], return_inverse=True)[1].ravel()


class NotManifoldError(ValueError):
    """The mesh is not a closed, consistently oriented 2-manifold."""


def manifold_to_trimesh(m: manifold3d.Manifold) -> trimesh.Trimesh:
    """Triangle mesh of a manifold (float64 vertices, shared vertices, outward faces)."""
    mesh = m.to_mesh64()
    verts = np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3]
    faces = np.asarray(mesh.tri_verts, dtype=np.int64)
    return trimesh.Trimesh(vertices=verts, faces=faces, process=False)


def trimesh_to_manifold(mesh: trimesh.Trimesh) -> manifold3d.Manifold:
    """Manifold of a closed mesh; raises ``NotManifoldError`` if it is open, non-manifold or inside out.

    The input mesh is not modified (vertices are merged on a copy).
    """
    work = trimesh.Trimesh(
        vertices=np.array(mesh.vertices, dtype=np.float64), faces=np.array(mesh.faces), process=True
    )
    if len(work.faces) == 0:
        raise NotManifoldError("mesh has no faces")
    if not work.is_watertight:
        raise NotManifoldError("mesh is not watertight (open edges or edges shared by more than two faces)")
    m = manifold3d.Manifold(
        manifold3d.Mesh64(
            vert_properties=np.ascontiguousarray(work.vertices, dtype=np.float64),
            tri_verts=np.ascontiguousarray(work.faces, dtype=np.uint64),
        )
    )
    status = m.status()
    if status != manifold3d.Error.NoError:
        raise NotManifoldError(f"mesh is not a closed manifold ({status.name})")
    if m.is_empty() or m.volume() <= 0:
        raise NotManifoldError("mesh encloses no volume (empty or inside out)")
    return m
