"""A scanned mesh's wide holes covered across their rims' planes: the underside a table hid."""

import numpy as np
import trimesh

from backend.geometry.metrics import evaluate_pair
from backend.geometry.perturb import scan, scan_from_above
from backend.geometry.solid import program_to_mesh
from backend.intake.repair import open_edge_count
from backend.intake.scan_holes import fill_scan_holes
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.cad.programs import plate_with_hole
from tests.tiny_models import tiny_checkpoint


def _added(before: trimesh.Trimesh, after: trimesh.Trimesh) -> trimesh.Trimesh:
    """The triangles the filling added (they follow the scan's own)."""
    return trimesh.Trimesh(after.vertices, np.asarray(after.faces)[len(before.faces) :], process=False)


def test_the_underside_a_table_hid_is_covered_on_its_level():
    block = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    scanned = scan_from_above(block, 0)
    before = (np.asarray(scanned.vertices).copy(), np.asarray(scanned.faces).copy())
    filled = fill_scan_holes(scanned)
    added = _added(scanned, filled.mesh)
    assert filled.holes == 1 and filled.open_edges < open_edge_count(scanned) - 100  # its rim closed
    assert abs(added.area - 0.6) < 0.03  # the underside: the few triangles lost elsewhere are the seal's
    assert (added.triangles_center[:, 2] < -0.19).all()  # on the table's level
    np.testing.assert_array_equal(np.asarray(scanned.vertices), before[0])  # the input is unchanged
    np.testing.assert_array_equal(np.asarray(scanned.faces), before[1])


def test_a_bore_through_the_underside_stays_open():
    plate = trimesh.creation.annulus(r_min=0.2, r_max=0.5, height=0.2, sections=64)
    filled = fill_scan_holes(scan_from_above(plate, 1)).mesh
    bottom = filled.triangles_center[:, 2] < -0.05
    area = filled.area_faces[bottom & (np.abs(filled.face_normals[:, 2]) > 0.9)].sum()
    ring = np.pi * (0.5**2 - 0.2**2)
    assert abs(area - ring) < 0.1 * ring  # the ring, not the disc (which is 19 % larger)
    hit = filled.ray.intersects_any([[0.0, 0.0, 1.0]], [[0.0, 0.0, -1.0]])
    assert not hit[0]  # looking down the bore: no floor


def test_closed_and_clean_meshes_are_left_as_they_are():
    block = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    whole = scan(block, 2, drop=0.0)  # a scan without holes
    assert fill_scan_holes(whole).mesh is whole
    lossy = scan(block, 2)  # a scan that lost 2 % of its triangles here and there: left to the seal
    assert fill_scan_holes(lossy).mesh is lossy
    tri = np.asarray(lossy.triangles).reshape(-1, 3)  # a triangle soup: every edge open, every rim narrow
    soup = trimesh.Trimesh(tri, np.arange(len(tri)).reshape(-1, 3), process=False)
    assert fill_scan_holes(soup).mesh is soup
    opened = trimesh.Trimesh(block.vertices, block.faces[1:], process=False)  # a CAD export: intake.repair's
    assert fill_scan_holes(opened).mesh is opened


def test_the_pipeline_reads_a_scan_without_its_underside_as_a_solid(tmp_path):
    plate = program_to_mesh(plate_with_hole())  # a rounded plate with a hole and a pocket on top
    scanned = scan_from_above(plate, 3)
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    out = r.reconstruct(scanned, ReconstructOptions(candidates=0, fixed_budgets=True))
    assert "holes in the surface filled for fitting and scoring" in out.scores["input_note"]
    assert evaluate_pair(out.mesh, plate)["iou"] > 0.9
