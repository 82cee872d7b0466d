"""A clean mesh's faces turned outwards and its overlapping closed pieces united: a copy, as a solid.

What people model is not always one outward-wound surface: a mesh whose normals point inwards (an export
from a mirrored object, faces flipped in an editor), triangles wound both ways (a surface whose normals
were never made consistent), or a part left as closed pieces that overlap (primitives placed into each
other and never joined). The exact route reads the solid from the surface's winding (exact volumes, the
normals the model sees) and its sections by crossing parity, so such an input came back as another part:
a region two pieces cover is read as empty, an inside-out one has negative volume.

Faces given twice (a double-sided export: each triangle again, wound the other way; or a piece pasted
twice) are read once. ``outward_solid`` then makes every body's winding consistent (a walk over its
triangles; the body wound as most of them were), then orients the bodies by their nesting: a body inside
no other faces outwards; a body inside another keeps the relation to it the input gave — wound the other
way it is a cavity (a hollow part's inner wall), the same way a piece inside it. When every body is
closed, bodies that overlap are united (and cavities cut) with manifold3d, in order of depth (also bodies
that only touch: one solid, not two glued along a face). An open surface (a scan) is never turned whole, only made consistent. A mesh that needs none of this is
returned as it
is. Pieces stay apart up to here only where the file's indices kept them apart (``geometry.mesh_io``: an
OBJ, PLY or glTF file, a Blender object); an STL file is a triangle soup, its coinciding vertices all
merged, and pieces whose faces coincide there are one non-manifold surface this cannot take apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import manifold3d
import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from backend.geometry.convert import corner_pieces, manifold_to_trimesh, mesh_of_faces, proper_faces
from backend.geometry.metrics import drop_duplicate_faces
from backend.intake.repair import open_edge_count

log = logging.getLogger(__name__)

MAX_BODIES = 256  # more bodies than this are not united nor nested (pairwise nesting tests): they keep
# their relations to each other, the whole turned when it encloses less than nothing
CONTAINED = 1e-6  # a body is inside another when all but this share of its volume is
WELDED_CLASH = 0.01  # an open surface's faces are turned one by one only when more neighbours disagree
OVERLAP = 1e-9  # bodies overlap when their solid is smaller than their volumes add up to, by this share


@dataclass(frozen=True)
class Outward:
    """The solid to fit and what it took."""

    mesh: trimesh.Trimesh
    turned: int  # triangles wound the other way
    united: int  # closed bodies united into one solid (0: none overlapped or touched another)
    doubled: int = 0  # triangles given twice (the same corners, wound either way), left out

    @property
    def is_unchanged(self) -> bool:
        return self.turned == 0 and self.united == 0 and self.doubled == 0

    @property
    def note(self) -> str:
        said = []
        if self.doubled:
            said.append(f"{self.doubled:,} triangles given twice left out")
        if self.turned:
            said.append(f"{self.turned:,} triangle{'s' if self.turned > 1 else ''} turned to face outwards")
        if self.united:
            said.append(f"{self.united:,} closed pieces united where they overlap or touch")
        return "; ".join(said)


def _consistent(
    faces: np.ndarray, pairs: np.ndarray, edges: np.ndarray, min_clash: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(faces wound like their neighbours, each face's body): each face turned or not so that every pair of
    neighbours runs its shared edge both ways, as the body's first face decides; a body with most of its
    triangles turned so is turned back whole (wound as most of them were). Nothing is turned
    when at most ``min_clash`` of the neighbour pairs disagree."""

    def forward(face: np.ndarray) -> np.ndarray:  # the face runs its shared edge u -> v
        iu = np.argmax(face == edges[:, :1], axis=1)
        iv = np.argmax(face == edges[:, 1:], axis=1)
        return (iv - iu) % 3 == 1

    clash = forward(faces[pairs[:, 0]]) == forward(faces[pairs[:, 1]])  # the two disagree
    n = len(faces)
    labels = trimesh.graph.connected_component_labels(pairs, node_count=n)
    bodies = int(labels.max()) + 1
    turn = np.zeros(n, dtype=bool)
    if np.count_nonzero(clash) > min_clash * len(clash):
        # each face twice, as it is (f) and turned (f + n): neighbours that agree join f-g and f+n-g+n,
        # neighbours that disagree f-g+n and f+n-g; a face is turned when its turned self joins its body's
        # first face as it is (one pass for every body; a body that cannot be wound one way turns nothing)
        a, b = pairs[:, 0], pairs[:, 1]
        other = np.where(clash, n, 0)
        rows = np.concatenate([a, a + n])
        cols = np.concatenate([b + other, b + n - other])
        _, sides = connected_components(
            coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(2 * n, 2 * n)), directed=False
        )
        root = np.unique(labels, return_index=True)[1][labels]
        turn = (sides[np.arange(n) + n] == sides[root]) & (sides[np.arange(n)] != sides[root])
        # each body wound as most of its triangles were: the relation to its container is the input's
        turn ^= (np.bincount(labels, weights=turn, minlength=bodies) > 0.5 * np.bincount(labels))[labels]
    return np.where(turn[:, None], faces[:, ::-1], faces), labels


