"""Round holes the robust solid sealed, found again in the section's surface samples."""

import math

import numpy as np
import pytest
import shapely
import trimesh
from shapely.geometry import box

from backend.cad.program import Extent, ExtentKind, Extrude, Operation, Plane, Profile, Program
from backend.geometry.normalize import normalizing_frame
from backend.geometry.perturb import points, scan
from backend.geometry.solid import program_to_mesh
from backend.sections.fit import polygons_of
from backend.sections.sealed_holes import sealed_holes, with_holes
from backend.sections.slices import RobustSlicer
from tests.cad.programs import circle, feat, rect

PITCH, SEAL, NOISE = 0.008, 0.017, 0.0014
SQUARE = box(-0.5, -0.5, 0.5, 0.5)


def _ring(cx: float, cy: float, r: float, n: int = 200, sweep: float = 2 * math.pi, noise: float = NOISE):
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, sweep, n, endpoint=False)
    rr = r + rng.normal(0.0, noise, n)
    return np.column_stack([cx + rr * np.cos(t), cy + rr * np.sin(t)])


def _outline(n: int = 400) -> np.ndarray:
    """Samples on the square's own boundary (the outline's walls)."""
    return np.asarray(
        [SQUARE.exterior.interpolate(s, normalized=True).coords[0] for s in np.linspace(0, 1, n)]
    )


def test_a_ring_inside_the_material_is_a_hole():
    samples = np.vstack([_outline(), _ring(0.1, -0.2, 0.02)])
    holes = sealed_holes(SQUARE, samples, PITCH, SEAL, NOISE)
    assert len(holes) == 1
    (cx, cy), r = holes[0].centre, holes[0].radius
    assert abs(cx - 0.1) < 2e-3 and abs(cy + 0.2) < 2e-3 and r == pytest.approx(0.02, rel=0.03)
    assert holes[0].polygon.area == pytest.approx(math.pi * 0.02**2, rel=0.05)
    cut = with_holes(SQUARE, holes)
    assert len(cut.interiors) == 1 and cut.area == pytest.approx(1.0 - holes[0].polygon.area)


def test_what_is_not_a_round_hole_stays():
    lines = np.column_stack([np.linspace(-0.2, 0.2, 100), np.full(100, 0.01)])
    cross_hole = np.vstack([lines, lines - [0.0, 0.04]])  # two walls of a hole across the section
    half_ring = _ring(0.0, 0.0, 0.02, sweep=math.pi)  # an arc, not a closed wall
    too_wide = _ring(0.0, 0.0, 4.0 * SEAL)  # the solid keeps holes this wide: not its business
    rough = _ring(0.0, 0.0, 0.02, noise=5 * NOISE)  # noisier than the samples: not one circle
    for extra in (cross_hole, half_ring, too_wide, rough):
        samples = np.vstack([_outline(), extra])
        assert sealed_holes(SQUARE, samples, PITCH, SEAL, NOISE) == []
    assert with_holes(SQUARE, []) is SQUARE
    # a ring smaller than the solid's voxels (a sharp notch's end, sealed): too small to tell from noise
    tiny = np.vstack([_outline(), _ring(0.0, 0.0, 0.6 * PITCH, noise=0.0)])
    assert sealed_holes(SQUARE, tiny, PITCH, SEAL, 0.0) == []
    # a ring across the material's edge, and a pin in a groove (two rings about one centre, apart)
    assert sealed_holes(SQUARE, np.vstack([_outline(), _ring(0.49, 0.0, 0.02)]), PITCH, SEAL, NOISE) == []
    groove = np.vstack([_outline(), _ring(0.0, 0.0, 0.015), _ring(0.0, 0.0, 0.045)])
    assert sealed_holes(SQUARE, groove, PITCH, SEAL, NOISE) == []
    assert len(sealed_holes(SQUARE, np.vstack([_outline(), _ring(0.0, 0.0, 0.045)]), PITCH, SEAL, NOISE)) == 1


def test_a_sparse_ring_and_a_ring_with_its_floor_are_holes():
    """A point cloud's few points on a hole's wall, and a blind hole's floor points inside its ring."""
    sparse = _ring(0.0, 0.0, 0.02, n=12, noise=0.0)
    (hole,) = sealed_holes(SQUARE, np.vstack([_outline(), sparse]), PITCH, SEAL, 0.0)
    assert hole.radius == pytest.approx(0.02, rel=1e-6)
    rng = np.random.default_rng(1)
    floor = rng.uniform(-0.012, 0.012, (40, 2))  # inside the circle: a floor's points (normals tilted)
    (hole,) = sealed_holes(SQUARE, np.vstack([_outline(), _ring(0.0, 0.0, 0.02), floor]), PITCH, SEAL, NOISE)
    assert hole.radius == pytest.approx(0.02, rel=0.05)


def _plate_with_small_hole() -> Program:
    """A 1 x 0.6 plate, 0.08 thick, with a bolt hole of radius 0.02 (narrower than the seal closes)."""
    return Program(
        (
            feat(
                Profile(rect(-0.5, -0.3, 0.5, 0.3), (circle(0.2, 0.0, 0.02),)),
                extent=Extent(ExtentKind.ONE_SIDE, 0.08),
            ),
        )
    )


@pytest.mark.parametrize("kind", ["scan", "points"])
def test_a_scanned_plates_bolt_hole_is_in_its_section(kind):
    clean = program_to_mesh(_plate_with_small_hole())
    frame = normalizing_frame(clean)
    target = (
        frame.apply_to_mesh(scan(clean, 0))
        if kind == "scan"
        else trimesh.PointCloud(frame.apply(points(clean, 0).vertices))
    )
    slicer = RobustSlicer(target)
    hole = math.pi * (0.02 / frame.scale) ** 2
    assert slicer.occupancy.radius > 0.02 / frame.scale  # the solid alone seals the hole
    lo, hi = slicer.bounds[:, 2]
    geom = slicer.polygons(2, 0.5 * (lo + hi))
    (poly,) = polygons_of(geom)
    assert len(poly.interiors) == 1
    assert shapely.Polygon(poly.interiors[0]).area == pytest.approx(hole, rel=0.15)
    (profile,) = slicer.profiles(geom, quantize=False)
    assert len(profile.holes) == 1 and len(profile.holes[0].curves) == 1  # fitted as one circle


def test_a_point_clouds_blind_hole_is_cut_only_where_it_is():
    """A plate 0.3 thick with a blind hole 0.12 deep from its top (its floor too small to be a step):
    a point cloud's upright points of the whole slab show the ring, the section below the floor must not
    take it."""
    plate = feat(Profile(rect(-0.5, -0.3, 0.5, 0.3)), extent=Extent(ExtentKind.ONE_SIDE, 0.3))
    top = Plane((0.0, 0.0, 0.3), (1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
    blind = feat(Profile(circle(0.2, 0.0, 0.02)), plane=top, extent=Extent(ExtentKind.ONE_SIDE, 0.12))
    clean = program_to_mesh(Program((plate, Extrude(blind.sketch, blind.extent, Operation.CUT))))
    frame = normalizing_frame(clean)
    slicer = RobustSlicer(trimesh.PointCloud(frame.apply(points(clean, 0).vertices)))
    assert slicer.occupancy.radius > 0.02 / frame.scale  # the solid alone seals the hole

    def holes_at(z: float) -> int:
        level = frame.apply([[0.0, 0.0, z]])[0, 2]
        (poly,) = polygons_of(slicer.polygons(2, level))
        return len(poly.interiors)

    assert holes_at(0.25) == 1 and holes_at(0.08) == 0
