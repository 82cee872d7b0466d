import math

import manifold3d
import numpy as np
import pytest

from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.cad.tessellate import CHORD_TOLERANCE
from backend.geometry.solid import GeometryError, build_manifold, plane_basis, program_to_mesh
from tests.cad.programs import circle, feat, rect, slot

BOX = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)), extent=Extent(ExtentKind.ONE_SIDE, 0.3))  # 1 x 0.8 x 0.3


def circle_area_bounds(r: float) -> tuple[float, float]:
    """Inscribed polygon area: between the disc less a chord-tolerance strip along its rim, and the disc."""
    return math.pi * r * r - 2 * math.pi * r * CHORD_TOLERANCE, math.pi * r * r


def test_box_volume_exact_and_watertight():
    mesh = program_to_mesh(Program((BOX,)))
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume == pytest.approx(0.24, rel=1e-12)
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -0.4, 0], [0.5, 0.4, 0.3]], atol=1e-12)


def test_cylinder_volume_within_tessellation_tolerance():
    h = 0.6
    cyl = feat(Profile(circle(0, 0, 0.5)), extent=Extent(ExtentKind.SYMMETRIC, h / 2))
    m = build_manifold(Program((cyl,)))
    lo, hi = circle_area_bounds(0.5)
    assert lo * h <= m.volume() <= hi * h
    np.testing.assert_allclose(m.bounding_box()[2::3], [-0.3, 0.3], atol=1e-12)


def test_cut_hole_reduces_volume():
    hole = feat(
        Profile(circle(0.1, 0, 0.2)),
        plane=Plane((0, 0, 0.3), (1, 0, 0), (0, 0, 1)),
        extent=Extent(ExtentKind.ONE_SIDE, -0.3),
        op=Operation.CUT,
    )
    v = build_manifold(Program((BOX, hole))).volume()
    lo, hi = circle_area_bounds(0.2)
    assert 0.24 - hi * 0.3 <= v <= 0.24 - lo * 0.3
    # the same hole as an inner loop of the profile gives the same solid
    holed = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), (circle(0.1, 0, 0.2),)), extent=BOX.extent)
    assert build_manifold(Program((holed,))).volume() == pytest.approx(v, rel=1e-9)


def test_join_and_intersect():
    boss = feat(
        Profile(rect(-0.1, -0.1, 0.1, 0.1)),
        plane=Plane((0, 0, 0.3), (1, 0, 0), (0, 0, 1)),
        extent=Extent(ExtentKind.ONE_SIDE, 0.5),
        op=Operation.JOIN,
    )
    assert build_manifold(Program((BOX, boss))).volume() == pytest.approx(0.24 + 0.02, rel=1e-9)
    half = feat(Profile(rect(0, -1, 1, 1)), extent=Extent(ExtentKind.SYMMETRIC, 1.0), op=Operation.INTERSECT)
    assert build_manifold(Program((BOX, half))).volume() == pytest.approx(0.12, rel=1e-9)


def test_two_sides_and_negative_one_side():
    two = feat(Profile(rect(0, 0, 1, 1)), extent=Extent(ExtentKind.TWO_SIDES, 0.3, 0.1))
    m = build_manifold(Program((two,)))
    assert m.volume() == pytest.approx(0.4)
    np.testing.assert_allclose(m.bounding_box()[2::3], [-0.1, 0.3], atol=1e-12)
    neg = feat(Profile(rect(0, 0, 1, 1)), extent=Extent(ExtentKind.ONE_SIDE, -0.25))
    np.testing.assert_allclose(build_manifold(Program((neg,))).bounding_box()[2::3], [-0.25, 0], atol=1e-12)


def test_non_axis_plane_places_the_frame():
    n = np.array([1.0, 1.0, 0.0]) / math.sqrt(2)
    plane = Plane((1.0, 2.0, 3.0), (0.0, 0.0, 1.0), tuple(n))
    f = feat(Profile(rect(0, 0, 0.4, 0.2)), plane=plane, extent=Extent(ExtentKind.ONE_SIDE, 0.1))
    mesh = program_to_mesh(Program((f,)))
    assert mesh.volume == pytest.approx(0.008)
    # every vertex must equal plane.to_world(u, v, w) for a corner (u, v, w) of the sketch box
    expected = np.array([plane.to_world(u, v, w) for u in (0, 0.4) for v in (0, 0.2) for w in (0, 0.1)])
    d = np.linalg.norm(mesh.vertices[:, None, :] - expected[None], axis=2).min(axis=1)
    assert d.max() < 1e-12
    basis = plane_basis(plane)
    np.testing.assert_allclose(basis[:, :3].T @ basis[:, :3], np.eye(3), atol=1e-12)
    assert np.linalg.det(basis[:, :3]) == pytest.approx(1.0)


def test_sketch_with_two_profiles_and_arcs():
    stadium = slot(0.4, 0.1)
    square = rect(-0.9, -0.9, -0.5, -0.5)
    m = build_manifold(Program((feat(Profile(stadium), Profile(square)),)))
    lo, hi = circle_area_bounds(0.1)
    assert (0.08 + lo + 0.16) * 0.2 <= m.volume() <= (0.08 + hi + 0.16) * 0.2 + 1e-12
    assert len(m.decompose()) == 2


def test_overlapping_new_bodies_are_unioned():
    a = feat(Profile(rect(0, 0, 1, 1)))
    b = feat(Profile(rect(0.5, 0, 1.5, 1)))
    assert build_manifold(Program((a, b))).volume() == pytest.approx(1.5 * 0.2)


