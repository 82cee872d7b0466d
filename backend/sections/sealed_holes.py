"""Round holes the sealed solid filled, found again in the surface samples of a section.

The robust solid of a scan or a point cloud (``cloud.Occupancy``) is a morphological closing: it seals
the gaps of a scan's surface, and with them every hole narrower than about twice its sealing radius
(a bolt hole through a plate is often that narrow). The hole's wall is still sampled: its samples at the
section's level (a scan's section segments; a point cloud's points off flat faces in the slab between
the flat faces around the level, which the caller checks reach the level) form a ring inside the
section's material, where no surface is if the section is right. ``sealed_holes`` clusters the samples
lying inside the material (clear of its boundary), fits a circle to each cluster twice (the second time
without the samples inside the first circle, such as a blind hole's floor; few may lie outside it) and
keeps the round holes: enough samples within the noise of the circle (``MAX_RMS_SIGMAS``, or a small
share of the radius for noise-free points), around most of it (no gap wider than ``MAX_GAP``, in most of
its ``SECTORS``). Other shapes inside the material (two walls of a cross hole, a slot's sides) do not fit
a circle and stay as they are, and so do two rings about one centre (a pin in a sealed groove, not two
holes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.errors import GEOSException
from shapely.geometry import Point, Polygon

from backend.sections.fit import fit_circle

MIN_POINTS = 8  # samples of a ring
LINK_VOXELS = 2.0  # samples this many voxels apart are one ring's
CLEAR_VOXELS = 1.0  # samples this many voxels (plus a few noise sigmas) inside the material
CLEAR_SIGMAS = 3.0
MAX_RMS_SIGMAS = 2.0  # a hole's samples lie this close to its circle (root mean square, noise sigmas) ...
MAX_RMS_SHARE = 0.02  # ... or within this share of its radius (noise-free points)
MAX_GAP = math.radians(120.0)  # the widest angle around the centre without a sample on the circle, and
SECTORS, MIN_SECTORS = 12, 9  # sectors of the circle with samples: this many, or for a sparse ring
SECTORS_PER_SAMPLE = 0.5  # this many per sample (samples in a few clumps are no ring)
RING_BAND_SIGMAS = 3.0  # the second fit keeps the samples this many noise sigmas off the first circle ...
RING_BAND_SHARE = 0.15  # ... or this share of its radius, whichever is wider
MAX_OUTSIDE = 0.1  # samples farther out than that band, per sample kept
MIN_RADIUS_VOXELS = 0.75  # a hole's radius: at least this many voxels and three noise sigmas ...
MAX_RADIUS_SEALS = 3.0  # ... and at most this many sealing radii (wider holes the solid keeps)
CIRCLE_SEGMENTS = 64  # segments of a hole drawn into the section (the fit finds the circle again)


@dataclass(frozen=True)
class RoundHole:
    """A round hole of a section: its circle in sketch coordinates, and that circle as a polygon."""

    centre: tuple[float, float]
    radius: float
    polygon: Polygon


def sealed_holes(geom, samples: np.ndarray, pitch: float, seal: float, noise: float) -> list[RoundHole]:
    """The round holes whose wall ``samples`` (2D, sketch coordinates) show inside the material of
    ``geom`` (the section, shapely); ``pitch``: the solid's voxel, ``seal``: its sealing radius,
    ``noise``: the samples' noise sigma."""
    if geom is None or geom.is_empty or len(samples) < MIN_POINTS:
        return []
    core = geom.buffer(-(CLEAR_VOXELS * pitch + CLEAR_SIGMAS * noise))  # the material clear of its boundary
    if core.is_empty:
        return []
    shapely.prepare(core)
    inner = samples[shapely.contains_xy(core, samples[:, 0], samples[:, 1])]
    if len(inner) < MIN_POINTS:
        return []
    pairs = cKDTree(inner).query_pairs(LINK_VOXELS * pitch, output_type="ndarray")
    n = len(inner)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    holes = []
    for k in range(count):
        hole = _round_hole(inner[labels == k], pitch, seal, noise)
        if hole is not None:
            holes.append(hole)
    return [
        h
        for h in holes
        if not any(o is not h and math.dist(o.centre, h.centre) < max(o.radius, h.radius) for o in holes)
    ]


def _round_hole(cluster: np.ndarray, pitch: float, seal: float, noise: float) -> RoundHole | None:
    """The cluster's circle when its samples make a round hole's wall, else None."""
    if len(cluster) < MIN_POINTS:
        return None
    centre, radius = fit_circle(cluster)
    band = max(RING_BAND_SIGMAS * noise, RING_BAND_SHARE * radius)
    off = np.linalg.norm(cluster - centre, axis=1) - radius
    ring = cluster[np.abs(off) <= band]
    # samples past the circle are no floor inside it: a wall that rough is no hole's
    if len(ring) < MIN_POINTS or np.count_nonzero(off > band) > MAX_OUTSIDE * len(ring):
        return None
    centre, radius = fit_circle(ring)
    if not max(MIN_RADIUS_VOXELS * pitch, 3.0 * noise) <= radius <= MAX_RADIUS_SEALS * seal:
        return None
    off = np.linalg.norm(ring - centre, axis=1) - radius
    if math.sqrt(float(np.mean(off * off))) > max(MAX_RMS_SIGMAS * noise, MAX_RMS_SHARE * radius):
        return None
    angle = np.sort(np.arctan2(ring[:, 1] - centre[1], ring[:, 0] - centre[0]))
    widest = max(float(np.max(np.diff(angle), initial=0.0)), float(angle[0] + 2.0 * math.pi - angle[-1]))
    sectors = len(np.unique(np.floor((angle + math.pi) / (2.0 * math.pi / SECTORS)).astype(int) % SECTORS))
    if widest > MAX_GAP or sectors < min(MIN_SECTORS, math.ceil(SECTORS_PER_SAMPLE * len(ring))):
        return None
    circle = Point(centre).buffer(radius, quad_segs=CIRCLE_SEGMENTS // 4)
    return RoundHole((float(centre[0]), float(centre[1])), radius, circle)


def with_holes(geom, holes: list[RoundHole]):
    """``geom`` with ``holes`` cut out of it; ``geom`` itself without any, or when the cut fails."""
    if not holes:
        return geom
    try:
        out = geom.difference(shapely.union_all([h.polygon for h in holes]))
    except GEOSException:
        return geom
    return out if not out.is_empty and out.is_valid else geom
