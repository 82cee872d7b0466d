"""Holes a scan's sections find on another axis than the candidate's, cut into it."""

import dataclasses
import math

import pytest
import trimesh

from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.geometry.normalize import normalizing_frame
from backend.geometry.perturb import points, scan
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import section_candidates
from backend.sections.slices import RobustSlicer
from backend.verify.rank import Candidate, pick_best
from backend.verify.reference import IouScorer
from backend.verify.refine import pick_keeping_volume
from backend.verify.scanned_holes import (
    AxisHole,
    carved,
    hole_cuts,
    holes_shown,
    scanned_holes,
    with_hole_cuts,
)
from backend.verify.target import ChamferTarget
from tests.cad.programs import circle, feat, poly_loop, rect

R = 0.015  # narrower than the sealed solid keeps
XZ = Plane((0.0, 0.1, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0))  # sketch u = z, v = x; extruded towards -y


def _bar(with_hole: bool = True) -> Program:
    """A bar 1 x 0.2 x 0.2 along x, with a bolt hole across it along y (at x = -0.2, z = 0.1)."""
    bar = feat(Profile(rect(-0.5, -0.1, 0.5, 0.1)), extent=Extent(ExtentKind.ONE_SIDE, 0.2))
    if not with_hole:
        return Program((bar,))
    hole = feat(
        Profile(circle(0.1, 0.2, R)), plane=XZ, extent=Extent(ExtentKind.ONE_SIDE, 0.2), op=Operation.CUT
    )
    return Program((bar, hole))


@pytest.fixture(scope="module", params=["scan", "points"])
def scanned(request):
    clean = program_to_mesh(_bar())
    frame = normalizing_frame(clean)
    if request.param == "scan":
        target = frame.apply_to_mesh(scan(clean, 0))
    else:
        target = trimesh.PointCloud(frame.apply(points(clean, 0).vertices))
    slicer = RobustSlicer(target)
    section_candidates(slicer)  # the sections on every axis, as the pipeline cuts them
    return frame, slicer, target


def test_the_cross_hole_is_found_with_its_span(scanned):
    frame, slicer, _ = scanned
    assert slicer.occupancy.radius > R / frame.scale  # the sealed solid alone fills the hole
    (hole,) = [h for h in scanned_holes(slicer) if h.axis == 1]
    assert hole.radius == pytest.approx(R / frame.scale, rel=0.1)
    centre = frame.apply([[-0.2, 0.0, 0.1]])[0]
    assert hole.centre == pytest.approx((centre[2], centre[0]), abs=0.004)  # the y axis's sketch (z, x)
    lo, hi = frame.apply([[0.0, -0.1, 0.0], [0.0, 0.1, 0.0]])[:, 1]
    assert hole.lo == pytest.approx(lo, abs=0.01) and hole.hi == pytest.approx(hi, abs=0.01)


def test_a_candidate_without_the_hole_gets_it_cut(scanned):
    frame, slicer, target_mesh = scanned
    target = ChamferTarget(target_mesh) if isinstance(target_mesh, trimesh.Trimesh) else None
    if target is None:
        target = ChamferTarget.from_points(target_mesh.vertices)
    plain = frame.program_to_normalized(_bar(with_hole=False))
    mesh = program_to_mesh(plain)
    base = Candidate(plain, "section", mesh, target(mesh))
    out = with_hole_cuts([base], scanned_holes(slicer), target)
    assert len(out) == 2 and out[0] is base
    cut = out[1]
    assert cut.source == "section" and cut.program.features[-1].operation is Operation.CUT
    assert cut.rank_cd < base.rank_cd  # the hole's wall samples are close to the cut, far from the bar
    assert pick_best([base, cut]) is cut  # beyond the tie: the rule takes the hole for its curve
    assert cut.mesh.euler_number == 0  # through the bar
    hole_volume = math.pi * R**2 * 0.2 / frame.scale**3
    assert mesh.volume - cut.mesh.volume == pytest.approx(hole_volume, rel=0.2)
    # a candidate that has the hole is left as it is
    assert with_hole_cuts([cut], scanned_holes(slicer), target) == [cut]


def test_of_equally_faithful_candidates_the_rule_keeps_the_one_with_the_holes_shown(scanned):
    """A hole too small to move the distance beyond the tie: without the holes the samples show, the
    compact bar would win; with them, the bar with its hole."""
    frame, slicer, target_mesh = scanned
    target = (
        ChamferTarget(target_mesh)
        if isinstance(target_mesh, trimesh.Trimesh)
        else ChamferTarget.from_points(target_mesh.vertices)
    )
    plain = frame.program_to_normalized(_bar(with_hole=False))
    mesh = program_to_mesh(plain)
    holes = scanned_holes(slicer)
    (cut,) = with_hole_cuts([Candidate(plain, "section", mesh, target(mesh))], holes, target)[1:]
    bar = Candidate(plain, "section", mesh, cut.rank_cd)  # as faithful, by the distance
    assert holes_shown(holes)(cut) == len(holes) > holes_shown(holes)(bar) == len(holes) - 1
    assert pick_keeping_volume([bar, cut], target_mesh, None) is bar  # fewer curves
    assert pick_keeping_volume([bar, cut], target_mesh, None, holes_shown=holes_shown(holes)) is cut
    farther = dataclasses.replace(cut, rank_cd=bar.rank_cd * 1.2)  # beyond the tie: the distance decides
    assert pick_keeping_volume([bar, farther], target_mesh, None, holes_shown=holes_shown(holes)) is bar


