"""A mesh made ready for fitting: a scan's holes covered on its rims as scanned, then the work budget."""

import numpy as np
import trimesh

import backend.intake.budget as budget
from backend.geometry.perturb import opened, scan_from_above
from backend.intake.meshes import mesh_for_fitting


def test_a_scan_is_filled_before_the_budget_decimates_it(monkeypatch):
    block = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    scanned = scan_from_above(block, 0)
    faces = np.asarray(scanned.faces).copy()
    monkeypatch.setattr(budget, "WORK_TRIANGLES", 5_000)
    out, holes, note = mesh_for_fitting(scanned)
    assert len(out.faces) <= 5_000 and holes == 1
    assert note.index("1 hole in the surface filled") < note.index("input decimated from")
    assert note.endswith("; the input is unchanged") and note.count("the input is unchanged") == 1
    under = out.triangles_center[:, 2] < -0.18
    assert out.area_faces[under & (out.face_normals[:, 2] < -0.9)].sum() > 0.5  # the underside is there
    np.testing.assert_array_equal(np.asarray(scanned.faces), faces)  # the user's mesh is unchanged


def test_a_clean_export_is_filled_exactly_and_a_closed_one_left_alone():
    block = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    out, holes, note = mesh_for_fitting(opened(block, 0, drop=0.1))
    assert holes == 1 and out.is_watertight
    assert note == "1 hole in the surface filled for fitting and scoring (closed); the input is unchanged"
    assert mesh_for_fitting(block) == (block, 0, "")
    _, _, told = mesh_for_fitting(block, underside_unseen=True)
    assert "reads point clouds" in told
