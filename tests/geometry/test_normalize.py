import numpy as np
import pytest
import trimesh

from backend.cad.program import Circle, Extent, ExtentKind, Extrude, Loop, Plane, Profile, Program, Sketch
from backend.geometry.normalize import Frame, normalize_mesh, normalizing_frame
from backend.geometry.solid import program_to_mesh


@pytest.fixture()
def mesh() -> trimesh.Trimesh:
    m = trimesh.creation.box((40.0, 10.0, 20.0))
    m.apply_translation((100.0, -5.0, 7.0))
    return m


def test_frame_maps_bbox_to_unit(mesh):
    frame = normalizing_frame(mesh)
    assert frame.scale == pytest.approx(40.0)
    assert frame.translation == pytest.approx((100.0, -5.0, 7.0))
    norm = frame.apply_to_mesh(mesh)
    np.testing.assert_allclose(norm.bounds, [[-0.5, -0.125, -0.25], [0.5, 0.125, 0.25]], atol=1e-12)
    np.testing.assert_allclose(frame.invert(frame.apply(mesh.vertices)), mesh.vertices, atol=1e-12)
    np.testing.assert_allclose(frame.invert_mesh(norm).vertices, mesh.vertices, atol=1e-12)
    assert normalizing_frame(mesh.bounds) == frame


def test_input_mesh_not_modified(mesh):
    before = mesh.vertices.copy()
    norm, frame = normalize_mesh(mesh)
    norm.vertices[:] = 0.0
    np.testing.assert_array_equal(mesh.vertices, before)
    assert frame.to_dict() == {"scale": 40.0, "translation": [100.0, -5.0, 7.0]}


def test_dict_round_trip_and_checks():
    f = Frame(2.5, (1.0, 2.0, 3.0))
    assert Frame.from_dict(f.to_dict()) == f
    with pytest.raises(ValueError):
        Frame(0.0, (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="zero size"):
        normalizing_frame(np.zeros((2, 3)))


def test_program_to_input_lies_over_the_input(mesh):
    frame = normalizing_frame(mesh)
    plane = Plane((0.1, 0.0, -0.05), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    prog = Program(
        (
            Extrude(
                Sketch(plane, (Profile(Loop((Circle((0.0, 0.0), 0.2),))),)), Extent(ExtentKind.SYMMETRIC, 0.1)
            ),
        )
    )
    in_norm = program_to_mesh(prog, scale=1.0)
    in_input = program_to_mesh(frame.program_to_input(prog), scale=frame.scale)
    np.testing.assert_allclose(
        in_input.bounds, frame.invert(in_norm.bounds), atol=2e-6 * frame.scale
    )  # 2**-20 snap grid
    assert in_input.volume == pytest.approx(in_norm.volume * frame.scale**3, rel=1e-5)
    back = frame.program_to_normalized(frame.program_to_input(prog))
    np.testing.assert_allclose(program_to_mesh(back, scale=1.0).bounds, in_norm.bounds, atol=1e-5)
