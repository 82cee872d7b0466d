"""A clean (CAD) mesh that arrives open gets its holes filled on a copy; other meshes are left alone."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import torch
import trimesh

from backend.geometry.metrics import evaluate_pair
from backend.geometry.perturb import opened, scan
from backend.intake.repair import boundary_loops, fill_holes
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)

# a U: no corner sees the whole outline, so a fan from any corner leaves the outline
U_SHAPE = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]


def _without(mesh: trimesh.Trimesh, drop: np.ndarray) -> trimesh.Trimesh:
    return trimesh.Trimesh(mesh.vertices.copy(), np.delete(mesh.faces, drop, axis=0), process=False)


def _u_without_top() -> tuple[trimesh.Trimesh, trimesh.Trimesh]:
    closed = trimesh.creation.extrude_polygon(shapely.Polygon(U_SHAPE), 1.0)
    return closed, _without(closed, np.where(closed.face_normals[:, 2] > 0.99)[0])


@pytest.mark.parametrize("k", range(12))
def test_each_missing_triangle_of_a_box_is_filled_exactly(k):
    box = trimesh.creation.box((2.0, 1.0, 0.5))
    open_box = _without(box, [k])
    before = open_box.faces.copy()
    filled = fill_holes(open_box)
    assert filled.holes == 1 and filled.open_edges == 0
    assert filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(1.0)
    np.testing.assert_array_equal(open_box.faces, before)  # the input is never modified


def test_a_missing_non_convex_face_is_filled_in_its_plane():
    closed, open_u = _u_without_top()
    assert len(boundary_loops(open_u)) == 1
    filled = fill_holes(open_u)
    assert filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(closed.volume)
    assert _top_outside_u(filled.mesh) == 0  # the notch stays open
    fan = open_u.copy()  # a fan (what a plain hole filler does) draws triangles across the notch
    trimesh.repair.fill_holes(fan, use_fan=True)
    assert _top_outside_u(fan) > 0


def _top_outside_u(mesh: trimesh.Trimesh) -> int:
    """Triangles of the top face (z = 1) whose centre lies outside the U."""
    top = mesh.vertices[mesh.faces][np.all(np.isclose(mesh.vertices[mesh.faces][:, :, 2], 1.0), axis=1)]
    centres = shapely.points(top.mean(axis=1)[:, :2])
    return int(np.count_nonzero(~shapely.Polygon(U_SHAPE).buffer(1e-9).contains(centres)))


def test_holes_meeting_at_a_corner_and_across_an_edge_are_closed():
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    corner = 0
    at_corner = np.where((box.faces == corner).any(axis=1))[0]  # every triangle touching one corner
    filled = fill_holes(_without(box, at_corner))
    assert filled.open_edges == 0 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert 0.8 < filled.mesh.volume <= 1.0 + 1e-9  # across the edges: the filling cuts the corner off
    tube = trimesh.creation.cylinder(radius=1.0, height=2.0, sections=64)  # its quads: two triangles each
    filled = fill_holes(opened(tube, 3, drop=0.1))  # neighbouring triangles: holes sharing corners
    assert filled.holes > 1 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(tube.volume, rel=0.01)


def test_closed_meshes_and_scans_are_left_alone():
    box = trimesh.creation.box()
    same = fill_holes(box)
    assert same.mesh is box and same.holes == 0 and same.open_edges == 0
    noisy = scan(box, 0)  # open, but not a clean mesh: the robust route reads its samples
    left = fill_holes(noisy)
    assert left.mesh is noisy and left.holes == 0 and left.open_edges > 0


def test_the_pipeline_fills_an_open_export_and_says_so(tmp_path):
    closed, open_u = _u_without_top()
    before = open_u.vertices.copy(), open_u.faces.copy()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    res = r.reconstruct(open_u, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert res.input["holes_filled"] == 1 and res.input["volume_truth"]
    assert "1 hole in the surface filled for fitting and scoring (closed)" in res.scores["input_note"]
    assert evaluate_pair(res.mesh, closed)["iou"] > 0.99
    np.testing.assert_array_equal(open_u.vertices, before[0])
    np.testing.assert_array_equal(open_u.faces, before[1])


def _fine_box() -> trimesh.Trimesh:
    """A box whose faces are split into many triangles, with straight runs of vertices along its edges."""
    v, f = trimesh.remesh.subdivide(
        *trimesh.remesh.subdivide(trimesh.creation.box().vertices, trimesh.creation.box().faces)
    )
    return trimesh.Trimesh(v, f)


@pytest.mark.parametrize("seed", range(6))
def test_holes_along_straight_runs_close_consistently_wound(seed):
    box = _fine_box()
    filled = fill_holes(opened(box, seed, drop=0.2))
    assert filled.open_edges == 0 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(1.0, rel=0.05)
    faces = np.sort(filled.mesh.faces, axis=1)
    assert len(np.unique(faces, axis=0)) == len(faces)  # no face twice


def test_a_missing_face_with_a_hole_keeps_its_hole():
    plate = trimesh.creation.extrude_polygon(
        shapely.Point(0, 0).buffer(3.0, 32).difference(shapely.Point(0, 0).buffer(1.0, 32)), 1.0
    )
    top = np.where(plate.face_normals[:, 2] > 0.99)[0]
    filled = fill_holes(_without(plate, top))
    assert filled.holes == 1 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    new = filled.mesh.vertices[filled.mesh.faces[len(plate.faces) - len(top) :]]
    assert np.all(np.linalg.norm(new.mean(axis=1)[:, :2], axis=1) > 0.99)  # none over the bore
    assert filled.mesh.area == pytest.approx(plate.area)


@pytest.mark.parametrize("order", [1, -1])
def test_a_face_left_alone_inside_a_hole_is_kept_as_an_island(order, monkeypatch):
    from backend.intake import repair

    walk = repair.boundary_loops
    monkeypatch.setattr(
        repair, "boundary_loops", lambda mesh: walk(mesh)[::order]
    )  # the island's rim first too
    box = _fine_box()
    top = np.where(box.face_normals[:, 2] > 0.99)[0]
    middle = top[np.argmin(np.linalg.norm(box.triangles_center[top, :2], axis=1))]
    pair = [t for t in top if len(set(box.faces[t]) & set(box.faces[middle])) == 2][0]
    island = {middle, pair}  # two faces sharing an edge: a single face alone is dropped instead
    filled = fill_holes(_without(box, [t for t in top if t not in island]))
    assert filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(1.0) and filled.mesh.area == pytest.approx(6.0)
    lone = fill_holes(_without(box, [t for t in top if t != middle]))
    assert lone.mesh.is_watertight and lone.mesh.area == pytest.approx(6.0)


def test_a_failing_fill_leaves_the_pipeline_running(tmp_path, monkeypatch):
    import backend.intake.meshes as meshes

    def broken(mesh):
        raise ValueError("earcut failed")

    monkeypatch.setattr(meshes, "fill_holes", broken)
    _, open_u = _u_without_top()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    res = r.reconstruct(open_u, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert res.input["holes_filled"] == 0 and "holes" not in res.scores["input_note"]


def _side_walls_missing(solid: trimesh.Trimesh, keep) -> trimesh.Trimesh:
    walls = np.abs(solid.face_normals[:, 2]) < 0.5
    return _without(solid, np.where(walls & keep(solid.triangles_center))[0])


def test_a_missing_side_wall_is_rebuilt_between_its_rims():
    boss = trimesh.creation.cylinder(radius=1.0, height=2.0, sections=32)
    filled = fill_holes(_side_walls_missing(boss, lambda c: np.ones(len(c), dtype=bool)))
    assert filled.holes == 1 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(boss.volume)  # not two discs over the caps
    plate = trimesh.creation.extrude_polygon(
        shapely.box(-3, -3, 3, 3).difference(shapely.Point(0, 0).buffer(1.0, 32)), 1.0
    )
    filled = fill_holes(_side_walls_missing(plate, lambda c: np.linalg.norm(c[:, :2], axis=1) < 1.5))
    assert filled.mesh.is_watertight and filled.mesh.volume == pytest.approx(plate.volume)  # the bore kept


def test_missing_caps_are_capped_not_walled():
    disc = trimesh.creation.cylinder(radius=1.0, height=2.0, sections=32)
    filled = fill_holes(_without(disc, np.where(np.abs(disc.face_normals[:, 2]) > 0.5)[0]))
    assert filled.holes == 2 and filled.mesh.is_watertight and filled.mesh.is_winding_consistent
    assert filled.mesh.volume == pytest.approx(disc.volume)
