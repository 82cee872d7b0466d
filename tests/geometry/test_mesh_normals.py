"""A noisy mesh's normals averaged along its surface: the noise goes, a thin sheet's faces stay apart."""

import numpy as np
import pytest
import trimesh

from backend.geometry.mesh_normals import is_connected_surface, smoothed_face_normals, wound_against_share
from backend.geometry.perturb import scan


@pytest.fixture(scope="module")
def scanned_plate():
    return scan(trimesh.creation.box((15.0, 0.5, 20.0)), 0)  # 2.5 % thick, noise 0.2 % of 20


def _share_within(normals, area, axis, deg):
    return float(area[np.abs(normals[:, axis]) >= np.cos(np.radians(deg))].sum() / area.sum())


def test_a_scanned_sheets_faces_keep_their_normal(scanned_plate):
    smooth = smoothed_face_normals(scanned_plate)
    area = scanned_plate.area_faces
    # the two large faces are about 97 % of the area; the noise tilts each triangle by degrees
    assert _share_within(scanned_plate.face_normals, area, 1, 4.0) < 0.1
    assert _share_within(smooth, area, 1, 4.0) > 0.75
    assert np.allclose(np.linalg.norm(smooth, axis=1), 1.0)


def test_faces_wound_the_wrong_way_count_as_much(scanned_plate):
    flipped = scanned_plate.faces.copy()
    wrong = np.random.default_rng(0).random(len(flipped)) < 0.3
    flipped[wrong] = flipped[wrong][:, ::-1]
    pieced = trimesh.Trimesh(scanned_plate.vertices, flipped, process=False)
    smooth = smoothed_face_normals(pieced)
    assert _share_within(smooth, pieced.area_faces, 1, 4.0) > 0.75  # a signed average: about 0.3
    assert np.all(np.einsum("ij,ij->i", smooth, pieced.face_normals) >= 0.0)  # each keeps its own side


def test_a_triangle_soup_is_not_a_connected_surface(scanned_plate):
    assert is_connected_surface(scanned_plate)
    triangles = scanned_plate.triangles.reshape(-1, 3)
    soup = trimesh.Trimesh(triangles, np.arange(len(triangles)).reshape(-1, 3), process=False)
    assert not is_connected_surface(soup)
    assert np.allclose(smoothed_face_normals(soup), soup.face_normals)  # nothing to average over


def test_no_faces_is_refused():
    with pytest.raises(ValueError, match="without faces"):
        smoothed_face_normals(trimesh.Trimesh(np.zeros((3, 3)), np.zeros((0, 3), dtype=np.int64)))


def test_faces_wound_against_their_neighbours_are_counted(scanned_plate):
    assert wound_against_share(scanned_plate) == 0.0
    flipped = scanned_plate.faces.copy()
    flipped[0] = flipped[0][::-1]  # one face: its three neighbours' shared edges
    one = trimesh.Trimesh(scanned_plate.vertices, flipped, process=False)
    assert wound_against_share(one) == pytest.approx(3 / len(one.face_adjacency))
