"""What a scan or a point cloud tells about a part: surface samples, their normals, the noise, a solid.

``Surface``: points on the input's surface (a point cloud's own points, or area-uniform samples of an
open or noisy mesh) with normals from principal components of their neighbourhoods, the estimated noise
(median distance of a point's neighbours from their fitted plane) and the sample spacing.
``Occupancy``: which voxels are inside the part, robust to holes in the surface: surface samples grown by
a sealing radius, the outside flooded from the border, grown back by the same radius; what remains is
solid (a morphological closing of the part). The sealing radius starts where the samples leave a gap
that wide only rarely (``GAP_CHANCE``; at the typical largest gap about every second part leaked
somewhere) and grows in small steps while the solid leaks: while the solid sealed at the next radius
holds a deep interior (farther than this radius from every sample) that this one let out. The deep
interiors are compared on one grid, so a plate that leaked is told from the others, whose cores only thin
as the radius grows (compared at each radius's own depth, that thinning hid a plate that leaked: a part
whose two plates leaked one at a time lost one); a large step would close slots the part has. A scan's
grid is finer for the same radius (``SCAN_VOXELS_PER_RADIUS``): a wall as thin as its samples' spacing is
2-3 voxels thick there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import ndimage
from scipy.spatial import cKDTree

from backend.geometry.pointcloud import plane_offsets
from backend.geometry.sampling import sample_surface

MESH_SAMPLES = 16_384  # surface samples of a mesh input
SHAPE_SAMPLES = 8_192  # samples that get normals (and give the noise)
NEIGHBOURS = 12  # points per neighbourhood for normals and noise
LAPLACIAN_GAIN = 0.93  # median offset from the neighbours' mean -> noise of surface points (calibrated)
CLOUD_NEIGHBOURS = 8  # neighbours of a point whose plane it is measured against
CLOUD_QUANTILE = 15  # percentile of those offsets read as the noise
CLOUD_GAIN = 1.0 / (0.189 * 1.1)  # the 15th percentile of a half-normal is 0.189 sigma (plus the plane's)
SAME_NORMAL = 1e-5  # face normals equal to this rounding are one
CLEAN_SHARED = 0.2  # a mesh with at least this share of faces sharing their normal is a clean (CAD) mesh
VOXELS = 1_000_000  # voxel budget of the occupancy grid
VOXELS_PER_RADIUS = 2.2  # the grid's pitch is the sealing radius over this (and within the budget) ...
# ... and a scan's (an open or noisy mesh's 16,384 samples) this: its walls as thin as the samples'
# spacing 2-3 voxels thick, not 1-2 (a cloud's finer layers came back jaggier: more curves, thin tubes lost)
SCAN_VOXELS_PER_RADIUS = 3.5
SEAL_EDGE = 0.8  # a mesh's sealing radius is at least this times its (95th percentile) edge length
GAP_CHANCE = 0.05  # chance that the samples leave a gap wider than the first sealing radius
SEAL_GROWTH = 1.2  # sealing radius factor per try
SEAL_TRIES = 6  # up to 2.5 times the first radius
LEAKED_SHARE = 0.1  # leaked: the deep interior only the next radius seals, this share of both's
LEAKED_SOLID = 0.02  # ... and this share of the solid


def is_clean_mesh(target: object) -> bool:
    """A mesh as CAD exports it: faces, and noise-free: most triangles share their exact normal with
    another (planar faces, and the quads of curved ones, are split into triangles). Scans have none."""
    if not isinstance(target, trimesh.Trimesh) or len(target.faces) == 0:
        return False
    tri = np.asarray(target.vertices, dtype=np.float64)[np.asarray(target.faces)]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(cross, axis=1)
    cross = cross[length > 0] / length[length > 0, None]
    if len(cross) < 2:
        return True
    q = np.round(cross / SAME_NORMAL).astype(np.int64) + int(round(1.0 / SAME_NORMAL))  # 0 .. 2e5 < 2^18
    _, counts = np.unique((q[:, 0] << 36) | (q[:, 1] << 18) | q[:, 2], return_counts=True)
    return float(np.sum(counts[counts > 1])) / len(cross) >= CLEAN_SHARED


@dataclass(frozen=True)
class Surface:
    points: np.ndarray  # (n, 3) surface samples
    shape_points: np.ndarray  # (m, 3) a subset of them with normals
    normals: np.ndarray  # (m, 3) unit normals of ``shape_points``, unoriented
    area: float  # surface area (estimated for a point cloud)
    noise: float  # estimated noise sigma of the samples (normalised units)
    seal: float  # smallest radius that may close the gaps between samples
    mesh: trimesh.Trimesh | None  # the input mesh (open or noisy), None for a point cloud


def surface_of(target: trimesh.Trimesh | trimesh.PointCloud, seed: int = 0) -> Surface:
    """Surface samples of a mesh (area-uniform) or a point cloud (its distinct points)."""
    mesh = target if isinstance(target, trimesh.Trimesh) and len(target.faces) else None
    rng = np.random.default_rng(seed)
    if mesh is not None:
        pts = sample_surface(mesh, MESH_SAMPLES, rng)[0].astype(np.float64)
    else:
        pts = np.unique(np.asarray(target.vertices, dtype=np.float64), axis=0)
    if len(pts) < NEIGHBOURS + 1:
        raise ValueError(f"too few points for sections: {len(pts)}")
    tree = cKDTree(pts)
    shape = pts if len(pts) <= SHAPE_SAMPLES else pts[np.sort(rng.choice(len(pts), SHAPE_SAMPLES, False))]
    dist, idx = tree.query(shape, k=NEIGHBOURS + 1)
    nbr = pts[idx]
    centred = nbr - nbr.mean(axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(np.einsum("nki,nkj->nij", centred, centred) / (NEIGHBOURS + 1))
    noise = _mesh_noise(mesh) if mesh is not None else _cloud_noise(pts, tree)
    # area-uniform (Poisson) samples: mean nearest-neighbour distance 0.5 / sqrt(density)
    density = 0.25 / max(float(np.mean(dist[:, 1])), 1e-12) ** 2
    area = float(mesh.area) if mesh is not None else len(pts) / density
    # n uniform samples leave an empty disc of radius r somewhere with a chance of about
    # n exp(-pi density r^2): sealed at the radius where that chance is GAP_CHANCE
    seal = float(np.sqrt(np.log(len(pts) / GAP_CHANCE) / (np.pi * len(pts) / area)))
    if mesh is not None:
        tri = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]
        edges = np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2)  # inner edges twice: same percentile
        seal = max(seal, SEAL_EDGE * float(np.percentile(edges, 95)))
    return Surface(pts, shape, vectors[:, :, 0], area, noise, seal, mesh)


def _mesh_noise(mesh: trimesh.Trimesh) -> float:
    """Noise of a mesh's surface: the median distance of a vertex from the mean of its neighbours along
    its normal (neighbours lie on the same sheet, however thin the part). Half-edges, not unique edges:
    every neighbour of an inner vertex is counted twice, which leaves the mean as it is."""
    v = np.asarray(mesh.vertices, dtype=np.float64)
    f = np.asarray(mesh.faces, dtype=np.int64)
    src, dst = f.ravel(), f[:, [1, 2, 0]].ravel()
    src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    count = np.bincount(src, minlength=len(v)).astype(np.float64)
    total = np.column_stack([np.bincount(src, weights=v[dst, k], minlength=len(v)) for k in range(3)])
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # area-weighted face normals
    normal = np.column_stack(
        [np.bincount(f.ravel(), weights=np.repeat(cross[:, k], 3), minlength=len(v)) for k in range(3)]
    )
    length = np.linalg.norm(normal, axis=1)
    ok = (count > 0) & (length > 0)
    if not ok.any():
        return 0.0
    offset = v[ok] - total[ok] / count[ok, None]
    along = np.abs(np.einsum("nd,nd->n", offset, normal[ok] / length[ok, None]))
    return LAPLACIAN_GAIN * float(np.median(along))


def _cloud_noise(pts: np.ndarray, tree: cKDTree) -> float:
    """Noise sigma of points: a low percentile of the distances of points from the plane of their
    neighbours, read as a half-normal's (low: neighbourhoods across thin walls or edges read high)."""
    _, idx = tree.query(pts, k=CLOUD_NEIGHBOURS + 1)
    return CLOUD_GAIN * float(np.percentile(plane_offsets(pts, idx[:, 1:]), CLOUD_QUANTILE))


