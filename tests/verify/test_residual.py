"""Residual features: a feature along another axis, recovered from what the candidate has too much of."""

import trimesh

from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.geometry.solid import build_manifold, program_to_mesh
from backend.verify import ChamferTarget
from backend.verify.rank import Candidate
from backend.verify.residual import residual_program, with_residual_features
from tests.cad.programs import circle, feat, rect

BLOCK = feat(Profile(rect(-0.5, -0.3, 0.5, 0.3)), extent=Extent(ExtentKind.ONE_SIDE, 0.4))
SIDE = Plane((-0.5, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))  # sketch (u, v) = (y, z)
CROSS_HOLE = feat(
    Profile(circle(0.0, 0.2, 0.1)), plane=SIDE, extent=Extent(ExtentKind.ONE_SIDE, 1.0), op=Operation.CUT
)


def _iou(a: Program, b: Program) -> float:
    sa, sb = build_manifold(a), build_manifold(b)
    inter = (sa ^ sb).volume()
    return inter / (sa.volume() + sb.volume() - inter)


def test_a_hole_along_another_axis_becomes_a_cut_on_that_axis():
    truth = Program((BLOCK, CROSS_HOLE))
    base = Program((BLOCK,))  # what a section along Z sees
    assert _iou(base, truth) < 0.9
    out = residual_program(base, build_manifold(truth))
    assert out is not None and out.features[0] == BLOCK
    added = out.features[1:]
    assert [f.operation for f in added] == [Operation.CUT]
    assert abs(added[0].sketch.plane.normal[0]) == 1.0  # sketched across X, where the hole was drilled
    assert _iou(out, truth) > 0.99


def test_a_missing_pin_becomes_a_join_and_a_close_candidate_is_left_alone():
    top = Plane((0.0, 0.0, 0.4), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    pin = feat(
        Profile(circle(0.2, 0.0, 0.08)), plane=top, extent=Extent(ExtentKind.ONE_SIDE, 0.3), op=Operation.JOIN
    )
    truth = Program((BLOCK, pin))
    out = residual_program(Program((BLOCK,)), build_manifold(truth))
    assert out is not None and [f.operation for f in out.features[1:]] == [Operation.JOIN]
    assert _iou(out, truth) > 0.99
    assert residual_program(truth, build_manifold(truth)) is None  # nothing missing


def _cross_hole_input() -> tuple[trimesh.Trimesh, ChamferTarget, trimesh.Trimesh]:
    """The input (a block with a cross hole), its ranking target, and the block a section sees."""
    mesh = program_to_mesh(Program((BLOCK, CROSS_HOLE)))
    return mesh, ChamferTarget(mesh), program_to_mesh(Program((BLOCK,)))


def test_residual_candidates_need_an_exact_volume():
    mesh, target, base_mesh = _cross_hole_input()
    base = Candidate(Program((BLOCK,)), "section", base_mesh, target(base_mesh))
    out = with_residual_features([base], mesh, target, "section")
    assert out[0] is base and len(out) == 2 and out[1].rank_cd < base.rank_cd
    assert with_residual_features([base], None, target, "section") == [base]  # a scan: no exact volume
    assert isinstance(out[1].mesh, trimesh.Trimesh)


def test_the_best_candidate_of_each_source_is_completed():
    mesh, target, base_mesh = _cross_hole_input()
    model = Candidate(Program((BLOCK,)), "model", base_mesh, target(base_mesh))
    section = Candidate(Program((BLOCK,)), "section", base_mesh, target(base_mesh) * 1.01)
    out = with_residual_features([model, section], mesh, target, "section")
    assert len(out) == 4 and all(c.source == "section" for c in out[2:])
    assert all(c.rank_cd < model.rank_cd for c in out[2:])


def test_missing_pins_over_one_span_share_one_sketch():
    top = Plane((0.0, 0.0, 0.4), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    pins = [
        feat(
            Profile(circle(x, 0.0, 0.08)),
            plane=top,
            extent=Extent(ExtentKind.ONE_SIDE, 0.3),
            op=Operation.JOIN,
        )
        for x in (-0.25, 0.25)
    ]
    truth = Program((BLOCK, *pins))
    out = residual_program(Program((BLOCK,)), build_manifold(truth))
    assert out is not None and len(out.features) == 2  # the block, and one join of both pins
    assert len(out.features[1].sketch.profiles) == 2 and _iou(out, truth) > 0.99
