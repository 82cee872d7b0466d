"""Holes as cuts, islands as features: the same solid, written with the operations a person would edit."""

from backend.cad.intent import (
    covered_profiles_dropped,
    cut_groups,
    cuts_as_drawn,
    cuts_through,
    holes_as_cuts,
    islands_as_features,
    same_loop,
    spans_as_one,
    union_box,
)
from backend.cad.program import Extent, ExtentKind, Operation, Plane, Profile, Program
from backend.geometry.solid import program_to_mesh
from tests.cad.programs import circle, feat, rect

UP = Extent(ExtentKind.ONE_SIDE, 0.2)


def _at(z: float) -> Plane:
    return Plane((0.0, 0.0, z), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def _ops(program: Program) -> list[Operation]:
    return [f.operation for f in program.features]


def test_a_plate_with_a_pattern_of_holes_becomes_a_base_and_one_cut():
    holes = (circle(-0.3, 0, 0.05), circle(0.3, 0, 0.05), circle(0, 0.2, 0.1))
    plate = Program((feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), holes)),))
    out = holes_as_cuts(plate)
    assert _ops(out) == [Operation.NEW, Operation.CUT, Operation.CUT]  # one cut per hole diameter
    assert sorted(len(f.sketch.profiles) for f in out.features[1:]) == [1, 2]
    assert out.curve_count == plate.curve_count
    assert abs(program_to_mesh(out).volume - program_to_mesh(plate).volume) < 1e-9


def test_a_hole_through_stacked_slabs_is_one_cut_and_the_slabs_merge():
    hole = circle(0, 0, 0.1)
    stack = Program(
        (
            feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (hole,)), plane=_at(0.0), extent=UP),
            feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (hole,)), plane=_at(0.2), extent=UP, op=Operation.JOIN),
        )
    )
    out = holes_as_cuts(stack)
    assert _ops(out) == [Operation.NEW, Operation.CUT]
    assert out.features[0].extent.d1 == 0.4 and out.features[1].extent.d1 == 0.4
    assert out.curve_count == 5 < stack.curve_count
    assert abs(program_to_mesh(out).volume - program_to_mesh(stack).volume) < 1e-9


def test_a_counterbore_is_a_base_and_two_cuts():
    small, big = circle(0, 0, 0.1), circle(0, 0, 0.2)
    stack = Program(
        (
            feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (small,)), plane=_at(0.0), extent=UP),
            feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (big,)), plane=_at(0.2), extent=UP, op=Operation.JOIN),
        )
    )
    out = holes_as_cuts(stack)
    assert _ops(out) == [Operation.NEW, Operation.CUT, Operation.CUT]
    assert abs(program_to_mesh(out).volume - program_to_mesh(stack).volume) < 1e-9


def test_islands_that_touch_are_one_region_not_two_bosses():
    """Two profiles that meet along an edge (a section fitted as two pieces) bound one region: a person
    draws one outline and extrudes it once. Apart, they are two bosses, two features."""
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)))
    touching = feat(
        Profile(rect(-0.4, -0.4, 0.0, 0.0)),
        Profile(rect(0.0, -0.2, 0.3, 0.4)),
        plane=_at(0.2),
        op=Operation.JOIN,
    )
    assert islands_as_features(Program((plate, touching))) is None
    apart = feat(
        Profile(rect(-0.4, -0.4, 0.0, 0.0)),
        Profile(rect(0.1, -0.2, 0.3, 0.4)),
        plane=_at(0.2),
        op=Operation.JOIN,
    )
    # a chain: the first meets the second, the second the third, in any order
    a, b, c = (
        Profile(rect(-0.4, -0.4, -0.2, 0.0)),
        Profile(rect(-0.2, -0.1, 0.0, 0.4)),
        Profile(rect(0.0, 0.1, 0.3, 0.2)),
    )
    for order in ((a, b, c), (a, c, b), (c, a, b)):
        chain = feat(*order, plane=_at(0.2), op=Operation.JOIN)
        assert islands_as_features(Program((plate, chain))) is None
    # an island in another profile's hole does not touch it: a ring and a boss in it are two features
    ring = Profile(rect(-0.4, -0.4, 0.4, 0.4), (rect(-0.3, -0.3, 0.3, 0.3),))
    inside = feat(ring, Profile(circle(0.0, 0.0, 0.1)), plane=_at(0.2), op=Operation.JOIN)
    assert len(islands_as_features(Program((plate, inside))).features) == 3
    assert _ops(islands_as_features(Program((plate, apart)))) == [
        Operation.NEW,
        Operation.JOIN,
        Operation.JOIN,
    ]


