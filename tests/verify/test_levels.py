"""The level search: a model program's extrusion ends moved to the mesh's levels that explain it."""

from __future__ import annotations

import pytest

from backend.cad.program import (
    Circle,
    Extent,
    ExtentKind,
    Extrude,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
)
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import slicer_for
from backend.verify.candidates import SOURCE_MODEL, SOURCE_SECTION
from backend.verify.levels import moves, searched, with_level_search, with_span
from backend.verify.rank import Candidate
from backend.verify.snap import Snapper
from backend.verify.target import ChamferTarget


def disc(z: float, r: float, depth: float, operation: Operation = Operation.JOIN) -> Extrude:
    plane = Plane((0.0, 0.0, z), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    return Extrude(
        Sketch(plane, (Profile(Loop((Circle((0.0, 0.0), r),))),)),
        Extent(ExtentKind.ONE_SIDE, depth),
        operation,
    )


def flanged_shaft(shaft_end: float = -0.5, bore_from: float = -0.5, bore_depth: float = 0.15) -> Program:
    """A flange at the top (0.45..0.5), a shaft down to ``shaft_end``, a bore from ``bore_from``."""
    return Program(
        (
            disc(0.45, 0.45, 0.05, Operation.NEW),
            disc(0.45, 0.2, shaft_end - 0.45),
            disc(bore_from, 0.06, bore_depth, Operation.CUT),
        )
    )


@pytest.fixture(scope="module")
def truth():
    return program_to_mesh(flanged_shaft())


@pytest.fixture(scope="module")
def snapper(truth):
    return Snapper(slicer_for(truth))


def candidate(program: Program, target, source: str = SOURCE_MODEL) -> Candidate:
    mesh = program_to_mesh(program)
    return Candidate(program, source, mesh, target(mesh))


def iou(program: Program, truth) -> float:
    mesh = program_to_mesh(program)
    return mesh.intersection(truth).volume / mesh.union(truth).volume


def test_ends_far_from_their_levels_move_to_the_ones_that_explain_the_mesh(truth, snapper) -> None:
    # the shaft stopped at a step 0.15 short of the part's end, the bore started at that step and run
    # upwards into the shaft: both far beyond snapping's reach of the right level
    rough = flanged_shaft(shaft_end=-0.35, bore_from=-0.35, bore_depth=0.6)
    target = ChamferTarget(truth)
    start = candidate(rough, target)
    found = searched(start, snapper, target)
    assert found is not None and found.source == SOURCE_MODEL
    assert found.rank_cd < 0.2 * start.rank_cd
    assert iou(rough, truth) < 0.9 and iou(found.program, truth) > 0.99
    # the structure is the model's: the same features, operations and loops (snapped again: the section's)
    assert [f.operation for f in found.program.features] == [f.operation for f in rough.features]
    radii = [f.sketch.profiles[0].outer.curves[0].radius for f in found.program.features]
    assert radii == pytest.approx([0.45, 0.2, 0.06], abs=1e-3)


def test_a_program_at_its_levels_is_not_searched_again(truth, snapper) -> None:
    target = ChamferTarget(truth)
    assert searched(candidate(flanged_shaft(), target), snapper, target) is None


def test_the_evaluation_budget_bounds_the_search(truth, snapper) -> None:
    rough = flanged_shaft(shaft_end=-0.35, bore_from=-0.35, bore_depth=0.6)
    target = ChamferTarget(truth)
    calls = []

    def counted(mesh):
        calls.append(1)
        return target(mesh)

    start = candidate(rough, target)
    searched(start, snapper, counted, max_evals=5)
    assert len(calls) <= 5 + 2  # the budget, and the program snapped again strictly and loosely


def test_every_feature_gets_a_share_of_the_budget(truth, snapper) -> None:
    # the bore (the last feature) is the only one off; the features before it have many moves each
    rough = flanged_shaft(bore_from=-0.35, bore_depth=0.6)
    padded = Program((*rough.features[:2], *[rough.features[1]] * 3, rough.features[2]))
    target = ChamferTarget(truth)
    found = searched(candidate(padded, target), snapper, target, max_evals=30)
    assert found is not None and iou(found.program, truth) > 0.99


def test_only_the_best_of_the_source_are_searched(truth, snapper) -> None:
    target = ChamferTarget(truth)
    rough = candidate(flanged_shaft(shaft_end=-0.35, bore_from=-0.35, bore_depth=0.6), target)
    section = candidate(flanged_shaft(shaft_end=-0.3), target, SOURCE_SECTION)
    out = with_level_search([rough, section], snapper, target, SOURCE_MODEL)
    assert len(out) == 3 and out[0] is rough and out[2] is section  # the model's stay ahead
    assert out[1].source == SOURCE_MODEL and out[1].rank_cd < rough.rank_cd
    assert with_level_search([section], snapper, target, SOURCE_MODEL) == [section]  # sections as they are
    assert with_level_search([section, rough], snapper, target, SOURCE_MODEL, per_source=0) == [
        section,
        rough,
    ]


def test_a_cancellation_is_not_swallowed(truth, snapper) -> None:
    target = ChamferTarget(truth)
    rough = candidate(flanged_shaft(shaft_end=-0.35), target)

    class Stop(Exception):
        pass

    def cancel() -> None:
        raise Stop

    with pytest.raises(Stop):
        with_level_search([rough], snapper, target, SOURCE_MODEL, check=cancel)


def test_a_failing_search_costs_only_its_candidate(truth, snapper) -> None:
    target = ChamferTarget(truth)
    rough = candidate(flanged_shaft(shaft_end=-0.35), target)

    def broken(mesh):
        raise RuntimeError("scorer down")

    assert with_level_search([rough], snapper, broken, SOURCE_MODEL) == [rough]


def test_moving_an_extrusion() -> None:
    f = disc(0.45, 0.2, -0.8)  # from 0.45 down to -0.35
    low = with_span(f, -0.5, None)
    assert low.sketch.plane == f.sketch.plane and low.extent.d1 == pytest.approx(-0.95)
    high = with_span(f, None, 0.5)  # the sketch plane moves with the end it sits on
    assert high.sketch.plane.origin[2] == pytest.approx(0.5) and high.extent.d1 == pytest.approx(-0.85)
    both = with_span(f, -0.5, -0.35)
    assert both.sketch.plane.origin[2] == pytest.approx(-0.35) and both.extent.d1 == pytest.approx(-0.15)
    assert with_span(f, 0.45, None) is None  # nothing left to extrude
    two = Extrude(f.sketch, Extent(ExtentKind.TWO_SIDES, 0.1, 0.2))  # 0.25 .. 0.55
    assert with_span(two, 0.0, None).extent == Extent(
        ExtentKind.TWO_SIDES, pytest.approx(0.1), pytest.approx(0.45)
    )
    assert with_span(two, None, 0.6).extent == Extent(
        ExtentKind.TWO_SIDES, pytest.approx(0.15), pytest.approx(0.2)
    )
    off = with_span(two, 0.5, 0.6)  # the span leaves the sketch plane: one-sided from the nearer end
    assert off.extent.kind is ExtentKind.ONE_SIDE and off.extent.d1 == pytest.approx(0.1)
    assert off.sketch.plane.origin[2] == pytest.approx(0.5)
    below = with_span(two, 0.0, 0.2)
    assert below.extent.d1 == pytest.approx(-0.2) and below.sketch.plane.origin[2] == pytest.approx(0.2)
    assert with_span(Extrude(f.sketch, Extent(ExtentKind.SYMMETRIC, 0.1)), 0.0, None) is None
    # a sketch facing down: its heights along the normal are the world's negated
    down = Plane((0.0, 0.0, 0.45), (1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
    g = Extrude(Sketch(down, f.sketch.profiles), Extent(ExtentKind.ONE_SIDE, 0.2))  # 0.45 down to 0.25
    deeper = with_span(g, 0.0, None)
    assert deeper.sketch.plane == down and deeper.extent.d1 == pytest.approx(0.45)


def test_moves_try_each_end_and_each_span() -> None:
    f = disc(0.45, 0.2, -0.8)
    levels = [-0.5, -0.35, 0.45, 0.5]
    spans = {
        tuple(round(v, 6) for v in sorted((g.sketch.plane.origin[2], g.sketch.plane.origin[2] + g.extent.d1)))
        for g in moves(f, levels)
    }
    assert (-0.5, 0.45) in spans and (-0.35, 0.5) in spans and (-0.5, -0.35) in spans
    assert all(g != f for g in moves(f, levels))


def test_a_program_tried_by_two_searches_is_rebuilt_once_and_each_search_goes_as_alone(
    truth, snapper
) -> None:
    """The model's candidates are often near copies, so their searches try the same programs: a trial
    already scored is looked up, not rebuilt, and still counts against the budget, so each search ends
    where it would alone."""
    target = ChamferTarget(truth)
    calls = []

    def counted(mesh):
        calls.append(1)
        return target(mesh)

    rough = flanged_shaft(shaft_end=-0.35, bore_from=-0.35, bore_depth=0.6)
    twins = [candidate(rough, target), candidate(rough, target)]
    out = with_level_search(twins, snapper, counted, SOURCE_MODEL)
    both = len(calls)
    calls.clear()
    alone = searched(twins[0], snapper, counted)
    assert alone is not None and out[-1].program == alone.program and out[-1].rank_cd == alone.rank_cd
    assert both == len(calls) > 0  # the second twin's search rebuilt nothing


def _block_with_a_pocket(pocket_from: float, twice: bool = False) -> Program:
    """A 1 x 0.6 x 0.4 block with a small square pocket (0.025 wide) cut down from its top to
    ``pocket_from``; ``twice``: the pocket cut written twice in a row."""
    from tests.cad.programs import rect

    base = Plane((0.0, 0.0, -0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    block = Extrude(Sketch(base, (Profile(rect(-0.5, -0.3, 0.5, 0.3)),)), Extent(ExtentKind.ONE_SIDE, 0.4))
    at = Plane((0.0, 0.0, pocket_from), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    pocket = Extrude(
        Sketch(at, (Profile(rect(0.2, 0.0, 0.225, 0.025)),)),
        Extent(ExtentKind.ONE_SIDE, 0.2 - pocket_from),
        Operation.CUT,
    )
    return Program((block, pocket, pocket) if twice else (block, pocket))


def test_a_blind_pocket_cut_through_moves_to_its_floor_with_the_exact_volume(monkeypatch) -> None:
    """The pocket's floor (0.000625 units², under the section steps' 0.01) is a level the search may end
    an extrusion at. Where cutting through moves the surface distance less than its noise (here: the
    noise set wide) but the volume by more than ``VOLUME_GAIN``, the move is taken with the exact volume
    (the cut written twice in a row counts once: moved alone, one copy would leave the same solid), and
    not without it."""
    import backend.verify.levels as levels
    from backend.verify.levels import VOLUME_GAIN
    from backend.verify.reference import IouScorer

    truth = program_to_mesh(_block_with_a_pocket(0.0))
    search = Snapper(slicer_for(truth))
    assert 0.0 in [round(float(v), 6) for v in search.search_levels(2)]
    assert 0.0 not in [round(float(v), 6) for v in search.levels(2)]
    target = ChamferTarget(truth)
    through = candidate(_block_with_a_pocket(-0.2, twice=True), target)
    assert iou(through.program, truth) < 1 - VOLUME_GAIN
    monkeypatch.setattr(levels, "RANK_NOISE", 0.5)
    assert searched(through, search, target) is None  # the distance alone: within its noise
    found = searched(through, search, target, volume=IouScorer(truth))
    assert found is not None and iou(found.program, truth) > 0.9999
    assert len(found.program.features) == 2 and found.program.features[1].operation is Operation.CUT
