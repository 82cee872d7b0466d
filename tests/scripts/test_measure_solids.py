"""The solid script: a box's point cloud gives a solid that covers the box, and a number for it."""

import re
import sys

import trimesh

from tests.scripts.load import load_script

solids = load_script("measure_solids")


def test_a_boxs_cloud_solid_covers_the_box(tmp_path, monkeypatch, capsys):
    trimesh.creation.box((1.0, 0.6, 0.4)).export(tmp_path / "box.stl")
    monkeypatch.setattr(sys, "argv", ["measure_solids.py", str(tmp_path), "--perturb", "points"])
    solids.main()
    out = capsys.readouterr().out
    overlap = float(re.search(r"overlaps the part ([0-9.]+)", out).group(1))
    assert 0.85 < overlap <= 1.0
