"""The verifier: the ranking rule, refinement and the keeps-volume guard."""

from dataclasses import replace

import trimesh

from backend.cad.program import Program
from backend.geometry.solid import program_to_mesh
from backend.verify import (
    Candidate,
    ChamferTarget,
    bbox_program,
    choose,
    keeps_volume,
    pick_best,
    refine_candidate,
)
from tests.cad.programs import plate_with_hole


def _thickened(program: Program, factor: float) -> Program:
    """The one-feature ``program`` with its extrude distance times ``factor`` (-1: moved by its
    thickness)."""
    f = program.features[0]
    return Program((replace(f, extent=replace(f.extent, d1=f.extent.d1 * factor)),))


def test_pick_best_prefers_compact_on_ties():
    box = trimesh.creation.box()
    simple = bbox_program(box)
    complex_ = plate_with_hole()
    a = Candidate(complex_, "model", program_to_mesh(complex_), 1.00e-3)
    b = Candidate(simple, "section", box, 1.01e-3)
    assert pick_best([a, b]) is b
    c = Candidate(simple, "section", box, 2e-3)
    assert pick_best([a, c]) is a


def test_refine_recovers_a_perturbed_distance():
    box = trimesh.creation.box(extents=(0.6, 0.4, 0.3))
    target = ChamferTarget(box)
    program = bbox_program(box)
    f = program.features[0]
    off = replace(f, extent=replace(f.extent, d1=f.extent.d1 + 0.06))
    bad = Program((off,))
    mesh = program_to_mesh(bad)
    start = Candidate(bad, "model", mesh, target(mesh))
    better = refine_candidate(start, target, budget_s=5.0, check=lambda: None)
    assert better.rank_cd < 0.5 * start.rank_cd
    assert abs(better.program.features[0].extent.d1 - 0.3) < 0.01


def test_a_refinement_budget_in_trials_ignores_the_clock():
    box = trimesh.creation.box(extents=(0.6, 0.4, 0.3))
    target = ChamferTarget(box)
    f = bbox_program(box).features[0]
    bad = Program((replace(f, extent=replace(f.extent, d1=f.extent.d1 + 0.06)),))
    start = Candidate(bad, "model", program_to_mesh(bad), target(program_to_mesh(bad)))
    calls = []

    def counted(mesh):
        calls.append(1)
        return target(mesh)

    # no seconds at all, yet the trials run: the budget is the trial count
    few = refine_candidate(start, counted, budget_s=0.0, check=lambda: None, max_evals=3)
    assert len(calls) == 3 and few.rank_cd < start.rank_cd
    again = refine_candidate(start, target, budget_s=0.0, check=lambda: None, max_evals=3)
    assert again.program == few.program
    enough = refine_candidate(start, target, budget_s=0.0, check=lambda: None, max_evals=200)
    assert abs(enough.program.features[0].extent.d1 - 0.3) < 0.01


def test_refinement_that_loses_the_volume_of_a_thin_part_is_refused():
    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))  # a thin plate, closed
    exact = bbox_program(sheet)
    shifted = _thickened(exact, -1.0)  # moved by its thickness
    original = Candidate(exact, "section", program_to_mesh(exact), 1e-4)
    moved = Candidate(shifted, "section", program_to_mesh(shifted), 5e-5)
    assert not keeps_volume(moved, original, sheet)
    assert keeps_volume(original, original, sheet)


def test_choose_is_fidelity_first_then_compact():
    box, holed = bbox_program(trimesh.creation.box()), plate_with_hole()
    items = [(holed, 1.0), (box, 1.02), (box, 5.0)]
    assert choose(items, lambda it: it[1], lambda it: it[0]) == (box, 1.02)  # a tie: the compact one
    assert choose(items, lambda it: it[1], lambda it: it[0], tie_relative=0.0, tie_absolute=0.0) == (
        holed,
        1.0,
    )


