"""Sections of scan-like meshes and point clouds (the robust route) against the clean parts they came from."""

import math

import numpy as np
import pytest
import trimesh

from backend.cad.program import Arc, Circle, Extent, ExtentKind, Line, Operation, Plane, Profile, Program
from backend.cad.validate import validate
from backend.geometry.metrics import iou_with_method
from backend.geometry.normalize import normalize_mesh, normalizing_frame
from backend.geometry.perturb import points, scan
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import (
    MeshSlicer,
    all_candidates,
    section_candidates,
    slicer_for,
    step_heights,
)
from backend.sections.cloud import is_clean_mesh, occupancy_of, surface_of
from backend.sections.slices import RobustSlicer
from tests.cad.programs import circle, feat, rect


def _plate() -> Program:
    """A 1 x 0.6 plate, 0.2 thick, with a round hole of radius 0.12."""
    return Program((feat(Profile(rect(-0.5, -0.3, 0.5, 0.3), (circle(0.1, 0.0, 0.12),))),))


def _step() -> Program:
    """A plate with a smaller block on top (a step at z = 0.2)."""
    base = feat(Profile(rect(-0.5, -0.3, 0.5, 0.3)))
    top = feat(
        Profile(rect(-0.5, -0.3, 0.0, 0.3)),
        plane=base.sketch.plane.__class__((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        extent=Extent(ExtentKind.ONE_SIDE, 0.3),
        op=Operation.JOIN,
    )
    return Program((base, top))


def _variants(program: Program) -> tuple[trimesh.Trimesh, dict[str, object]]:
    clean = program_to_mesh(program)
    frame = normalizing_frame(clean)
    return frame.apply_to_mesh(clean), {
        "scan": frame.apply_to_mesh(scan(clean, 0)),
        "points": trimesh.PointCloud(frame.apply(points(clean, 0).vertices)),
    }


@pytest.fixture(scope="module")
def plate():
    return _variants(_plate())


@pytest.fixture(scope="module")
def step():
    return _variants(_step())


def _best(programs, gt) -> tuple[Program, float]:
    scored = [(p, iou_with_method(program_to_mesh(p), gt)[0]) for p in programs]
    return max(scored, key=lambda ps: ps[1])


def test_routes(plate):
    clean, variants = plate
    assert is_clean_mesh(clean)
    assert isinstance(slicer_for(clean), MeshSlicer)
    for target in variants.values():
        assert not is_clean_mesh(target)
        assert isinstance(slicer_for(target), RobustSlicer)


def test_noise_estimated(plate):
    _, variants = plate
    assert surface_of(variants["points"]).noise < 5e-4
    noise = surface_of(variants["scan"]).noise
    assert 0.0005 < noise < 0.004  # vertices moved by sigma 0.002 (the largest extent is 1)


def test_occupancy_keeps_the_hole(plate):
    _, variants = plate
    occ = occupancy_of(surface_of(variants["points"]))
    z = 0.0
    inside = occ.inside(np.array([[-0.35, 0.0, z], [0.1, 0.0, z], [0.7, 0.0, z], [0.1, 0.0, 0.5]]))
    assert inside.tolist() == [True, False, False, False]


@pytest.mark.parametrize("name", ["scan", "points"])
def test_plate_sections_are_clean_and_close(plate, name):
    clean, variants = plate
    programs = section_candidates(variants[name], quantize=False)
    assert programs
    for p in programs:
        validate(p)
    program, iou = _best(programs, clean)
    assert iou > 0.93
    (profile,) = program.features[0].sketch.profiles
    assert len(profile.holes) == 1 and profile.holes[0].is_circle  # the hole stays a hole, a true circle
    assert abs(profile.holes[0].curves[0].radius - 0.12 / 1.0) < 0.01
    outer = profile.outer.curves
    assert len(outer) <= 6 and all(isinstance(c, Line) for c in outer)  # a rectangle, denoised


@pytest.mark.parametrize("name", ["scan", "points"])
def test_steps_found(step, name):
    clean, variants = step
    slicer = RobustSlicer(variants[name])
    # normalised frame: z from -0.25 to 0.25, the step at z = 0.2 - 0.25 = -0.05
    assert slicer.steps(2, 3)[:1] == [pytest.approx(-0.05, abs=0.01)]
    assert step_heights(variants[name], 2)[:1] == [pytest.approx(-0.05, abs=0.01)]
    assert slicer.bounds[:, 2] == pytest.approx([-0.25, 0.25], abs=0.004)
    program, iou = _best(all_candidates(slicer, quantize=False), clean)
    assert iou > 0.9
    assert len(program.features) == 2


def test_point_cloud_with_arcs():
    """Rounded corners come back as arcs, not as many short lines."""
    r, c = 0.15, 0.15 * (1 - math.sqrt(0.5))
    a, b = 0.5, 0.3
    outer = (
        Line((-a + r, -b), (a - r, -b)),
        Arc((a - r, -b), (a - c, -b + c), (a, -b + r)),
        Line((a, -b + r), (a, b - r)),
        Arc((a, b - r), (a - c, b - c), (a - r, b)),
        Line((a - r, b), (-a + r, b)),
        Line((-a + r, b), (-a, b - r)),
        Line((-a, b - r), (-a, -b + r)),
        Line((-a, -b + r), (-a + r, -b)),
    )
    from backend.cad.program import Loop

    clean, variants = _variants(Program((feat(Profile(Loop(outer))),)))
    program, iou = _best(section_candidates(variants["points"], quantize=False), clean)
    assert iou > 0.95
    curves = program.features[0].sketch.profiles[0].outer.curves
    assert sum(isinstance(k, Arc) for k in curves) >= 2
    assert len(curves) <= 12
    assert not any(isinstance(k, Circle) for k in curves)


def test_input_not_modified(plate):
    _, variants = plate
    cloud = variants["points"]
    before = np.array(cloud.vertices, copy=True)
    all_candidates(cloud)
    np.testing.assert_array_equal(cloud.vertices, before)


def test_clean_mesh_unchanged_route(plate):
    """A clean mesh goes the exact route: the same programs as from its MeshSlicer."""
    clean, _ = plate
    mesh, _ = normalize_mesh(clean)
    assert all_candidates(mesh) == all_candidates(MeshSlicer(mesh))


def test_a_sheet_thinner_than_a_face_s_noise_band_keeps_both_faces():
    # a washer 1 % of its size thick as a point cloud: both faces' flat samples make one layer
    washer = Program(
        (
            feat(
                Profile(circle(0.0, 0.0, 0.5), (circle(0.0, 0.0, 0.3),)),
                extent=Extent(ExtentKind.ONE_SIDE, 0.01),
            ),
        )
    )
    clean = program_to_mesh(washer)
    cloud = trimesh.PointCloud(points(clean, 0).vertices)
    slicer = RobustSlicer(cloud)
    assert len([h for h, _ in slicer.flat_clusters(2) if -0.01 < h < 0.02]) == 1  # one layer, both faces
    assert slicer.bounds[:, 2] == pytest.approx([0.0, 0.01], abs=0.001)
    program, iou = _best(all_candidates(slicer, quantize=False), clean)
    assert iou > 0.9


def test_a_point_clouds_thin_tube_keeps_its_wall():
    """A tube with a wall 2.5 % of its length thick, as 8,192 points: a section's slab holds few points of
    the wall, so its upright points come from a taller slab; the section keeps the wall's area."""
    tube = Program(
        (
            feat(
                Profile(circle(0.0, 0.0, 0.125), (circle(0.0, 0.0, 0.1),)),
                extent=Extent(ExtentKind.ONE_SIDE, 1.0),
            ),
        )
    )
    clean = program_to_mesh(tube)
    frame = normalizing_frame(clean)
    slicer = RobustSlicer(trimesh.PointCloud(frame.apply(points(clean, 0).vertices)))
    wall = math.pi * (0.125**2 - 0.1**2) / frame.scale**2
    areas = [slicer.polygons(2, frame.apply([[0.0, 0.0, z]])[0, 2]).area for z in (0.3, 0.5, 0.7)]
    assert np.mean([abs(a - wall) / wall for a in areas]) < 0.1


@pytest.mark.parametrize("thickness", [0.012, 0.016])
def test_a_scanned_sheet_s_faces_are_measured_on_its_faces(thickness):
    """A scanned plate a few noise sigmas thick: its flat samples, picked by neighbourhood normals, lean
    outward (their cluster medians, the ends before, were 0.36 and 0.44 sigma off); the faces the mesh's own
    triangles face out of give both heights. (Thinner, both faces make one layer: ``_sheet_faces``.)"""
    plate = Program(
        (
            feat(
                Profile(rect(-0.5, -0.4, 0.5, 0.4), (circle(0.1, 0.0, 0.15),)),
                extent=Extent(ExtentKind.ONE_SIDE, thickness),
            ),
        )
    )
    slicer = RobustSlicer(scan(program_to_mesh(plate), 0))
    sigma = slicer.surface.noise
    assert slicer.bounds[:, 2] == pytest.approx([0.0, thickness], abs=0.15 * sigma)


def _spool() -> Program:
    """A bobbin: a tube (radii 0.125 and 0.1, 0.8 long) between two flanges of radius 0.15, 0.1 thick.
    The flanges' inner faces are rings 0.025 wide, about as wide as a point neighbourhood."""
    bore = (circle(0.0, 0.0, 0.1),)

    def ring(radius: float, z: float, height: float, op: Operation):
        plane = Plane((0.0, 0.0, z), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
        return feat(
            Profile(circle(0.0, 0.0, radius), bore),
            plane=plane,
            extent=Extent(ExtentKind.ONE_SIDE, height),
            op=op,
        )

    return Program(
        (
            ring(0.15, 0.0, 0.1, Operation.NEW),
            ring(0.125, 0.1, 0.8, Operation.JOIN),
            ring(0.15, 0.9, 0.1, Operation.JOIN),
        )
    )


@pytest.mark.parametrize("name", ["scan", "points"])
def test_narrow_flat_faces_are_found_where_the_samples_crowd(name):
    """The flanges' inner faces are too narrow for a sample's neighbourhood to lie on them alone: their
    normals lean and the flat-normal layers miss them (``steps``), but the samples crowd at their heights
    (``dense_steps``), and the stacked candidate between them is the spool, not a plain tube."""
    clean, variants = _variants(_spool())
    slicer = RobustSlicer(variants[name])
    faces = [-0.4, 0.4]  # normalised: z from -0.5 to 0.5
    assert not any(abs(h - f) < 0.02 for h in slicer.steps(2, 3) for f in faces)
    dense = slicer.dense_steps(2, 3)
    assert sorted(dense[:2]) == [pytest.approx(f, abs=0.01) for f in faces]
    program, iou = _best(all_candidates(slicer, quantize=False), clean)
    assert iou > 0.8 and len(program.features) >= 3  # 0.96 scanned, 0.86 as points
    # without them the best candidate is a tube with the flanges lost (or filled) all along
    without = [p for p in all_candidates(slicer, quantize=False) if len(p.features) < 3]
    assert _best(without, clean)[1] < iou - 0.1


def test_dense_steps_are_the_steps_when_the_normals_miss_nothing(step):
    _, variants = step
    for target in variants.values():
        slicer = RobustSlicer(target)
        for axis in range(3):
            assert sorted(slicer.dense_steps(axis, 3)) == sorted(slicer.steps(axis, 3))
