"""Faces turned outwards and overlapping closed pieces united, on a copy; a hollow part stays hollow."""

import numpy as np
import pytest
import trimesh

from backend.geometry.mesh_io import mesh_from_arrays
from backend.geometry.perturb import (
    inverted,
    mixed_winding,
    opened,
    overlapping_pieces,
    scan,
    scan_from_above,
)
from backend.intake.meshes import mesh_for_fitting
from backend.intake.shells import outward_solid


def _box(extents=(2.0, 2.0, 2.0), at=(0.0, 0.0, 0.0), inward: bool = False) -> trimesh.Trimesh:
    b = trimesh.creation.box(extents=extents)
    b.apply_translation(at)
    if inward:
        b.invert()
    return b


def _joined(*meshes: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.util.concatenate(list(meshes))


def _hollow() -> trimesh.Trimesh:
    return _joined(_box(), _box((1.0, 1.0, 1.0), inward=True))


def test_an_outward_part_is_returned_as_it_is():
    for mesh in (_box(), _hollow(), _joined(_box(), _box((1, 1, 1), (5, 0, 0)))):
        out = outward_solid(mesh)
        assert out.mesh is mesh and (out.turned, out.united, out.note) == (0, 0, "")


@pytest.mark.parametrize("make", [lambda b: inverted(b, 0), lambda b: mixed_winding(b, 3)])
def test_faces_wound_inwards_or_both_ways_are_turned_outwards(make):
    given = make(_box())
    faces = np.array(given.faces)
    out = outward_solid(given)
    assert out.turned > 0 and out.united == 0 and "turned to face outwards" in out.note
    assert out.mesh.is_winding_consistent and out.mesh.volume == pytest.approx(8.0)
    np.testing.assert_array_equal(np.asarray(given.faces), faces)  # the input is never modified


def test_a_hollow_part_wound_inwards_stays_hollow():
    """The outer wall faces outwards again; the inner one, wound against it, stays a cavity."""
    out = outward_solid(inverted(_hollow(), 0))
    assert out.turned == 24 and out.united == 0 and out.mesh.volume == pytest.approx(7.0)


def test_an_island_in_a_cavity_wound_inwards():
    island = _box((0.3, 0.3, 0.3))
    out = outward_solid(inverted(_joined(_hollow(), island), 0))
    assert out.mesh.volume == pytest.approx(7.0 + 0.027)


@pytest.mark.parametrize("second_inward", [False, True])
def test_overlapping_pieces_are_united(second_inward):
    given = _joined(_box(), _box(at=(1.0, 0.0, 0.0), inward=second_inward))
    out = outward_solid(given)
    assert out.united == 2 and out.turned == (12 if second_inward else 0)
    assert out.mesh.is_watertight and out.mesh.volume == pytest.approx(12.0)
    assert out.note.endswith("2 closed pieces united where they overlap or touch")


def test_a_piece_inside_the_part_is_absorbed_and_a_cavity_cut_after_it():
    out = outward_solid(_joined(_box(), _box((0.5, 0.5, 0.5), at=(0.5, 0.5, 0.5))))
    assert out.united == 2 and out.mesh.volume == pytest.approx(8.0)
    # a piece through the wall into a cavity: the cavity is cut after it, so it stays empty
    out = outward_solid(_joined(_box((1.0, 0.4, 0.4), at=(0.8, 0.0, 0.0)), _hollow()))
    assert out.united == 2 and out.mesh.volume == pytest.approx(8.0 - 1.0 + 0.3 * 0.4 * 0.4)


def test_the_perturbation_of_a_part_into_pieces_is_reunited():
    part = trimesh.boolean.union([_box((3.0, 1.0, 1.0)), _box((1.0, 1.0, 1.0), at=(1.0, 0.0, 1.0))])
    pieces = overlapping_pieces(part, 5)
    assert pieces.volume > part.volume * 1.05  # the overlap counted twice
    out = outward_solid(pieces)
    assert out.united == 2 and out.mesh.volume == pytest.approx(part.volume)


def test_an_open_scan_wound_one_way_is_left_as_it_is():
    """Which side of an open surface is its inside cannot be told for sure: wound one way, it is kept."""
    scanned = scan(_box(), 1)
    assert outward_solid(scanned).mesh is scanned
    wound_in = inverted(scanned, 0)
    assert outward_solid(wound_in).mesh is wound_in


def test_mesh_for_fitting_says_what_it_did():
    out, holes, note = mesh_for_fitting(_joined(_box(), _box(at=(1.0, 0.0, 0.0))))
    assert holes == 0 and out.volume == pytest.approx(12.0)
    assert note == "2 closed pieces united where they overlap or touch; the input is unchanged"
    out, _, note = mesh_for_fitting(inverted(_box(), 0))
    assert (
        out.volume == pytest.approx(8.0)
        and note == "12 triangles turned to face outwards; the input is unchanged"
    )


def test_an_open_export_wound_both_ways_is_filled_and_closed():
    given = mixed_winding(opened(_box(), 0, drop=0.2), 4)
    out, holes, note = mesh_for_fitting(given)
    assert holes >= 1 and out.is_watertight and out.is_winding_consistent
    assert out.volume == pytest.approx(8.0) and "turned to face outwards" in note


def test_pieces_that_only_touch_are_one_solid():
    out = outward_solid(_joined(_box(), _box(at=(2.0, 0.0, 0.0))))
    assert out.united == 2 and out.mesh.volume == pytest.approx(16.0) and out.mesh.body_count == 1


@pytest.mark.parametrize("soup", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_a_part_given_twice_is_read_once(soup, reverse):
    """A double-sided export (every triangle again, wound the other way) or a piece pasted twice, its copies
    apart by index or (an STL soup) merged onto each other."""
    part = trimesh.boolean.union([_box((3.0, 1.0, 1.0)), _box((1.0, 1.0, 1.0), at=(1.0, 0.0, 1.0))])
    v, f = np.asarray(part.vertices), np.asarray(part.faces)
    again = f[:, ::-1] if reverse else f
    vertices, faces = np.vstack([v, v]), np.vstack([f, again + len(v)])
    if soup:
        vertices, faces = vertices[faces].reshape(-1, 3), np.arange(3 * len(faces)).reshape(-1, 3)
    given = mesh_from_arrays(vertices, faces)
    out, _, note = mesh_for_fitting(given)
    assert out.is_watertight and out.volume == pytest.approx(part.volume)
    assert note.startswith(f"{len(f)} triangles given twice left out")


def test_an_open_surface_is_turned_face_by_face_only_when_many_neighbours_disagree():
    """A scan welded where two sheets meet (Fusion 360 63539's: 0.2 % of its faces) has a few neighbours
    that run their shared edge the same way, both sides right: left alone; a scan wound both ways is not."""
    scanned = scan(_box(), 1)
    faces = np.array(scanned.faces)
    few = faces.copy()
    few[:3] = few[:3, ::-1]
    assert outward_solid(trimesh.Trimesh(scanned.vertices, few, process=False)).turned == 0
    out = outward_solid(mixed_winding(scanned, 3))
    assert out.mesh.is_winding_consistent
    wrong = np.any(np.asarray(out.mesh.faces) != faces, axis=1)  # a lone triangle keeps its coin's side
    assert np.count_nonzero(wrong) <= 1e-3 * len(faces)


def test_a_thin_walled_cup_scanned_from_above_stays_outward():
    """About the vertices' mean, a cup with 0.05-thick walls scanned from above read as wound inwards and
    was turned inside out: an open surface is never turned whole."""
    cup = trimesh.boolean.difference([_box(), _box((1.9, 1.9, 1.9), at=(0.0, 0.0, 0.1))])
    scanned = scan_from_above(cup, 1)
    assert outward_solid(scanned).mesh is scanned


def test_review_cases():
    """A body wound inwards touching another at a corner; a face collapsed by the merge; a flat closed body;
    two hollow boxes side by side."""
    touching = mesh_from_arrays(*_arrays(_joined(_box(), _box(at=(2.0, 2.0, 2.0), inward=True))))
    assert outward_solid(touching).mesh.volume == pytest.approx(16.0)
    a, b = _box(), _box(at=(1.0, 0.0, 0.0))
    collapsed = trimesh.Trimesh(b.vertices, np.vstack([b.faces, [[0, 0, 1]]]), process=False)
    assert outward_solid(_joined(a, collapsed)).mesh.volume == pytest.approx(12.0)
    # a tetrahedron whose four corners lie in one plane: closed, enclosing nothing
    flat = trimesh.Trimesh(
        [[5, 5, 5], [6, 5, 5], [5, 6, 5], [5.2, 5.2, 5]], [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]]
    )
    assert outward_solid(_joined(a, b, flat)).mesh.volume == pytest.approx(12.0)
    hollow_b = _joined(_box(at=(2.0, 0.0, 0.0)), _box((1.0, 1.0, 1.0), at=(2.0, 0.0, 0.0), inward=True))
    out = outward_solid(_joined(_hollow(), hollow_b))
    assert out.united == 2 and out.mesh.volume == pytest.approx(14.0)


def _arrays(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """An STL file's triangle soup of ``mesh``: every triangle its own corners."""
    soup = np.asarray(mesh.vertices)[np.asarray(mesh.faces)].reshape(-1, 3)
    return soup, np.arange(len(soup)).reshape(-1, 3)
