"""Issue 13 row 13: IoU is never above 1; overlapping or repeated input is repaired, and the report says so."""

from __future__ import annotations

import re

import numpy as np
import pytest
import trimesh

from backend.geometry.mesh_io import mesh_from_arrays
from backend.geometry.metrics import EXACT, VOXEL, evaluate_pair, iou_details


def box(size=(1.0, 1.0, 1.0), at=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    m = trimesh.creation.box(size)
    m.apply_translation(at)
    return m


def overlapping_cubes() -> trimesh.Trimesh:
    """Two unit cubes overlapping by half, in one self-intersecting mesh (union volume 1.5)."""
    both = trimesh.util.concatenate([box(), box(at=(0.5, 0, 0))])
    return mesh_from_arrays(both.vertices, both.faces)


def tripled_cube() -> trimesh.Trimesh:
    cube = box()
    return trimesh.Trimesh(cube.vertices, np.concatenate([cube.faces] * 3), process=False)


UNION = box((1.5, 1, 1), at=(0.25, 0, 0))

# (case, pred, gt, method, expected IoU, expected method, note pattern)
CASES = [
    (
        "overlapping cubes vs themselves",
        overlapping_cubes(),
        overlapping_cubes(),
        "auto",
        1.0,
        EXACT,
        "pred: 2 overlapping shells united; gt: 2 overlapping shells united",
    ),
    (
        "union box vs overlapping cubes",
        UNION,
        overlapping_cubes(),
        "auto",
        1.0,
        EXACT,
        "gt: 2 overlapping shells",
    ),
    (
        "one cube vs overlapping cubes",
        box(),
        overlapping_cubes(),
        "auto",
        1 / 1.5,
        EXACT,
        "gt: 2 overlapping",
    ),
    ("overlapping cubes, voxels", UNION, overlapping_cubes(), VOXEL, 1.0, VOXEL, "^$"),
    ("tripled cube vs cube", tripled_cube(), box(), "auto", 1.0, EXACT, "pred: 24 duplicate faces dropped"),
    (
        "cube vs tripled cube, voxels",
        box(),
        tripled_cube(),
        VOXEL,
        1.0,
        VOXEL,
        "gt: 24 duplicate faces dropped",
    ),
]


@pytest.mark.parametrize(
    ("case", "pred", "gt", "method", "value", "used", "note"), CASES, ids=[c[0] for c in CASES]
)
def test_repaired_and_reported(case, pred, gt, method, value, used, note):
    got, got_method, got_note = iou_details(pred, gt, method)
    assert got <= 1.0
    assert got == pytest.approx(value, abs=0.02 if used == VOXEL else 1e-9)
    assert got_method == used
    assert re.search(note, got_note), got_note


def test_hollow_part_is_not_united():
    """An outer shell with an inverted inner shell is a hollow part: volume 26, not 27."""
    inner = box()
    inner.invert()
    hollow = trimesh.util.concatenate([box((3, 3, 3)), inner])
    value, method, note = iou_details(hollow, box((3, 3, 3)))
    assert (value, method, note) == (pytest.approx(26 / 27), EXACT, "")


def test_evaluate_pair_reports_the_repair():
    scores = evaluate_pair(UNION, overlapping_cubes())
    assert scores["iou"] == pytest.approx(1.0) and scores["iou_note"] == "gt: 2 overlapping shells united"
    assert evaluate_pair(box(), box())["iou_note"] == ""