def test_a_hole_around_an_island_stays_in_its_sketch():
    ring = Profile(rect(-0.5, -0.5, 0.5, 0.5), (rect(-0.3, -0.3, 0.3, 0.3),))
    island = Profile(rect(-0.1, -0.1, 0.1, 0.1))
    assert holes_as_cuts(Program((feat(ring, island),))) is None


def test_a_cut_that_would_remove_another_feature_changes_the_volume():
    """The rewrite never adds material: a feature inside a hole's prism is removed, and the volume shows
    it (``verify.candidates.with_intent_rewrites`` keeps only rewrites of the same volume)."""
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5), (circle(0, 0, 0.2),)))
    pin = feat(
        Profile(circle(0, 0, 0.1)),
        plane=_at(-0.1),
        extent=Extent(ExtentKind.ONE_SIDE, 0.4),
        op=Operation.JOIN,
    )
    original = Program((plate, pin))
    out = holes_as_cuts(original)
    assert out is not None
    assert program_to_mesh(out).volume < program_to_mesh(original).volume - 1e-3


def test_no_holes_no_rewrite_and_loops_match_from_any_start():
    assert holes_as_cuts(Program((feat(Profile(rect(0, 0, 1, 1))),))) is None
    a = rect(0, 0, 1, 1)
    b = type(a)(a.curves[2:] + a.curves[:2])
    assert same_loop(a, b) and not same_loop(a, rect(0, 0, 1, 1.01))


def test_different_bosses_become_their_own_features_and_a_pattern_stays_one():
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)))
    bosses = feat(
        Profile(circle(-0.3, 0.3, 0.05)),
        Profile(circle(0.3, 0.3, 0.05)),
        Profile(rect(-0.2, -0.4, 0.2, -0.2)),
        plane=_at(0.2),
        extent=UP,
        op=Operation.JOIN,
    )
    original = Program((plate, bosses))
    out = islands_as_features(original)
    assert _ops(out) == [Operation.NEW, Operation.JOIN, Operation.JOIN]
    assert sorted(len(f.sketch.profiles) for f in out.features[1:]) == [1, 2]  # the two pins: one pattern
    assert out.curve_count == original.curve_count
    assert abs(program_to_mesh(out).volume - program_to_mesh(original).volume) < 1e-9


def test_islands_of_a_new_feature_join_it_and_a_single_island_or_a_pattern_is_left_alone():
    two = Program((feat(Profile(rect(-0.5, -0.5, -0.1, 0.5)), Profile(circle(0.3, 0, 0.1))),))
    assert _ops(islands_as_features(two)) == [Operation.NEW, Operation.JOIN]
    pattern = Program((feat(Profile(rect(-0.5, -0.5, -0.3, 0.5)), Profile(rect(0.3, -0.5, 0.5, 0.5))),))
    assert islands_as_features(pattern) is None
    assert islands_as_features(Program((feat(Profile(rect(0, 0, 1, 1))),))) is None
    plate = feat(Profile(rect(-0.5, -0.5, 0.5, 0.5)))
    holes = feat(Profile(circle(-0.3, 0, 0.05)), Profile(rect(0.1, -0.1, 0.3, 0.1)), op=Operation.CUT)
    assert islands_as_features(Program((plate, holes))) is None  # a cut's holes stay one sketch


