"""Stray samples of a point cloud: points far from every other one (a scanner's floaters, dust, a speck
of the turntable), left out before the part's frame and box are found — one far sample would otherwise
set the normalised box, and the sections and the model would see the part shrunk into a corner of it.

A sample is a stray when its ``STRAY_NEIGHBOURS``-th nearest neighbour lies more than ``STRAY_FACTOR``
times the cloud's median such distance away: surface samples lie at about the cloud's spacing from
their neighbours, wherever the part is thin or small; a region would need tens of times fewer samples
per area than the median to be taken for strays. Samples near the surface (noise) are not strays.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

STRAY_NEIGHBOURS = 8  # the neighbour whose distance is compared (a pair of strays is still strays)
STRAY_FACTOR = (
    6.0  # times the median distance to that neighbour (the 106 public parts as clouds: at most 2.3)
)
TYPICAL_PROBES = 20_000  # samples whose neighbour distance sets the median (all of a smaller cloud)
MAX_STRAY_SHARE = 0.2  # more samples than this far from the rest: the cloud is too uneven to tell; keep all


def stray_mask(points: np.ndarray) -> np.ndarray:
    """(n,) bool: True for the samples that are strays (module docstring); all False for fewer than
    ``STRAY_NEIGHBOURS + 2`` samples or when more than ``MAX_STRAY_SHARE`` of them would be."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < STRAY_NEIGHBOURS + 2:
        return np.zeros(len(p), dtype=bool)
    tree = cKDTree(p)
    k = STRAY_NEIGHBOURS + 1  # column 0: the sample itself
    probe = (
        p if len(p) <= TYPICAL_PROBES else p[np.random.default_rng(0).choice(len(p), TYPICAL_PROBES, False)]
    )
    typical = float(np.median(tree.query(probe, k=k, workers=-1)[0][:, -1]))
    if typical <= 0:
        return np.zeros(len(p), dtype=bool)
    threshold = STRAY_FACTOR * typical
    # a sample with enough others in its grid cell (whose diagonal is the threshold) is surely no stray:
    # only the rest are searched, so a dense cloud of millions of samples is told in a second or two
    cells = np.floor((p - p.min(axis=0)) / (threshold / np.sqrt(3.0))).astype(np.int64)
    span = cells.max(axis=0) + 1
    if float(np.prod(span.astype(np.float64))) < 2.0**62:  # one integer a cell (fast)
        keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    else:  # a sample very far out: too many cells for one integer
        _, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    unsure = np.flatnonzero(counts[inverse] < k)
    mask = np.zeros(len(p), dtype=bool)
    if len(unsure):
        reach = tree.query(p[unsure], k=k, distance_upper_bound=threshold, workers=-1)[0][:, -1]
        mask[unsure] = ~np.isfinite(reach)  # no k-th neighbour within the threshold
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
