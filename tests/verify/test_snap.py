"""Snapping a model's program to the mesh: the structure is kept, the numbers become the mesh's."""

from __future__ import annotations

import pytest

from backend.cad.curves import loop_area
from backend.cad.program import (
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
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import slicer_for
from backend.verify.snap import STEP_SNAP, Snapper

Z = Plane((0.0, 0.0, -0.1), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def rect(x0: float, y0: float, x1: float, y1: float) -> Loop:
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return Loop(tuple(Line(pts[i], pts[(i + 1) % 4]) for i in range(4)))


def plate_with_hole(w: float = 0.5, r: float = 0.1, depth: float = 0.2, z0: float = -0.1) -> Program:
    plane = Plane((0.0, 0.0, z0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    base = Extrude(Sketch(plane, (Profile(rect(-w, -0.3, w, 0.3)),)), Extent(ExtentKind.ONE_SIDE, depth))
    top = Plane((0.0, 0.0, z0 + depth), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    hole = Extrude(
        Sketch(top, (Profile(Loop((Circle((0.1, 0.0), r),))),)),
        Extent(ExtentKind.ONE_SIDE, -depth),
        Operation.CUT,
    )
    return Program((base, hole))


def iou(program: Program, truth) -> float:
    mesh = program_to_mesh(program)
    return mesh.intersection(truth).volume / mesh.union(truth).volume


@pytest.fixture(scope="module")
def truth():
    return program_to_mesh(plate_with_hole())


def test_rough_numbers_become_the_mesh_numbers(truth) -> None:
    rough = plate_with_hole(w=0.47, r=0.085, depth=0.2 + 0.6 * STEP_SNAP, z0=-0.11)
    snapped = Snapper(slicer_for(truth)).snap(rough)
    assert iou(rough, truth) < 0.9
    assert iou(snapped, truth) > 0.995
    # the structure is the model's: a base and a cut, the cut's loop still one circle
    assert [f.operation for f in snapped.features] == [Operation.NEW, Operation.CUT]
    circle = snapped.features[1].sketch.profiles[0].outer.curves
    assert len(circle) == 1 and circle[0].radius == pytest.approx(0.1, abs=2e-3)
    assert snapped.features[0].extent.d1 == pytest.approx(0.2, abs=1e-6)


def test_a_loop_that_matches_nothing_is_kept(truth) -> None:
    far = Program(
        (Extrude(Sketch(Z, (Profile(rect(2.0, 2.0, 2.2, 2.2)),)), Extent(ExtentKind.ONE_SIDE, 0.2)),)
    )
    snapped = Snapper(slicer_for(truth)).snap(far)
    assert snapped.features[0].sketch.profiles == far.features[0].sketch.profiles


def test_an_extent_far_from_every_level_is_kept(truth) -> None:
    tall = plate_with_hole(depth=0.2 + 5 * STEP_SNAP)
    snapped = Snapper(slicer_for(truth)).snap(tall)
    assert snapped.features[0].extent.d1 == pytest.approx(0.2 + 5 * STEP_SNAP)


def test_turning_sense_and_tilted_planes_are_kept(truth) -> None:
    clockwise = Loop(tuple(reversed([Line(c.end, c.start) for c in rect(-0.48, -0.3, 0.48, 0.3).curves])))
    feature = Extrude(Sketch(Z, (Profile(clockwise),)), Extent(ExtentKind.ONE_SIDE, 0.2))
    tilted = Extrude(
        Sketch(Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.6, 0.8)), (Profile(rect(0, 0, 0.1, 0.1)),)),
        Extent(ExtentKind.ONE_SIDE, 0.05),
    )
    snapped = Snapper(slicer_for(truth)).snap(Program((feature, tilted)))
    assert loop_area(snapped.features[0].sketch.profiles[0].outer) < 0
    assert snapped.features[0].sketch.profiles[0].outer != clockwise  # moved onto the mesh's outline
    assert snapped.features[1] == tilted


def test_a_symmetric_extent_snaps_both_ends(truth) -> None:
    plane = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    sym = Program(
        (Extrude(Sketch(plane, (Profile(rect(-0.5, -0.3, 0.5, 0.3)),)), Extent(ExtentKind.SYMMETRIC, 0.11)),)
    )
    snapped = Snapper(slicer_for(truth)).snap(sym)
    f = snapped.features[0]
    assert f.extent.d1 == pytest.approx(0.1, abs=1e-6) and f.sketch.plane.origin[2] == pytest.approx(
        0.0, abs=1e-6
    )


def test_the_loose_pass_finds_a_loop_drawn_far_off(truth) -> None:
    # the hole drawn too large around the true one and the base's depth 3 steps off: the strict pass keeps
    # both, the loose pass moves both onto the mesh
    rough = plate_with_hole(r=0.28, depth=0.2 + 3 * STEP_SNAP)
    snapper = Snapper(slicer_for(truth))
    strict, loose = snapper.snap(rough), snapper.snap(rough, loose=True)
    assert strict.features[1].sketch.profiles[0].outer.curves[0].radius == pytest.approx(0.28)
    assert strict.features[0].extent.d1 == pytest.approx(0.2 + 3 * STEP_SNAP)
    assert iou(loose, truth) > 0.995
    assert [f.operation for f in loose.features] == [Operation.NEW, Operation.CUT]


def test_the_loose_pass_keeps_a_loop_that_is_not_the_same_loop(truth) -> None:
    # a square hanging over the plate's corner (a quarter of it inside) and a pin drawn inside the plate
    # (1/40 of its area): neither is the plate's outline drawn roughly
    corner = rect(0.4, 0.2, 0.6, 0.4)
    pin = Loop((Circle((-0.3, 0.0), 0.05),))
    for loop in (corner, pin):
        rough = Program((Extrude(Sketch(Z, (Profile(loop),)), Extent(ExtentKind.ONE_SIDE, 0.2)),))
        snapped = Snapper(slicer_for(truth)).snap(rough, loose=True)
        assert snapped.features[0].sketch.profiles == rough.features[0].sketch.profiles


def test_the_loose_pass_matches_a_cut_s_island_with_material() -> None:
    # a ring groove (outer r 0.3, island r 0.1) cut into the plate, the island drawn at r 0.16: the
    # island is material, so it snaps onto the section's island, not onto the groove's hole
    base = plate_with_hole().features[0]
    top = Plane((0.0, 0.0, 0.1), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))

    def groove(island: float) -> Program:
        ring = Profile(Loop((Circle((0.0, 0.0), 0.3),)), (Loop((Circle((0.0, 0.0), island),)),))
        return Program(
            (base, Extrude(Sketch(top, (ring,)), Extent(ExtentKind.ONE_SIDE, -0.1), Operation.CUT))
        )

    truth = program_to_mesh(groove(0.1))
    snapped = Snapper(slicer_for(truth)).snap(groove(0.16), loose=True)
    island = snapped.features[1].sketch.profiles[0].holes[0].curves[0]
    assert island.radius == pytest.approx(0.1, abs=2e-3)
    assert iou(snapped, truth) > 0.995


def test_the_loose_pass_finds_a_hole_drawn_too_small_in_its_place(truth) -> None:
    rough = plate_with_hole(r=0.02)  # the hole's place is right, its size a fifth
    snapper = Snapper(slicer_for(truth))
    assert snapper.snap(rough).features[1].sketch.profiles[0].outer.curves[0].radius == pytest.approx(0.02)
    loose = snapper.snap(rough, loose=True)
    assert loose.features[1].sketch.profiles[0].outer.curves[0].radius == pytest.approx(0.1, abs=2e-3)


def test_a_scan_s_sections_are_fitted_at_one_height(truth) -> None:
    import trimesh

    from backend.sections.slices import robust_slicer

    slicer = robust_slicer(trimesh.PointCloud(truth.sample(4000)))
    snapper = Snapper(slicer)
    snapper.snap(plate_with_hole(w=0.47))
    assert len({level for axis, level in snapper._rings}) == 1  # both features: one slab, one height
    exact = Snapper(slicer_for(truth))
    exact.snap(plate_with_hole(w=0.47))
    assert len({level for axis, level in exact._rings}) == 3


def test_of_fits_of_one_region_the_simplest_is_kept() -> None:
    from backend.verify.snap import SAME_REGION, _simplest

    square, octagon = rect(0, 0, 1, 1), Loop(tuple(Line((k, 0.0), (k + 1, 0.0)) for k in range(8)))
    # nearly the same overlap: the fewer curves win; a clearly better overlap wins with more curves
    assert _simplest([(octagon, 0.99), (square, 0.99 * (1 - SAME_REGION / 2))]) is square
    assert _simplest([(octagon, 0.99), (square, 0.9)]) is octagon
    assert _simplest([]) is None


def test_walls_move_onto_the_levels_with_their_corners_and_lines_beside_an_arc_stay(truth) -> None:
    from backend.cad.program import Arc

    snapper = Snapper(slicer_for(truth))  # x levels -0.5 and 0.5 (the plate's ends), y -0.3 and 0.3
    # a rectangle drawn 0.01 too wide on the right and 0.02 too low at the bottom: both walls move
    moved = snapper.snap_faces(Program((plate_with_hole().features[0],)))
    assert moved == Program((plate_with_hole().features[0],))  # at its levels: nothing moves
    rough = plate_with_hole(w=0.51).features[0]
    rough = Extrude(Sketch(rough.sketch.plane, (Profile(rect(-0.5, -0.32, 0.51, 0.3)),)), rough.extent)
    (loop,) = [p.outer for p in snapper.snap_faces(Program((rough,))).features[0].sketch.profiles]
    corners = [v for c in loop.curves for v in c.start]
    assert corners == pytest.approx([-0.5, -0.3, 0.5, -0.3, 0.5, 0.3, -0.5, 0.3])
    # the right wall between two arcs keeps its place; the arcs are not redrawn
    rounded = Loop(
        (
            Line((-0.5, -0.3), (0.45, -0.3)),
            Arc((0.45, -0.3), (0.5, -0.25), (0.51, -0.2)),
            Line((0.51, -0.2), (0.51, 0.2)),
            Arc((0.51, 0.2), (0.5, 0.25), (0.45, 0.3)),
            Line((0.45, 0.3), (-0.5, 0.3)),
            Line((-0.5, 0.3), (-0.5, -0.3)),
        )
    )
    sketch = Sketch(rough.sketch.plane, (Profile(rounded),))
    (kept,) = [
        p.outer
        for p in snapper.snap_faces(Program((Extrude(sketch, rough.extent),))).features[0].sketch.profiles
    ]
    assert kept.curves[1:4] == rounded.curves[1:4]


def _chained(loop: Loop) -> bool:
    n = len(loop.curves)
    return all(loop.curves[i].end == loop.curves[(i + 1) % n].start for i in range(n))


def test_walls_move_in_a_turned_and_offset_sketch_frame(truth) -> None:
    # the plate's base sketched from below: normal -z, x_dir -x (so y_dir -y), origin off the axes
    snapper = Snapper(slicer_for(truth))
    plane = Plane((0.2, -0.1, 0.1), (-1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
    # world x from -0.5 to 0.52 and y from -0.3 to 0.3: sketch u = 0.2 - x, v = y + 0.1
    loop = rect(0.2 - 0.52, -0.2, 0.7, 0.4)
    feature = Extrude(Sketch(plane, (Profile(loop),)), Extent(ExtentKind.ONE_SIDE, 0.2))
    (moved,) = [p.outer for p in snapper.snap_faces(Program((feature,))).features[0].sketch.profiles]
    assert _chained(moved)
    us = sorted({c.start[0] for c in moved.curves})
    assert us == pytest.approx([0.2 - 0.5, 0.7])  # the right wall (world x 0.52) onto the plate end 0.5


def test_a_slit_thinner_than_the_reach_keeps_its_walls(truth) -> None:
    # a rectangle with a slit whose two walls both lie within reach of the level x = 0.5: moving both
    # onto it would close the slit (an invalid loop), so the loop stays as drawn
    snapper = Snapper(slicer_for(truth))
    pts = [
        (-0.5, -0.3),
        (0.49, -0.3),
        (0.49, 0.0),
        (0.51, 0.0),
        (0.51, -0.3),
        (0.6, -0.3),
        (0.6, 0.3),
        (-0.5, 0.3),
    ]
    loop = Loop(tuple(Line(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))))
    feature = Extrude(Sketch(Z, (Profile(loop),)), Extent(ExtentKind.ONE_SIDE, 0.2))
    (kept,) = [p.outer for p in snapper.snap_faces(Program((feature,))).features[0].sketch.profiles]
    assert kept == loop


def test_a_scan_s_ends_without_flat_faces_are_no_levels_for_walls() -> None:
    # a plate 0.008 thick, scanned: its end faces (0.6 x 0.008) are too small to be measured as flat, so
    # the x bounds are the extreme samples, pushed outwards by the noise: no place for the walls
    from backend.geometry.perturb import scan

    plate = Extrude(Sketch(Z, (Profile(rect(-0.5, -0.3, 0.5, 0.3)),)), Extent(ExtentKind.ONE_SIDE, 0.008))
    exact = Program((plate,))
    snapper = Snapper(slicer_for(scan(program_to_mesh(exact), 3)))
    assert len(snapper.levels(0)) == 2 and abs(snapper.levels(0)[1] - 0.5) > 1e-3  # beyond the true end
    assert len(snapper.flat_levels(0)) == 0
    walls = [c.start[0] for c in snapper.snap_faces(exact).features[0].sketch.profiles[0].outer.curves]
    assert walls == [-0.5, 0.5, 0.5, -0.5]  # the x walls stay where they are
