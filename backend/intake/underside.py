"""The faces of a part scanned standing on a table that the scanner could not see: closed with samples.

A scan made with the part on a table (a turntable, a hand-held scanner walked around it) has no samples
on the face the part stands on; the robust solid (``sections.cloud``) is then flooded through that open
face and the part comes back as a hollow shell. From the samples alone such a part cannot be told from a
thin cover open downwards (one layer of samples over an open rim either way), so this runs only when the
user says the part stood on a table (``ReconstructOptions.underside_unseen``).

The table is the input's lowest level along its own z axis (the scanner's up). The samples within
``RIM_BAND`` R of that level (R: the cloud's median distance to a sample's 8th nearest neighbour) are
drawn on a grid of ``CAP_PITCH`` R, grown by ``RIM_REACH`` R so that they bridge their gaps, the
regions they enclose filled and the whole shrunk back by as much, less the columns no sample lies over
(a hole through the part, which a through hole's own rim would otherwise close); samples are added there
at the table's level, as many per area as the cloud has. A rim that encloses nothing (the part stands on
feet, or its underside was seen) adds nothing. The bounds are set for the pipeline's density (8,192
samples, ``intake.budget.WORK_POINTS``): the pipeline closes a cloud after its budget.

The lower faces of overhangs above the table (an arm reaching out, a ledge, a bridge's span) were not seen
either: with the underside closed, the solid the samples bound is taken as what the scanner could see
into (``sections.cloud.occupancy_of(..., from_above=True)``: air only where a straight line up, level or
up at 45 degrees — 35 on the diagonals — leaves it), and samples are added
on that solid's faces turned downwards where no sample lies within ``UNSEEN_GAP`` R, in patches of at
least the area of a square ``UNSEEN_PATCH`` R wide, at the cloud's density. What
no line of sight can tell stays a guess: the lower half of a shaft lying on its side comes back flat at
the level its seen sides end, and a line through a sparse spot of a wall is a view inside (a thin
tube of air under the part's top, whose roof gets samples).
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy import ndimage
from scipy.spatial import cKDTree

from backend.geometry.pointcloud import REACH_NEIGHBOURS, typical_reach
from backend.sections.cloud import NEIGHBOURS, occupancy_of, surface_of

RIM_BAND = 2.0  # samples this many R above the lowest one stand on the table
CAP_PITCH = 0.5  # grid pitch, in R
RIM_REACH = 1.5  # the rim's samples grown by this many R: gaps up to twice that bridged
MIN_ENCLOSED = 0.1  # closed only where the rim encloses at least this share of its footprint
UNSEEN_GAP = 1.0  # a face turned downwards is unseen where no sample lies within this many R of it
UNSEEN_PATCH = 3.0  # ... and left out where its unseen patch covers less than a square this many R wide
MAX_CELLS = 2048  # the grid's cells along the part, at most (clustered samples make R tiny)


def underside_samples(points: np.ndarray) -> np.ndarray:
    """(m, 3) samples closing the face a part stood on (module docstring); (0, 3) when its rim encloses
    nothing."""
    p = np.asarray(points, dtype=np.float64)
    none = np.zeros((0, 3))
    if len(p) < REACH_NEIGHBOURS + 2:
        return none
    reach = typical_reach(p)
    if reach <= 0:
        return none
    table = float(p[:, 2].min())
    rim = p[p[:, 2] <= table + RIM_BAND * reach, :2]
    pitch = max(CAP_PITCH * reach, float(np.ptp(p[:, :2], axis=0).max()) / MAX_CELLS)
    lo = p[:, :2].min(axis=0) - 4 * reach
    shape = tuple(int(n) for n in np.ceil((p[:, :2].max(axis=0) + 4 * reach - lo) / pitch) + 1)
    grid = np.zeros(shape, dtype=bool)
    ij = np.floor((rim - lo) / pitch).astype(np.int64)
    grid[ij[:, 0], ij[:, 1]] = True
    r = max(1, int(np.ceil(RIM_REACH * reach / pitch)))
    disc = np.add.outer(np.arange(-r, r + 1) ** 2, np.arange(-r, r + 1) ** 2) <= r * r
    walls = ndimage.binary_dilation(grid, structure=disc)  # the rim, its gaps bridged
    filled = ndimage.binary_fill_holes(walls)
    if np.count_nonzero(filled & ~walls) < MIN_ENCLOSED * np.count_nonzero(filled):
        return none
    footprint = ndimage.binary_erosion(filled, structure=disc, border_value=0)  # back to the rim's line
    seen = np.zeros(shape, dtype=bool)  # the columns the part covers from above (not a hole through it)
    ij = np.floor((p[:, :2] - lo) / pitch).astype(np.int64)
    seen[ij[:, 0], ij[:, 1]] = True
    seen = ndimage.binary_closing(seen, structure=disc, border_value=0)
    cells = np.argwhere(footprint & seen)
    per_cell = (len(p) / _area(reach, len(p))) * pitch * pitch  # samples per cell at the cloud's density
    rng = np.random.default_rng(0)
    keep = rng.random(len(cells)) < min(per_cell, 1.0)
    xy = lo + (cells[keep] + 0.5) * pitch
    return np.column_stack([xy, np.full(len(xy), table)])


def overhang_samples(points: np.ndarray) -> np.ndarray:
    """(m, 3) samples on the faces turned downwards that the scanner above could not see: the lower
    boundary of the solid the samples bound when air reaches it only from above and the sides
    (``occupancy_of(..., from_above=True)``), where no sample lies within ``UNSEEN_GAP`` R, in patches of
    at least ``UNSEEN_PATCH`` R squared; at the cloud's density. Set for the pipeline's density
    (``intake.budget.WORK_POINTS`` samples): a much denser cloud's voxel grid (``sections.cloud.VOXELS``)
    is coarser than its R."""
    p = np.asarray(points, dtype=np.float64)
    none = np.zeros((0, 3))
    if len(p) < REACH_NEIGHBOURS + 2 or len(np.unique(p, axis=0)) <= NEIGHBOURS:
        return none
    tree = cKDTree(p)
    reach = typical_reach(p, tree)
    if reach <= 0:
        return none
    occ = occupancy_of(surface_of(trimesh.PointCloud(p)), from_above=True)
    solid = occ.solid
    lower = solid.copy()
    lower[:, :, 1:] &= ~solid[:, :, :-1]  # solid voxels with none below: a face turned downwards
    cells = np.argwhere(lower)
    xyz = occ.origin + cells * occ.pitch
    xyz[:, 2] -= 0.5 * occ.pitch
    unseen = tree.query(xyz, workers=-1)[0] > UNSEEN_GAP * reach
    cells, xyz = cells[unseen], xyz[unseen]
    lower[...] = False
    lower[tuple(cells.T)] = True
    patch = ndimage.label(lower, structure=np.ones((3, 3, 3), dtype=bool))[0][tuple(cells.T)]
    xyz = xyz[np.bincount(patch)[patch] * occ.pitch**2 >= (UNSEEN_PATCH * reach) ** 2]
    per_cell = (len(p) / _area(reach, len(p))) * occ.pitch * occ.pitch
    keep = np.random.default_rng(0).random(len(xyz)) < min(per_cell, 1.0)
    return xyz[keep]


def _area(reach: float, n: int) -> float:
    """The surface area ``n`` area-uniform samples cover when their 8th neighbour lies ``reach`` away: a
    disc of radius ``reach`` holds about 8 others."""
    return n * np.pi * reach * reach / REACH_NEIGHBOURS


def closed_underside(cloud: trimesh.PointCloud) -> tuple[trimesh.PointCloud, int, int]:
    """(a copy of ``cloud`` with its unseen faces closed, how many samples were added on the table's level,
    how many on faces turned downwards above it); ``cloud`` itself when none were."""
    p = np.asarray(cloud.vertices)
    cap = underside_samples(p)
    overhangs = overhang_samples(np.vstack([p, cap]))
    if len(cap) + len(overhangs) == 0:
        return cloud, 0, 0
    return trimesh.PointCloud(np.vstack([p, cap, overhangs])), len(cap), len(overhangs)
