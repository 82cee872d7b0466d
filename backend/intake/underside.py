"""The underside of a part scanned standing on a table: closed with samples where the scanner saw none.

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
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy import ndimage

from backend.geometry.pointcloud import REACH_NEIGHBOURS, typical_reach

RIM_BAND = 2.0  # samples this many R above the lowest one stand on the table
CAP_PITCH = 0.5  # grid pitch, in R
RIM_REACH = 1.5  # the rim's samples grown by this many R: gaps up to twice that bridged
MIN_ENCLOSED = 0.1  # closed only where the rim encloses at least this share of its footprint
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


def _area(reach: float, n: int) -> float:
    """The surface area ``n`` area-uniform samples cover when their 8th neighbour lies ``reach`` away: a
    disc of radius ``reach`` holds about 8 others."""
    return n * np.pi * reach * reach / REACH_NEIGHBOURS


def closed_underside(cloud: trimesh.PointCloud) -> tuple[trimesh.PointCloud, int]:
    """(a copy of ``cloud`` with its underside closed, how many samples were added); ``cloud`` itself when
    none were."""
    added = underside_samples(np.asarray(cloud.vertices))
    if len(added) == 0:
        return cloud, 0
    return trimesh.PointCloud(np.vstack([np.asarray(cloud.vertices), added])), len(added)