@dataclass(frozen=True)
class Occupancy:
    solid: np.ndarray  # (nx, ny, nz) bool: inside the part
    sealed: np.ndarray  # (nx, ny, nz) bool: inside the part or within ``radius`` of its surface samples
    origin: np.ndarray  # (3,) centre of voxel (0, 0, 0)
    pitch: float
    radius: float  # sealing radius: gaps, holes and slots narrower than twice this are filled

    def index(self, axis: int, level: float) -> int | None:
        k = int(round((level - self.origin[axis]) / self.pitch))
        return k if 0 <= k < self.solid.shape[axis] else None

    def section(self, axis: int, level: float, sealed: bool = False) -> np.ndarray | None:
        """The solid's (or the sealed solid's) voxel layer at ``level``, as a (u, v) image in the sketch
        columns of ``axis``."""
        k = self.index(axis, level)
        if k is None:
            return None
        layer = np.take(self.sealed if sealed else self.solid, k, axis=axis)  # other axes in order
        u, v = {0: (1, 2), 1: (2, 0), 2: (0, 1)}[axis]
        return layer if u < v else layer.T

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Which points lie in solid voxels (outside the grid: False)."""
        ijk = np.round((np.asarray(points, dtype=np.float64) - self.origin) / self.pitch).astype(np.int64)
        ok = np.all((ijk >= 0) & (ijk < np.array(self.solid.shape)), axis=1)
        out = np.zeros(len(ijk), dtype=bool)
        out[ok] = self.solid[tuple(ijk[ok].T)]
        return out


def occupancy_of(surface: Surface, from_above: bool = False) -> Occupancy:
    """The closed solid of the surface samples (see the module docstring). ``from_above``: the samples are
    what a scanner saw from above (the part on a table, z up): the outside is what it could see, not the
    flood (``_outside_from_above``), so faces turned downwards need no samples to bound the solid."""
    radius = surface.seal
    per_radius = SCAN_VOXELS_PER_RADIUS if surface.mesh is not None else VOXELS_PER_RADIUS
    for _ in range(SEAL_TRIES - 1):
        occ, leaked = _closed(surface.points, radius, radius * SEAL_GROWTH, per_radius, from_above)
        if not leaked:
            return occ
        radius *= SEAL_GROWTH
    return _closed(surface.points, radius, None, per_radius, from_above)[0]


def _closed(
    pts: np.ndarray,
    radius: float,
    next_radius: float | None = None,
    per_radius: float = VOXELS_PER_RADIUS,
    from_above: bool = False,
) -> tuple[Occupancy, bool]:
    """(occupancy sealed at ``radius``, whether it leaked: whether the solid sealed at ``next_radius`` holds
    a deep interior this one let out — voxels farther than ``radius`` from every sample, at least
    ``LEAKED_SHARE`` of those and this one's deep interior together, and ``LEAKED_SOLID`` of its solid —
    on one grid for both, so that a plate that leaked is told from the others, whose deep cores thin as
    the radius grows). Also counted: the middle of a slot between 2 and 2.4 radii wide, which the next
    radius bridges (such a slot is closed); not told: a leak that the next radius does not seal either."""
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    reach = max(radius, next_radius or 0.0)
    pitch = radius / per_radius
    pitch = max(pitch, float(np.prod(hi - lo + 2.0 * reach + 4.0 * pitch) / VOXELS) ** (1.0 / 3.0))
    pad = reach + 2.0 * pitch
    origin = lo - pad
    shape = tuple(int(n) for n in np.ceil((hi + pad - origin) / pitch).astype(np.int64) + 1)
    cells = unique_cells(np.round((pts - origin) / pitch).astype(np.int64))
    flood = _outside_from_above if from_above else _outside
    band = _band(cells, shape, radius / pitch)
    outside = flood(~band)
    solid = ~_grown_back(outside, radius / pitch)
    leaked = False
    if next_radius is not None:
        r_next = next_radius / pitch
        solid_next = ~_grown_back(flood(~_band(cells, shape, r_next)), r_next)
        escaped = np.count_nonzero(solid_next & outside & ~band)
        interior = np.count_nonzero(~outside & ~band)
        of_deep = escaped > LEAKED_SHARE * (escaped + interior)
        leaked = of_deep and escaped > LEAKED_SOLID * np.count_nonzero(solid)
    return Occupancy(solid, ~outside, origin, pitch, radius), leaked


def _grown_back(outside: np.ndarray, r: float) -> np.ndarray:
    """The outside grown by a ball of ``r`` voxels from its boundary cells (the closing's erosion)."""
    rim = np.argwhere(outside & ~ndimage.binary_erosion(outside, border_value=1))
    grown = outside.copy()
    for offset in _ball(r):
        grown[tuple(np.clip(rim + offset, 0, np.array(outside.shape) - 1).T)] = True
    return grown


def _band(cells: np.ndarray, shape: tuple[int, ...], r: float) -> np.ndarray:
    """Voxels within ``r`` voxels of a sample's cell."""
    band = np.zeros(shape, dtype=bool)
    for offset in _ball(r):
        band[tuple((cells + offset).T)] = True
    return band


def unique_cells(cells: np.ndarray) -> np.ndarray:
    """Distinct rows of a (n, d) array of small non-negative integers (faster than ``unique(axis=0)``)."""
    if len(cells) == 0:
        return cells
    span = cells.max(axis=0) + 1
    keys = np.ravel_multi_index(tuple(cells.T), tuple(int(x) for x in span))
    return np.stack(np.unravel_index(np.unique(keys), tuple(int(x) for x in span)), axis=1)


def _ball(r: float) -> np.ndarray:
    n = int(np.floor(r))
    g = np.arange(-n, n + 1)
    offsets = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    return offsets[(offsets**2).sum(axis=1) <= r * r]


def _outside(free: np.ndarray) -> np.ndarray:
    """Free voxels connected (6-neighbourhood) to the grid's border."""
    labels, _ = ndimage.label(free)
    border = np.concatenate(
        [
            labels[0].ravel(),
            labels[-1].ravel(),
            labels[:, 0].ravel(),
            labels[:, -1].ravel(),
            labels[:, :, 0].ravel(),
            labels[:, :, -1].ravel(),
        ]
    )
    ids = np.unique(border[border > 0])
    lookup = np.zeros(int(labels.max()) + 1, dtype=bool)
    lookup[ids] = True
    return lookup[labels]


def _outside_from_above(free: np.ndarray) -> np.ndarray:
    """Free voxels a scanner above the part sees (z up): those from which a straight line in one of
    ``VIEWS`` leaves the grid through free voxels only. Not a flood: air under a face the scanner missed
    is not reached sideways from air it saw (a shaft lying on its side, its lower half unseen, would be
    hollowed from its thinner end's unseen underside)."""
    out = np.zeros(free.shape, dtype=bool)
    for view in VIEWS:
        out |= _seen_along(free, view)
    return out


# straight up, level and up at 45 degrees (35 on the diagonals), eight ways around: the lines a scanner
# above the part looks along
VIEWS = [(0, 0, 1)] + [(a, b, c) for c in (0, 1) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b]


def _seen_along(free: np.ndarray, view: tuple[int, int, int]) -> np.ndarray:
    """Free voxels from which steps of ``view`` (each -1, 0 or 1) leave the grid through free voxels:
    ``seen[p] = free[p] & seen[p + view]``, true beyond the grid; swept slice by slice along the last axis
    the view moves on, from the side it leaves through."""
    axis = 2 if view[2] else (1 if view[1] else 0)
    moved = np.moveaxis(free, axis, 0)
    shifts = [view[a] for a in range(3) if a != axis]
    src = tuple(slice(1, None) if d > 0 else slice(0, -1) if d < 0 else slice(None) for d in shifts)
    dst = tuple(slice(0, -1) if d > 0 else slice(1, None) if d < 0 else slice(None) for d in shifts)
    seen = np.zeros(moved.shape, dtype=bool)
    ahead = np.ones(moved.shape[1:], dtype=bool)  # beyond the grid: outside
    for k in range(len(moved) - 1, -1, -1) if view[axis] > 0 else range(len(moved)):
        seen[k] = moved[k] & ahead
        ahead = np.ones(moved.shape[1:], dtype=bool)
        ahead[dst] = seen[k][src]
    return np.moveaxis(seen, 0, axis)
