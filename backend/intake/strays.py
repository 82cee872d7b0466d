"""Stray samples of a point cloud: points away from the part's surface (a scanner's floaters, dust, a
speck of the turntable), left out before the part's frame and box are found — one far sample would
otherwise set the normalised box, and the sections and the model would see the part shrunk into a
corner of it; one just off a thin plate would make the plate look many times thicker.

Let ``r`` be a sample's distance to its ``STRAY_NEIGHBOURS``-th nearest neighbour and ``R`` the cloud's
median of ``r``. A sample is a stray when ``r > STRAY_FACTOR * R`` (far from every other sample: surface
samples lie about the cloud's spacing apart, wherever the part is thin or small; a region would need
tens of times fewer samples per area than the median to be taken for strays), or when it lies more than
``OFF_SURFACE_FACTOR * R`` off the plane of those neighbours (just off the surface they sample: a
sample on a face, an edge or a thin wall lies within about ``R`` of its neighbours' plane). The second
test reads every sample's neighbourhood, so it runs on clouds of up to ``SURFACE_TEST_POINTS``; a
denser cloud's ``R`` is small enough that the first test alone finds samples a little off its surface.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from backend.geometry.pointcloud import REACH_NEIGHBOURS, plane_offsets, typical_reach

STRAY_NEIGHBOURS = REACH_NEIGHBOURS  # the neighbour compared (a pair of strays is still strays), R's own
# the 106 public parts as 8,192-sample clouds, genuine samples at most 2.29 R and 1.06 R (measure_strays.py)
STRAY_FACTOR = 6.0  # times R
OFF_SURFACE_FACTOR = 2.0  # times R off the neighbours' plane
SURFACE_TEST_POINTS = 250_000  # clouds up to this many samples also get the off-surface test
MAX_STRAY_SHARE = 0.2  # more samples than this would go: the cloud is too uneven to tell; keep all


def _far_in_dense(p: np.ndarray, tree: cKDTree, k: int, threshold: float) -> np.ndarray:
    """``r > threshold`` for a dense cloud, searching only the samples that need it: one with at least
    ``k`` samples in its grid cell (whose diagonal is the threshold) is surely within it."""
    scaled = np.floor((p - p.min(axis=0)) / (threshold / np.sqrt(3.0)))
    beyond = scaled.max(axis=1) >= 2.0**52  # so far out that cell numbers lose their integer precision
    cells = scaled[~beyond].astype(np.int64)
    span = cells.max(axis=0) + 1 if len(cells) else np.ones(3, dtype=np.int64)
    if float(np.prod(span.astype(np.float64))) < 2.0**62:  # one integer a cell (fast)
        keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    else:  # a sample very far out: too many cells for one integer
        _, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    crowded = np.zeros(len(p), dtype=bool)
    crowded[~beyond] = counts[inverse.reshape(-1)] >= k
    unsure = np.flatnonzero(~crowded)
    far = np.zeros(len(p), dtype=bool)
    if len(unsure):
        reach = tree.query(p[unsure], k=k, distance_upper_bound=threshold, workers=-1)[0][:, -1]
        far[unsure] = ~np.isfinite(reach)  # no k-th neighbour within the threshold
    return far


def stray_mask(points: np.ndarray) -> np.ndarray:
    """(n,) bool: True for the samples that are strays (module docstring); all False for fewer than
    ``STRAY_NEIGHBOURS + 2`` samples or when more than ``MAX_STRAY_SHARE`` of them would be."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < STRAY_NEIGHBOURS + 2:
        return np.zeros(len(p), dtype=bool)
    tree = cKDTree(p)
    k = STRAY_NEIGHBOURS + 1  # column 0: the sample itself
    typical = typical_reach(p, tree)
    if typical <= 0:
        return np.zeros(len(p), dtype=bool)
    if len(p) <= SURFACE_TEST_POINTS:
        distances, neighbours = tree.query(p, k=k, workers=-1)
        mask = distances[:, -1] > STRAY_FACTOR * typical
        mask |= plane_offsets(p, neighbours[:, 1:]) > OFF_SURFACE_FACTOR * typical
    else:
        mask = _far_in_dense(p, tree, k, STRAY_FACTOR * typical)
    if np.count_nonzero(mask) > MAX_STRAY_SHARE * len(p):
        return np.zeros(len(p), dtype=bool)
    return mask


def without_strays(cloud: trimesh.PointCloud) -> tuple[trimesh.PointCloud, int]:
    """(a copy of ``cloud`` without its strays, how many were left out); ``cloud`` itself when none."""
    mask = stray_mask(np.asarray(cloud.vertices))
    n = int(np.count_nonzero(mask))
    if n == 0:
        return cloud, 0
    return trimesh.PointCloud(np.asarray(cloud.vertices)[~mask].copy()), n
