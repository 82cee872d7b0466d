import numpy as np
import pytest
import trimesh

from backend.geometry.perturb import PERTURBATIONS, opened, points, rotate, scan


@pytest.fixture()
def mesh() -> trimesh.Trimesh:
    m = trimesh.creation.box((40.0, 10.0, 20.0))
    m.apply_translation((5.0, -3.0, 2.0))
    return m


def _snapshot(m: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    return np.array(m.vertices, copy=True), np.array(m.faces, copy=True)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_deterministic_and_input_unchanged(mesh, name):
    before_v, before_f = _snapshot(mesh)
    a, ma = PERTURBATIONS[name](mesh, 7)
    b, mb = PERTURBATIONS[name](mesh, 7)
    c, _ = PERTURBATIONS[name](mesh, 8)
    np.testing.assert_array_equal(mesh.vertices, before_v)
    np.testing.assert_array_equal(mesh.faces, before_f)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(ma, mb)
    assert ma.shape == (4, 4)
    if isinstance(a, trimesh.Trimesh):
        np.testing.assert_array_equal(a.faces, b.faces)
        if name not in ("inverted", "double-sided"):  # the perturbations without chance
            assert not (np.array_equal(a.vertices, c.vertices) and np.array_equal(a.faces, c.faces))
    else:
        assert not np.array_equal(a.vertices, c.vertices)


def test_rotate_is_a_rotation(mesh):
    out, matrix = rotate(mesh, 3)
    r = matrix[:3, :3]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_allclose(matrix[:3, 3], 0.0)
    np.testing.assert_allclose(out.vertices, trimesh.transform_points(mesh.vertices, matrix), atol=1e-12)
    np.testing.assert_array_equal(out.faces, mesh.faces)
    assert out.volume == pytest.approx(mesh.volume)


def test_scan_remeshed_noisy_open(mesh):
    out = scan(mesh, 1)
    extent = 40.0
    assert len(out.faces) > 50 * len(mesh.faces)
    assert not out.is_watertight
    # the same scan without holes and noise is the remeshed, welded, closed surface
    clean = scan(mesh, 1, noise=0.0, drop=0.0)
    assert clean.is_watertight
    assert clean.volume == pytest.approx(mesh.volume)
    assert np.max(clean.edges_unique_length) <= extent / 50 + 1e-9
    # 2 % of the triangles removed
    assert len(clean.faces) - len(out.faces) == round(0.02 * len(clean.faces))
    # noise measured as distance to the clean surface: sigma = 0.2 % of the extent per axis
    _, dist, _ = trimesh.proximity.closest_point(mesh, out.vertices[:2000])
    # |normal component| of an isotropic Gaussian: mean = sigma * sqrt(2 / pi)
    assert np.mean(dist) == pytest.approx(0.002 * extent * np.sqrt(2 / np.pi), rel=0.15)
    assert len(np.unique(out.faces)) == len(out.vertices)


def test_scan_respects_triangle_budget(monkeypatch, mesh):
    import backend.geometry.perturb as perturb

    monkeypatch.setattr(perturb, "SCAN_MAX_FACES", 2000)
    out = scan(mesh, 0, noise=0.0, drop=0.0)
    assert len(out.faces) <= 2000
    assert out.is_watertight


def test_points_on_surface(mesh):
    cloud = points(mesh, 2)
    assert isinstance(cloud, trimesh.PointCloud)
    assert cloud.vertices.shape == (8192, 3)
    assert cloud.vertices.dtype == np.float64
    _, dist, _ = trimesh.proximity.closest_point(mesh, cloud.vertices[:500])
    assert np.max(dist) < 1e-4
    assert len(points(mesh, 2, n=100).vertices) == 100


def test_scan_rejects_bad_arguments(mesh):
    with pytest.raises(ValueError):
        scan(mesh, 0, noise=-1.0)
    with pytest.raises(ValueError):
        scan(mesh, 0, drop=1.0)


def test_opened_is_the_exact_mesh_with_triangles_missing():
    mesh = trimesh.creation.icosphere(subdivisions=3)  # 1,280 triangles
    out = opened(mesh, 4)
    assert len(mesh.faces) - len(out.faces) == round(0.02 * len(mesh.faces))
    assert not out.is_watertight
    kept = {tuple(sorted(map(tuple, np.round(t, 12).tolist()))) for t in mesh.vertices[mesh.faces]}
    assert all(tuple(sorted(map(tuple, np.round(t, 12).tolist()))) in kept for t in out.vertices[out.faces])
    assert len(opened(trimesh.creation.box(), 0).faces) == 11  # at least one triangle goes
    with pytest.raises(ValueError):
        opened(mesh, 0, drop=0.0)


@pytest.mark.parametrize("name", ["turned-scan", "turned-points", "turned-open", "turned-scan-from-above"])
def test_turned_perturbations_are_the_plain_ones_turned(mesh, name):
    out, matrix = PERTURBATIONS[name](mesh, 5)
    _, turn = rotate(mesh, 5)
    np.testing.assert_array_equal(matrix, turn)  # the turn rotate makes
    plain = PERTURBATIONS[name.removeprefix("turned-")](mesh, 5)[0]  # same noise: scaled by the clean extent
    back = trimesh.transform_points(out.vertices, np.linalg.inv(matrix))
    np.testing.assert_allclose(back, plain.vertices, atol=1e-9)


def test_stray_points_are_the_points_and_a_few_around_the_part(mesh):
    from backend.geometry.perturb import STRAY_SHARE, stray_points

    cloud = np.asarray(stray_points(mesh, 3).vertices)
    surface = np.asarray(points(mesh, 3).vertices)
    np.testing.assert_array_equal(cloud[: len(surface)], surface)  # the same samples first
    strays = cloud[len(surface) :]
    assert len(strays) == round(STRAY_SHARE * len(surface))
    grown = 0.5 * mesh.extents.max()
    assert (strays >= mesh.bounds[0] - grown - 1e-9).all() and (strays <= mesh.bounds[1] + grown + 1e-9).all()


def test_points_from_above_leave_the_underside_out(mesh):
    from backend.geometry.perturb import points_from_above

    cloud = np.asarray(points_from_above(mesh, 4).vertices)
    assert cloud.shape == (8192, 3)
    bottom = mesh.bounds[0][2]
    assert not np.isclose(cloud[:, 2], bottom, atol=1e-9).any()  # nothing on the face the box stands on
    assert np.isclose(cloud[:, 2], mesh.bounds[1][2], atol=1e-9).any()  # its top is seen
    _, dist, _ = trimesh.proximity.closest_point(mesh, cloud[:500])
    assert np.max(dist) < 1e-4


def test_scan_from_above_is_the_scan_without_its_underside(mesh):
    from backend.geometry.perturb import scan_from_above

    scanned, above = scan(mesh, 6), scan_from_above(mesh, 6)
    rows = {tuple(t) for t in np.round(scanned.triangles.reshape(-1, 9), 12).tolist()}
    assert all(tuple(t) in rows for t in np.round(above.triangles.reshape(-1, 9), 12).tolist())  # the scan's
    assert 400.0 < scanned.area - above.area < 1.3 * 400.0  # the 40 x 10 face it stands on (noisy)
    assert not above.is_watertight and len(above.faces) < 0.9 * len(scanned.faces)


def test_scan_with_floaters_is_the_scan_and_specks_clear_of_it(mesh):
    from backend.geometry.perturb import FLOATER_CLEAR, FLOATERS, scan_with_floaters

    scanned, specked = scan(mesh, 6), scan_with_floaters(mesh, 6)
    n = len(scanned.vertices)
    np.testing.assert_array_equal(specked.vertices[:n], scanned.vertices)  # the scan first, as it was
    np.testing.assert_array_equal(specked.faces[: len(scanned.faces)], scanned.faces)
    specks = specked.vertices[n:].reshape(FLOATERS, -1, 3)
    _, dist, _ = trimesh.proximity.closest_point(mesh, specks.mean(axis=1))
    assert (dist > FLOATER_CLEAR * mesh.extents.max()).all()
