"""A scan's hole left by a lost swept face (a shaft's round underside) covered by the ruled surface between
its rim's end curves, not by the flat face across it."""

import numpy as np
import trimesh

from backend.geometry.metrics import evaluate_pair
from backend.geometry.perturb import scan_from_above
from backend.intake.repair import boundary_loops
from backend.intake.scan_holes import fill_scan_holes
from backend.intake.swept_cover import swept_cover
from backend.reconstruct import ReconstructOptions, Reconstructor
from tests.tiny_models import tiny_checkpoint

RADIUS, LENGTH = 0.3, 1.0


def _shaft_on_its_side() -> trimesh.Trimesh:
    """A round shaft lying along y, its axis at height 0."""
    shaft = trimesh.creation.cylinder(radius=RADIUS, height=LENGTH, sections=64)
    shaft.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    return shaft


def _widest_rim(mesh: trimesh.Trimesh) -> np.ndarray:
    return max((np.asarray(mesh.vertices)[loop] for loop in boundary_loops(mesh)), key=len)


def test_the_round_underside_of_a_shaft_on_its_side_is_covered_round():
    scanned = scan_from_above(_shaft_on_its_side(), 0)
    edge = float(np.median(scanned.edges_unique_length))
    cover = swept_cover(_widest_rim(scanned), edge)
    assert cover is not None
    vertices, faces = cover.vertices, cover.faces
    radius = np.hypot(vertices[:, 0], vertices[:, 2])
    assert np.abs(radius - RADIUS).max() < 3 * edge  # on the shaft, not across its rim
    assert vertices[:, 2].min() < -RADIUS + edge  # down to its lowest line
    assert np.ptp(vertices[:, 1]) > LENGTH - 4 * edge  # end to end
    assert faces.min() >= 0 and faces.max() < len(vertices)


def test_a_bore_through_the_lost_face_stays_open():
    bore = trimesh.creation.cylinder(radius=0.08, height=1.0, sections=32)  # upright, through the shaft
    part = _shaft_on_its_side().difference(bore, engine="manifold")
    scanned = scan_from_above(part, 0)
    filled = fill_scan_holes(scanned)
    added = trimesh.Trimesh(filled.mesh.vertices, np.asarray(filled.mesh.faces)[len(scanned.faces) :])
    centres = added.triangles_center
    assert (centres[:, 2] < -0.9 * RADIUS).any()  # the round underside covered ...
    assert not (np.hypot(centres[:, 0], centres[:, 1]) < 0.07).any()  # ... but not the bore's mouth


def test_one_spike_at_each_end_is_no_bulge():
    x = np.linspace(0.0, 1.0, 41)
    y = np.linspace(0.0, 0.5, 21)[1:-1]
    rim = np.concatenate(  # a flat rectangle's rim, counter-clockwise, at 0.025 spacing
        [
            np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=1),
            np.stack([np.ones_like(y), y, np.zeros_like(y)], axis=1),
            np.stack([x[::-1], np.full_like(x, 0.5), np.zeros_like(x)], axis=1),
            np.stack([np.zeros_like(y), y[::-1], np.zeros_like(y)], axis=1),
        ]
    )
    rim[50, 2] = rim[-10, 2] = 0.1  # one vertex 4 edges off the plane in each short end
    assert swept_cover(rim, 0.025) is None


def test_a_flat_rim_is_left_to_the_plane():
    scanned = scan_from_above(trimesh.creation.box(extents=(1.0, 0.6, 0.4)), 0)
    edge = float(np.median(scanned.edges_unique_length))
    assert swept_cover(_widest_rim(scanned), edge) is None  # the underside's ends are straight


def test_a_rim_that_is_no_sweep_is_left_to_the_plane():
    angle = np.linspace(0, 2 * np.pi, 80, endpoint=False)
    disc = np.stack([np.cos(angle), np.sin(angle), 0.05 * np.sin(3 * angle)], axis=1)  # a wavy ring
    assert swept_cover(disc, 0.08) is None


def test_the_filling_covers_the_shaft_whole():
    shaft = _shaft_on_its_side()
    scanned = scan_from_above(shaft, 1)
    filled = fill_scan_holes(scanned)
    added = trimesh.Trimesh(filled.mesh.vertices, np.asarray(filled.mesh.faces)[len(scanned.faces) :])
    assert filled.holes >= 1
    lowest = added.vertices[added.vertices[:, 2] < -0.9 * RADIUS]
    assert len(lowest) > 0  # the flat cover stayed at the rim's height, well above that
    # the cover's area is the lost half cylinder's, not the chord's rectangle
    lost_angle = 2 * np.arccos(np.clip(-added.vertices[:, 2].max() / RADIUS, -1, 1))
    assert abs(added.area - lost_angle * RADIUS * LENGTH) < 0.15 * lost_angle * RADIUS * LENGTH


def test_the_pipeline_reads_a_shaft_scanned_on_its_side(tmp_path):
    shaft = _shaft_on_its_side()
    r = Reconstructor(tiny_checkpoint(tmp_path), device="cpu", unmask_checkpoint="none")
    out = r.reconstruct(scan_from_above(shaft, 2), ReconstructOptions(candidates=0, fixed_budgets=True))
    assert evaluate_pair(out.mesh, shaft)["iou"] > 0.93