def test_keeps_volume_accepts_without_a_trusted_volume():
    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    exact = bbox_program(sheet)
    shifted = _thickened(exact, -1.0)
    moved = Candidate(shifted, "section", program_to_mesh(shifted), 5e-5)
    original = Candidate(exact, "section", program_to_mesh(exact), 1e-4)
    assert keeps_volume(moved, original, None)  # a scan or point cloud is no volume truth


def test_open_mesh_guards_volume_with_voxels():
    from backend.verify.refine import volume_reference

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.05))
    open_sheet = trimesh.Trimesh(sheet.vertices, sheet.faces[:-1], process=False)  # one triangle missing
    exact = bbox_program(sheet)
    shifted = _thickened(exact, -1.0)
    moved = Candidate(shifted, "section", program_to_mesh(shifted), 5e-5)
    original = Candidate(exact, "section", program_to_mesh(exact), 1e-4)
    reference = volume_reference(open_sheet, None)
    assert reference is not None and not reference.exact
    assert not keeps_volume(moved, original, reference)
    assert keeps_volume(original, original, reference)
    cloud = trimesh.PointCloud(trimesh.sample.sample_surface(sheet, 4000, seed=0)[0])
    from_points = volume_reference(cloud, None)
    assert from_points is not None and not from_points.exact
    assert not keeps_volume(moved, original, from_points)  # the points' robust solid guards it too


def test_on_equal_curves_the_program_with_its_own_features_wins():
    from backend.cad.program import Extrude, Operation, Profile, Sketch

    f = plate_with_hole().features[0]
    holed = Program((f,))  # one feature: a plate whose profile has a hole
    outer, hole = f.sketch.profiles[0].outer, f.sketch.profiles[0].holes[0]
    plate = replace(f, sketch=replace(f.sketch, profiles=(Profile(outer),)))
    cut = Extrude(Sketch(f.sketch.plane, (Profile(hole),)), f.extent, Operation.CUT)
    designed = Program((plate, cut))  # the same curves, the hole as its own cut
    assert designed.curve_count == holed.curve_count
    items = [(holed, 1.0), (designed, 1.01)]
    assert choose(items, lambda it: it[1], lambda it: it[0]) == (designed, 1.01)
    fewer = Program((plate,))  # fewer curves still wins a tie, whatever its features
    assert choose([(designed, 1.0), (fewer, 1.02)], lambda it: it[1], lambda it: it[0])[0] is fewer
    # losses equal up to rebuild round-off: the earlier candidate (the model's come first)
    assert choose([(holed, 1.0 + 1e-9), (holed, 1.0)], lambda it: it[1], lambda it: it[0])[1] == 1.0 + 1e-9


def test_a_tie_that_loses_the_volume_is_not_equally_faithful():
    from backend.verify.refine import pick_keeping_volume

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    exact = bbox_program(sheet)
    thick = _thickened(exact, 1.5)  # same curves, 50 % thicker
    right = Candidate(exact, "section", program_to_mesh(exact), 1.01e-4)
    wrong = Candidate(thick, "model", program_to_mesh(thick), 1.00e-4)  # even the lowest surface distance
    assert pick_best([wrong, right]) is wrong
    assert pick_keeping_volume([wrong, right], sheet, sheet) is right
    assert pick_keeping_volume([wrong, right], sheet, None) is right  # voxel occupancy sees it too
    assert pick_keeping_volume([right], sheet, sheet) is right


def test_looser_tolerances_asked_of_the_rule_widen_the_tie_and_the_volume_test():
    from backend.verify.refine import pick_keeping_volume

    box = trimesh.creation.box()
    simple, holed = bbox_program(box), plate_with_hole()
    near = [
        Candidate(holed, "model", program_to_mesh(holed), 1.00e-2),
        Candidate(simple, "section", box, 1.08e-2),
    ]
    assert pick_keeping_volume(near, None, None) is near[0]  # 8 % further: not tied
    assert pick_keeping_volume(near, None, None, tie_relative=0.1) is near[1]  # tied: the fewer curves

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    exact = bbox_program(sheet)
    thick = _thickened(exact, 1.006)  # 0.6 point of IoU thicker, and the lower distance
    right = Candidate(exact, "section", program_to_mesh(exact), 1.02e-4)
    close = Candidate(thick, "model", program_to_mesh(thick), 1.00e-4)
    assert pick_keeping_volume([close, right], sheet, sheet) is right
    assert pick_keeping_volume([close, right], sheet, sheet, volume_slack=10.0) is close


