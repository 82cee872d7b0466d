"""Normals of a point cloud from its neighbourhoods, and how far each can be trusted."""

import numpy as np
import pytest
import trimesh

from backend.geometry.pointcloud import estimate_normals, normals_with_flatness


def _box_points(n: int = 6000) -> np.ndarray:
    box = trimesh.creation.box((2.0, 1.0, 0.5))
    return np.asarray(box.sample(n, seed=0), dtype=np.float64)


def test_a_flat_face_is_trusted_and_an_edge_is_not():
    pts = _box_points()
    normals, flatness = normals_with_flatness(pts, 24)
    to_planes = np.abs(np.abs(pts) - np.array([1.0, 0.5, 0.25]))  # distance to each axis's face plane
    to_edge = np.sort(to_planes, axis=1)[:, 1]  # on a face: the second-nearest plane is the nearest edge's
    on_face, at_edge = to_edge > 0.15, to_edge < 0.01
    assert on_face.sum() > 1000 and at_edge.sum() > 50
    assert np.median(flatness[on_face]) > 0.99
    assert np.median(flatness[at_edge]) < 0.2
    # on a face the normal is the face's: along the axis the point is nearest to
    axis = np.argmin(to_planes, axis=1)
    assert np.all(np.abs(normals[on_face, axis[on_face]]) > 0.999)


def test_the_normals_are_the_plain_estimate():
    pts = _box_points(2000)
    assert np.array_equal(normals_with_flatness(pts, 16)[0], estimate_normals(pts, 16))


def test_too_few_points_are_refused():
    with pytest.raises(ValueError, match="at least 3 points"):
        normals_with_flatness(np.zeros((2, 3)))
