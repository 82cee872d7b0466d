"""Which points lie inside a closed mesh, the same answer every time."""

import numpy as np
import trimesh

from backend.geometry.containment import points_inside


def test_points_inside_a_ring_by_their_winding_number():
    ring = trimesh.creation.annulus(r_min=0.3, r_max=1.0, height=0.5, sections=64)
    q = np.random.default_rng(0).uniform(-1.1, 1.1, (3000, 3))
    r = np.linalg.norm(q[:, :2], axis=1)
    truth = (r > 0.3) & (r < 1.0) & (np.abs(q[:, 2]) < 0.25)
    clear = (np.abs(r - 0.3) > 0.01) & (np.abs(r - 1.0) > 0.01)  # off the polygon's chords
    got = points_inside(ring, q)
    np.testing.assert_array_equal(got[clear], truth[clear])
    np.testing.assert_array_equal(points_inside(ring, q[::-1]), got[::-1])  # order does not matter


def test_points_inside_nothing_or_for_no_points():
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    assert points_inside(box, np.zeros((0, 3))).shape == (0,)
    assert not points_inside(trimesh.Trimesh(), np.zeros((2, 3))).any()
    assert points_inside(box, np.array([[0.4, -0.4, 0.4], [0.6, 0.0, 0.0]])).tolist() == [True, False]


def test_many_points_are_measured_in_chunks(monkeypatch):
    import backend.geometry.containment as containment

    box = trimesh.creation.box((1.0, 1.0, 1.0))
    q = np.random.default_rng(1).uniform(-0.7, 0.7, (500, 3))
    whole = points_inside(box, q)
    monkeypatch.setattr(containment, "PAIRS_PER_CHUNK", 12 * 7)  # 7 points at a time
    np.testing.assert_array_equal(points_inside(box, q), whole)
    np.testing.assert_array_equal(whole, np.all(np.abs(q) < 0.5, axis=1))
