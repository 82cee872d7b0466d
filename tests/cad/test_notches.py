from backend.cad.curves import loop_area
from backend.cad.notches import split_notches
from backend.cad.program import Arc, Line, Loop
from tests.cad.programs import circle, poly_loop, rect


def _half_round_notch() -> Loop:
    """A plate's outline whose bottom edge has a half-round bite of radius 0.1 in its middle."""
    return Loop(
        (
            Line((-0.5, -0.3), (-0.1, -0.3)),
            Arc((-0.1, -0.3), (0.0, -0.2), (0.1, -0.3)),
            Line((0.1, -0.3), (0.5, -0.3)),
            Line((0.5, -0.3), (0.5, 0.3)),
            Line((0.5, 0.3), (-0.5, 0.3)),
            Line((-0.5, 0.3), (-0.5, -0.3)),
        )
    )


def test_a_bite_out_of_a_straight_edge_is_the_edge_and_the_notch():
    outline = _half_round_notch()
    straight, notches = split_notches(outline)
    assert len(straight.curves) == 4 and all(isinstance(c, Line) for c in straight.curves)
    assert abs(loop_area(straight)) == 0.6  # the plate's full rectangle
    (notch,) = notches
    assert [type(c).__name__ for c in notch.curves] == ["Arc", "Line"]
    assert len(straight.curves) + len(notch.curves) == len(outline.curves)  # as many curves to edit
    assert abs(abs(loop_area(straight)) - abs(loop_area(notch)) - abs(loop_area(outline))) < 1e-9


def test_two_square_notches_on_one_edge_and_walking_the_other_way():
    pts = [(0, 0), (0.2, 0), (0.2, 0.1), (0.3, 0.1), (0.3, 0), (0.6, 0), (0.6, 0.1), (0.7, 0.1), (0.7, 0)]
    pts += [(1, 0), (1, 0.5), (0, 0.5)]
    outline = poly_loop(pts)
    straight, notches = split_notches(outline)
    assert len(straight.curves) == 4 and len(notches) == 2
    clockwise = Loop(tuple(Line(c.end, c.start) for c in reversed(outline.curves)))
    straight_cw, notches_cw = split_notches(clockwise)
    assert len(straight_cw.curves) == 4 and len(notches_cw) == 2


def test_no_notch_in_a_tab_an_l_shape_a_plain_rectangle_or_a_circle():
    tab = poly_loop([(0, 0), (0.4, 0), (0.4, -0.1), (0.6, -0.1), (0.6, 0), (1, 0), (1, 0.5), (0, 0.5)])
    ell = poly_loop([(0, 0), (1, 0), (1, 0.3), (0.3, 0.3), (0.3, 1), (0, 1)])
    for outline in (tab, ell, rect(0, 0, 1, 1), circle(0, 0, 0.3)):
        assert split_notches(outline) == (outline, [])


def test_a_half_disc_keeps_its_bite_as_a_notch_and_a_comb_stays_drawn():
    bitten_d = Loop(
        (
            Line((-0.5, 0.0), (-0.1, 0.0)),
            Line((-0.1, 0.0), (0.0, 0.1)),
            Line((0.0, 0.1), (0.1, 0.0)),
            Line((0.1, 0.0), (0.5, 0.0)),
            Arc((0.5, 0.0), (0.0, 0.5), (-0.5, 0.0)),
        )
    )
    straight, (notch,) = split_notches(bitten_d)
    assert [type(c).__name__ for c in straight.curves] == ["Line", "Arc"]
    assert len(notch.curves) == 3

    teeth = 9  # one gap more than MAX_NOTCHES: all or nothing, like a sketch of many islands
    pts = [(0.0, 0.0)]
    for k in range(teeth):
        x = 0.1 * k
        pts += [(x + 0.03, 0.0), (x + 0.03, 0.05), (x + 0.06, 0.05), (x + 0.06, 0.0)]
    pts += [(1.0, 0.0), (1.0, 0.5), (0.0, 0.5)]
    comb = poly_loop(pts)
    assert split_notches(comb) == (comb, [])
    assert len(split_notches(poly_loop(pts[: 1 + 4 * 8] + pts[-3:]))[1]) == 8
