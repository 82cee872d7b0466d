"""The work budget: meshes with more triangles than the pipeline's stages handle in seconds are
decimated on a copy (the user's mesh is never changed), and the result says how; point clouds with more
samples than ``WORK_POINTS`` are subsampled on a copy (``fit_cloud_budget``).

Decimation is vertex clustering: vertices are snapped to a uniform grid, each occupied cell becomes
one vertex at the mean of its members, and faces that collapse (two corners in one cell) or repeat
are dropped. The cell starts at the size that would keep about ``WORK_TRIANGLES`` faces on a
uniformly meshed surface and grows until the count fits. It keeps the shape to within a cell
(reported as a fraction of the largest extent); thin features below a cell may close up.
"""

from __future__ import annotations

import numpy as np
import trimesh

WORK_TRIANGLES = 100_000  # the pipeline's stages (sections, verify, refine, score) run on at most this
# a point cloud's samples the stages run on: the density they were built and measured at (every cloud of
# the evaluation has 8,192); without it denser clouds of six Fusion 360 parts read 90.7 % (8,192), 86.2 %
# (16,384), 88.8 % (32,768), 89.6 % (100,000) and 66 % at 2 M samples for one of them, 33 s
# (scripts/benchmark_dense_cloud.py run from a checkout of 9c358ff: README)
WORK_POINTS = 8_192
_GROWTH = 1.4  # cell size factor per attempt
_MAX_ATTEMPTS = 24


def cluster_vertices(mesh: trimesh.Trimesh, cell: float) -> trimesh.Trimesh:
    """A new mesh: vertices merged per grid cell of size ``cell`` (mean position), collapsed faces dropped."""
    v = np.asarray(mesh.vertices, dtype=np.float64)
    grid = np.floor((v - v.min(axis=0)) / cell).astype(np.int64)
    dims = grid.max(axis=0) + 1
    keys = (grid[:, 0] * dims[1] + grid[:, 1]) * dims[2] + grid[:, 2]
    _, cluster, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), 3))
    np.add.at(sums, cluster, v)
    faces = cluster[np.asarray(mesh.faces)]
    alive = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = faces[alive]
    s = np.sort(faces, axis=1)
    _, first = np.unique((s[:, 0] * len(counts) + s[:, 1]) * len(counts) + s[:, 2], return_index=True)
    return trimesh.Trimesh(sums / counts[:, None], faces[np.sort(first)], process=False)


def fit_work_budget(mesh: trimesh.Trimesh, budget: int | None = None) -> tuple[trimesh.Trimesh, str]:
    """(``mesh`` itself when within ``budget`` (default ``WORK_TRIANGLES``) triangles, else a decimated
    copy; a note saying what was done, "" when nothing)."""
    budget = WORK_TRIANGLES if budget is None else budget
    n = len(mesh.faces)
    if n <= budget:
        return mesh, ""
    largest = float(np.max(mesh.extents))
    cell = max(float(np.sqrt(2.0 * float(mesh.area) / budget)), largest * 1e-6)
    for _ in range(_MAX_ATTEMPTS):
        reduced = cluster_vertices(mesh, cell)
        if len(reduced.faces) <= budget and len(reduced.faces) > 0:
            note = (
                f"input decimated from {n:,} to {len(reduced.faces):,} triangles for fitting and scoring"
                f" (vertex clustering, cell {cell / largest:.2%} of the largest extent); the input is unchanged"
            )
            return reduced, note
        cell *= _GROWTH
    raise ValueError(f"cannot decimate {n:,} triangles to {budget:,} (degenerate mesh)")


def fit_cloud_budget(cloud: trimesh.PointCloud, budget: int | None = None) -> tuple[trimesh.PointCloud, str]:
    """(``cloud`` itself when within ``budget`` (default ``WORK_POINTS``) samples, else a copy of that many
    drawn at random, the same each time; a note saying what was done, "" when nothing)."""
    budget = WORK_POINTS if budget is None else budget
    n = len(cloud.vertices)
    if n <= budget:
        return cloud, ""
    keep = np.sort(np.random.default_rng(0).choice(n, size=budget, replace=False))
    note = (
        f"point cloud subsampled from {n:,} to {budget:,} points (at random) for fitting and scoring;"
        " the input is unchanged"
    )
    return trimesh.PointCloud(np.asarray(cloud.vertices)[keep].copy()), note
