"""A checked cloud made ready for fitting: strays out, the budget, the underside on request, one note."""

import numpy as np
import trimesh

from backend.geometry.perturb import points, points_from_above, stray_points
from backend.intake.clouds import OPEN_UNDERSIDE_HINT, cloud_for_fitting


def _block() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(1.0, 0.6, 0.4))


def test_nothing_to_do_leaves_the_cloud_and_no_note():
    cloud = points(_block(), 0)
    assert cloud_for_fitting(cloud, underside_unseen=False) == (cloud, 0, "")


def test_each_step_is_said_once_and_the_input_is_unchanged():
    cloud = stray_points(_block(), 1, 20_000)
    before = np.asarray(cloud.vertices).copy()
    out, strays, note = cloud_for_fitting(cloud, underside_unseen=False)
    assert strays > 0 and len(out.vertices) == 8192
    assert note.startswith(
        f"{strays:,} stray points away from the surface left out; point cloud subsampled from"
    )
    assert note.count("the input is unchanged") == 1
    np.testing.assert_array_equal(np.asarray(cloud.vertices), before)
    _, _, told = cloud_for_fitting(points_from_above(_block(), 2), underside_unseen=True)
    assert told.startswith("the underside closed with ") and told.endswith("; the input is unchanged")


def test_a_cloud_scanned_from_above_gets_a_hint_and_nothing_done():
    cloud = points_from_above(_block(), 3)
    out, strays, note = cloud_for_fitting(cloud, underside_unseen=False)
    assert out is cloud and strays == 0
    assert note == f"{OPEN_UNDERSIDE_HINT}; the input is unchanged"
    assert "--underside-unseen" in note and "Scanned on a table" in note


def test_a_failing_hint_check_says_nothing_and_takes_nothing_down(monkeypatch):
    import backend.intake.clouds as clouds

    def broken(points):
        raise ValueError("broken")

    monkeypatch.setattr(clouds, "underside_samples", broken)
    cloud = points_from_above(_block(), 3)
    assert cloud_for_fitting(cloud, underside_unseen=False) == (cloud, 0, "")
