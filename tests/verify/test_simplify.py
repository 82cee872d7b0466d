"""Simplification: a loop fitted as many short lines is offered with fewer curves, and the verifier takes
it only where it is as faithful."""

from __future__ import annotations

import numpy as np

from backend.cad.program import (
    Circle,
    Extent,
    ExtentKind,
    Extrude,
    Loop,
    Plane,
    Profile,
    Program,
    Sketch,
)
from backend.geometry.solid import program_to_mesh
from backend.verify import SOURCE_SECTION, ChamferTarget, pick_best
from backend.verify.candidates import with_derived_candidates, with_simplifications
from backend.verify.refine import pick_keeping_volume
from backend.verify.simplify import SIMPLIFY_TOLERANCES, simplified, simplified_loop
from tests.cad.programs import poly_loop
from tests.verify.test_prune import candidate

BASE = Plane((0.0, 0.0, -0.1), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def wobbly_plate(wobble: float, notch: float = 0.0) -> Program:
    """A 1 x 0.6 plate whose top edge is drawn as 20 lines wobbling by ``wobble`` (a slice's noise), with
    a notch ``notch`` deep and 0.2 wide in its bottom edge; a hole that is a circle."""
    xs = np.linspace(0.5, -0.5, 21) if wobble else np.array([0.5, -0.5])  # straight: one line
    top = [(float(x), 0.3 + (wobble if k % 2 else 0.0)) for k, x in enumerate(xs)]
    bottom = [(-0.5, -0.3), (-0.1, -0.3), (-0.1, -0.3 + notch), (0.1, -0.3 + notch), (0.1, -0.3), (0.5, -0.3)]
    if notch == 0.0:
        bottom = [(-0.5, -0.3), (0.5, -0.3)]
    hole = Loop((Circle((0.2, 0.0), 0.1),))
    profile = Profile(poly_loop(top + bottom), (hole,))
    return Program((Extrude(Sketch(BASE, (profile,)), Extent(ExtentKind.ONE_SIDE, 0.2)),))


def test_a_wobbling_edge_becomes_one_line_and_a_circle_stays() -> None:
    program = wobbly_plate(0.001)
    loop = program.features[0].sketch.profiles[0].outer
    assert len(loop.curves) == 23
    assert len(simplified_loop(loop, 0.004).curves) == 4
    hole = program.features[0].sketch.profiles[0].holes[0]
    assert simplified_loop(hole, 0.004) is hole
    simpler = simplified(program, 0.004)
    assert simpler is not None and simpler.curve_count == 5
    assert simplified(simpler, 0.004) is None  # nothing left to simplify
    assert simplified(wobbly_plate(0.01), 0.004) is None  # a real step is more than the tolerance


def test_a_polygon_is_not_taken_for_the_circle_through_its_corners() -> None:
    corners = [(0.28 * np.cos(a), 0.28 * np.sin(a)) for a in np.arange(8) * np.pi / 4]
    octagon = poly_loop([(float(x), float(y)) for x, y in corners])  # its edges 0.021 inside that circle
    assert simplified_loop(octagon, 0.008) is octagon
    fine = poly_loop([(0.28 * np.cos(a), 0.28 * np.sin(a)) for a in np.arange(64) * np.pi / 32])
    assert simplified_loop(fine, 0.004).is_circle  # 0.0009 from it: a circle drawn as lines


def test_the_verifier_takes_the_simpler_loop_only_where_it_is_as_faithful() -> None:
    plate = program_to_mesh(wobbly_plate(0.0))
    clean = ChamferTarget(plate)
    wobbly = candidate(wobbly_plate(0.001), clean, SOURCE_SECTION)
    offered = with_simplifications([wobbly], clean)
    assert len(offered) > 1 and offered[0] is wobbly
    assert pick_keeping_volume(offered, plate, plate).program.curve_count == 5  # noise: 23 -> 5 curves
    derived = with_derived_candidates([wobbly], plate, clean)  # the verifier's own list offers it too
    assert min(c.program.curve_count for c in derived) == 5
    rough = with_derived_candidates([wobbly], None, clean)  # a scan or a point cloud: no exact volume
    assert min(c.program.curve_count for c in rough) == wobbly.program.curve_count == 24

    notched = wobbly_plate(0.0, notch=0.006)
    exact = candidate(notched, ChamferTarget(program_to_mesh(notched)), SOURCE_SECTION)
    loosest = simplified(notched, SIMPLIFY_TOLERANCES[-1])
    assert loosest is not None and loosest.curve_count < notched.curve_count  # it cuts the notch ...
    truth = program_to_mesh(notched)
    offered = with_simplifications([exact], ChamferTarget(truth))
    assert pick_best(offered).program != notched  # the surface distance alone barely sees 0.006 ...
    assert pick_keeping_volume(offered, truth, truth).program == notched  # ... the volume does: it stays
