"""Section candidates on meshes built from hand-made programs."""

import math

import pytest

from backend.cad.canonical import canonicalize
from backend.cad.program import (
    Arc,
    Circle,
    Extent,
    ExtentKind,
    Line,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
)
from backend.cad.quantize import quantize_program
from backend.cad.validate import validate
from backend.geometry.normalize import normalize_mesh
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import (
    all_candidates,
    layered_candidates,
    section_candidates,
    step_heights,
)
from backend.verify.reference import best_program, best_section_program, rank_programs
from tests.cad.programs import circle, feat, poly_loop, prog

YZ = Plane((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))


def rounded_rect(a: float, b: float, r: float) -> Loop:
    c = r * (1 - math.sqrt(0.5))
    return Loop(
        (
            Line((-a + r, -b), (a - r, -b)),
            Arc((a - r, -b), (a - c, -b + c), (a, -b + r)),
            Line((a, -b + r), (a, b - r)),
            Arc((a, b - r), (a - c, b - c), (a - r, b)),
            Line((a - r, b), (-a + r, b)),
            Arc((-a + r, b), (-a + c, b - c), (-a, b - r)),
            Line((-a, b - r), (-a, -b + r)),
            Arc((-a, -b + r), (-a + c, -b + c), (-a + r, -b)),
        )
    )


def plate() -> Program:
    """Rounded-corner plate with a round hole."""
    profile = Profile(rounded_rect(0.5, 0.3, 0.1), (circle(0.1, 0.05, 0.12),))
    return prog(profile, extent=Extent(ExtentKind.ONE_SIDE, 0.15))


def l_bracket() -> Program:
    """An L profile in the YZ plane extruded along X."""
    pts = [(0.0, 0.0), (0.6, 0.0), (0.6, 0.1), (0.1, 0.1), (0.1, 0.5), (0.0, 0.5)]
    return prog(Profile(poly_loop(pts)), plane=YZ, extent=Extent(ExtentKind.ONE_SIDE, 1.0))


def cylinder() -> Program:
    return prog(Profile(circle(0.0, 0.0, 0.3)), extent=Extent(ExtentKind.ONE_SIDE, 0.8))


SHAPES = {"plate": plate, "l_bracket": l_bracket, "cylinder": cylinder}


@pytest.fixture(scope="module")
def built():
    """name -> (normalised mesh, (best program, IoU)), built once."""
    out = {}
    for name, make in SHAPES.items():
        mesh, _ = normalize_mesh(program_to_mesh(make()))
        out[name] = (mesh, best_section_program(mesh))
    return out


def curves(program: Program) -> list:
    return [c for p in program.features[0].sketch.profiles for loop in p.loops for c in loop.curves]


@pytest.mark.parametrize("name", SHAPES)
def test_best_section_matches_the_input(built, name):
    program, iou = built[name][1]
    assert iou > 0.98
    assert len(program.features) == 1
    validate(program)
    assert canonicalize(program) == program  # canonical, and on the token grid
    assert quantize_program(program) == program


def test_plate_fits_arcs_lines_and_a_hole(built):
    program, _ = built["plate"][1]
    assert program.features[0].sketch.plane.normal == (0.0, 0.0, 1.0)
    (profile,) = program.features[0].sketch.profiles
    assert sorted(type(c).__name__ for c in profile.outer.curves) == ["Arc"] * 4 + ["Line"] * 4
    assert len(profile.holes) == 1 and profile.holes[0].is_circle


def test_l_bracket_is_sketched_across_x(built):
    program, _ = built["l_bracket"][1]
    assert program.features[0].sketch.plane.normal == (1.0, 0.0, 0.0)
    assert program.features[0].extent.d1 == pytest.approx(1.0)
    assert [type(c).__name__ for c in curves(program)] == ["Line"] * 6


def test_cylinder_section_is_one_circle(built):
    program, _ = built["cylinder"][1]
    (circle,) = curves(program)
    assert isinstance(circle, Circle)
    assert circle.radius == pytest.approx(0.375, abs=0.003)  # diameter 0.6 of height 0.8 -> 0.75


@pytest.mark.parametrize("name", SHAPES)
def test_all_candidates_validate_and_rank(built, name):
    mesh, (best, iou) = built[name]
    programs = section_candidates(mesh)
    assert 1 <= len(programs) <= 15
    for p in programs:
        validate(p)
    ranked = rank_programs(mesh, programs)
    assert ranked[0][1] == pytest.approx(iou)
    assert ranked[0][0].curve_count == best.curve_count


def test_duplicate_sections_are_dropped(built):
    mesh, _ = built["cylinder"]
    # every Z slice of a cylinder is the same disc: one candidate along Z
    along_z = [p for p in section_candidates(mesh) if p.features[0].sketch.plane.normal == (0.0, 0.0, 1.0)]
    assert len(along_z) == 1


def test_continuous_candidates_keep_exact_numbers(built):
    mesh, _ = built["cylinder"]
    program, iou = best_section_program(mesh, quantize=False)
    (circle,) = curves(program)
    assert circle.radius == pytest.approx(0.375, abs=1e-6)
    assert iou > 0.99


def stepped() -> Program:
    """A plate with a round boss on top: two sections along Z."""
    square = rounded_rect(0.5, 0.5, 0.05)
    base = feat(Profile(square))
    top = Plane((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    boss = feat(
        Profile(circle(0.0, 0.0, 0.25)), plane=top, extent=Extent(ExtentKind.ONE_SIDE, 0.3), op=Operation.JOIN
    )
    return Program((base, boss))


def test_layered_candidate_rebuilds_a_stepped_part():
    mesh, _ = normalize_mesh(program_to_mesh(stepped()))
    assert step_heights(mesh, 2) == [pytest.approx(-0.05)]  # the plate top (z from -0.25 to 0.25)
    _, single = best_section_program(mesh)
    (layered,) = layered_candidates(mesh)
    validate(layered)
    assert [f.operation for f in layered.features] == [Operation.NEW, Operation.JOIN]
    assert [len(curves(Program((f,)))) for f in layered.features] == [8, 1]
    program, iou = best_program(mesh, all_candidates(mesh))
    assert program == layered
    assert iou > 0.98 > single


def ziggurat(levels: int = 6) -> Program:
    """Square slabs 0.1 high, each narrower than the one below: ``levels`` - 1 steps along Z."""
    slabs = []
    for k in range(levels):
        plane = Plane((0.0, 0.0, 0.1 * k), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
        op = Operation.JOIN if k else Operation.NEW
        half = 0.5 - 0.06 * k
        square = poly_loop([(-half, -half), (half, -half), (half, half), (-half, half)])
        slabs.append(feat(Profile(square), plane=plane, extent=Extent(ExtentKind.ONE_SIDE, 0.1), op=op))
    return Program(tuple(slabs))


def test_a_part_of_more_steps_than_slabs_gets_a_finer_twin():
    mesh, _ = normalize_mesh(program_to_mesh(ziggurat()))
    along_z = [p for p in layered_candidates(mesh) if p.features[0].sketch.plane.normal == (0.0, 0.0, 1.0)]
    assert sorted(len(p.features) for p in along_z) == [4, 6]  # the three largest steps; all five
    program, iou = best_program(mesh, along_z)
    assert len(program.features) == 6 and iou > 0.99
