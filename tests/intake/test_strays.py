"""Stray samples of a point cloud are left out before the frame and box are found."""

import numpy as np
import trimesh

from backend.geometry.metrics import evaluate_pair
from backend.geometry.perturb import STRAY_SHARE, points, stray_points
from backend.intake.strays import MAX_STRAY_SHARE, stray_mask, without_strays
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.tiny_models import tiny_checkpoint


def _plate() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(1.0, 0.6, 0.1))


def test_scattered_samples_are_strays_and_the_surface_is_not():
    clean = np.asarray(points(_plate(), 0).vertices)
    assert not stray_mask(clean).any()  # a thin plate's samples: none far from the rest
    cloud = np.asarray(stray_points(_plate(), 0).vertices)
    mask = stray_mask(cloud)
    assert not mask[: len(clean)].any()  # the same surface samples come first
    found = np.count_nonzero(mask[len(clean) :])
    assert found >= 0.8 * round(STRAY_SHARE * len(clean))  # the rest lie on or in the part (noise-like)
    far = np.abs(cloud[len(clean) :]).max(axis=1) > 0.6  # beyond the plate's half-extent plus a margin
    assert mask[len(clean) :][far].all()
    very_far = np.vstack([clean, [[1e6, -2e6, 3e6]]])
    assert stray_mask(very_far)[-1] and np.count_nonzero(stray_mask(very_far)) == 1


def test_a_cloud_too_uneven_to_tell_is_kept_whole():
    rng = np.random.default_rng(0)
    dense = rng.uniform(-0.01, 0.01, size=(500, 3))
    sparse = rng.uniform(-1.0, 1.0, size=(int(0.5 * 500), 3))  # a third of the samples, far apart
    cloud = np.vstack([dense, sparse])
    assert np.count_nonzero(stray_mask(cloud)) == 0  # more than MAX_STRAY_SHARE would go
    assert len(sparse) > MAX_STRAY_SHARE * len(cloud)
    few = trimesh.PointCloud(rng.normal(size=(6, 3)))
    assert without_strays(few) == (few, 0)


def test_the_pipeline_leaves_strays_out_and_says_so(tmp_path):
    plate = _plate()
    cloud = stray_points(plate, 1)
    before = np.asarray(cloud.vertices).copy()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    res = r.reconstruct(cloud, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert res.input["strays_left_out"] > 0
    assert "stray points away from the surface left out" in res.scores["input_note"]
    assert evaluate_pair(res.mesh, plate)["iou"] > 0.9
    np.testing.assert_array_equal(np.asarray(cloud.vertices), before)  # the user's cloud is unchanged


def test_a_sample_just_off_a_thin_plate_is_a_stray():
    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    clean = np.asarray(points(sheet, 2).vertices)
    off = np.vstack([clean, [[0.1, -0.2, -0.1]]])  # ten thicknesses under it, near its samples
    mask = stray_mask(off)
    assert mask[-1] and np.count_nonzero(mask) == 1
    cloud, n = without_strays(trimesh.PointCloud(off))
    assert n == 1 and np.ptp(np.asarray(cloud.vertices)[:, 2]) < 0.011  # the sheet's own thickness again


def test_the_dense_clouds_grid_finds_what_the_exact_search_finds():
    from scipy.spatial import cKDTree

    from backend.intake.strays import STRAY_NEIGHBOURS, _far_in_dense

    rng = np.random.default_rng(5)
    plate = np.asarray(points(_plate(), 3, 20_000).vertices)
    scattered = rng.uniform(-1.0, 1.0, size=(300, 3))
    far_out = np.array([[1e6, -2e6, 3e6], *([[1e19 * (1 + i), 0.0, 0.0] for i in range(12)])])
    for cloud in (
        np.vstack([plate, scattered]),
        np.vstack([plate, scattered, far_out]),
    ):  # one integer a cell, rows
        tree, k = cKDTree(cloud), STRAY_NEIGHBOURS + 1
        reach = tree.query(cloud, k=k)[0][:, -1]
        threshold = 6.0 * float(np.median(reach))
        np.testing.assert_array_equal(_far_in_dense(cloud, tree, k, threshold), reach > threshold)


def test_a_flat_cloud_whose_thickness_was_one_stray_is_refused_clearly(tmp_path):
    import pytest

    from backend.intake.check import InputMeshError

    rng = np.random.default_rng(0)
    flat = np.column_stack([rng.uniform(0, 1, 2000), rng.uniform(0, 1, 2000), np.zeros(2000)])
    cloud = trimesh.PointCloud(np.vstack([flat, [[0.5, 0.5, 0.3]]]))
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    with pytest.raises(InputMeshError, match="flat point cloud.*once 1 stray point was left out"):
        r.reconstruct(cloud, ReconstructOptions(candidates=0, fixed_budgets=True))