def test_errors_are_geometry_errors():
    with pytest.raises(GeometryError, match="invalid program.*empty program"):
        build_manifold(Program(()))
    cut_all = feat(Profile(rect(-2, -2, 2, 2)), extent=Extent(ExtentKind.SYMMETRIC, 2), op=Operation.CUT)
    with pytest.raises(GeometryError, match="empty result"):
        build_manifold(Program((BOX, cut_all)))
    far = feat(Profile(rect(5, 5, 6, 6)), op=Operation.INTERSECT)
    with pytest.raises(GeometryError, match="empty result"):
        build_manifold(Program((BOX, far)))
    assert issubclass(GeometryError, ValueError)


def test_returns_manifold():
    assert isinstance(build_manifold(Program((BOX,))), manifold3d.Manifold)


def test_the_scale_is_the_solid_s_size_not_its_numbers():
    """The chord tolerance follows the solid's size: the same plate with its hole cut by a through cut
    three times longer than the part, or drawn far from the origin, gets the same circles."""
    from backend.geometry.solid import program_scale

    plate = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)), extent=Extent(ExtentKind.ONE_SIDE, 0.2))
    drawn = Program(
        (feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), (circle(0.0, 0.0, 0.3),)), extent=plate.extent),)
    )
    below = Plane((0.0, 0.0, -1.5), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    long_cut = feat(
        Profile(circle(0.0, 0.0, 0.3)), plane=below, extent=Extent(ExtentKind.ONE_SIDE, 3.0), op=Operation.CUT
    )
    cut = Program((plate, long_cut))
    assert program_scale(drawn) == pytest.approx(1.0) and program_scale(cut) == pytest.approx(1.0)
    assert program_to_mesh(cut).volume == pytest.approx(program_to_mesh(drawn).volume, rel=1e-9)

    far = Plane((10.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    moved = Program(
        (feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), (circle(0.0, 0.0, 0.3),)), plane=far, extent=plate.extent),)
    )
    assert program_scale(moved) == pytest.approx(1.0)
    assert program_to_mesh(moved).volume == pytest.approx(program_to_mesh(drawn).volume, rel=1e-9)


def test_inputs_are_tessellated_as_the_checkpoints_were_trained_on():
    """A mesh standing for an input (a generated part, an imported design) keeps chords within 1e-3 of
    twice the program's largest number, whatever the candidates' own (finer) tolerance."""
    from backend.cad.tessellate import CHORD_TOLERANCE, segments_per_circle
    from backend.geometry.solid import INPUT_CHORD_TOLERANCE, input_scale

    r = 0.3
    p = Program((feat(Profile(circle(0.0, 0.0, r)), extent=Extent(ExtentKind.ONE_SIDE, 0.5)),))
    trained = math.ceil(math.pi / math.acos(1.0 - INPUT_CHORD_TOLERANCE * 2 * 0.5 / r))  # largest number 0.5
    assert segments_per_circle(r, input_scale(p)) == trained
    assert CHORD_TOLERANCE < INPUT_CHORD_TOLERANCE and segments_per_circle(r, 1.0) > trained
    assert len(program_to_mesh(p, input_scale(p)).vertices) == 2 * trained


def _arrays(program: Program) -> tuple[np.ndarray, np.ndarray]:
    mesh = program_to_mesh(program)
    return np.asarray(mesh.vertices).copy(), np.asarray(mesh.faces).copy()


def test_remembered_feature_solids_build_the_same_mesh_as_built_afresh():
    """Feature prisms are remembered per feature, part size and height grid (a level search rebuilds one
    program with one feature moved): a program built after another that shares its features must give
    the very mesh it gives built afresh; the same feature in a larger part is drawn anew (coarser circles)."""
    from backend.geometry import solid

    def bore(depth: float):
        return feat(
            Profile(circle(0.1, 0.0, 0.15)), extent=Extent(ExtentKind.ONE_SIDE, depth), op=Operation.CUT
        )

    def tab(x: float):
        return feat(Profile(rect(x, 0.0, x + 0.5, 0.2)), op=Operation.JOIN)

    part = Program((BOX, tab(0.5), bore(0.3)))  # 1.5 long: its heights on the same grid as the larger part's
    shallower = Program((BOX, tab(0.5), bore(0.2)))  # the same part size: its box and tab are the part's
    larger = Program((BOX, tab(3.0), bore(0.3)))  # 4 long
    solid._prisms.clear()
    fresh = _arrays(part)
    solid._prisms.clear()
    fresh_larger = _arrays(larger)
    solid._prisms.clear()
    _arrays(shallower)
    again = _arrays(part)
    assert len(solid._prisms) == 4  # box, tab, both bores: the box and the tab were found, not rebuilt
    assert all(np.array_equal(x, y) for x, y in zip(again, fresh))
    assert all(np.array_equal(x, y) for x, y in zip(_arrays(larger), fresh_larger))
    assert len(solid._prisms) == 7  # box, tab and bore of the larger part: another part size
    assert len(fresh_larger[0]) < len(fresh[0])  # the larger part's bore is drawn more coarsely


def test_remembered_loops_are_read_only_and_errors_still_name_their_feature():
    from backend.cad.validate import ProgramError, validated_polygons

    polys = validated_polygons(Program((BOX,)))
    with pytest.raises(ValueError):
        polys[0][0][0][0, 0] = 9.0  # feature 0, profile 0, outer loop
    zero = feat(Profile(rect(0.0, 0.0, 0.0, 0.2)), op=Operation.JOIN)
    for program, where in ((Program((BOX, zero)), "feature 1"), (Program((BOX, BOX, zero)), "feature 2")):
        with pytest.raises(ProgramError, match=where):
            validated_polygons(program)
