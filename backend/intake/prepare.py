"""Prepare a checked input for the pipeline: find its frame, normalise it, and observe its surface.

``prepare`` turns a checked mesh or point cloud (``check.check_input_mesh``) into a ``Prepared``:
the geometry in the normalised frame (turned into the part's own axes when it was found turned in
space, ``orient``), fixed surface points with normals (face normals of a mesh; estimated from
neighbourhoods for a point cloud), and the mesh the verifier may treat as volume truth (only a
closed mesh whose surface is not noisy: a scan is no volume truth). The noise of a scan or a point cloud
is the sections' to estimate (``sections.cloud.Surface.noise``): one estimate, the one the fit uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from backend.geometry.mesh_normals import is_connected_surface, smoothed_face_normals
from backend.geometry.normalize import Frame, normalizing_frame
from backend.geometry.pointcloud import estimate_normals
from backend.geometry.sampling import sample_surface
from backend.intake.orient import Orientation, find_rotation

OBSERVE_POINTS = 8192  # surface samples of a mesh for its orientation
ORIENT_NEIGHBOURS = 24  # point neighbourhood of a noisy triangle soup's normals for its frame
COPLANAR_DEG = 0.5  # adjacent triangles closer than this to coplanar are one flat face
CLEAN_FLAT_SHARE = 0.1  # a mesh with at least this share of coplanar neighbours is a clean (CAD) export
ALTERNATIVE_SHARE = 0.5  # the input's own axes stay a candidate frame when they explain this share of
# what the part's frame explains (an aligned part whose largest flat faces are turned): the verifier chooses


@dataclass
class Prepared:
    geometry: trimesh.Trimesh | trimesh.PointCloud  # normalised frame
    frame: Frame  # normalised <-> input
    orientation: Orientation
    points: np.ndarray  # (n, 3) surface points, normalised frame
    normals: np.ndarray  # (n, 3) unit normals (estimated for a point cloud)
    volume_truth: trimesh.Trimesh | None  # closed, clean normalised mesh; None for scans and points
    # other plausible frames and the input normalised in each (the verifier chooses among their candidates)
    alternatives: list[tuple[Frame, trimesh.Trimesh | trimesh.PointCloud]] = field(default_factory=list)

    @property
    def is_cloud(self) -> bool:
        return isinstance(self.geometry, trimesh.PointCloud)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` surface points and normals (float32), deterministic per seed: area-uniform samples of a
        mesh, a draw of the observed points of a point cloud (with repetition when it has fewer)."""
        if not self.is_cloud:
            return sample_surface(self.geometry, n, seed)
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self.points), size=n, replace=n > len(self.points))
        return self.points[idx].astype(np.float32), self.normals[idx].astype(np.float32)


def flat_share(mesh: trimesh.Trimesh) -> float:
    """Share of adjacent triangle pairs that are coplanar (within ``COPLANAR_DEG``): high for a CAD export
    (flat faces triangulated), near zero for a scan (every triangle tilted by the noise)."""
    angles = mesh.face_adjacency_angles
    if len(angles) == 0:
        return 0.0
    return float(np.mean(angles < np.radians(COPLANAR_DEG)))


def _observe(geometry: trimesh.Trimesh | trimesh.PointCloud) -> tuple[np.ndarray, np.ndarray]:
    """(surface points, unit normals) in the geometry's own frame: a point cloud's own points with
    estimated normals, or area-uniform samples of a mesh with their face normals."""
    if isinstance(geometry, trimesh.PointCloud):
        pts = np.asarray(geometry.vertices, dtype=np.float64)
        return pts, estimate_normals(pts)
    pts, normals = sample_surface(geometry, OBSERVE_POINTS, 0)
    return np.asarray(pts, dtype=np.float64), np.asarray(normals, dtype=np.float64)


def _orientation(geometry, points: np.ndarray, normals: np.ndarray, noisy: bool) -> Orientation:
    if isinstance(geometry, trimesh.Trimesh) and not noisy:  # exact face normals, weighted by area
        return find_rotation(geometry.vertices, geometry.face_normals, geometry.area_faces)
    if isinstance(geometry, trimesh.Trimesh):
        # a noisy mesh: its face normals averaged along the surface (the noise averages out, a thin
        # sheet's two faces do not mix away from its rim), weighted by area; a triangle soup's from point
        # neighbourhoods
        if is_connected_surface(geometry):
            smooth = smoothed_face_normals(geometry)
            # the points place the part (principal axes, box volume) and pile up across its axes
            # (``orient.piled_up``): the area-uniform samples
            return find_rotation(points, smooth, geometry.area_faces, refine=True, pile=True)
        normals = estimate_normals(points, ORIENT_NEIGHBOURS)
    # a point cloud (or a soup): its normals estimated from the samples alone
    return find_rotation(points, normals, refine=True, pile=True)


def prepare(checked: trimesh.Trimesh | trimesh.PointCloud, orient: bool = True) -> Prepared:
    """The checked input made ready for sections, the model and the verifier (never modified)."""
    points, normals = _observe(checked)
    is_mesh = isinstance(checked, trimesh.Trimesh)
    noisy = not is_mesh or flat_share(checked) < CLEAN_FLAT_SHARE
    orientation = (
        _orientation(checked, points, normals, noisy) if orient else Orientation(np.eye(3), 0.0, "identity")
    )
    frame = normalizing_frame(checked, None if orientation.is_identity else orientation.rotation)
    geometry = frame.apply_to_mesh(checked)
    points_n = frame.apply(points)
    r = np.eye(3) if frame.rotation is None else np.asarray(frame.rotation)
    normals_n = normals @ r.T
    closed = isinstance(geometry, trimesh.Trimesh) and geometry.is_watertight
    truth = geometry if closed and not noisy else None
    alternatives = []
    if (
        not orientation.is_identity
        and orientation.identity_share >= ALTERNATIVE_SHARE * orientation.planar_share
    ):
        own = normalizing_frame(checked)
        alternatives.append((own, own.apply_to_mesh(checked)))
    return Prepared(geometry, frame, orientation, points_n, normals_n, truth, alternatives)
