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
