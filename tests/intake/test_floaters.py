"""Small pieces floating away from a scanned part: left out, on a copy; a part's own pieces stay."""

import numpy as np
import pytest
import trimesh

from backend.geometry.perturb import FLOATERS, scan, scan_with_floaters
from backend.intake.check import InputMeshError
from backend.intake.floaters import floating_pieces, without_floaters
from backend.intake.meshes import mesh_for_fitting


def _block() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(1.0, 0.6, 0.4))


def test_specks_around_a_scan_are_left_out_and_the_scan_is_what_remains():
    block = _block()
    specked = scan_with_floaters(block, 0)
    before = np.asarray(specked.vertices).copy()
    cleaned, n = without_floaters(specked)
    assert n == FLOATERS
    plain = scan(block, 0)
    np.testing.assert_array_equal(cleaned.vertices, plain.vertices)  # exactly the scan without them
    np.testing.assert_array_equal(cleaned.faces, plain.faces)
    np.testing.assert_array_equal(np.asarray(specked.vertices), before)  # the user's mesh is unchanged


def test_a_parts_own_pieces_stay():
    block = scan(_block(), 1)
    pin = trimesh.creation.cylinder(radius=0.03, height=0.3)  # a pin in a bore: near the part
    pin.apply_translation((0.45, 0.0, 0.0))
    big = trimesh.creation.box(extents=(0.5, 0.5, 0.3))  # a second body a third of the surface: the part
    big.apply_translation((2.0, 0.0, 0.0))
    for other in (pin, big):
        both = trimesh.util.concatenate([block, other])
        assert floating_pieces(both) == []
    clean = trimesh.util.concatenate(
        [_block(), trimesh.creation.box(extents=(0.02,) * 3).apply_translation((3, 0, 0))]
    )
    assert floating_pieces(clean) == []  # a CAD export's small body is the designer's
    many = trimesh.util.concatenate(
        [
            block,
            *(
                trimesh.creation.icosphere(radius=0.04).apply_translation((2 + 0.2 * k, 0, 0))
                for k in range(40)
            ),
        ]
    )
    assert floating_pieces(many) == []  # more than a tenth of the area: a part of small pieces, kept


def test_the_note_says_so():
    out, _, note = mesh_for_fitting(scan_with_floaters(_block(), 2))
    assert note.startswith(f"{FLOATERS} small pieces floating away from the part left out; ")
    assert out.bounds[1][0] < 0.6  # the box is the block's again


def test_what_is_left_is_checked_again(monkeypatch):
    import backend.intake.meshes as meshes

    sheet = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], process=False)
    monkeypatch.setattr(meshes, "without_floaters", lambda mesh: (sheet, 1))  # a speck was all its thickness
    with pytest.raises(InputMeshError, match="once 1 small piece floating away from the part left out"):
        mesh_for_fitting(scan(_block(), 3))


def test_a_speck_near_a_wide_face_joins_and_so_does_one_near_it():
    sphere = scan(trimesh.creation.icosphere(subdivisions=3), 0, drop=0.0)
    floor = trimesh.Trimesh(
        [[-1, -1, -1.5], [1, -1, -1.5], [1, 1, -1.5], [-1, 1, -1.5]], [[0, 1, 2], [0, 2, 3]]
    )
    part = trimesh.util.concatenate([sphere, floor])  # a floor of two wide triangles: its corners far off
    gap = 0.02 * part.extents.max()

    def speck(z: float) -> trimesh.Trimesh:
        return trimesh.Trimesh([[0.3, 0.3, z], [0.305, 0.3, z], [0.3, 0.305, z]], [[0, 1, 2]])

    near, nearer_it = (
        speck(-1.5 + 0.6 * gap),
        speck(-1.5 + 1.5 * gap),
    )  # the second within the gap of the first
    far = speck(-1.5 - 3 * gap)
    mesh = trimesh.util.concatenate([part, near, nearer_it, far])
    floating = floating_pieces(mesh)
    assert [p.tolist() for p in floating] == [[len(mesh.faces) - 1]]  # only the far one