def _one_body(mesh: trimesh.Trimesh) -> bool:
    """Whether every face of ``mesh`` is reached from every other across shared edges (bodies that touch
    at a corner are two)."""
    return (
        int(trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(mesh.faces)).max())
        == 0
    )


def several_pieces(mesh: trimesh.Trimesh) -> bool:
    """Whether ``mesh`` is more than one piece (its faces' corners not all connected): cheap, for a mesh of
    any size."""
    return bool(corner_pieces(len(mesh.vertices), np.asarray(mesh.faces)).max() > 0)


def _once(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which faces to keep: those of a body whose corners are exactly another's (the same piece twice, wound
    either way, its vertices apart) are left out."""
    seen: set[bytes] = set()
    keep = np.ones(int(labels.max()) + 1, dtype=bool)
    for k in range(len(keep)):
        key = np.unique(vertices[np.unique(faces[labels == k])], axis=0).tobytes()
        keep[k] = key not in seen
        seen.add(key)
    return keep[labels]


def _signed_volumes(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Each body's signed volume (positive: wound outwards), about the bodies' common centre (a closed
    body's does not depend on it)."""
    tri = vertices[faces] - vertices.mean(axis=0)
    det = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6.0
    return np.bincount(labels, weights=det, minlength=n)


def _body_manifold(vertices: np.ndarray, faces: np.ndarray) -> manifold3d.Manifold:
    """An outward-wound closed body as a manifold (its vertices merged by index, as the mesh has them)."""
    used, inverse = np.unique(faces, return_inverse=True)
    return manifold3d.Manifold(
        manifold3d.Mesh64(
            vert_properties=np.ascontiguousarray(vertices[used], dtype=np.float64),
            tri_verts=np.ascontiguousarray(inverse.reshape(-1, 3), dtype=np.uint64),
        )
    )


