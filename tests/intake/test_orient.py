"""The part's own frame: found on turned parts, the identity on aligned ones."""

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from backend.data.generator import generate
from backend.geometry.pointcloud import estimate_normals
from backend.intake.orient import find_rotation


def _angle_to_signed_permutation(m: np.ndarray) -> float:
    """Largest angle (degrees) between a row of ``m`` and its closest world axis."""
    return float(np.degrees(np.arccos(np.clip(np.abs(m).max(axis=1), -1.0, 1.0))).max())


@pytest.fixture(scope="module")
def bracket():
    mesh = trimesh.creation.box(extents=(1.0, 0.6, 0.1))
    leg = trimesh.creation.box(extents=(0.1, 0.6, 0.5))
    leg.apply_translation((0.45, 0.0, 0.3))
    return trimesh.util.concatenate([mesh, leg])


def test_aligned_part_keeps_the_identity(bracket):
    o = find_rotation(bracket.vertices, bracket.face_normals, bracket.area_faces)
    assert o.is_identity and np.array_equal(o.rotation, np.eye(3))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_turned_part_is_turned_back(bracket, seed):
    q = Rotation.random(random_state=seed).as_matrix()
    turned = trimesh.Trimesh(bracket.vertices @ q.T, bracket.faces, process=False)
    o = find_rotation(turned.vertices, turned.face_normals, turned.area_faces)
    assert not o.is_identity and o.method == "planar"
    assert np.isclose(np.linalg.det(o.rotation), 1.0)
    assert _angle_to_signed_permutation(o.rotation @ q) < 0.01  # back on the world axes


def test_point_cloud_with_estimated_normals(bracket):
    q = Rotation.random(random_state=7).as_matrix()
    pts = trimesh.sample.sample_surface(bracket, 8192, seed=0)[0] @ q.T
    o = find_rotation(pts, estimate_normals(pts))
    assert _angle_to_signed_permutation(o.rotation @ q) < 1.5


def test_generator_parts_turned_back():
    errors = []
    for seed in range(6):
        _, mesh = generate(seed)
        q = Rotation.random(random_state=seed).as_matrix()
        base = find_rotation(mesh.vertices, mesh.face_normals, mesh.area_faces).rotation
        turned = trimesh.Trimesh(mesh.vertices @ q.T, mesh.faces, process=False)
        o = find_rotation(turned.vertices, turned.face_normals, turned.area_faces)
        errors.append(_angle_to_signed_permutation(o.rotation @ q @ base.T))
    assert np.median(errors) < 0.01