def test_overlaps_closer_than_the_volume_tie_are_equally_faithful():
    from backend.verify.refine import VOLUME_TIE_EXACT, pick_keeping_volume

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    exact = bbox_program(sheet)
    right = Candidate(exact, "section", program_to_mesh(exact), 1.02e-4)
    for factor, chosen in ((1 + 0.6 * VOLUME_TIE_EXACT, "model"), (1 + 1.5 * VOLUME_TIE_EXACT, "section")):
        thick = _thickened(exact, factor)  # its IoU lower by about (factor - 1), the lower distance
        close = Candidate(thick, "model", program_to_mesh(thick), 1.00e-4)
        assert pick_keeping_volume([close, right], sheet, sheet).source == chosen


def test_a_preferred_candidate_beyond_the_first_checks_is_measured_not_presumed_faithful():
    from backend.verify.refine import MAX_VOLUME_CHECKS, pick_keeping_volume

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    exact = bbox_program(sheet)
    right = Candidate(exact, "section", program_to_mesh(exact), 0.999e-4)  # the lowest loss: measured
    # equally compact and within the tie, listed first (the model's): the rule prefers them all to
    # ``right``; the first MAX_VOLUME_CHECKS are measured up front, the last one only when reached
    thick = [_thickened(exact, 1.3 + 0.01 * k) for k in range(MAX_VOLUME_CHECKS + 1)]
    wrong = [Candidate(p, "model", program_to_mesh(p), 1.0e-4) for p in thick]
    assert pick_keeping_volume([*wrong, right], sheet, sheet) is right


def test_rewrites_of_one_solid_do_not_crowd_another_solid_out_of_the_volume_checks():
    from backend.verify.refine import MAX_VOLUME_CHECKS, pick_keeping_volume, solid_key

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.01))
    thick = _thickened(bbox_program(sheet), 1.3)
    # the same thick solid written several ways (as intent rewrites are): the fewest curves, the lowest loss
    wrong = [
        Candidate(thick, "section", program_to_mesh(thick), 1.0e-4) for _ in range(MAX_VOLUME_CHECKS + 2)
    ]
    halves = [trimesh.creation.box(extents=(0.5, 1.0, 0.01)) for _ in range(2)]
    halves[0].apply_translation((-0.25, 0.0, 0.0))
    halves[1].apply_translation((0.25, 0.0, 0.0))
    two = Program(tuple(bbox_program(h).features[0] for h in halves))  # the sheet exactly, in 8 curves
    right = Candidate(two, "section", program_to_mesh(two), 1.01e-4)  # tied, but last in the rule's order
    assert len({solid_key(c) for c in wrong}) == 1 and solid_key(right) != solid_key(wrong[0])
    assert pick_best([*wrong, right]) is wrong[0]
    assert pick_keeping_volume([*wrong, right], sheet, sheet) is right