def test_a_hole_shown_does_not_outweigh_volume_and_a_missing_region_shows_no_hole():
    """A plate with a small bolt hole (the input); tied candidates: the plate without the hole, and a plate
    a quarter short with the hole cut. The hole puts the second first, the volume test passes it over."""
    plate = Profile(rect(-0.5, -0.5, 0.5, 0.5))
    bolt = feat(Profile(circle(0.25, 0.25, R)), extent=Extent(ExtentKind.ONE_SIDE, 0.1), op=Operation.CUT)
    quarter_short = Profile(
        poly_loop([(-0.5, 0.0), (0.0, 0.0), (0.0, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)])
    )
    thin = Extent(ExtentKind.ONE_SIDE, 0.1)
    target = program_to_mesh(Program((feat(plate, extent=thin), bolt)))
    hole = AxisHole(2, (0.25, 0.25), R, 0.0, 0.1)
    whole = Program((feat(plate, extent=thin),))
    short = Program((feat(quarter_short, extent=thin), bolt))
    a = Candidate(whole, "section", program_to_mesh(whole), 0.01)
    c = Candidate(short, "model", program_to_mesh(short), 0.01)
    shown = holes_shown([hole])
    assert (shown(a), shown(c)) == (0, 1)
    assert pick_keeping_volume([c, a], target, None, holes_shown=shown) is a
    # the hole's own region missing altogether is no hole shown
    far = AxisHole(2, (-0.25, -0.25), R, 0.0, 0.1)
    assert holes_shown([far])(c) == 0 and holes_shown([far])(a) == 0


def test_the_found_holes_are_carved_out_of_a_clouds_sealed_volume():
    """A plate's point cloud: its sealed solid fills the hole, so the plate with its hole overlaps less;
    with the hole carved out of the reference the plate with the hole overlaps more."""
    thin = Extent(ExtentKind.ONE_SIDE, 0.2)
    plain = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)), extent=thin),))
    r = 0.03  # the cloud's sealing radius is about as large: its sealed solid fills the hole
    holed = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (circle(0.2, 0.1, r),)), extent=thin),))
    cloud = trimesh.PointCloud(points(program_to_mesh(holed), 0).vertices)
    sealed = IouScorer(cloud, exact=False)
    ref = carved(sealed, [AxisHole(2, (0.2, 0.1), r, 0.0, 0.2)])
    assert sealed(plain) > sealed(holed) and ref(holed) > ref(plain)
    assert carved(sealed, []) is sealed


def test_hole_cuts_go_through_and_share_a_sketch(scanned):
    """Two holes of one span, measured a little short of the bar's faces (round-off, noise): one cut of
    two circles, through the bar (no skin left over a hole, no closed void)."""
    frame, slicer, _ = scanned
    h = [h for h in scanned_holes(slicer) if h.axis == 1][0]
    bar = frame.program_to_normalized(_bar(with_hole=False))
    lo, hi = frame.apply([[0.0, -0.1, 0.0], [0.0, 0.1, 0.0]])[:, 1]
    short = [
        AxisHole(1, (h.centre[0], h.centre[1] + dx), h.radius, lo + 0.003, hi - 0.003) for dx in (0.0, 0.2)
    ]
    program = hole_cuts(bar, short, program_to_mesh(bar))
    assert len(program.features) == 2 and len(program.features[1].sketch.profiles) == 2
    assert program_to_mesh(program).euler_number == 2 - 2 * 2  # two through holes: genus 2


def test_coaxial_holes_with_material_between_are_two():
    """Three plates stacked along z; the outer two have a bolt hole, the middle one none."""
    plates = []
    for k, (z0, z1, hole) in enumerate(((0.0, 0.1, True), (0.1, 0.25, False), (0.25, 0.35, True))):
        holes = (circle(0.2, 0.0, R),) if hole else ()
        plate = Plane((0.0, 0.0, z0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
        op = Operation.NEW if k == 0 else Operation.JOIN
        extent = Extent(ExtentKind.ONE_SIDE, z1 - z0)
        plates.append(feat(Profile(rect(-0.5, -0.3, 0.5, 0.3), holes), plane=plate, extent=extent, op=op))
    clean = program_to_mesh(Program(tuple(plates)))
    frame = normalizing_frame(clean)
    slicer = RobustSlicer(frame.apply_to_mesh(scan(clean, 0)))
    section_candidates(slicer)
    spans = sorted((h.lo, h.hi) for h in scanned_holes(slicer) if h.axis == 2)
    expected = [
        tuple(frame.apply([[0.0, 0.0, a], [0.0, 0.0, b]])[:, 2]) for a, b in ((0.0, 0.1), (0.25, 0.35))
    ]
    assert len(spans) == 2
    for (lo, hi), (a, b) in zip(spans, expected, strict=True):
        assert lo == pytest.approx(a, abs=0.01) and hi == pytest.approx(b, abs=0.01)