def test_a_notch_through_two_stacked_slabs_is_one_cut_and_the_slabs_one_extrusion():
    from backend.cad.intent import notches_as_cuts
    from backend.verify.candidates import same_solid
    from tests.cad.programs import poly_loop

    notched = poly_loop(
        [(-0.5, -0.3), (-0.1, -0.3), (-0.1, -0.1), (0.1, -0.1), (0.1, -0.3), (0.5, -0.3)]
        + [(0.5, 0.3), (-0.5, 0.3)]
    )
    low = Plane((0.0, 0.0, -0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    high = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    slab = Extent(ExtentKind.ONE_SIDE, 0.2)
    stacked = Program(
        (
            feat(Profile(notched), plane=low, extent=slab),
            feat(Profile(notched), plane=high, extent=slab, op=Operation.JOIN),
        )
    )
    rewritten = notches_as_cuts(stacked)
    assert [f.operation for f in rewritten.features] == [Operation.NEW, Operation.CUT]
    assert rewritten.curve_count == stacked.curve_count // 2  # one outline and one notch, not two each
    assert same_solid(stacked, rewritten)
    assert notches_as_cuts(Program((feat(Profile(poly_loop([(0, 0), (1, 0), (1, 1), (0, 1)]))),))) is None


def test_cuts_through_one_depth_share_one_sketch_whatever_their_sizes():
    holes = (circle(-0.3, 0, 0.05), circle(0.3, 0, 0.05), circle(0, 0.2, 0.1))
    plate = Program((feat(Profile(rect(-0.5, -0.4, 0.5, 0.4), holes)),))
    by_size = holes_as_cuts(plate)  # one cut per hole diameter, both over the plate's span
    out = cuts_as_drawn(by_size)
    assert _ops(out) == [Operation.NEW, Operation.CUT]
    assert len(out.features[1].sketch.profiles) == 3 and out.curve_count == plate.curve_count
    assert abs(program_to_mesh(out).volume - program_to_mesh(plate).volume) < 1e-9
    assert cuts_as_drawn(out) is None  # nothing left to share


def test_through_cuts_are_one_whatever_their_overshoot_and_side_and_a_blind_one_stays():
    plate = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)))  # z from 0 to 0.2
    deep = Extent(ExtentKind.ONE_SIDE, 0.4)
    over = feat(Profile(circle(-0.3, 0, 0.05)), plane=_at(-0.1), extent=deep, op=Operation.CUT)
    down = Plane((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (0.0, 0.0, -1.0))  # drawn on the top face, cutting down
    top = feat(Profile(circle(0.3, 0, 0.05)), plane=down, op=Operation.CUT)
    blind = feat(Profile(circle(0, 0.25, 0.05)), extent=Extent(ExtentKind.ONE_SIDE, 0.1), op=Operation.CUT)
    program = Program((plate, over, top, blind))
    box = union_box(program)
    assert box is not None and abs(box[0][2]) < 1e-12 and abs(box[1][2] - 0.2) < 1e-12
    assert abs(box[0][0] + 0.5) < 1e-12 and abs(box[1][1] - 0.4) < 1e-12
    assert cuts_through(over, box) and cuts_through(top, box) and not cuts_through(blind, box)
    assert cut_groups([over, top, blind], box) == [[0, 1], [2]]
    out = cuts_as_drawn(program)
    assert _ops(out) == [Operation.NEW, Operation.CUT, Operation.CUT]
    assert sorted(len(f.sketch.profiles) for f in out.features[1:]) == [1, 2]
    assert abs(program_to_mesh(out).volume - program_to_mesh(program).volume) < 1e-9


def test_cuts_group_on_one_line_either_way_and_spans_within_the_fitting_tolerance():
    up = feat(
        Profile(circle(0, 0, 0.05)), plane=_at(0.1), extent=Extent(ExtentKind.ONE_SIDE, 0.1), op=Operation.CUT
    )
    tilted = Plane((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (1e-6, 0.0, -1.0))  # the same line, a hair off
    down = feat(
        Profile(circle(0, 0, 0.05)), plane=tilted, extent=Extent(ExtentKind.ONE_SIDE, 0.1), op=Operation.CUT
    )
    near = feat(
        Profile(circle(0.2, 0, 0.05)),
        plane=_at(0.1006),
        extent=Extent(ExtentKind.ONE_SIDE, 0.0994),
        op=Operation.CUT,
    )
    far = feat(
        Profile(circle(-0.2, 0, 0.05)),
        plane=_at(0.105),
        extent=Extent(ExtentKind.ONE_SIDE, 0.095),
        op=Operation.CUT,
    )
    assert cut_groups([up, down, near, far]) == [[0, 1, 2], [3]]
    skew = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.6, 0.8))
    assert cut_groups([up, feat(Profile(circle(0, 0, 0.05)), plane=skew, op=Operation.CUT)]) == [[0], [1]]
    plate = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)))
    out = cuts_as_drawn(Program((plate, up, near)))  # one pocket sketch, over the first one's span
    assert _ops(out) == [Operation.NEW, Operation.CUT] and len(out.features[1].sketch.profiles) == 2


