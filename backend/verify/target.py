"""What candidates are measured against: fixed surface samples of the (normalised) input, or the observed
points of a point cloud."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from backend.geometry.sampling import sample_surface

RANK_SAMPLES = 2048  # surface samples per mesh for ranking candidates (the report uses the protocol's 8192)


class ChamferTarget:
    """Fixed surface samples of the normalised input; ranks meshes by two-way squared Chamfer distance."""

    def __init__(self, mesh: trimesh.Trimesh | None, n: int = RANK_SAMPLES, seed: int = 0) -> None:
        self.n, self.seed = n, seed + 1
        if mesh is not None:
            self.points = sample_surface(mesh, n, seed)[0].astype(np.float64)
            self.tree = cKDTree(self.points)

    @classmethod
    def from_points(cls, points: np.ndarray, n: int = RANK_SAMPLES, seed: int = 0) -> ChamferTarget:
        """A target made of observed points (a point cloud's), ``n`` of them drawn per seed."""
        target = cls(None, n, seed)
        pts = np.asarray(points, dtype=np.float64)
        if len(pts) > n:
            pts = pts[np.random.default_rng(seed).choice(len(pts), size=n, replace=False)]
        target.points = pts
        target.tree = cKDTree(pts)
        return target

    def __call__(self, mesh: trimesh.Trimesh) -> float:
        p = sample_surface(mesh, self.n, self.seed)[0].astype(np.float64)
        d_pg, _ = self.tree.query(p, k=1)
        d_gp, _ = cKDTree(p).query(self.points, k=1)
        return float(np.mean(d_pg**2) + np.mean(d_gp**2))