def test_with_intent_rewrites_offers_holes_as_cuts_only_for_the_same_solid():
    from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile
    from backend.verify.candidates import with_intent_rewrites
    from tests.cad.programs import circle, feat, rect

    plate = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (circle(0, 0, 0.2),))),))
    mesh = program_to_mesh(plate)
    target = ChamferTarget(mesh)
    original = Candidate(plate, "model", mesh, target(mesh))
    first, rewrite = with_intent_rewrites([original], target)
    assert first is original
    assert rewrite.source == "model" and [f.operation for f in rewrite.program.features][-1] is Operation.CUT
    assert abs(rewrite.rank_cd - original.rank_cd) <= 0.03 * original.rank_cd + 2e-5
    assert pick_best([original, rewrite]) is rewrite  # the same curves, the hole as its own feature

    up = Plane((0.0, 0.0, -0.1), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    pin = feat(
        Profile(circle(0, 0, 0.1)), plane=up, extent=Extent(ExtentKind.ONE_SIDE, 0.4), op=Operation.JOIN
    )
    pinned = Program((plate.features[0], pin))  # the hole's prism holds a pin: cutting it changes the solid
    m = program_to_mesh(pinned)
    only = Candidate(pinned, "section", m, target(m))
    assert with_intent_rewrites([only], target) == [only]
    thin = feat(
        Profile(circle(0, 0, 0.015)), plane=up, extent=Extent(ExtentKind.ONE_SIDE, 0.4), op=Operation.JOIN
    )
    small = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (circle(0, 0, 0.05),))), thin))
    m = program_to_mesh(small)  # a pin of 0.07 % of the volume inside the hole: cutting it is no tie either
    only = Candidate(small, "section", m, target(m))
    assert with_intent_rewrites([only], target) == [only]


def test_losses_closer_than_the_ranking_noise_go_to_the_earlier_candidate():
    from backend.verify.rank import RANK_NOISE

    box = trimesh.creation.box()
    p = bbox_program(box)
    model = Candidate(p, "model", box, 1.0e-3 * (1 + 0.5 * RANK_NOISE))
    section = Candidate(p, "section", box, 1.0e-3)
    assert pick_best([model, section]) is model  # within the noise: the earlier (the model's)
    worse = Candidate(p, "model", box, 1.0e-3 * (1 + 1.5 * RANK_NOISE))
    assert pick_best([worse, section]) is section  # beyond the noise: the lower loss


def test_a_lower_distance_that_hides_lost_volume_is_not_the_most_faithful():
    from backend.verify.rank import tied
    from backend.verify.refine import VOLUME_WINDOW, pick_keeping_volume

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.02))  # a thin plate, closed
    exact = bbox_program(sheet)
    shifted = _thickened(exact, -1.0)  # moved by its thickness
    right = Candidate(exact, "section", program_to_mesh(exact), 1.3e-4)
    wrong = Candidate(shifted, "model", program_to_mesh(shifted), 1.0e-4)  # the lowest distance, not tied
    assert len(tied([wrong, right], lambda c: c.rank_cd)) == 1  # not a tie ...
    assert right.rank_cd <= wrong.rank_cd * VOLUME_WINDOW  # ... but within the window
    assert pick_keeping_volume([wrong, right], sheet, sheet) is right
    assert pick_keeping_volume([wrong, right], sheet, None) is wrong  # no exact volume: the distance rules


def test_a_small_overlap_gain_beyond_the_tie_neither_widens_it_nor_disqualifies_the_tied():
    from backend.verify.refine import pick_keeping_volume

    sheet = trimesh.creation.box(extents=(1.0, 1.0, 0.02))
    exact = bbox_program(sheet)
    thick = _thickened(exact, 1.02)  # IoU ~0.980
    a = Candidate(thick, "model", program_to_mesh(thick), 1.00e-4)
    b = Candidate(thick, "section", program_to_mesh(thick), 1.01e-4)  # tied with a
    closer = _thickened(exact, 1.015)  # IoU ~0.985: better, but by less than the window's gain
    c = Candidate(closer, "section", program_to_mesh(closer), 1.3e-4)  # within the window, not tied
    assert pick_keeping_volume([a, b, c], sheet, sheet) is a


