"""Surface samples, noise and the closed solid of scans and point clouds."""

import dataclasses

import numpy as np
import pytest
import trimesh

from backend.geometry.perturb import points, scan
from backend.sections.cloud import (
    VIEWS,
    _outside_from_above,
    _seen_along,
    is_clean_mesh,
    occupancy_of,
    surface_of,
    unique_cells,
)
from tests.shapes import thin_walls


@pytest.fixture(scope="module")
def box() -> trimesh.Trimesh:
    return trimesh.creation.box((1.0, 0.6, 0.3))


def test_clean_or_not(box):
    assert is_clean_mesh(box)
    assert is_clean_mesh(scan(box, 0, noise=0.0))  # remeshed and open, but not noisy
    assert not is_clean_mesh(scan(box, 0))
    assert not is_clean_mesh(points(box, 0))


def test_noise(box):
    assert surface_of(scan(box, 0)).noise == pytest.approx(0.002, rel=0.5)  # sigma 0.2 % of the extent 1
    assert surface_of(points(box, 0)).noise < 2e-4
    rng = np.random.default_rng(0)
    noisy = points(box, 0).vertices + rng.normal(scale=0.003, size=(8192, 3))
    assert surface_of(trimesh.PointCloud(noisy)).noise == pytest.approx(0.003, rel=0.4)


@pytest.mark.parametrize("make", [scan, points])
def test_occupancy_is_the_solid(box, make):
    surface = surface_of(make(box, 1))
    assert surface.area == pytest.approx(box.area, rel=0.3)
    occ = occupancy_of(surface)
    q = np.random.default_rng(2).uniform([-0.6, -0.4, -0.25], [0.6, 0.4, 0.25], size=(4000, 3))
    truth = box.contains(q)
    got = occ.inside(q)
    assert np.count_nonzero(got & truth) / np.count_nonzero(got | truth) > 0.85
    assert occ.sealed[occ.solid].all()


def test_unique_cells():
    cells = np.random.default_rng(3).integers(0, 6, size=(200, 3))
    np.testing.assert_array_equal(unique_cells(cells), np.unique(cells, axis=0))


def _two_plates() -> trimesh.Trimesh:
    """Two plates 0.13 thick, 0.3 apart, joined by a post (as Fusion 360 55749 is)."""
    top = trimesh.creation.box((1.0, 0.9, 0.13))
    top.apply_translation((0.0, 0.0, 0.215))
    bottom = trimesh.creation.box((1.0, 0.9, 0.13))
    bottom.apply_translation((0.0, 0.0, -0.215))
    return trimesh.util.concatenate([top, bottom, trimesh.creation.box((0.25, 0.25, 0.32))])


@pytest.mark.parametrize(
    ("scale", "seed"), [(0.75, 0), (0.75, 1), (0.75, 3), (0.75, 4), (0.75, 6), (1.0, 5), (1.0, 9)]
)
def test_a_plate_that_leaked_is_sealed(scale, seed):
    """Sealed from its samples' own first radius or from 3/4 of it, the plates can leak out through the
    samples' gaps, one at a time: the solid at the next radius holds a plate's deep core that this one let
    out, and the radius grows until both plates are in. The interiors compared at each radius's own depth
    (the rule before) read the cores' thinning as no leak and lost a plate, or both, on five of these seven
    (with the first radius and growth of now; on three with those before)."""
    pts = trimesh.sample.sample_surface(_two_plates(), 8192, seed=seed)[0]
    surface = surface_of(trimesh.PointCloud(pts))
    occ = occupancy_of(dataclasses.replace(surface, seal=scale * surface.seal))
    q = np.random.default_rng(0).uniform([-0.45, -0.4, -0.04], [0.45, 0.4, 0.04], size=(2000, 3))
    for plate in (0.215, -0.215):
        assert occ.inside(q + (0.0, 0.0, plate)).mean() > 0.95


def test_a_scanned_thin_walls_solid():
    """A base plate with a back and a side wall 0.02-0.025 thick (as Fusion 360 66331 is), scanned: the
    walls are about as thin as the samples' spacing, and on a grid of 2.2 voxels a sealing radius they were
    1-2 voxels thick (the solid overlapped the part 0.64-0.66 over these seeds); on a scan's finer grid,
    more than 0.75 (0.78-0.80)."""
    walls = thin_walls()
    q = np.random.default_rng(0).uniform(walls.bounds[0], walls.bounds[1], size=(20000, 3))
    truth = walls.contains(q)
    for seed in range(2):
        got = occupancy_of(surface_of(scan(walls, seed))).inside(q)
        assert np.count_nonzero(got & truth) / np.count_nonzero(got | truth) > 0.75


def test_seen_from_above_air_is_what_straight_lines_reach():
    free = np.ones((9, 9, 9), dtype=bool)
    free[2:7, 2:7, 6] = False  # a roof
    free[2:7, 2, 2:6] = free[2:7, 6, 2:6] = False  # two walls under it: a tunnel along x
    seen = _outside_from_above(free)
    assert seen[4, 4, 4]  # in the tunnel: seen along x
    free[2, 2:7, 2:6] = free[6, 2:7, 2:6] = False  # closed on every side: a box without its floor
    seen = _outside_from_above(free)
    assert not seen[4, 4, 4] and not seen[4, 4, 2]  # the flood from below would hollow it
    assert seen[4, 4, 0] and seen[4, 4, 8] and seen[0, 4, 4]  # under it, above it, beside it
    for view in VIEWS:  # each view's sweep against the line walked voxel by voxel
        got = _seen_along(free, view)
        for p in np.argwhere(free)[::7]:
            q, ok = p.copy(), True
            while ok and all(0 <= q[a] < 9 for a in range(3)):
                ok, q = free[tuple(q)], q + view
            assert got[tuple(p)] == ok


def test_a_cloud_seen_from_above_bounds_its_solid_without_an_underside():
    lid = trimesh.creation.box((1.0, 0.6, 0.3))
    cloud = points(lid, 0)
    seen = cloud.vertices[cloud.vertices[:, 2] > -0.149]  # no samples on the underside
    surface = surface_of(trimesh.PointCloud(seen))
    q = np.random.default_rng(2).uniform([-0.45, -0.25, -0.12], [0.45, 0.25, 0.12], size=(2000, 3))
    assert occupancy_of(surface, from_above=True).inside(q).mean() > 0.95
    assert occupancy_of(surface).inside(q).mean() < 0.05  # flooded through the open underside: a shell
