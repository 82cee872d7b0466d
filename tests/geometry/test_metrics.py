import math

import numpy as np
import pytest
import trimesh

from backend.geometry.metrics import (
    CD_SAMPLES,
    EXACT,
    VOXEL,
    chamfer_distance,
    evaluate_pair,
    iou,
    iou_with_method,
)


def box(size=(1.0, 1.0, 1.0), at=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    m = trimesh.creation.box(size)
    m.apply_translation(at)
    return m


def test_iou_self_and_shifted_exact():
    a = box()
    assert iou_with_method(a, a) == (pytest.approx(1.0), EXACT)
    b = box(at=(0.3, 0.0, 0.0))
    assert iou(a, b) == pytest.approx(0.7 / 1.3, rel=1e-12)
    assert iou(a, box(at=(2.0, 0.0, 0.0))) == 0.0


def test_iou_spheres_exact_matches_analytic():
    r, d = 1.0, 0.5
    s1 = trimesh.creation.icosphere(subdivisions=5, radius=r)
    s2 = s1.copy()
    s2.apply_translation((d, 0, 0))
    lens = math.pi * (4 * r + d) * (2 * r - d) ** 2 / 12
    sphere = 4 / 3 * math.pi * r**3
    value, method = iou_with_method(s1, s2)
    assert method == EXACT
    assert value == pytest.approx(lens / (2 * sphere - lens), rel=1e-2)


def test_voxel_iou_close_to_exact():
    a, b = box(), box(size=(1.0, 0.6, 0.8), at=(0.2, 0.1, 0.0))
    exact, _ = iou_with_method(a, b, method=EXACT)
    voxel, method = iou_with_method(a, b, method=VOXEL)
    assert method == VOXEL
    assert voxel == pytest.approx(exact, abs=0.02)
    assert iou_with_method(a, a, method=VOXEL)[0] == pytest.approx(1.0)


def test_open_mesh_falls_back_to_voxels():
    a = box()
    open_box = trimesh.Trimesh(a.vertices, a.faces[:-2], process=False)
    value, method = iou_with_method(open_box, a)
    assert method == VOXEL
    assert 0.0 <= value <= 1.0
    with pytest.raises(ValueError):
        iou_with_method(open_box, a, method=EXACT)


def test_chamfer():
    a = box()
    assert chamfer_distance(a, a) < 1e-3  # only sampling noise
    assert chamfer_distance(a, a, seed=3) == chamfer_distance(a, a, seed=3)
    far = box(at=(0.0, 0.0, 5.0))
    # every sample is at least 4 apart, and at most ~ the distance between farthest faces
    assert 2 * 16 <= chamfer_distance(a, far, n=1024) <= 2 * 36
    assert chamfer_distance(a, box(at=(0.1, 0, 0))) > chamfer_distance(a, a)
    assert CD_SAMPLES == 8192


def test_evaluate_pair_strict_and_published():
    gt = box(size=(40.0, 20.0, 10.0), at=(100.0, 0.0, 0.0))
    pred = box(size=(20.0, 10.0, 5.0), at=(100.0, 0.0, 0.0))  # same shape, half size
    gt_before, pred_before = gt.vertices.copy(), pred.vertices.copy()
    strict = evaluate_pair(pred, gt)
    assert strict["iou"] == pytest.approx(1 / 8)
    assert strict["iou_method"] == EXACT
    assert strict["cd"] > 0.01
    published = evaluate_pair(pred, gt, strict=False)
    assert published["iou"] == pytest.approx(1.0)
    assert published["cd"] < 1e-3
    np.testing.assert_array_equal(gt.vertices, gt_before)
    np.testing.assert_array_equal(pred.vertices, pred_before)
    # the raw value is scale-free: a scaled copy of both gives the same numbers
    big = evaluate_pair(pred.copy().apply_scale(3.0), gt.copy().apply_scale(3.0))
    assert big["cd"] == pytest.approx(strict["cd"], rel=1e-5)