def test_the_final_choice_is_written_as_designed_when_the_rule_prefers_it_and_the_solid_is_the_same():
    from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile
    from backend.verify.candidates import same_solid, written_as_designed
    from tests.cad.programs import circle, feat, rect

    def flange(bore: float) -> Program:  # a plate and a hub, each sketched with the bore as a hole
        low = Plane((0.0, 0.0, -0.3), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
        high = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
        return Program(
            (
                feat(
                    Profile(circle(0, 0, 0.5), (circle(0, 0, 0.125),)),
                    plane=low,
                    extent=Extent(ExtentKind.ONE_SIDE, 0.3),
                ),
                feat(
                    Profile(circle(0, 0, 0.3), (circle(0, 0, bore),)),
                    plane=high,
                    extent=Extent(ExtentKind.ONE_SIDE, 0.35),
                    op=Operation.JOIN,
                ),
            )
        )

    stacked = flange(0.125)
    mesh = program_to_mesh(stacked)
    target = ChamferTarget(mesh)
    best = Candidate(stacked, "section", mesh, target(mesh))
    out = written_as_designed(best, target)
    ops = [f.operation for f in out.program.features]
    assert ops == [Operation.NEW, Operation.JOIN, Operation.CUT]  # one bore cut through both
    assert out.program.curve_count == 3 < stacked.curve_count and out.source == "section"
    assert same_solid(stacked, out.program)
    # the bore's cut reaches further than any number of the original: still the original's tessellation
    assert abs(out.mesh.volume - mesh.volume) <= 1e-9 * mesh.volume

    stepped = flange(0.1)  # a stepped bore: two different holes, cut each as its own feature
    m = program_to_mesh(stepped)
    out = written_as_designed(Candidate(stepped, "model", m, target(m)), target)
    assert len(out.program.features) == 4 and out.program.curve_count == stepped.curve_count

    box = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5))),))  # nothing to rewrite: the same object
    m = program_to_mesh(box)
    plain = Candidate(box, "model", m, target(m))
    assert written_as_designed(plain, target) is plain


def test_holes_of_one_depth_are_written_as_one_cut_and_the_rule_prefers_it():
    from backend.cad.program import Operation, Plane, Profile
    from backend.verify.candidates import written_as_designed
    from backend.verify.rank import complexity
    from tests.cad.programs import circle, feat, rect

    # a step (z 0..0.2) with two holes of different sizes, and a boss (z 0.2..0.4) with a hole through both
    boss_plane = Plane((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    step_holes = (circle(-0.25, 0, 0.05), circle(0.25, 0.2, 0.05), circle(0.25, -0.2, 0.03))
    base = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), step_holes))
    boss = feat(
        Profile(rect(-0.5, -0.4, 0.0, 0.4), (circle(-0.25, 0, 0.05),)), plane=boss_plane, op=Operation.JOIN
    )
    stepped = Program((base, boss))
    mesh = program_to_mesh(stepped)
    out = written_as_designed(Candidate(stepped, "section", mesh, 1.0), lambda m: 1.0).program
    cuts = sorted(len(f.sketch.profiles) for f in out.features if f.operation is Operation.CUT)
    assert cuts == [1, 2]  # the bore through step and boss; the step's two other holes in one sketch
    assert complexity(out) < complexity(stepped)
    assert abs(program_to_mesh(out).volume - mesh.volume) < 1e-6


def test_solids_alike_in_volume_area_and_bounds_are_still_told_apart():
    from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile
    from backend.verify.refine import pick_keeping_volume, solid_key
    from tests.cad.programs import feat, rect

    top = Plane((0.0, 0.0, 0.05), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)), extent=Extent(ExtentKind.ONE_SIDE, 0.05))

    def rib(x: float):
        return feat(
            Profile(rect(x, -0.3, x + 0.02, 0.3)),
            plane=top,
            extent=Extent(ExtentKind.ONE_SIDE, 0.25),
            op=Operation.JOIN,
        )

    right, moved = Program((plate, rib(0.0))), Program((plate, rib(0.02)))  # the rib moved by its width
    truth = program_to_mesh(right)
    wrong = Candidate(moved, "model", program_to_mesh(moved), 1.0e-4)
    good = Candidate(right, "section", program_to_mesh(right), 1.0e-4)
    assert abs(wrong.mesh.volume - good.mesh.volume) < 1e-9 and solid_key(wrong) != solid_key(good)
    assert pick_keeping_volume([wrong, good], truth, truth) is good


