"""Normals of a point cloud from its neighbourhoods."""

import numpy as np
import pytest
import trimesh

from backend.geometry.pointcloud import estimate_normals


def test_a_faces_points_get_its_normal():
    pts = np.asarray(trimesh.creation.box((2.0, 1.0, 0.5)).sample(6000, seed=0), dtype=np.float64)
    normals = estimate_normals(pts, 24)
    to_planes = np.abs(np.abs(pts) - np.array([1.0, 0.5, 0.25]))  # distance to each axis's face plane
    on_face = np.sort(to_planes, axis=1)[:, 1] > 0.15  # farther than that from every edge
    axis = np.argmin(to_planes, axis=1)
    assert on_face.sum() > 1000
    assert np.all(np.abs(normals[on_face, axis[on_face]]) > 0.999)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)


def test_too_few_points_are_refused():
    with pytest.raises(ValueError, match="at least 3 points"):
        estimate_normals(np.zeros((2, 3)))
