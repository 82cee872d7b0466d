import math

import numpy as np
import pytest

from backend.cad.program import (
    Arc,
    Circle,
    Extent,
    ExtentKind,
    Extrude,
    Line,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
)
from backend.cad.validate import ProgramError, is_valid, is_valid_profile, validate
from tests.cad.programs import THIN, XY, poly_loop, prog, rect, slot

BOX = Profile(rect(-0.5, -0.5, 0.5, 0.5))


def expect(program: Program, *words: str) -> None:
    with pytest.raises(ProgramError) as info:
        validate(program)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    assert not is_valid(program)


def test_valid_programs_pass():
    validate(prog(BOX))
    stadium = slot(1.0, 0.5)
    holed = Profile(rect(-1, -1, 2, 1), (Loop((Circle((-0.7, 0), 0.1),)), rect(1.6, -0.2, 1.8, 0.2)))
    validate(prog(Profile(stadium), holed))
    # clockwise loops and non-unit (quantised) plane vectors are accepted
    quantised = Plane((0, 0, 0), (2, 0, 0.001), (0, 0, 0.5))
    validate(prog(Profile(poly_loop([(0, 0), (0, 1), (1, 1), (1, 0)])), plane=quantised))
    # numpy scalars are numbers too
    validate(prog(Profile(Loop((Circle((np.float32(0.1), np.float64(0)), np.float32(0.5)),)))))
    # a small gap below the closure tolerance is accepted
    validate(prog(Profile(Loop((Line((0, 0), (1, 0)), Line((1, 0), (1, 1)), Line((1, 1), (0, 1e-8)))))))
    assert is_valid(prog(BOX))


def test_empty_program():
    expect(Program(()), "empty program")


def test_non_finite_numbers():
    expect(prog(Profile(rect(0, 0, math.nan, 1))), "feature 0, profile 0, outer loop, curve 0", "finite")
    expect(prog(BOX, extent=Extent(ExtentKind.ONE_SIDE, math.inf)), "feature 0", "extent", "finite")
    expect(prog(BOX, plane=Plane((0, math.nan, 0), (1, 0, 0), (0, 0, 1))), "plane origin", "finite")


def test_bad_plane_vectors():
    expect(prog(BOX, plane=Plane((0, 0, 0), (0, 0, 0), (0, 0, 1))), "x_dir", "zero length")
    expect(prog(BOX, plane=Plane((0, 0, 0), (1, 0, 0), (0, 0, 0))), "normal", "zero length")
    expect(prog(BOX, plane=Plane((0, 0, 0), (1, 0, 1), (0, 0, 1))), "not perpendicular")


def test_unknown_operation_and_extent():
    expect(prog(BOX, op="fuse"), "feature 0", "unknown operation")
    expect(prog(BOX, extent=Extent("sideways", 0.1)), "unknown extent")


def test_first_feature_must_add_material():
    expect(prog(BOX, op=Operation.CUT), "feature 0", "first feature", "cut")
    expect(prog(BOX, op=Operation.INTERSECT), "first feature", "intersect")


def test_zero_span_extents():
    expect(prog(BOX, extent=Extent(ExtentKind.ONE_SIDE, 0.0)), "feature 0", "extent", "thickness")
    expect(prog(BOX, extent=Extent(ExtentKind.SYMMETRIC, 0.0)), "thickness")
    expect(prog(BOX, extent=Extent(ExtentKind.TWO_SIDES, 0.1, -0.1)), "thickness")
    expect(prog(BOX, extent=Extent(ExtentKind.TWO_SIDES, 0.1, -0.3)), "negative thickness")


def test_open_loop():
    open_loop = Loop((Line((0, 0), (1, 0)), Line((1, 0), (1, 1)), Line((1, 1), (0, 0.1))))
    where = "feature 0, profile 1, outer loop"
    expect(prog(BOX, Profile(open_loop)), where, "open loop", "curve 2", "curve 0")
    gap = Loop((Line((0, 0), (1, 0)), Line((1.01, 0), (1, 1)), Line((1, 1), (0, 0))))
    expect(prog(Profile(gap)), "open loop", "curve 0 ends", "curve 1 starts")


def test_self_intersecting_loop():
    bowtie = poly_loop([(0, 0), (1, 1), (1, 0), (0, 1)])
    expect(prog(Profile(bowtie)), "profile 0, outer loop", "self-intersecting")


def test_zero_area():
    flat = poly_loop([(0, 0), (1, 0), (2, 0)])
    expect(prog(Profile(flat)), "outer loop", "zero-area")
    same = Profile(rect(0, 0, 1, 1), (rect(0, 0, 1, 1),))
    expect(prog(same), "profile 0", "zero-area profile")


def test_hole_outside_or_overlapping_outer():
    outside = Profile(rect(0, 0, 1, 1), (Loop((Circle((3, 3), 0.1),)),))
    expect(prog(outside), "profile 0, hole 0", "not inside the outer loop")
    overlapping = Profile(rect(0, 0, 1, 1), (rect(0.2, 0.2, 0.5, 0.5), rect(0.8, 0.2, 1.5, 0.5)))
    expect(prog(overlapping), "profile 0, hole 1", "not inside")


def test_circle_problems():
    expect(prog(Profile(Loop((Circle((0, 0), 0.0),)))), "curve 0", "radius must be positive")
    expect(prog(Profile(Loop((Circle((0, 0), -1.0),)))), "radius must be positive")
    mixed = Loop((Circle((0, 0), 1.0), Line((0, 0), (1, 0))))
    expect(prog(Profile(mixed)), "only curve")


def test_degenerate_arc_and_empty_parts():
    bad = Loop((Arc((0, 0), (0.5, 0), (1, 0)), Line((1, 0), (0, 0))))
    expect(prog(Profile(bad)), "outer loop", "degenerate arc")
    expect(prog(Profile(Loop(()))), "no curves")
    expect(Program((Extrude(Sketch(XY, ()), THIN),)), "feature 0", "no profiles")


def test_error_names_later_feature():
    cut = Extrude(Sketch(XY, (Profile(poly_loop([(0, 0), (1, 1), (1, 0), (0, 1)])),)), THIN, Operation.CUT)
    program = Program((prog(BOX).features[0], prog(BOX).features[0], cut))
    expect(program, "feature 2, profile 0", "self-intersecting")


def test_is_valid_profile_agrees_with_validate():
    hole = rect(-0.2, -0.2, 0.2, 0.2)
    outside = rect(0.6, 0.6, 0.8, 0.8)
    bow_tie = poly_loop([(0, 0), (1, 1), (1, 0), (0, 1)])
    for profile in (BOX, Profile(BOX.outer, (hole,)), Profile(BOX.outer, (outside,)), Profile(bow_tie)):
        assert is_valid_profile(profile) == is_valid(prog(profile))
    assert is_valid_profile(Profile(BOX.outer, (hole,)))
    assert not is_valid_profile(Profile(BOX.outer, (outside,)))
    assert not is_valid_profile(Profile(bow_tie))
