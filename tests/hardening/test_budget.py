"""Issue 13 row 3 (pipeline side): meshes over the work budget are decimated on a copy, the input is
unchanged and the result says how; a 2 M-triangle job is measured by scripts/benchmark_hostile.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.intake import budget
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.hardening.crafted import cylinder
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)


def test_within_budget_is_untouched():
    mesh = cylinder(400)
    same, note = budget.fit_work_budget(mesh, 1000)
    assert same is mesh and note == ""


@pytest.mark.parametrize("limit", [500, 5000])
def test_dense_cylinder_decimated_within_a_cell(limit):
    mesh = cylinder(20_000)
    before = mesh.vertices.copy()
    reduced, note = budget.fit_work_budget(mesh, limit)
    assert 0 < len(reduced.faces) <= limit
    assert f"input decimated from {len(mesh.faces):,} to {len(reduced.faces):,} triangles" in note
    assert "vertex clustering" in note and "the input is unchanged" in note
    np.testing.assert_array_equal(mesh.vertices, before)
    np.testing.assert_allclose(reduced.bounds, mesh.bounds, atol=0.02)
    assert reduced.is_watertight and reduced.volume == pytest.approx(mesh.volume, rel=0.02)


def test_pipeline_reports_the_decimation(tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "WORK_TRIANGLES", 500)
    mesh = cylinder(4000)
    before = mesh.vertices.copy()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    res = r.reconstruct(mesh, ReconstructOptions(candidates=1, refine=False))
    assert res.scores["input_note"].startswith("input decimated from 4,000 to ")
    assert res.scores["iou"] <= 1.0
    np.testing.assert_array_equal(mesh.vertices, before)


def test_a_dense_cloud_is_subsampled_on_a_copy_the_same_each_time():
    import trimesh

    from backend.geometry.perturb import points

    box = trimesh.creation.box(extents=(1.0, 0.6, 0.2))
    small = points(box, 0, 1000)
    assert budget.fit_cloud_budget(small, 1000) == (small, "")
    dense = points(box, 0, 50_000)
    before = np.asarray(dense.vertices).copy()
    reduced, note = budget.fit_cloud_budget(dense, 8192)
    again, _ = budget.fit_cloud_budget(dense, 8192)
    assert len(reduced.vertices) == 8192 and np.array_equal(reduced.vertices, again.vertices)
    assert note.startswith("point cloud subsampled from 50,000 to 8,192 points") and "unchanged" in note
    np.testing.assert_array_equal(np.asarray(dense.vertices), before)
    assert np.isin(np.asarray(reduced.vertices), before).all()  # samples of the cloud, none made up


def test_pipeline_reports_the_subsampling(tmp_path):
    import trimesh

    from backend.geometry.metrics import evaluate_pair
    from backend.geometry.perturb import points

    box = trimesh.creation.box(extents=(1.0, 0.6, 0.2))
    dense = points(box, 1, 3 * budget.WORK_POINTS)
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    res = r.reconstruct(dense, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert (
        f"point cloud subsampled from {3 * budget.WORK_POINTS:,} to {budget.WORK_POINTS:,}"
        in res.scores["input_note"]
    )
    assert evaluate_pair(res.mesh, box)["iou"] > 0.95
