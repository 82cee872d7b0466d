"""Cut profiles that remove nothing: a notch cut twice is cut once, a real cut stays."""

from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.geometry.solid import program_to_mesh
from backend.verify.candidates import intent_rewrites, same_solid
from backend.verify.spare_cuts import spare_cuts_dropped
from tests.cad.programs import circle, feat, rect

SIDE = Plane((-0.5, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))  # sketch (y, z), extruded along x
THROUGH = Extent(ExtentKind.ONE_SIDE, 1.0)
PLATE = Extent(ExtentKind.ONE_SIDE, 0.2)


def _plate_with_a_notch_cut_from_the_side_and_from_above() -> Program:
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)), extent=PLATE)
    from_side = feat(Profile(rect(0.3, 0.0, 0.6, 0.3)), plane=SIDE, extent=THROUGH, op=Operation.CUT)
    from_above = feat(
        Profile(rect(-0.5, 0.3, 0.5, 0.6)), Profile(circle(0, 0, 0.1)), extent=PLATE, op=Operation.CUT
    )
    return Program((plate, from_side, from_above))


def test_a_notch_cut_from_the_side_and_again_from_above_is_cut_once():
    program = _plate_with_a_notch_cut_from_the_side_and_from_above()
    out = spare_cuts_dropped(program)
    assert out is not None and same_solid(program, out)
    assert out.curve_count == program.curve_count - 4  # one rectangle of the notch's two dropped
    assert abs(program_to_mesh(out).volume - program_to_mesh(program).volume) < 1e-9
    assert any(
        same_solid(program, p) and p.curve_count < program.curve_count for p in intent_rewrites(program)
    )


def test_cuts_that_each_remove_material_stay_and_a_cut_into_air_goes():
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)), extent=PLATE)
    holes = feat(Profile(circle(-0.2, 0, 0.1)), Profile(circle(0.2, 0, 0.1)), extent=PLATE, op=Operation.CUT)
    assert spare_cuts_dropped(Program((plate, holes))) is None
    air = feat(Profile(rect(0.6, 0.6, 0.8, 0.8)), extent=PLATE, op=Operation.CUT)
    out = spare_cuts_dropped(Program((plate, holes, air)))
    assert out is not None and len(out.features) == 2 and out.features[-1] == holes
    assert spare_cuts_dropped(Program((plate,))) is None  # no cuts at all
