"""The add-on and the backend cannot drift: constants and rules shared in spirit are equal.

``blender_addon/sketch.py`` is pure Python (no bpy), so this runs without Blender.
"""

import math

import pytest

from backend.cad import curves, tessellate
from backend.cad.program import Arc, Circle
from blender_addon import sketch

SHARED = [
    (tessellate, "CHORD_TOLERANCE"),
    (tessellate, "MIN_SEGMENTS_PER_CIRCLE"),
    (tessellate, "MAX_SEGMENTS_PER_CIRCLE"),
    (curves, "COLLINEAR_TOLERANCE"),
]


@pytest.mark.parametrize(("module", "name"), SHARED)
def test_constant_is_the_same_on_both_sides(module, name):
    assert getattr(sketch, name) == getattr(module, name)


@pytest.mark.parametrize("radius", [1e-4, 1e-3, 0.004, 0.02, 0.1, 0.37, 1.0, 25.0, 400.0])
def test_segments_per_circle_agree(radius):
    scale = 1.0
    assert sketch.segments_per_circle(
        radius, sketch.CHORD_TOLERANCE * scale
    ) == tessellate.segments_per_circle(radius, scale)


def test_sampling_temperature_floor_agrees():
    pytest.importorskip("bpy")
    from backend.intake import options
    from blender_addon import properties

    assert properties.MIN_TEMPERATURE == options.MIN_TEMPERATURE


def test_circle_and_arc_polygons_agree():
    circle = Circle((0.1, -0.2), 0.3)
    ours = sketch._circle_points(
        {"type": "circle", "center": [0.1, -0.2], "radius": 0.3}, sketch.CHORD_TOLERANCE
    )
    theirs = tessellate.tessellate_circle(circle)
    assert len(ours) == len(theirs)
    assert max(math.dist(a, b) for a, b in zip(ours, theirs)) < 1e-12
    arc = Arc((1.0, 0.0), (math.sqrt(0.5), math.sqrt(0.5)), (0.0, 1.0))
    curve = {"type": "arc", "start": list(arc.start), "mid": list(arc.mid), "end": list(arc.end)}
    ours = sketch._arc_points(curve, sketch.CHORD_TOLERANCE)
    theirs = tessellate.tessellate_arc(arc)
    assert len(ours) == len(theirs)  # both leave out the end point (the next curve's start)
    assert max(math.dist(a, b) for a, b in zip(ours, theirs)) < 1e-12


def test_part_size_is_the_backend_s_program_scale():
    """Both sides tessellate one program's circles alike: the add-on's part size is ``program_scale``."""
    from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
    from backend.cad.serialize import program_to_dict
    from backend.geometry.solid import program_scale
    from tests.cad.programs import circle, feat, plate_with_hole, rect

    below = Plane((0.0, 0.0, -1.5), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    side = Plane((0.7, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))
    programs = [
        plate_with_hole(),
        Program(
            (
                feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)), extent=Extent(ExtentKind.TWO_SIDES, 0.2, 0.1)),
                feat(
                    Profile(circle(0.0, 0.0, 0.3)),
                    plane=below,
                    extent=Extent(ExtentKind.ONE_SIDE, 3.0),
                    op=Operation.CUT,
                ),
                feat(
                    Profile(circle(0.0, 0.0, 0.1)),
                    plane=side,
                    extent=Extent(ExtentKind.SYMMETRIC, 0.3),
                    op=Operation.JOIN,
                ),
            )
        ),
    ]
    for p in programs:
        assert sketch.part_size(program_to_dict(p)["features"]) == pytest.approx(program_scale(p), rel=1e-12)
