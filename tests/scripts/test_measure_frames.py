"""The frame script's measures: the share of a part's area a turned frame leaves off perpendicular, and the
angle to the world axes up to axis permutations."""

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from tests.scripts.load import load_script

frames = load_script("measure_frames")


def test_a_box_loses_its_area_only_when_the_frame_is_off_by_more_than_the_tolerance():
    box = trimesh.creation.box((1.0, 0.6, 0.2))
    assert frames.perpendicular_share(box, np.eye(3), 0.25) == pytest.approx(1.0)
    # a turn about one axis keeps every face perpendicular to that axis; about a diagonal, none
    assert frames.perpendicular_share(box, Rotation.from_rotvec([0.0, 0.0, 0.3]).as_matrix(), 0.25) == 1.0
    skew = Rotation.from_rotvec(np.radians([0.5, 0.5, 0.5])).as_matrix()  # 0.87° about the diagonal
    assert frames.perpendicular_share(box, skew, 1.0) == pytest.approx(1.0)
    assert frames.perpendicular_share(box, skew, 0.25) == pytest.approx(0.0)


def test_the_angle_ignores_which_axis_is_which():
    swap = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert frames.frame_angle(swap) == pytest.approx(0.0, abs=1e-6)
    tilt = Rotation.from_rotvec(np.radians([0.0, 0.0, 3.0])).as_matrix()
    assert frames.frame_angle(swap @ tilt) == pytest.approx(3.0, abs=1e-6)
