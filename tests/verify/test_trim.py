"""Outline trims: what a candidate has outside the input's silhouette along an axis, cut through the part."""

import pytest
import trimesh

from backend.cad.program import Circle, Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.geometry.convert import trimesh_to_manifold
from backend.geometry.solid import build_manifold, program_to_mesh
from backend.sections.candidates import AXIS_FRAMES
from backend.verify import ChamferTarget
from backend.verify.rank import Candidate
from backend.verify.trim import OutlineTrimmer, silhouette, with_outline_trims
from tests.cad.programs import circle, feat, poly_loop, rect

BLOCK = feat(Profile(rect(-0.5, -0.3, 0.5, 0.3)), extent=Extent(ExtentKind.ONE_SIDE, 0.4))
SIDE = Plane((-0.5, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))  # sketch (u, v) = (y, z)
THROUGH = Extent(ExtentKind.ONE_SIDE, 1.0)
CROSS_HOLE = feat(Profile(circle(0.0, 0.2, 0.1)), plane=SIDE, extent=THROUGH, op=Operation.CUT)
# the block's top edge along X chamfered: seen along X, a triangle off one corner
CHAMFER = feat(
    Profile(poly_loop([(0.1, 0.4), (0.3, 0.2), (0.3, 0.4)])), plane=SIDE, extent=THROUGH, op=Operation.CUT
)
TOP = Plane((0.0, 0.0, 0.4), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
BLIND_HOLE = feat(
    Profile(circle(0.2, 0.0, 0.08)), plane=TOP, extent=Extent(ExtentKind.ONE_SIDE, -0.2), op=Operation.CUT
)


def _iou(a: Program, b: Program) -> float:
    sa, sb = build_manifold(a), build_manifold(b)
    inter = (sa ^ sb).volume()
    return inter / (sa.volume() + sb.volume() - inter)


def _trimmer(truth: Program) -> OutlineTrimmer:
    mesh = program_to_mesh(truth)
    return OutlineTrimmer(mesh, trimesh_to_manifold(mesh))


def _trimmed(base: Program, truth: Program) -> Program | None:
    return _trimmer(truth).trimmed(base, program_to_mesh(base))


def test_the_silhouette_is_the_outline_seen_along_the_axis():
    mesh = program_to_mesh(Program((BLOCK, CROSS_HOLE)))
    along_x, along_z = silhouette(mesh, 0), silhouette(mesh, 2)
    expected = 0.6 * 0.4 - 3.14159 * 0.1**2
    assert abs(along_x.area - expected) < 2e-3  # the hole goes through: seen along X it is a hole
    assert abs(along_z.area - 1.0 * 0.6) < 1e-6  # seen from above the block is whole


def test_a_hole_through_the_part_along_another_axis_becomes_a_cut_on_that_axis():
    truth = Program((BLOCK, CROSS_HOLE))
    out = _trimmed(Program((BLOCK,)), truth)
    assert out is not None and out.features[0] == BLOCK
    cuts = out.features[1:]
    assert [f.operation for f in cuts] == [Operation.CUT]
    assert abs(cuts[0].sketch.plane.normal[0]) == 1.0  # cut across X, through the part
    assert isinstance(cuts[0].sketch.profiles[0].outer.curves[0], Circle)
    assert _iou(out, truth) > 0.995


def test_a_corner_seen_from_the_side_is_cut_off_and_the_input_keeps_all_its_material():
    truth = Program((BLOCK, CHAMFER))
    out = _trimmed(Program((BLOCK,)), truth)
    assert out is not None and len(out.features) == 2
    assert len(out.features[1].sketch.profiles[0].outer.curves) == 3  # the triangle, three lines
    assert _iou(out, truth) > 0.999
    lost = (build_manifold(truth) - build_manifold(out)).volume()
    assert lost < 1e-4 * build_manifold(truth).volume()


def test_what_no_outline_shows_is_left_and_a_close_candidate_is_left_alone():
    blind = Program((BLOCK, BLIND_HOLE))  # a blind hole: the outline from above is whole
    assert _trimmed(Program((BLOCK,)), blind) is None
    truth = Program((BLOCK, CROSS_HOLE))
    assert _trimmed(truth, truth) is None


def test_trims_need_an_exact_volume_and_are_candidates_of_the_given_source():
    mesh = program_to_mesh(Program((BLOCK, CROSS_HOLE)))
    target = ChamferTarget(mesh)
    base_mesh = program_to_mesh(Program((BLOCK,)))
    base = Candidate(Program((BLOCK,)), "model", base_mesh, target(base_mesh))
    out = with_outline_trims([base], mesh, target, [base], "section")
    assert out[0] is base and len(out) == 2
    assert out[1].source == "section" and out[1].rank_cd < base.rank_cd
    assert isinstance(out[1].mesh, trimesh.Trimesh)
    assert with_outline_trims([base], None, target, [base], "section") == [base]  # a scan: no exact volume


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_an_off_centre_slot_through_each_axis_is_cut_where_it_is(axis):
    """An asymmetric, off-centre rectangular hole through the block along each axis: a swapped sketch
    axis or sign would put the cut elsewhere and lose the overlap."""
    block = Program(
        (
            feat(
                Profile(rect(-0.3, -0.3, 0.3, 0.3)),
                plane=Plane((0.0, 0.0, -0.3), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
                extent=Extent(ExtentKind.ONE_SIDE, 0.6),
            ),
        )
    )
    x_dir, normal = AXIS_FRAMES[axis]
    origin = tuple(-0.3 * c for c in normal)
    slot = feat(
        Profile(rect(0.05, -0.2, 0.11, -0.08)),
        plane=Plane(origin, x_dir, normal),
        extent=Extent(ExtentKind.ONE_SIDE, 0.6),
        op=Operation.CUT,
    )
    truth = Program((*block.features, slot))
    out = _trimmed(block, truth)
    assert out is not None and len(out.features) == 2
    assert abs(out.features[1].sketch.plane.normal[axis]) == 1.0
    assert _iou(out, truth) > 0.999


def test_a_trim_must_reach_the_best_base_and_must_not_cut_into_the_part(monkeypatch):
    truth = Program((BLOCK, CROSS_HOLE))
    mesh = program_to_mesh(truth)
    target = ChamferTarget(mesh)
    trimmer = _trimmer(truth)
    block_mesh = program_to_mesh(Program((BLOCK,)))
    trimmed = trimmer.trimmed(Program((BLOCK,)), block_mesh)
    assert trimmed is not None
    reached = trimmer.overlap(trimmed)
    assert trimmer.trimmed(Program((BLOCK,)), block_mesh, floor=reached) == trimmed
    assert trimmer.trimmed(Program((BLOCK,)), block_mesh, floor=reached + 1e-6) is None  # a better base
    exact = Candidate(truth, "model", mesh, target(mesh))  # nothing to trim on the input itself
    assert with_outline_trims([exact], mesh, target, [exact], "section") == [exact]

    assert trimmer._axis_cut(build_manifold(Program((BLOCK,))), block_mesh, 0, -0.5, 0.5) is not None

    import backend.verify.trim as trim

    too_wide = (Profile(circle(0.0, 0.2, 0.19)),)  # the hole's region fitted twice too wide
    monkeypatch.setattr(trim, "fitted_profiles", lambda region, quantize: too_wide)
    solid = build_manifold(Program((BLOCK,)))
    assert _trimmer(truth)._axis_cut(solid, block_mesh, 0, -0.5, 0.5) is None  # it would take the part


def test_a_failing_fit_leaves_the_candidates_as_they_are(monkeypatch):
    import backend.verify.trim as trim

    def broken(region, quantize):
        raise IndexError("a fitter bug")

    monkeypatch.setattr(trim, "fitted_profiles", broken)
    mesh = program_to_mesh(Program((BLOCK, CROSS_HOLE)))
    target = ChamferTarget(mesh)
    base_mesh = program_to_mesh(Program((BLOCK,)))
    base = Candidate(Program((BLOCK,)), "section", base_mesh, target(base_mesh))
    assert with_outline_trims([base], mesh, target, [base], "section") == [base]


def test_a_bad_piece_drops_its_axis_cut_even_beside_a_good_one(monkeypatch):
    """A fitted region of two pieces: the true cross hole and a small circle inside the part (a fitting
    error). The good piece would hide the bad one's loss in the axis's total; the cut is dropped."""
    import backend.verify.trim as trim

    truth = Program((BLOCK, CROSS_HOLE))
    assert _trimmed(Program((BLOCK,)), truth) is not None
    real = trim.fitted_profiles
    stray = Profile(circle(-0.2, 0.1, 0.03))  # seen along X: inside the block, away from the hole
    monkeypatch.setattr(trim, "fitted_profiles", lambda region, quantize: (*real(region, quantize), stray))
    assert _trimmed(Program((BLOCK,)), truth) is None