def test_overlapping_holes_cut_through_one_depth_are_one_sketch_of_the_same_solid():
    plate = feat(Profile(rect(-0.5, -0.4, 0.5, 0.4)))
    a = feat(Profile(circle(-0.05, 0, 0.1)), op=Operation.CUT)
    b = feat(Profile(circle(0.05, 0, 0.1)), op=Operation.CUT)  # overlaps a: one sketch unites them
    program = Program((plate, a, b))
    out = cuts_as_drawn(program)
    assert _ops(out) == [Operation.NEW, Operation.CUT] and len(out.features[1].sketch.profiles) == 2
    assert abs(program_to_mesh(out).volume - program_to_mesh(program).volume) < 1e-6


def _slab(loop, z: float, op: Operation = Operation.JOIN):
    return feat(Profile(loop), plane=_at(z), extent=UP, op=op)


def test_a_boss_through_a_plate_is_drawn_once_where_the_plate_fills_the_gap():
    boss, plate = rect(-0.1, -0.1, 0.1, 0.1), rect(-0.5, -0.5, 0.5, 0.5)
    split = Program((_slab(boss, 0.0, Operation.NEW), _slab(plate, 0.2), _slab(boss, 0.4)))
    out = spans_as_one(split)
    assert len(out.features) == 2 and out.curve_count == 8 < split.curve_count
    assert sorted(round(f.extent.d1, 6) for f in out.features) == [0.2, 0.6]
    assert abs(program_to_mesh(out).volume - program_to_mesh(split).volume) < 1e-9


def test_a_boss_sticking_out_of_the_plate_between_its_spans_stays_two():
    boss, plate = rect(-0.1, -0.1, 0.1, 0.1), rect(0.0, -0.5, 0.5, 0.5)  # half the boss off the plate
    split = Program((_slab(boss, 0.0, Operation.NEW), _slab(plate, 0.2), _slab(boss, 0.4)))
    assert spans_as_one(split) is None


def test_touching_slabs_of_one_sketch_merge_across_other_features_but_not_past_a_cut():
    a, b = rect(-0.5, -0.5, 0.5, 0.5), rect(0.6, -0.1, 0.8, 0.1)
    stack = Program((_slab(a, 0.0, Operation.NEW), _slab(b, 0.0), _slab(a, 0.2)))
    out = spans_as_one(stack)
    assert len(out.features) == 2 and abs(program_to_mesh(out).volume - program_to_mesh(stack).volume) < 1e-9
    hole = feat(
        Profile(circle(0, 0, 0.1)), plane=_at(0.0), extent=Extent(ExtentKind.ONE_SIDE, 0.4), op=Operation.CUT
    )
    after_cut = Program((_slab(a, 0.0, Operation.NEW), _slab(b, 0.0), hole, _slab(a, 0.2)))
    assert spans_as_one(after_cut) is None  # the last slab would be cut by the hole if it came first


def _piece(loop, z0: float, z1: float, op: Operation = Operation.JOIN):
    return feat(Profile(loop), plane=_at(z0), extent=Extent(ExtentKind.ONE_SIDE, z1 - z0), op=op)


