"""Surface samples, noise and the closed solid of scans and point clouds."""

import numpy as np
import pytest
import trimesh

from backend.geometry.perturb import points, scan
from backend.sections.cloud import is_clean_mesh, occupancy_of, surface_of, unique_cells


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