def _parents(solids: list[manifold3d.Manifold | None], volumes: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Each body's direct container (the smallest body it lies inside), -1 for none (and for a flat one)."""
    parent = np.full(len(solids), -1)
    for j in range(len(solids)):
        for i in np.argsort(volumes):
            if i == j or volumes[i] <= volumes[j] or solids[i] is None or solids[j] is None:
                continue
            if np.any(boxes[j, 0] < boxes[i, 0]) or np.any(boxes[j, 1] > boxes[i, 1]):
                continue
            if (solids[j] ^ solids[i]).volume() >= volumes[j] * (1 - CONTAINED):
                parent[j] = i
                break
    return parent


def _closed_bodies(
    vertices: np.ndarray, wound: np.ndarray, labels: np.ndarray, signed: np.ndarray
) -> list[manifold3d.Manifold | None]:
    """Each closed body as an outward manifold, None for one that encloses nothing (flat); [] when one is
    not a manifold (non-manifold edges)."""
    outward = np.where((signed < 0)[labels][:, None], wound[:, ::-1], wound)
    solids = [_body_manifold(vertices, outward[labels == k]) for k in range(len(signed))]
    if any(s.status() != manifold3d.Error.NoError for s in solids):
        return []
    kept = [None if s.is_empty() or s.volume() <= 0 else s for s in solids]
    return kept if any(s is not None for s in kept) else []


def _boxes(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """(n, 2, 3) each body's bounding box."""
    corners = vertices[faces].reshape(-1, 3)
    owner = np.repeat(labels, 3)
    boxes = np.empty((n, 2, 3))
    boxes[:, 0], boxes[:, 1] = np.inf, -np.inf
    np.minimum.at(boxes[:, 0], owner, corners)
    np.maximum.at(boxes[:, 1], owner, corners)
    return boxes


def _roles(signed: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each body adds material rather than cuts a cavity, its nesting depth): a body inside no
    other adds; one inside another adds as its container does when the input wound them the same way."""
    adds = np.zeros(len(signed), dtype=bool)
    depth = np.zeros(len(signed), dtype=int)
    for k in range(len(signed)):
        chain = [k]
        while parent[chain[-1]] >= 0:
            chain.append(int(parent[chain[-1]]))
        depth[k] = len(chain) - 1
        add = True
        for inner, outer in zip(reversed(chain[:-1]), reversed(chain[1:])):  # from the outermost inwards
            add = add == bool(np.sign(signed[inner]) == np.sign(signed[outer]))
        adds[k] = add
    return adds, depth


def outward_solid(mesh: trimesh.Trimesh) -> Outward:
    """``mesh`` with its bodies wound outwards (cavities inwards) and, when every body is closed, its
    overlapping bodies united (module docstring); ``mesh`` itself when nothing had to change. The input
    is never modified."""
    vertices = np.array(mesh.vertices, dtype=np.float64)  # a copy: the result never shares the input's
    faces = np.asarray(mesh.faces, dtype=np.int64)
    proper = proper_faces(faces)
    if not proper.all():  # a face with a corner twice (collapsed by a merge) encloses nothing: read without
        inner = outward_solid(trimesh.Trimesh(vertices, faces[proper], process=False))
        return Outward(mesh, 0, 0) if inner.is_unchanged else inner
    work = trimesh.Trimesh(vertices, faces, process=False)
    once, doubled = drop_duplicate_faces(work)  # faces given twice, wound either way (a double-sided export)
    if doubled:
        inner = outward_solid(once)
        return Outward(inner.mesh, inner.turned, inner.united, doubled + inner.doubled)
    closed, consistent = work.is_watertight, work.is_winding_consistent
    # an open surface (a scan): where its inside lies cannot be told from its rims (a thin-walled cover
    # scanned from above read as wound inwards even with them closed by fans), so it is never turned whole
    rims = open_edge_count(work) > 0
    if consistent and (
        rims or (_one_body(work) and _signed_volumes(vertices, faces, np.zeros(len(faces), int), 1)[0] >= 0)
    ):
        return Outward(mesh, 0, 0)  # one body wound outwards, or an open surface wound one way: the usual
    # an open surface's few disagreeing neighbours are where a scan's sheets were welded (a non-manifold
    # junction: both sides right), not faces wound the wrong way
    min_clash = WELDED_CLASH if rims else 0.0
    wound, labels = _consistent(faces, work.face_adjacency, work.face_adjacency_edges, min_clash)
    n = int(labels.max()) + 1
    if 1 < n <= MAX_BODIES:  # a piece given twice apart from itself
        kept = _once(vertices, faces, labels)
        if not kept.all():
            inner = outward_solid(mesh_of_faces(vertices, faces[kept]))
            return Outward(
                inner.mesh, inner.turned, inner.united, int(np.count_nonzero(~kept)) + inner.doubled
            )
    signed = _signed_volumes(vertices, wound, labels, n)
    volumes = np.abs(signed)
    solids = _closed_bodies(vertices, wound, labels, signed) if closed and 1 < n <= MAX_BODIES else []
    if solids:  # a body inside no other faces outwards; one inside another keeps its relation to it
        adds, depth = _roles(signed, _parents(solids, volumes, _boxes(vertices, wound, labels, n)))
    elif rims:  # an open surface: wound as most of its triangles were, never turned whole
        adds, depth = signed >= 0, np.zeros(n, dtype=int)
    else:  # nesting unknown: the bodies keep their relations, the whole turned when it encloses less than 0
        adds, depth = np.full(n, bool(signed.sum() >= 0)) == (signed >= 0), np.zeros(n, dtype=int)
    flip_body = (signed < 0) == adds  # an adding body wound inwards, a cavity wound outwards
    final = np.where(flip_body[labels][:, None], wound[:, ::-1], wound)
    turned = int(np.count_nonzero(np.any(final != faces, axis=1)))
    if solids:
        expected = float(np.sum(np.where(adds, volumes, -volumes)))
        solid = manifold3d.Manifold()
        order = np.lexsort((~adds, depth))  # containers before what they contain; at one depth, cavities last
        for k in order:
            if solids[k] is not None:
                solid = solid + solids[k] if adds[k] else solid - solids[k]
        # overlapping bodies leave less volume, touching ones fewer pieces (a cavity's wall is no piece)
        smaller = solid.volume() < expected * (1 - OVERLAP)
        pieces = sum(part.volume() > 0 for part in solid.decompose())
        adding = sum(1 for k in range(n) if adds[k] and solids[k] is not None)
        if not solid.is_empty() and (smaller or pieces < adding):
            # the seams where the pieces met carry vertices on straight edges and flat faces: gone
            return Outward(manifold_to_trimesh(solid.simplify(0.0)), turned, adding - pieces + 1)
    if turned == 0:
        return Outward(mesh, 0, 0)
    return Outward(trimesh.Trimesh(vertices, final, process=False), turned, 0)