def test_operations_count_each_boss_and_each_depth_of_cut_once():
    from backend.cad.program import Operation, Plane, Profile
    from backend.verify.rank import complexity, operations
    from tests.cad.programs import circle, feat, rect

    base = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)))
    boss = feat(Profile(circle(0.6, 0, 0.1)), op=Operation.JOIN)  # a boss: its own height to edit
    hole = feat(Profile(circle(0, 0, 0.1)), op=Operation.CUT)
    other = feat(Profile(circle(0.3, 0.3, 0.05)), op=Operation.CUT)  # another size, the same depth
    assert operations(Program((base, boss))) == 2
    assert operations(Program((base, hole, other))) == 2
    skew = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.6, 0.8))  # any plane: no axis needed
    assert operations(Program((base, feat(Profile(circle(0, 0, 0.05)), plane=skew, op=Operation.CUT)))) == 2
    both = feat(Profile(circle(0, 0, 0.1)), Profile(circle(0.3, 0.3, 0.05)), op=Operation.CUT)
    assert complexity(Program((base, both))) < complexity(Program((base, hole, other)))  # one sketch
    drawn = Program((feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (circle(0, 0, 0.1),))),))
    assert complexity(Program((base, hole))) < complexity(drawn)  # the hole as its own cut


def test_one_solid_written_two_ways_is_judged_by_one_loss():
    """The ranking loss samples each candidate's own triangles, so one solid written two ways gets two
    losses a little apart; the rule judges the solid once (their mean), and the earlier program (the
    model's) building it is chosen, whichever of the two drew the lower loss."""
    from backend.cad.program import Extent, ExtentKind, Plane, Profile
    from backend.verify.rank import RANK_NOISE
    from backend.verify.refine import pick_keeping_volume, solid_key, solid_losses
    from tests.cad.programs import feat, rect

    box = trimesh.creation.box(extents=(1.0, 0.8, 0.6))
    flat = bbox_program(box)  # sketched on the bottom face, extruded up
    side_plane = Plane((-0.5, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))  # the left face, extruded along x
    side = Program(
        (
            feat(
                Profile(rect(-0.4, -0.3, 0.4, 0.3)), plane=side_plane, extent=Extent(ExtentKind.ONE_SIDE, 1.0)
            ),
        )
    )
    model = Candidate(side, "model", program_to_mesh(side), 1.0e-3 * (1 + 2 * RANK_NOISE))
    section = Candidate(flat, "section", program_to_mesh(flat), 1.0e-3)
    assert solid_key(model) == solid_key(section)
    assert pick_best([model, section]) is section  # the losses alone: beyond the noise
    assert pick_keeping_volume([model, section], box, box) is model  # one solid, one loss: the earlier
    assert pick_keeping_volume([model, section], None, None) is model

    bigger = _thickened(flat, 1.5)  # another solid keeps its own loss
    other = Candidate(bigger, "model", program_to_mesh(bigger), 0.5e-3)
    losses = solid_losses([model, section, other])
    assert losses[0] == losses[1] == (model.rank_cd + section.rank_cd) / 2 and losses[2] == other.rank_cd
    assert pick_keeping_volume([model, section, other], None, None) is other  # returned as it was
    assert pick_keeping_volume([model, section, other], None, None).rank_cd == other.rank_cd


def test_float_noise_about_zero_is_no_difference_between_solids():
    """A symmetric solid's centre of mass is 0 up to float noise (1e-18 to 1e-11) that differs with its
    triangles: the same solid all the same; a solid moved by a thousandth of its size is another."""
    import numpy as np

    from backend.verify.refine import solid_key

    box = trimesh.creation.box()
    p = bbox_program(box)
    jitter = np.random.default_rng(0).normal(0.0, 1e-10, box.vertices.shape)
    noisy = trimesh.Trimesh(box.vertices + jitter, box.faces)  # centre of mass ~1e-11, not 0
    moved = box.copy()
    moved.apply_translation((1e-3, 0.0, 0.0))
    key = solid_key(Candidate(p, "model", box, 1e-3))
    assert abs(noisy.center_mass[0]) > 1e-12
    assert solid_key(Candidate(p, "section", noisy, 1e-3)) == key
    assert solid_key(Candidate(p, "section", moved, 1e-3)) != key
