"""Pruning: features a candidate does not need are removed; the ones it needs stay."""

from __future__ import annotations

from dataclasses import replace

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
from backend.verify import SOURCE_MODEL, SOURCE_SECTION, Candidate, ChamferTarget
from backend.verify.prune import pruned, with_pruned, without
from backend.verify.reference import IouScorer
from tests.verify.test_snap import plate_with_hole

TOP = Plane((0.0, 0.0, 0.1), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def candidate(program: Program, target: ChamferTarget, source: str = SOURCE_MODEL) -> Candidate:
    mesh = program_to_mesh(program)
    return Candidate(program, source, mesh, target(mesh))


def with_stray_cut(program: Program) -> Program:
    """A sliver cut at a corner of the plate: 0.01 wide, 0.01 deep."""
    sliver = Extrude(
        Sketch(TOP, (Profile(Loop((Circle((0.49, 0.29), 0.005),))),)),
        Extent(ExtentKind.ONE_SIDE, -0.01),
        Operation.CUT,
    )
    return Program((*program.features, sliver))


def test_a_stray_feature_is_removed_and_the_needed_ones_stay() -> None:
    truth = plate_with_hole()
    target = ChamferTarget(program_to_mesh(truth))
    stray = candidate(with_stray_cut(truth), target)
    out = pruned(stray, target)
    assert out is not None and out.program == truth and out.source == SOURCE_MODEL
    assert pruned(candidate(truth, target), target) is None  # the hole is needed


def test_removing_the_first_feature_hands_on_the_new_solid() -> None:
    program = plate_with_hole()
    assert without(program, 0) is None  # the hole alone is a cut of nothing
    boss = replace(program.features[0], operation=Operation.JOIN)
    rest = without(Program((program.features[0], boss)), 0)
    assert rest.features == (replace(boss, operation=Operation.NEW),)
    assert without(Program((program.features[0],)), 0) is None  # nothing left


def test_pruned_candidates_follow_their_origin() -> None:
    truth = plate_with_hole()
    target = ChamferTarget(program_to_mesh(truth))
    model, section = candidate(with_stray_cut(truth), target), candidate(truth, target, SOURCE_SECTION)
    out = with_pruned([model, section], target)
    assert [c.source for c in out] == [SOURCE_MODEL, SOURCE_MODEL, SOURCE_SECTION]
    assert out[1].program == truth


def test_a_removal_that_loses_volume_is_refused() -> None:
    # a loss blind to the hole: by loss alone the hole is not needed; the input's exact volume says it is
    truth = plate_with_hole()
    mesh = program_to_mesh(truth)
    blind = lambda m: 1.0  # noqa: E731
    c = Candidate(truth, SOURCE_MODEL, mesh, 1.0)
    assert pruned(c, blind).program == Program(truth.features[:1])
    assert pruned(c, blind, IouScorer(mesh)) is None


def test_only_the_best_two_of_each_source_near_the_lowest_loss_are_pruned() -> None:
    truth = plate_with_hole()
    target = ChamferTarget(program_to_mesh(truth))
    stray = with_stray_cut(truth)
    near = [candidate(stray, target) for _ in range(3)]  # three of one source: two are pruned
    far = Candidate(stray, SOURCE_SECTION, near[0].mesh, near[0].rank_cd * 3)  # beyond the window
    out = with_pruned([*near, far], target)
    assert [c.source for c in out] == [SOURCE_MODEL] * 4 + [SOURCE_SECTION]
    assert out[1].program == truth and out[0].program == out[2].program == out[3].program == stray


def test_a_failing_removal_costs_only_itself() -> None:
    truth = plate_with_hole()
    target = ChamferTarget(program_to_mesh(truth))
    calls = []

    def flaky(mesh) -> float:  # the first trial's loss cannot be measured
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("no samples")
        return target(mesh)

    out = pruned(candidate(with_stray_cut(truth), target), flaky)
    assert out is not None and out.program == truth


def test_the_pipeline_prunes_only_with_exact_volumes() -> None:
    from backend.verify.candidates import with_derived_candidates

    truth = plate_with_hole()
    mesh = program_to_mesh(truth)
    target = ChamferTarget(mesh)
    stray = candidate(with_stray_cut(truth), target)
    with_volume = with_derived_candidates([stray], mesh, target)
    assert truth in [c.program for c in with_volume]
    assert [c.program for c in with_derived_candidates([stray], None, target)] == [stray.program]
