"""Round holes the sealed solid filled, found again in the surface samples of a section.

The robust solid of a scan or a point cloud (``cloud.Occupancy``) is a morphological closing: it seals
the gaps of a scan's surface, and with them every hole narrower than about twice its sealing radius
(a bolt hole through a plate is often that narrow). The hole's wall is still sampled: at the level of a
section its samples form a ring inside the section's material, where no surface can be if the section
were right. ``sealed_holes`` clusters the samples lying inside the material (clear of its boundary),
fits a circle to each cluster and keeps those that are round holes: the samples all around the circle
(``MIN_COVERAGE`` of the directions), within the noise of it (``MAX_RMS_SIGMAS``, or a small share of
the radius for noise-free points), the circle inside the material. Other shapes inside the material
(two walls of a cross hole, a slot's sides) do not fit a circle and stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

MIN_POINTS = 8  # samples of a ring
LINK_VOXELS = 2.0  # samples this many voxels apart are one ring's
CLEAR_VOXELS = 1.0  # samples this many voxels (plus a few noise sigmas) inside the material
CLEAR_SIGMAS = 3.0
MAX_RMS_SIGMAS = 2.0  # a hole's samples lie this close to its circle (root mean square, noise sigmas) ...
MAX_RMS_SHARE = 0.02  # ... or within this share of its radius (noise-free points)
MIN_COVERAGE = 0.75  # share of the directions (of ``DIRECTIONS``) around the centre with samples
DIRECTIONS = 12
MIN_RADIUS_VOXELS = 0.5  # a hole's radius: at least this many voxels and three noise sigmas ...
MAX_RADIUS_SEALS = 3.0  # ... and at most this many sealing radii (wider holes the solid keeps)
CIRCLE_SEGMENTS = 64  # segments of a hole drawn into the section (the fit finds the circle again)


def circle_fit(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(centre, radius, root mean square distance of the points from the circle): algebraic fit."""
    a = np.column_stack([2.0 * points, np.ones(len(points))])
    (cx, cy, c), *_ = np.linalg.lstsq(a, (points * points).sum(axis=1), rcond=None)
    centre = np.array([cx, cy])
    radius = float(np.sqrt(max(c + cx * cx + cy * cy, 0.0)))
    off = np.linalg.norm(points - centre, axis=1) - radius
    return centre, radius, float(np.sqrt(np.mean(off * off)))


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
    clear = CLEAR_VOXELS * pitch + CLEAR_SIGMAS * noise
    inside = shapely.contains_xy(geom, samples[:, 0], samples[:, 1])
    inner = samples[inside]
    inner = inner[shapely.distance(geom.boundary, shapely.points(inner)) > clear]
    if len(inner) < MIN_POINTS:
        return []
    pairs = cKDTree(inner).query_pairs(LINK_VOXELS * pitch, output_type="ndarray")
    n = len(inner)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    circles = []
    for k in range(count):
        ring = inner[labels == k]
        if len(ring) < MIN_POINTS:
            continue
        centre, radius, rms = circle_fit(ring)
        if not max(MIN_RADIUS_VOXELS * pitch, 3.0 * noise) <= radius <= MAX_RADIUS_SEALS * seal:
            continue
        if rms > max(MAX_RMS_SIGMAS * noise, MAX_RMS_SHARE * radius):
            continue
        angle = np.arctan2(ring[:, 1] - centre[1], ring[:, 0] - centre[0])
        bins = np.unique(np.floor((angle + np.pi) / (2.0 * np.pi / DIRECTIONS)).astype(int) % DIRECTIONS)
        if len(bins) < MIN_COVERAGE * DIRECTIONS:
            continue
        circle = Point(centre).buffer(radius, quad_segs=CIRCLE_SEGMENTS // 4)
        if not geom.buffer(clear).contains(circle):  # a hole lies in the material, not across its edge
            continue
        circles.append(RoundHole((float(centre[0]), float(centre[1])), radius, circle))
    # one circle around another's centre: a pin in a sealed ring groove, not two holes
    return [
        c
        for i, c in enumerate(circles)
        if not any(
            i != j and (c.polygon.contains(o.polygon.centroid) or o.polygon.contains(c.polygon.centroid))
            for j, o in enumerate(circles)
        )
    ]


def with_holes(geom, holes: list[RoundHole]):
    """``geom`` with ``holes`` cut out of it (``geom`` itself without any, or if the cut fails)."""
    if not holes:
        return geom
    out = geom.difference(shapely.union_all([h.polygon for h in holes]))
    return out if not out.is_empty and out.is_valid else geom