def test_a_gap_filled_by_two_features_and_pieces_listed_out_of_order():
    boss, plate = rect(-0.1, -0.1, 0.1, 0.1), rect(-0.5, -0.5, 0.5, 0.5)
    two_plates = Program(
        (
            _piece(boss, 0.0, 0.2, Operation.NEW),
            _piece(plate, 0.2, 0.35),
            _piece(rect(-0.4, -0.4, 0.4, 0.4), 0.35, 0.5),  # another plate: the two fill the gap together
            _piece(boss, 0.5, 0.7),
        )
    )
    out = spans_as_one(two_plates)
    assert len(out.features) == 3 and out.curve_count == 12
    # pieces listed out of order: the far one is reached through the one after it (which fills the gap)
    late = Program((_piece(boss, 0.0, 0.2, Operation.NEW), _piece(boss, 0.6, 0.8), _piece(boss, 0.15, 0.65)))
    out = spans_as_one(late)
    assert len(out.features) == 1 and out.features[0].extent.d1 == 0.8
    assert abs(program_to_mesh(out).volume - program_to_mesh(late).volume) < 1e-9


def test_a_profile_shapely_cannot_union_leaves_the_program_as_it_is():
    """Two holes that overlap: the profile builds, its region is invalid to shapely (no exception)."""
    boss, plate = rect(-0.1, -0.1, 0.1, 0.1), rect(-0.5, -0.5, 0.5, 0.5)
    holes = (rect(0.2, 0.2, 0.4, 0.4), rect(0.3, 0.3, 0.45, 0.45))
    odd = feat(Profile(plate, holes), plane=_at(0.2), extent=UP, op=Operation.JOIN)
    program = Program((_slab(boss, 0.0, Operation.NEW), _slab(plate, 0.2), odd, _slab(boss, 0.4)))
    assert spans_as_one(program) is None


def test_an_outline_drawn_again_within_the_plates_span_is_dropped_and_its_islands_stay():
    plate, boss = rect(-0.5, -0.5, 0.5, 0.5), rect(0.6, -0.1, 0.8, 0.1)
    thin = feat(
        Profile(rect(-0.5, -0.5, 0.5, 0.5)), Profile(boss), plane=_at(0.1), extent=UP, op=Operation.JOIN
    )
    program = Program((_piece(plate, 0.0, 0.4, Operation.NEW), thin))
    out = covered_profiles_dropped(program)
    assert out is not None and out.curve_count == 8 < program.curve_count
    assert [len(f.sketch.profiles) for f in out.features] == [1, 1]
    assert abs(program_to_mesh(out).volume - program_to_mesh(program).volume) < 1e-9


def test_two_copies_of_one_prism_keep_one_and_a_profile_sticking_out_stays():
    a = rect(-0.5, -0.5, 0.5, 0.5)
    twice = Program((_piece(a, 0.0, 0.2, Operation.NEW), _piece(a, 0.0, 0.2)))
    out = covered_profiles_dropped(twice)
    assert out is not None and len(out.features) == 1 and out.features[0].operation is Operation.NEW
    assert abs(program_to_mesh(out).volume - program_to_mesh(twice).volume) < 1e-9
    higher = Program((_piece(a, 0.0, 0.2, Operation.NEW), _piece(rect(-0.2, -0.2, 0.2, 0.2), 0.1, 0.3)))
    wider = Program((_piece(a, 0.0, 0.2, Operation.NEW), _piece(rect(0.2, -0.2, 0.7, 0.2), 0.0, 0.2)))
    assert covered_profiles_dropped(higher) is None and covered_profiles_dropped(wider) is None
    hole = feat(Profile(circle(0, 0, 0.1)), plane=_at(0.0), extent=UP, op=Operation.CUT)
    after_cut = Program((_piece(a, 0.0, 0.2, Operation.NEW), hole, _piece(a, 0.0, 0.2)))
    assert covered_profiles_dropped(after_cut) is None  # the last copy fills the hole back
